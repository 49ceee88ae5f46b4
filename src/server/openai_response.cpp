// Results -> OpenAI response JSON and chunk stream.
#include "server/errors.h"
#include "server/openai.h"
#include "server/sse.h"

namespace pensieve::server {

using nlohmann::json;

std::string openai_finish_reason(const engine::Generation& g, bool has_tool_calls) {
  using engine::FinishReason;
  if (g.finish == FinishReason::max_tokens || g.finish == FinishReason::context_full) return "length";
  return has_tool_calls ? "tool_calls" : "stop";
}

json openai_usage(const UsageCounts& u) {
  // OpenAI semantics: cached tokens are included in prompt_tokens.
  return {{"prompt_tokens", u.n_prompt},
          {"completion_tokens", u.n_generated},
          {"total_tokens", u.n_prompt + u.n_generated},
          {"prompt_tokens_details", {{"cached_tokens", u.n_cached}}},
          {"completion_tokens_details", {{"reasoning_tokens", 0}}}};
}

static json tool_call_json(const ToolCall& c) {
  return {{"id", c.id}, {"type", "function"}, {"function", {{"name", c.name}, {"arguments", c.arguments.dump()}}}};
}

json openai_chat_response(const std::string& id, int64_t created, const std::string& model,
                          const ParsedReply& reply, const engine::Generation& g) {
  json message = {{"role", "assistant"}, {"content", nullptr}, {"refusal", nullptr}};
  if (!reply.text.empty() || reply.calls.empty()) message["content"] = reply.text;
  if (!reply.calls.empty()) {
    message["tool_calls"] = json::array();
    for (const auto& c : reply.calls) message["tool_calls"].push_back(tool_call_json(c));
  }
  return {{"id", id},
          {"object", "chat.completion"},
          {"created", created},
          {"model", model},
          {"system_fingerprint", "pensieve"},
          {"choices", json::array({{{"index", 0},
                                    {"message", std::move(message)},
                                    {"logprobs", nullptr},
                                    {"finish_reason", openai_finish_reason(g, !reply.calls.empty())}}})},
          {"usage", openai_usage(usage_of(g))}};
}

json openai_completion_response(const std::string& id, int64_t created, const std::string& model,
                                const std::string& text, const engine::Generation& g) {
  return {{"id", id},
          {"object", "text_completion"},
          {"created", created},
          {"model", model},
          {"system_fingerprint", "pensieve"},
          {"choices", json::array({{{"index", 0},
                                    {"text", text},
                                    {"logprobs", nullptr},
                                    {"finish_reason", openai_finish_reason(g, false)}}})},
          {"usage", openai_usage(usage_of(g))}};
}

OpenAIStream::OpenAIStream(std::string id, int64_t created, std::string model, bool chat, bool include_usage,
                           std::vector<std::string> names)
    : id_(std::move(id)), model_(std::move(model)), created_(created), chat_(chat), include_usage_(include_usage) {
  if (chat && !names.empty()) parser_.emplace(std::move(names), "call_");
}

json OpenAIStream::chunk(json choice) const {
  json c = {{"id", id_},
            {"object", chat_ ? "chat.completion.chunk" : "text_completion"},
            {"created", created_},
            {"model", model_},
            {"system_fingerprint", "pensieve"},
            {"choices", json::array({std::move(choice)})}};
  if (include_usage_) c["usage"] = nullptr;
  return c;
}

std::string OpenAIStream::start() const {
  if (!chat_) return "";
  return sse_data(chunk({{"index", 0},
                         {"delta", {{"role", "assistant"}, {"content", ""}}},
                         {"logprobs", nullptr},
                         {"finish_reason", nullptr}}));
}

std::string OpenAIStream::apply(std::vector<ReplyEvent> events) {
  std::string out;
  for (auto& e : events) {
    if (!e.is_call) {
      if (e.text.empty()) continue;
      json choice = chat_ ? json{{"index", 0}, {"delta", {{"content", e.text}}}, {"logprobs", nullptr}, {"finish_reason", nullptr}}
                          : json{{"index", 0}, {"text", e.text}, {"logprobs", nullptr}, {"finish_reason", nullptr}};
      out += sse_data(chunk(std::move(choice)));
      continue;
    }
    json call = tool_call_json(e.call);
    call["index"] = n_calls_++;
    out += sse_data(chunk({{"index", 0},
                           {"delta", {{"tool_calls", json::array({std::move(call)})}}},
                           {"logprobs", nullptr},
                           {"finish_reason", nullptr}}));
  }
  return out;
}

std::string OpenAIStream::text(std::string_view piece) {
  if (parser_) return apply(parser_->push(piece));
  return apply({ReplyEvent{false, std::string(piece), {}}});
}

std::string OpenAIStream::finish(const engine::Generation& g) {
  std::string out;
  if (parser_) out += apply(parser_->finish());
  std::string reason = openai_finish_reason(g, n_calls_ > 0);
  json choice = chat_ ? json{{"index", 0}, {"delta", json::object()}, {"logprobs", nullptr}, {"finish_reason", reason}}
                      : json{{"index", 0}, {"text", ""}, {"logprobs", nullptr}, {"finish_reason", reason}};
  out += sse_data(chunk(std::move(choice)));
  if (include_usage_) {
    json u = chunk(json::object());
    u["choices"] = json::array();
    u["usage"] = openai_usage(usage_of(g));
    out += sse_data(u);
  }
  out += sse_done();
  return out;
}

std::string OpenAIStream::error(const Error& e) {
  json body = openai_error_body(e.kind, e.message);
  body["error"]["code"] = openai_status(e.kind);
  return sse_data(body) + sse_done();
}

}  // namespace pensieve::server
