// ChatRequest results -> Anthropic message JSON and SSE event sequence.
#include "server/anthropic.h"
#include "server/errors.h"
#include "server/sse.h"

namespace pensieve::server {

using nlohmann::json;

UsageCounts usage_of(const engine::Generation& g) { return {g.n_prompt, g.n_cached, g.n_generated}; }

json anthropic_usage(const UsageCounts& u) {
  // input = tokens actually prefilled; cache_read = reused KV prefix (input + cache_read = prompt).
  return {{"input_tokens", u.n_prompt - u.n_cached},
          {"output_tokens", u.n_generated},
          {"cache_creation_input_tokens", 0},
          {"cache_read_input_tokens", u.n_cached}};
}

std::string anthropic_stop_reason(const engine::Generation& g, bool has_tool_calls, bool clamped) {
  using engine::FinishReason;
  switch (g.finish) {
    case FinishReason::max_tokens: return clamped ? "model_context_window_exceeded" : "max_tokens";
    case FinishReason::context_full: return "model_context_window_exceeded";
    case FinishReason::stop_string: return has_tool_calls ? "tool_use" : "stop_sequence";
    case FinishReason::eos:
    case FinishReason::cancelled: break;
  }
  return has_tool_calls ? "tool_use" : "end_turn";
}

static json tool_use_block(const ToolCall& c) {
  return {{"type", "tool_use"}, {"id", c.id}, {"name", c.name}, {"input", c.arguments}};
}

json anthropic_message(const std::string& id, const std::string& model, const ParsedReply& reply,
                       const engine::Generation& g, bool clamped) {
  json content = json::array();
  if (!reply.text.empty() || reply.calls.empty()) content.push_back({{"type", "text"}, {"text", reply.text}});
  for (const auto& c : reply.calls) content.push_back(tool_use_block(c));
  std::string stop_reason = anthropic_stop_reason(g, !reply.calls.empty(), clamped);
  json stop_sequence = stop_reason == "stop_sequence" ? json(g.stop_string) : json(nullptr);
  return {{"id", id},
          {"type", "message"},
          {"role", "assistant"},
          {"model", model},
          {"content", std::move(content)},
          {"stop_reason", stop_reason},
          {"stop_sequence", stop_sequence},
          {"usage", anthropic_usage(usage_of(g))}};
}

AnthropicStream::AnthropicStream(std::string id, std::string model, int n_prompt, std::vector<std::string> names)
    : id_(std::move(id)), model_(std::move(model)), n_prompt_(n_prompt) {
  if (!names.empty()) parser_.emplace(std::move(names), "toolu_");
}

std::string AnthropicStream::start() const {
  // input_tokens is the whole prompt for now: how much of it is reused from the cache is only
  // known after prefill; message_delta carries the final split.
  json message = {{"id", id_},
                  {"type", "message"},
                  {"role", "assistant"},
                  {"model", model_},
                  {"content", json::array()},
                  {"stop_reason", nullptr},
                  {"stop_sequence", nullptr},
                  {"usage", anthropic_usage({n_prompt_, 0, 0})}};
  return sse_event("message_start", {{"type", "message_start"}, {"message", message}});
}

std::string AnthropicStream::ping() { return sse_event("ping", {{"type", "ping"}}); }

std::string AnthropicStream::error(const Error& e) {
  return sse_event("error", anthropic_error_body(e.kind, e.message));
}

std::string AnthropicStream::close_text() {
  if (!text_open_) return "";
  text_open_ = false;
  return sse_event("content_block_stop", {{"type", "content_block_stop"}, {"index", next_index_++}});
}

std::string AnthropicStream::apply(std::vector<ReplyEvent> events) {
  std::string out;
  for (auto& e : events) {
    if (!e.is_call) {
      if (e.text.empty()) continue;
      if (!text_open_) {
        out += sse_event("content_block_start", {{"type", "content_block_start"},
                                                 {"index", next_index_},
                                                 {"content_block", {{"type", "text"}, {"text", ""}}}});
        text_open_ = true;
      }
      out += sse_event("content_block_delta", {{"type", "content_block_delta"},
                                               {"index", next_index_},
                                               {"delta", {{"type", "text_delta"}, {"text", e.text}}}});
      continue;
    }
    out += close_text();
    const ToolCall& c = e.call;
    int index = next_index_++;
    ++n_calls_;
    out += sse_event("content_block_start",
                     {{"type", "content_block_start"},
                      {"index", index},
                      {"content_block", {{"type", "tool_use"}, {"id", c.id}, {"name", c.name}, {"input", json::object()}}}});
    out += sse_event("content_block_delta",
                     {{"type", "content_block_delta"},
                      {"index", index},
                      {"delta", {{"type", "input_json_delta"}, {"partial_json", c.arguments.dump()}}}});
    out += sse_event("content_block_stop", {{"type", "content_block_stop"}, {"index", index}});
  }
  return out;
}

std::string AnthropicStream::text(std::string_view piece) {
  if (parser_) return apply(parser_->push(piece));
  return apply({ReplyEvent{false, std::string(piece), {}}});
}

std::string AnthropicStream::finish(const engine::Generation& g, bool clamped) {
  std::string out;
  if (parser_) out += apply(parser_->finish());
  if (next_index_ == 0 && !text_open_) {  // an empty reply still has one (empty) text block
    out += sse_event("content_block_start", {{"type", "content_block_start"},
                                             {"index", 0},
                                             {"content_block", {{"type", "text"}, {"text", ""}}}});
    text_open_ = true;
  }
  out += close_text();
  std::string stop_reason = anthropic_stop_reason(g, n_calls_ > 0, clamped);
  json stop_sequence = stop_reason == "stop_sequence" ? json(g.stop_string) : json(nullptr);
  out += sse_event("message_delta", {{"type", "message_delta"},
                                     {"delta", {{"stop_reason", stop_reason}, {"stop_sequence", stop_sequence}}},
                                     {"usage", anthropic_usage(usage_of(g))}});
  out += sse_event("message_stop", {{"type", "message_stop"}});
  return out;
}

}  // namespace pensieve::server
