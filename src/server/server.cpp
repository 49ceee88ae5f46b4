#include "server/server.h"

#include <cstdio>
#include <thread>

#include "server/auth.h"
#include "server/json_limits.h"
#include "server/request_checks.h"
#include "server/server_state.h"

namespace pensieve::server {

using Clock = std::chrono::steady_clock;

struct Server::State : ServerState {
  using ServerState::ServerState;
};

namespace {

thread_local Clock::time_point t_request_start;

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

void log_request(ServerState& s, const httplib::Request& req, const httplib::Response& res) {
  s.metrics.count_request(endpoint_label(req.path), res.status);
  if (!s.config.log_requests) return;
  const RequestStats& st = current_request_stats();
  double total_ms = std::chrono::duration<double, std::milli>(Clock::now() - t_request_start).count();
  char line[512];
  if (st.generated) {
    double tps = st.decode_ms > 0 ? 1000.0 * st.n_generated / st.decode_ms : 0.0;
    std::snprintf(line, sizeof line, "%s %s %d in=%d out=%d cached=%d ttft=%.1fms %.1f tok/s %.0fms%s%s",
                  req.method.c_str(), req.path.c_str(), res.status, st.n_prompt, st.n_generated, st.n_cached,
                  st.ttft_ms, tps, total_ms, st.note.empty() ? "" : " ", st.note.c_str());
  } else {
    std::snprintf(line, sizeof line, "%s %s %d %.0fms%s%s", req.method.c_str(), req.path.c_str(), res.status,
                  total_ms, st.note.empty() ? "" : " ", st.note.c_str());
  }
  std::fprintf(stderr, "pensieve: %s\n", line);
}

// Authentication and CORS, before any route runs.
httplib::Server::HandlerResponse pre_route(ServerState& s, const httplib::Request& req, httplib::Response& res) {
  t_request_start = Clock::now();
  current_request_stats() = RequestStats{};
  std::string allow = cors_allow_origin(s.config.cors_origins, req.get_header_value("Origin"));
  if (!allow.empty()) {
    res.set_header("Access-Control-Allow-Origin", allow);
    res.set_header("Vary", "Origin");
  }
  if (req.method == "OPTIONS") {  // CORS preflight
    if (!allow.empty()) {
      res.set_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
      res.set_header("Access-Control-Allow-Headers",
                     "authorization, content-type, x-api-key, anthropic-version, anthropic-beta, last-event-id");
      res.set_header("Access-Control-Max-Age", "600");
    }
    res.status = 204;
    return httplib::Server::HandlerResponse::Handled;
  }
  HeaderList headers(req.headers.begin(), req.headers.end());
  if (auto refused = screen_request(s.config, req.method, req.path, headers, wire_for(req))) {
    send_json(res, refused->status, refused->body);
    current_request_stats().note = "refused";
    return httplib::Server::HandlerResponse::Handled;
  }
  if (req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
  if (!key_accepted(s.config.api_key, req.get_header_value("x-api-key"), req.get_header_value("Authorization"))) {
    send_error(res, wire_for(req), make_error(ErrorKind::unauthorized, "invalid x-api-key"));
    return httplib::Server::HandlerResponse::Handled;
  }
  return httplib::Server::HandlerResponse::Unhandled;
}

// Errors cpp-httplib produces itself (404, 413, 400 on a malformed request) get each API's JSON.
httplib::Server::HandlerResponse fill_error(const httplib::Request& req, httplib::Response& res) {
  if (!res.body.empty() || res.is_chunked_content_provider_) return httplib::Server::HandlerResponse::Unhandled;
  Error e;
  if (res.status == 404) e = make_error(ErrorKind::not_found, "Not found: " + req.method + " " + req.path);
  else if (res.status == 413) e = make_error(ErrorKind::resource_exhausted, "Request exceeds the maximum allowed number of bytes.");
  else if (res.status == 405) e = make_error(ErrorKind::invalid_request, "Method not allowed: " + req.method + " " + req.path);
  else if (res.status < 500) e = make_error(ErrorKind::invalid_request, "Bad request");
  else e = make_error(ErrorKind::internal, "Internal server error");
  int status = res.status;
  send_json(res, status, to_http_error(wire_for(req), e).body);
  return httplib::Server::HandlerResponse::Handled;
}

}  // namespace

Server::Server(ServerConfig config) : state_(std::make_unique<State>(std::move(config))) {
  State& s = *state_;
  set_max_json_depth(s.config.max_json_depth);
  // One port, one server: SO_REUSEADDR only (a restart may bind over TIME_WAIT), never
  // SO_REUSEPORT (cpp-httplib's default), which lets a second server share a busy port.
  s.http.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<const void*>(&yes), sizeof yes);
  });
  int threads = s.config.http_threads;
  s.http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  s.http.set_payload_max_length(s.config.max_body_bytes);
  s.http.set_read_timeout(s.config.read_timeout_s, 0);
  s.http.set_keep_alive_timeout(s.config.idle_timeout_s);
  s.http.set_write_timeout(30, 0);
  s.http.set_pre_routing_handler([&s](const httplib::Request& req, httplib::Response& res) { return pre_route(s, req, res); });
  s.http.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request& req, httplib::Response& res) { return fill_error(req, res); }));
  s.http.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send_json(res, 500, to_http_error(wire_for(req), make_error(ErrorKind::internal, "internal error: " + what)).body);
  });
  s.http.set_logger([&s](const httplib::Request& req, const httplib::Response& res) { log_request(s, req, res); });
  register_info_routes(s);
  register_anthropic_routes(s);
  register_openai_routes(s);
  register_job_routes(s);
}

Server::~Server() { stop(); }

Result<int> Server::bind() {
  State& s = *state_;
  int port = s.config.port;
  if (port == 0) port = s.http.bind_to_any_port(s.config.host);
  else if (!s.http.bind_to_port(s.config.host, port)) port = -1;
  if (port <= 0)
    return make_error(ErrorKind::internal, "cannot listen on " + s.config.host + ":" + std::to_string(s.config.port) +
                                               " (address in use or not available)");
  return port;
}

void Server::set_model(std::shared_ptr<const ServerModel> model, std::string loading_error) {
  state_->install(std::move(model), std::move(loading_error));
}

void Server::run() { state_->http.listen_after_bind(); }

void Server::stop() {
  State& s = *state_;
  if (s.stopping.exchange(true)) return;
  s.http.stop();  // no new connections
  if (RequestQueue* q = s.queue()) {
    auto deadline = Clock::now() + std::chrono::milliseconds(s.config.shutdown_grace_ms);
    while ((q->running() > 0 || q->waiting() > 0) && Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    q->shutdown(/*cancel_running=*/true);
  }
}

}  // namespace pensieve::server
