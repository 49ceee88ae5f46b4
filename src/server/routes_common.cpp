// Shared route helpers: state, JSON/error responses, waiting for and streaming generations.
#include "server/connection.h"
#include "server/json_limits.h"
#include "server/server_state.h"

namespace pensieve::server {

using nlohmann::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

RequestStats& current_request_stats() {
  static thread_local RequestStats stats;
  return stats;
}

ServerState::ServerState(ServerConfig c)
    : config(std::move(c)), jobs(config.max_jobs, std::chrono::seconds(config.job_ttl_s)) {}

std::shared_ptr<const ServerModel> ServerState::model() const {
  std::lock_guard<std::mutex> lock(mu);
  return model_;
}

RequestQueue* ServerState::queue() const {
  std::lock_guard<std::mutex> lock(mu);
  return queue_.get();
}

void ServerState::install(std::shared_ptr<const ServerModel> m, std::string error) {
  std::lock_guard<std::mutex> lock(mu);
  loading_error_ = std::move(error);
  if (!m) return;
  model_ = std::move(m);
  queue_ = std::make_unique<RequestQueue>(model_->generate, config.workers, config.max_queue);
}

std::string ServerState::loading_error() const {
  std::lock_guard<std::mutex> lock(mu);
  return loading_error_;
}

WireFormat wire_for(const httplib::Request& req) {
  if (req.path.rfind("/v1/messages", 0) == 0) return WireFormat::anthropic;
  if (req.path.rfind("/v1/chat/", 0) == 0 || req.path.rfind("/v1/completions", 0) == 0) return WireFormat::openai;
  if (req.has_header("anthropic-version") || req.has_header("x-api-key")) return WireFormat::anthropic;
  return WireFormat::openai;
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void send_error(httplib::Response& res, WireFormat wire, const Error& error) {
  HttpError e = to_http_error(wire, error);
  if (e.retry_after_s > 0) {
    res.set_header("retry-after", std::to_string(e.retry_after_s));
    res.set_header("x-should-retry", "true");
  }
  send_json(res, e.status, e.body);
  current_request_stats().note = error.message;
}

bool parse_body(const httplib::Request& req, httplib::Response& res, WireFormat wire, json& out) {
  auto parsed = parse_json_limited(req.body, "the request body");
  if (!parsed.ok()) {
    send_error(res, wire, parsed.error());
    return false;
  }
  out = std::move(parsed.value());
  return true;
}

std::shared_ptr<const ServerModel> require_model(ServerState& s, httplib::Response& res, WireFormat wire) {
  auto model = s.model();
  if (model) return model;
  std::string err = s.loading_error();
  Error e = make_error(ErrorKind::internal, err.empty() ? "the model is still loading" : "the model failed to load: " + err);
  HttpError h = to_http_error(wire, e);
  res.set_header("retry-after", "1");
  send_json(res, 503, h.body);
  return nullptr;
}

Result<PreparedRequest> prepare_request(const ServerModel& model, WireFormat wire, ChatRequest& request) {
  PreparedRequest out;
  auto prompt = prepare_prompt(model, request);
  if (!prompt.ok()) return prompt.error();
  out.prompt = std::move(prompt.value());
  auto clamped = fit_context(wire, static_cast<int>(out.prompt.tokens.size()), model.info.n_ctx, request);
  if (!clamped.ok()) return clamped.error();
  out.clamped = clamped.value();
  return out;
}

void record_generation(ServerState& s, const engine::Generation& g) {
  s.metrics.observe_generation(g.n_prompt, g.n_cached, g.n_generated, g.ttft_ms / 1000.0, g.decode_ms / 1000.0);
  RequestStats& st = current_request_stats();
  st.generated = true;
  st.n_prompt = g.n_prompt;
  st.n_cached = g.n_cached;
  st.n_generated = g.n_generated;
  st.ttft_ms = g.ttft_ms;
  st.decode_ms = g.decode_ms;
  if (g.finish == engine::FinishReason::cancelled && st.note.empty()) st.note = "cancelled";
}

Error cut_short_error(const ServerState& s) {
  if (s.stopping.load())
    return make_error(ErrorKind::overloaded, "the server is shutting down; the reply was cut short");
  return make_error(ErrorKind::internal, "the generation was stopped by the server before it ended");
}

Result<engine::Generation> collect_generation(ServerState& s, const httplib::Request& req, ActiveGeneration& active) {
  int fd = find_connection_socket(req.local_port, req.remote_addr, req.remote_port);
  for (;;) {
    auto item = active.channel->pop(milliseconds(100));
    if (!item) {
      if (peer_closed(fd)) {
        active.cancel->store(true);
        current_request_stats().note = "cancelled: client disconnected";
        return make_error(ErrorKind::cancelled, "client disconnected");
      }
      continue;
    }
    if (item->kind == StreamItem::Kind::done) {
      record_generation(s, item->generation);
      // Cancelled, yet not by this client: shutdown or the engine. Never a normal reply.
      if (item->generation.finish == engine::FinishReason::cancelled) return cut_short_error(s);
      return std::move(item->generation);
    }
    if (item->kind == StreamItem::Kind::failed) {
      if (item->error.kind == ErrorKind::cancelled) return cut_short_error(s);
      return std::move(item->error);
    }
  }
}

void stream_generation(ServerState& s, const httplib::Request& req, httplib::Response& res,
                       ActiveGeneration active, StreamRenderer r) {
  int fd = find_connection_socket(req.local_port, req.remote_addr, req.remote_port);
  auto renderer = std::make_shared<StreamRenderer>(std::move(r));
  ServerState* sp = &s;
  res.status = 200;
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider("text/event-stream", [sp, active, renderer, fd](size_t, httplib::DataSink& sink) {
    RequestStats& stats = current_request_stats();
    auto write = [&](const std::string& bytes) { return bytes.empty() || sink.write(bytes.data(), bytes.size()); };
    auto hang_up = [&] {
      active.cancel->store(true);
      stats.note = "cancelled: client disconnected";
      return false;
    };
    if (!write(renderer->start())) return hang_up();
    auto last_write = Clock::now();
    const auto ping_every = milliseconds(sp->config.ping_interval_ms);
    for (;;) {
      auto item = active.channel->pop(milliseconds(100));
      if (!item) {
        if (peer_closed(fd)) return hang_up();
        if (Clock::now() - last_write >= ping_every) {
          if (!write(renderer->keepalive())) return hang_up();
          last_write = Clock::now();
        }
        continue;
      }
      if (item->kind == StreamItem::Kind::piece) {
        if (!write(renderer->text(item->text)) || peer_closed(fd)) return hang_up();
        last_write = Clock::now();
        continue;
      }
      if (item->kind == StreamItem::Kind::done && item->generation.finish != engine::FinishReason::cancelled) {
        record_generation(*sp, item->generation);
        write(renderer->finish(item->generation));
      } else {
        // An engine error, or a cancel the client did not ask for (shutdown): an error event,
        // never the events of a normal end.
        if (item->kind == StreamItem::Kind::done) record_generation(*sp, item->generation);
        Error e = item->kind == StreamItem::Kind::done || item->error.kind == ErrorKind::cancelled
                      ? cut_short_error(*sp)
                      : item->error;
        stats.note = e.message;
        write(renderer->error(e));
      }
      sink.done();
      return true;
    }
  });
}

}  // namespace pensieve::server
