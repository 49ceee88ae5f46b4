// ChatRequest -> prompt text -> tokens, through the model's own chat template.
#pragma once

#include <string>
#include <vector>

#include "server/chat_request.h"
#include "server/errors.h"

namespace pensieve::server {

struct PreparedPrompt {
  std::string text;
  std::vector<token_id> tokens;
};

// Merges consecutive turns of the same role (user/system/assistant), as the Messages API does.
void merge_consecutive_roles(nlohmann::json& messages);

// Renders the chat template (or returns the raw prompt of /v1/completions). A forced tool choice
// (any / a named tool) adds an instruction to the system turn; tool_choice none hides the tools.
Result<std::string> render_prompt(const ServerModel& model, const ChatRequest& request);
Result<PreparedPrompt> prepare_prompt(const ServerModel& model, const ChatRequest& request);

// Makes prompt + max_tokens fit the context. The prompt alone not fitting is an error with
// Anthropic's (or OpenAI's) exact wording; a max_tokens beyond the rest of the context is
// clamped (max_tokens absent = the rest of the context). Returns whether it clamped.
Result<bool> fit_context(WireFormat wire, int n_prompt, int n_ctx, ChatRequest& request);

}  // namespace pensieve::server
