// Shared route helpers: state, JSON/error responses, waiting for and streaming generations.
#include <algorithm>

#include "server/json_limits.h"
#include "server/server_state.h"

namespace pensieve::server {

using nlohmann::json;

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
  // One worker per sequence the engine batches: each waits in generate() while the engine
  // runs all of them together.
  queue_ = std::make_unique<RequestQueue>(model_->generate, std::max(config.workers, model_->n_parallel),
                                          config.max_queue);
}

std::string ServerState::loading_error() const {
  std::lock_guard<std::mutex> lock(mu);
  return loading_error_;
}

WireFormat wire_for(const http::Request& req) {
  if (req.path.rfind("/v1/messages", 0) == 0) return WireFormat::anthropic;
  if (req.path.rfind("/v1/chat/", 0) == 0 || req.path.rfind("/v1/completions", 0) == 0) return WireFormat::openai;
  if (req.has_header("anthropic-version") || req.has_header("x-api-key")) return WireFormat::anthropic;
  return WireFormat::openai;
}

void send_json(http::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void send_error(http::Response& res, WireFormat wire, const Error& error) {
  HttpError e = to_http_error(wire, error);
  if (e.retry_after_s > 0) {
    res.set_header("retry-after", std::to_string(e.retry_after_s));
    res.set_header("x-should-retry", "true");
  }
  send_json(res, e.status, e.body);
  res.stats->note = error.message.substr(0, 200);
}

bool parse_body(const http::Request& req, http::Response& res, WireFormat wire, json& out) {
  auto parsed = parse_json_limited(req.body, "the request body");
  if (!parsed.ok()) {
    send_error(res, wire, parsed.error());
    return false;
  }
  out = std::move(parsed.value());
  return true;
}

std::shared_ptr<const ServerModel> require_model(ServerState& s, http::Response& res, WireFormat wire) {
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

void record_generation(ServerState& s, const engine::Generation& g, RequestStats& st) {
  s.metrics.observe_generation(g.n_prompt, g.n_cached, g.n_generated, g.ttft_ms / 1000.0, g.decode_ms / 1000.0);
  st.generated = true;
  if (auto m = s.model()) st.model = m->id;
  st.n_prompt = g.n_prompt;
  st.n_cached = g.n_cached;
  st.n_generated = g.n_generated;
  st.ttft_ms = g.ttft_ms;
  st.decode_ms = g.decode_ms;
  if (g.finish == engine::FinishReason::cancelled && st.note.empty()) st.note = "cancelled";
}

Result<std::shared_ptr<GenerationFeed>> start_feed(RequestQueue& queue, std::vector<token_id> prompt,
                                                   engine::GenerateOptions options) {
  auto feed = std::make_shared<GenerationFeed>();
  QueuedGeneration job;
  job.prompt = std::move(prompt);
  job.options = std::move(options);
  job.cancel = feed->cancel;
  // The callbacks run on engine threads: append under the lock, then wake the connection.
  job.on_token = [feed](std::string_view text, token_id) {
    if (!text.empty()) {
      std::lock_guard<std::mutex> lock(feed->mu);
      feed->pieces.emplace_back(text);
    }
    feed->notifier->notify();
    return !feed->cancel->load();
  };
  job.on_done = [feed](Result<engine::Generation> r) {
    {
      std::lock_guard<std::mutex> lock(feed->mu);
      feed->result.emplace(std::move(r));
    }
    feed->notifier->notify();
  };
  PS_TRY(queue.submit(std::move(job)));
  return feed;
}

Error cut_short_error(const ServerState& s) {
  if (s.stopping.load())
    return make_error(ErrorKind::overloaded, "the server is shutting down; the reply was cut short");
  return make_error(ErrorKind::internal, "the generation was stopped by the server before it ended");
}

// The end of a feed as the client must see it: the generation, or the error to report.
static Result<engine::Generation> outcome(ServerState& s, Result<engine::Generation>&& r, RequestStats& stats) {
  if (r.ok()) {
    record_generation(s, r.value(), stats);
    // Cancelled, yet not by this client (it would be gone): shutdown or the engine.
    if (r->finish == engine::FinishReason::cancelled) return cut_short_error(s);
    return std::move(r);
  }
  if (r.error().kind == ErrorKind::cancelled) return cut_short_error(s);
  return std::move(r);
}

static std::function<void(http::EndReason)> ender(std::shared_ptr<GenerationFeed> feed,
                                                  std::shared_ptr<RequestStats> stats) {
  return [feed, stats](http::EndReason why) {
    if (why == http::EndReason::client_gone) {
      feed->cancel->store(true);
      stats->note = "cancelled: client disconnected";
      stats->client_gone = true;
      return;
    }
    feed->cancel->store(true);
    std::lock_guard<std::mutex> lock(feed->mu);
    feed->stopped = true;
  };
}

void await_generation(ServerState& s, http::Response& res, WireFormat wire, std::shared_ptr<GenerationFeed> feed,
                      ReplyFn reply) {
  auto d = std::make_shared<http::Deferred>();
  d->notifier = feed->notifier;
  ServerState* sp = &s;
  d->poll = [sp, feed, wire, reply](http::Response& r, std::string&) {
    std::optional<Result<engine::Generation>> result;
    {
      std::lock_guard<std::mutex> lock(feed->mu);
      if (!feed->result && !feed->stopped) return false;
      if (feed->result) result.emplace(std::move(*feed->result));
    }
    auto end = result ? outcome(*sp, std::move(*result), *r.stats) : Result<engine::Generation>(cut_short_error(*sp));
    if (!end.ok()) send_error(r, wire, end.error());
    else reply(end.value(), r);
    return true;
  };
  d->end = ender(feed, res.stats);
  res.deferred = std::move(d);
}

void stream_generation(ServerState& s, http::Response& res, std::shared_ptr<GenerationFeed> feed, StreamRenderer r) {
  auto renderer = std::make_shared<StreamRenderer>(std::move(r));
  auto d = std::make_shared<http::Deferred>();
  d->notifier = feed->notifier;
  d->stream = true;
  d->keepalive_ms = s.config.ping_interval_ms;
  d->keepalive = [renderer] { return renderer->keepalive(); };
  res.status = 200;
  res.content_type = "text/event-stream";
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  ServerState* sp = &s;
  auto started = std::make_shared<bool>(false);
  d->poll = [sp, feed, renderer, started](http::Response& res, std::string& out) {
    if (!*started) {
      *started = true;
      out += renderer->start();
    }
    std::deque<std::string> pieces;
    std::optional<Result<engine::Generation>> result;
    bool stopped;
    {
      std::lock_guard<std::mutex> lock(feed->mu);
      pieces.swap(feed->pieces);
      if (feed->result) result.emplace(std::move(*feed->result));
      stopped = feed->stopped;
    }
    for (const auto& p : pieces) out += renderer->text(p);
    if (!result && !stopped) return false;
    auto end = result ? outcome(*sp, std::move(*result), *res.stats) : Result<engine::Generation>(cut_short_error(*sp));
    if (end.ok()) {
      out += renderer->finish(end.value());
    } else {
      // An engine error, or a cancel the client did not ask for (shutdown): an error event,
      // never the events of a normal end.
      res.stats->note = end.error().message;
      out += renderer->error(end.error());
    }
    return true;
  };
  d->end = ender(feed, res.stats);
  res.deferred = std::move(d);
}

}  // namespace pensieve::server
