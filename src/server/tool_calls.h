// Tool calls in model output, parsed back into structured calls.
// Two syntaxes cover the supported families:
//  - Hermes / Qwen2.5 / Qwen3: <tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call> (one or more)
//  - Llama 3.1 / 3.2 / 3.3: the whole reply is {"name": ..., "parameters": {...}}, optionally after
//    <|python_tag|>; several calls may be separated by ';' or newlines.
// A candidate only becomes a call when it is valid JSON naming a declared tool; anything else stays
// text, so a model that merely talks about JSON is not misread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/chat_request.h"

namespace pensieve::server {

struct ParsedReply {
  std::string text;  // text outside tool calls
  std::vector<ToolCall> calls;
};

// One piece of streamed output: text to show now, or a complete tool call.
struct ReplyEvent {
  bool is_call = false;
  std::string text;
  ToolCall call;
};

// Incremental parser for streamed output. Text that might still turn into a tool call (a partial
// "<tool_call>" tag, a reply that starts with '{') is held back until it is decided.
class ToolCallParser {
 public:
  explicit ToolCallParser(std::vector<std::string> tool_names, std::string id_prefix = "toolu_");
  std::vector<ReplyEvent> push(std::string_view piece);
  std::vector<ReplyEvent> finish();
  int calls_emitted() const { return n_calls_; }

 private:
  enum class Mode { start, text, tagged_call, json_reply };
  void emit_text(std::string text, std::vector<ReplyEvent>& out);
  void drain(std::vector<ReplyEvent>& out);
  std::optional<ToolCall> parse_call(std::string_view json_text) const;

  std::vector<std::string> names_;
  std::string id_prefix_;
  Mode mode_ = Mode::start;
  std::string buf_;
  std::string pending_ws_;  // whitespace held back: dropped if a call follows
  int n_calls_ = 0;
};

// Whole-reply parsing (non-streaming): the same rules as ToolCallParser.
ParsedReply parse_reply(std::string_view text, const std::vector<std::string>& tool_names,
                        std::string_view id_prefix = "toolu_");

// Declared tool names of a ChatRequest's tools (template format).
std::vector<std::string> tool_names(const nlohmann::json& tools);

// "toolu_" / "call_" / "msg_" / "chatcmpl-" + 24 random alphanumerics.
std::string random_id(std::string_view prefix);

}  // namespace pensieve::server
