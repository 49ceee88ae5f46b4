// OpenAI adapter (research/openai-api.md): /v1/chat/completions and /v1/completions parsing,
// response JSON and the `data:`-only chunk stream ending in `data: [DONE]`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/anthropic.h"  // UsageCounts
#include "server/chat_request.h"
#include "server/tool_calls.h"

namespace pensieve::server {

Result<ChatRequest> parse_openai_chat_request(const nlohmann::json& body);
Result<ChatRequest> parse_openai_completion_request(const nlohmann::json& body);

std::string openai_finish_reason(const engine::Generation& g, bool has_tool_calls);
nlohmann::json openai_usage(const UsageCounts& u);

nlohmann::json openai_chat_response(const std::string& id, int64_t created, const std::string& model,
                                    const ParsedReply& reply, const engine::Generation& g);
nlohmann::json openai_completion_response(const std::string& id, int64_t created, const std::string& model,
                                          const std::string& text, const engine::Generation& g);

// Chunk sequence of a streamed chat completion (chat=true) or text completion (chat=false).
class OpenAIStream {
 public:
  OpenAIStream(std::string id, int64_t created, std::string model, bool chat, bool include_usage,
               std::vector<std::string> tool_names);
  std::string start() const;  // chat: the role chunk; completions: nothing
  std::string text(std::string_view piece);
  std::string finish(const engine::Generation& g);  // finish chunk, usage chunk, [DONE]
  static std::string error(const Error& error);

 private:
  nlohmann::json chunk(nlohmann::json choice) const;
  std::string apply(std::vector<ReplyEvent> events);

  std::string id_, model_;
  int64_t created_ = 0;
  bool chat_ = true, include_usage_ = false;
  std::optional<ToolCallParser> parser_;
  int n_calls_ = 0;
};

}  // namespace pensieve::server
