// Anthropic Messages API adapter (research/anthropic-api.md): request parsing into a ChatRequest,
// the non-streaming message JSON, and the streaming event sequence.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/chat_request.h"
#include "server/tool_calls.h"

namespace pensieve::server {

// Parses POST /v1/messages (count_tokens=false) or /v1/messages/count_tokens (true: no
// max_tokens, no sampling). Unknown fields are ignored; invalid ones are invalid_request errors
// naming the field.
Result<ChatRequest> parse_anthropic_request(const nlohmann::json& body, bool count_tokens);

// Drops the per-request `x-anthropic-billing-header: ...` line Claude Code puts first in the
// system prompt: it changes between requests and would defeat prompt-prefix reuse.
bool is_billing_header(std::string_view text);

// Token counts of one finished generation, as the engine reports them.
struct UsageCounts {
  int n_prompt = 0;
  int n_cached = 0;
  int n_generated = 0;
};
UsageCounts usage_of(const engine::Generation& g);
nlohmann::json anthropic_usage(const UsageCounts& u);

// stop_reason for a finished generation. `clamped`: max_tokens was cut to fit the context, so
// running into it means the context window is full.
std::string anthropic_stop_reason(const engine::Generation& g, bool has_tool_calls, bool clamped);

nlohmann::json anthropic_message(const std::string& id, const std::string& model,
                                 const ParsedReply& reply, const engine::Generation& g, bool clamped);

// Produces the SSE event sequence of a streamed message: message_start, then for each content
// block content_block_start / _delta* / _stop with contiguous indices, then message_delta (with
// stop_reason and usage) and message_stop. Tool calls in the output become tool_use blocks.
class AnthropicStream {
 public:
  AnthropicStream(std::string id, std::string model, int n_prompt, std::vector<std::string> tool_names);
  std::string start() const;
  std::string text(std::string_view piece);
  std::string finish(const engine::Generation& g, bool clamped);
  static std::string ping();
  static std::string error(const Error& error);

 private:
  std::string apply(std::vector<ReplyEvent> events);
  std::string close_text();

  std::string id_, model_;
  int n_prompt_ = 0;
  std::optional<ToolCallParser> parser_;
  int next_index_ = 0;
  bool text_open_ = false;
  int n_calls_ = 0;
};

}  // namespace pensieve::server
