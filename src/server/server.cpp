#include "server/server.h"

#include <cstdio>
#include <thread>

#include "server/access_log.h"
#include "server/auth.h"
#include "server/http/loop.h"
#include "server/json_limits.h"
#include "server/request_checks.h"
#include "server/server_state.h"

namespace pensieve::server {

using Clock = std::chrono::steady_clock;

struct Server::State : ServerState {
  using ServerState::ServerState;
  std::unique_ptr<http::Loop> loop;
};

namespace {

// Metric label: the route, with ids collapsed so the label set stays small.
std::string endpoint_label(const std::string& path) {
  static const char* kExact[] = {"/", "/health", "/metrics", "/v1/messages", "/v1/messages/count_tokens",
                                 "/v1/chat/completions", "/v1/completions", "/v1/models", "/v1/jobs"};
  for (const char* p : kExact)
    if (path == p) return p;
  if (path.rfind("/v1/models/", 0) == 0) return "/v1/models/{id}";
  if (path.rfind("/v1/jobs/", 0) == 0)
    return path.size() > 7 && path.compare(path.size() - 7, 7, "/stream") == 0 ? "/v1/jobs/{id}/stream" : "/v1/jobs/{id}";
  return "other";
}

// Printable (no control bytes) and short: request paths come from clients.
std::string loggable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 200)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return out;
}

void log_request(ServerState& s, const http::Request& req, const http::Response& res, double total_ms) {
  const RequestStats& st = *res.stats;
  // A client that left before a non-streaming reply was sent got nothing: nginx's 499.
  const int status = st.client_gone && !(res.deferred && res.deferred->stream) ? 499 : res.status;
  s.metrics.count_request(endpoint_label(req.path), status);
  if (!s.config.log_requests) return;
  AccessRecord r;
  r.time = std::chrono::system_clock::now();
  r.client = req.remote;
  r.request_id = st.request_id;
  r.method = req.method;
  r.path = req.path;
  r.status = status;
  r.total_ms = total_ms;
  r.stats = st;
  const std::string line = format_access_line(log_format(), r) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

// Errors the HTTP layer finds itself (malformed request, limits, too many connections) in the
// shape of the API the request was meant for.
http::Response layer_error(int status, const http::Request& req, const std::string& message) {
  ErrorKind kind = ErrorKind::invalid_request;
  if (status == 413) kind = ErrorKind::resource_exhausted;
  else if (status == 503) kind = ErrorKind::overloaded;
  else if (status >= 500) kind = ErrorKind::internal;
  else if (status == 404) kind = ErrorKind::not_found;
  http::Response res;
  HttpError e = to_http_error(wire_for(req), make_error(kind, message));
  send_json(res, status, e.body);
  if (status == 503) res.set_header("Retry-After", "1");
  res.stats->note = message.substr(0, 200);
  stamp_request_id(res, request_id_for(req));
  return res;
}

// Checks (Host, header bytes, content type), CORS and authentication, then the route.
void route_request(ServerState& s, http::Request& req, http::Response& res) {
  const WireFormat wire = wire_for(req);
  if (auto refused = screen_request(s.config, req.method, req.path, req.headers, wire)) {
    send_json(res, refused->status, refused->body);
    res.stats->note = "refused: " + refused->body.dump().substr(0, 160);
    return;
  }
  std::string allow = cors_allow_origin(s.config.cors_origins, req.header("Origin"));
  if (!allow.empty()) {
    res.set_header("Access-Control-Allow-Origin", allow);
    res.set_header("Vary", "Origin");
    res.set_header("Access-Control-Expose-Headers", "request-id, x-request-id");
  }
  if (req.method == "OPTIONS") {  // CORS preflight
    if (!allow.empty()) {
      res.set_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
      res.set_header("Access-Control-Allow-Headers",
                     "authorization, content-type, x-api-key, anthropic-version, anthropic-beta, last-event-id, "
                     "request-id, x-request-id");
      res.set_header("Access-Control-Max-Age", "600");
    }
    res.status = 204;
    return;
  }
  // The web page itself holds no data: it must load to ask for the key.
  const bool open_path = req.path == "/health" || (req.path == "/" && (req.method == "GET" || req.method == "HEAD"));
  if (!open_path && !key_accepted(s.config.api_key, req.header("x-api-key"), req.header("Authorization"))) {
    send_error(res, wire, make_error(ErrorKind::unauthorized, "invalid x-api-key"));
    return;
  }
  bool path_known = false;
  std::string allowed_methods;
  const http::Handler* handler = s.router.find(req, &path_known, &allowed_methods);
  if (!handler) {
    if (path_known) {
      res.set_header("Allow", allowed_methods);
      send_json(res, 405, to_http_error(wire, make_error(ErrorKind::invalid_request,
                                                         "Method not allowed: " + loggable(req.method) + " " +
                                                             loggable(req.path))).body);
    } else {
      send_error(res, wire, make_error(ErrorKind::not_found, "Not found: " + loggable(req.method) + " " + loggable(req.path)));
    }
    return;
  }
  try {
    (*handler)(req, res);
  } catch (const nlohmann::json::exception& e) {
    // A field of an unexpected JSON type that an adapter read without checking: the client's error.
    res = http::Response{};
    send_error(res, wire, make_error(ErrorKind::invalid_request, std::string("invalid request: ") + e.what()));
  }
}

// Every response carries a request id (the client's, if it sent a well-formed one), which the
// access log line shows too.
void serve(ServerState& s, http::Request& req, http::Response& res) {
  const std::string id = request_id_for(req);
  route_request(s, req, res);
  stamp_request_id(res, id);
}

}  // namespace

Server::Server(ServerConfig config) : state_(std::make_unique<State>(std::move(config))) {
  State& s = *state_;
  set_max_json_depth(s.config.max_json_depth);
  http::LoopConfig lc;
  lc.host = s.config.host;
  lc.port = s.config.port;
  lc.io_threads = s.config.io_threads;
  lc.handler_threads = s.config.http_threads;
  lc.max_body_bytes = s.config.max_body_bytes;
  lc.max_header_bytes = s.config.max_header_bytes;
  lc.header_timeout_s = s.config.header_timeout_s;
  lc.body_timeout_s = s.config.read_timeout_s;
  lc.idle_timeout_s = s.config.idle_timeout_s;
  lc.write_timeout_s = s.config.write_timeout_s;
  lc.max_connections = s.config.max_connections;
  http::LoopHooks hooks;
  hooks.serve = [&s](http::Request& req, http::Response& res) { serve(s, req, res); };
  hooks.error = layer_error;
  hooks.log = [&s](const http::Request& req, const http::Response& res, double ms) { log_request(s, req, res, ms); };
  s.loop = std::make_unique<http::Loop>(lc, std::move(hooks));
  register_info_routes(s);
  register_anthropic_routes(s);
  register_openai_routes(s);
  register_job_routes(s);
}

Server::~Server() { stop(); }

Result<int> Server::bind() { return state_->loop->bind(); }

void Server::set_model(std::shared_ptr<const ServerModel> model, std::string loading_error) {
  state_->install(std::move(model), std::move(loading_error));
}

void Server::run() { state_->loop->run(); }

void Server::stop() {
  State& s = *state_;
  if (s.stopping.exchange(true)) return;
  // Idle and slow connections close at once; requests being served may finish within the grace.
  s.loop->stop_accepting();
  if (RequestQueue* q = s.queue()) {
    auto deadline = Clock::now() + std::chrono::milliseconds(s.config.shutdown_grace_ms);
    while ((q->running() > 0 || q->waiting() > 0) && Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    q->shutdown(/*cancel_running=*/true);  // the rest end now, each with an error event
  }
  s.loop->end_pending();
  if (!s.loop->wait_closed(std::chrono::milliseconds(1500)))
    log_event("warning", std::to_string(s.loop->connections()) + " connection(s) still open at shutdown; closing them");
  s.loop->stop();
}

}  // namespace pensieve::server
