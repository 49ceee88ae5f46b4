// POST /v1/messages and /v1/messages/count_tokens (query strings such as ?beta=true are ignored).
#include "server/anthropic.h"
#include "server/server_state.h"

namespace pensieve::server {

using nlohmann::json;

static void handle_messages(ServerState& s, const http::Request& req, http::Response& res) {
  const WireFormat wire = WireFormat::anthropic;
  json body;
  if (!parse_body(req, res, wire, body)) return;
  auto parsed = parse_anthropic_request(body, /*count_tokens=*/false);
  if (!parsed.ok()) return send_error(res, wire, parsed.error());
  auto model = require_model(s, res, wire);
  if (!model) return;
  ChatRequest& request = parsed.value();
  auto prepared = prepare_request(*model, wire, request);
  if (!prepared.ok()) return send_error(res, wire, prepared.error());
  const int n_prompt = static_cast<int>(prepared->prompt.tokens.size());
  const bool clamped = prepared->clamped;
  if (clamped) res.set_header("x-pensieve-max-tokens-clamped", std::to_string(request.options.max_tokens));
  auto feed = start_feed(*s.queue(), std::move(prepared->prompt.tokens), request.options);
  if (!feed.ok()) return send_error(res, wire, feed.error());

  const std::string id = random_id("msg_");
  const std::vector<std::string> names =
      request.tool_choice == ToolChoice::none ? std::vector<std::string>{} : tool_names(request.tools);
  if (!request.stream) {
    std::string model_name = request.model;
    return await_generation(s, res, wire, std::move(feed.value()),
                            [id, model_name, names, clamped](const engine::Generation& g, http::Response& r) {
                              ParsedReply reply = names.empty() ? ParsedReply{g.text, {}} : parse_reply(g.text, names, "toolu_");
                              send_json(r, 200, anthropic_message(id, model_name, reply, g, clamped));
                            });
  }
  auto stream = std::make_shared<AnthropicStream>(id, request.model, n_prompt, names);
  StreamRenderer r;
  r.start = [stream] { return stream->start(); };
  r.text = [stream](std::string_view piece) { return stream->text(piece); };
  r.finish = [stream, clamped](const engine::Generation& g) { return stream->finish(g, clamped); };
  r.error = [](const Error& e) { return AnthropicStream::error(e); };
  r.keepalive = [] { return AnthropicStream::ping(); };
  stream_generation(s, res, std::move(feed.value()), std::move(r));
}

static void handle_count_tokens(ServerState& s, const http::Request& req, http::Response& res) {
  const WireFormat wire = WireFormat::anthropic;
  json body;
  if (!parse_body(req, res, wire, body)) return;
  auto parsed = parse_anthropic_request(body, /*count_tokens=*/true);
  if (!parsed.ok()) return send_error(res, wire, parsed.error());
  auto model = require_model(s, res, wire);
  if (!model) return;
  auto prompt = prepare_prompt(*model, parsed.value());
  if (!prompt.ok()) return send_error(res, wire, prompt.error());
  send_json(res, 200, {{"input_tokens", prompt->tokens.size()}});
}

void register_anthropic_routes(ServerState& s) {
  s.router.add("POST", "/v1/messages", [&s](const http::Request& req, http::Response& res) { handle_messages(s, req, res); });
  s.router.add("POST", "/v1/messages/count_tokens",
               [&s](const http::Request& req, http::Response& res) { handle_count_tokens(s, req, res); });
}

}  // namespace pensieve::server
