// POST /v1/chat/completions and /v1/completions.
#include <ctime>

#include "server/openai.h"
#include "server/server_state.h"

namespace pensieve::server {

using nlohmann::json;

static void handle_completion(ServerState& s, const http::Request& req, http::Response& res, bool chat) {
  const WireFormat wire = WireFormat::openai;
  json body;
  if (!parse_body(req, res, wire, body)) return;
  auto parsed = chat ? parse_openai_chat_request(body) : parse_openai_completion_request(body);
  if (!parsed.ok()) return send_error(res, wire, parsed.error());
  auto model = require_model(s, res, wire, parsed->model);
  if (!model) return;
  ChatRequest& request = parsed.value();
  auto prepared = prepare_request(*model, wire, request);
  if (!prepared.ok()) return send_error(res, wire, prepared.error());
  auto feed = start_feed(model, std::move(prepared->prompt.tokens), request.options);
  if (!feed.ok()) return send_error(res, wire, feed.error());

  const std::string id = random_id(chat ? "chatcmpl-" : "cmpl-");
  const int64_t created = std::time(nullptr);
  const std::vector<std::string> names =
      (!chat || request.tool_choice == ToolChoice::none) ? std::vector<std::string>{} : tool_names(request.tools);
  if (!request.stream) {
    std::string model_name = request.model;
    return await_generation(s, res, wire, std::move(feed.value()),
                            [id, created, model_name, names, chat](const engine::Generation& g, http::Response& r) {
                              if (!chat) return send_json(r, 200, openai_completion_response(id, created, model_name, g.text, g));
                              ParsedReply reply = names.empty() ? ParsedReply{g.text, {}} : parse_reply(g.text, names, "call_");
                              send_json(r, 200, openai_chat_response(id, created, model_name, reply, g));
                            });
  }
  auto stream = std::make_shared<OpenAIStream>(id, created, request.model, chat, request.include_usage, names);
  StreamRenderer r;
  r.start = [stream] { return stream->start(); };
  r.text = [stream](std::string_view piece) { return stream->text(piece); };
  r.finish = [stream](const engine::Generation& g) { return stream->finish(g); };
  r.error = [](const Error& e) { return OpenAIStream::error(e); };
  r.keepalive = [] { return std::string(": ping\n\n"); };
  stream_generation(s, res, std::move(feed.value()), std::move(r));
}

void register_openai_routes(ServerState& s) {
  s.router.add("POST", "/v1/chat/completions",
              [&s](const http::Request& req, http::Response& res) { handle_completion(s, req, res, true); });
  s.router.add("POST", "/v1/completions",
              [&s](const http::Request& req, http::Response& res) { handle_completion(s, req, res, false); });
}

}  // namespace pensieve::server
