// POST /api/chat and /api/generate: Ollama's generation endpoints, on the same engine path as the
// OpenAI and Anthropic routes (prepare_request, start_feed, stream_generation), streaming NDJSON.
#include <chrono>

#include "server/ollama.h"
#include "server/server_state.h"

namespace pensieve::server {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr WireFormat kWire = WireFormat::ollama;

// One NDJSON line.
std::string line(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"; }

// No prompt: load the model (or, with keep_alive 0, unload it) and answer at once.
void load_only(ServerState& s, http::Response& res, const OllamaRequest& r, bool chat) {
  json out = {{"model", r.chat.model}, {"created_at", ollama_now()}, {"done", true}};
  if (chat) out["message"] = {{"role", "assistant"}, {"content", ""}};
  else out["response"] = "";
  if (r.keep_alive && r.keep_alive->count() == 0) {
    if (s.registry) {
      Status st = s.registry->release_now(r.chat.model);
      if (!st.ok()) return send_error(res, kWire, st.error());
    }
    out["done_reason"] = "unload";
    return send_json(res, 200, out);
  }
  auto model = require_model(s, res, kWire, r.chat.model, r.keep_alive);
  if (!model) return;
  out["done_reason"] = "load";
  send_json(res, 200, out);
}

void handle(ServerState& s, const http::Request& req, http::Response& res, bool chat) {
  const auto t0 = Clock::now();
  json body;
  if (!parse_body(req, res, kWire, body)) return;
  auto parsed = chat ? parse_ollama_chat(body) : parse_ollama_generate(body);
  if (!parsed) return send_error(res, kWire, parsed.error());
  OllamaRequest& r = *parsed;
  if (r.load_only) return load_only(s, res, r, chat);
  auto model = require_model(s, res, kWire, r.chat.model, r.keep_alive);
  if (!model) return;
  ChatRequest& request = r.chat;
  auto prepared = prepare_request(*model, kWire, request);
  if (!prepared) return send_error(res, kWire, prepared.error());
  // num_ctx smaller than the loaded context bounds this request (prompt + reply).
  const int n_prompt = static_cast<int>(prepared->prompt.tokens.size());
  if (r.num_ctx > 0 && r.num_ctx < model->info.n_ctx) {
    if (n_prompt >= r.num_ctx)
      return send_error(res, kWire, make_error(ErrorKind::invalid_request,
                                               "the prompt has " + std::to_string(n_prompt) +
                                                   " tokens, more than options.num_ctx (" + std::to_string(r.num_ctx) + ")"));
    const int room = r.num_ctx - n_prompt;
    if (request.options.max_tokens < 0 || request.options.max_tokens > room) request.options.max_tokens = room;
  }
  auto feed = start_feed(model, std::move(prepared->prompt.tokens), request.options);
  if (!feed) return send_error(res, kWire, feed.error());

  const std::string name = request.model;
  const std::vector<std::string> names =
      chat && request.tool_choice != ToolChoice::none ? tool_names(request.tools) : std::vector<std::string>{};
  if (!request.stream) {
    return await_generation(s, res, kWire, std::move(feed.value()),
                            [name, names, chat, t0](const engine::Generation& g, http::Response& out) {
                              json j = {{"model", name}, {"created_at", ollama_now()}};
                              if (chat) {
                                ParsedReply reply = names.empty() ? ParsedReply{g.text, {}} : parse_reply(g.text, names, "call_");
                                j["message"] = {{"role", "assistant"}, {"content", reply.text}};
                                if (!reply.calls.empty()) j["message"]["tool_calls"] = ollama_tool_calls(reply.calls);
                              } else {
                                j["response"] = g.text;
                              }
                              j["done"] = true;
                              j["done_reason"] = ollama_done_reason(g);
                              ollama_stats(g, std::chrono::duration<double, std::milli>(Clock::now() - t0).count(), j);
                              send_json(out, 200, j);
                            });
  }
  auto parser = std::make_shared<ToolCallParser>(names, "call_");
  auto piece_line = [name, chat](const std::string& text, const std::vector<ToolCall>& calls) {
    json j = {{"model", name}, {"created_at", ollama_now()}};
    if (chat) {
      j["message"] = {{"role", "assistant"}, {"content", text}};
      if (!calls.empty()) j["message"]["tool_calls"] = ollama_tool_calls(calls);
    } else {
      j["response"] = text;
    }
    j["done"] = false;
    return line(j);
  };
  auto render = [piece_line](std::vector<ReplyEvent> events) {
    std::string out;
    for (ReplyEvent& e : events) {
      if (e.is_call) out += piece_line("", {e.call});
      else if (!e.text.empty()) out += piece_line(e.text, {});
    }
    return out;
  };
  StreamRenderer sr;
  sr.start = [] { return std::string(); };
  sr.text = [parser, render, piece_line, has_tools = !names.empty()](std::string_view piece) {
    if (!has_tools) return piece_line(std::string(piece), {});
    return render(parser->push(piece));
  };
  sr.finish = [parser, render, name, chat, t0, has_tools = !names.empty()](const engine::Generation& g) {
    std::string out = has_tools ? render(parser->finish()) : "";
    json j = {{"model", name}, {"created_at", ollama_now()}};
    if (chat) j["message"] = {{"role", "assistant"}, {"content", ""}};
    else j["response"] = "";
    j["done"] = true;
    j["done_reason"] = ollama_done_reason(g);
    ollama_stats(g, std::chrono::duration<double, std::milli>(Clock::now() - t0).count(), j);
    return out + line(j);
  };
  sr.error = [](const Error& e) { return line({{"error", e.message}}); };
  sr.keepalive = [] { return std::string(); };
  stream_generation(s, res, std::move(feed.value()), std::move(sr));
  res.content_type = "application/x-ndjson";
}

}  // namespace

void register_ollama_routes(ServerState& s) {
  s.router.add("POST", "/api/chat", [&s](const http::Request& req, http::Response& res) { handle(s, req, res, true); });
  s.router.add("POST", "/api/generate",
               [&s](const http::Request& req, http::Response& res) { handle(s, req, res, false); });
}

}  // namespace pensieve::server
