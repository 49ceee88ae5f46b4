// Jobs: POST /v1/jobs -> 202 {id}; GET /v1/jobs/{id}; GET /v1/jobs/{id}/stream (SSE, resumable
// with Last-Event-ID); DELETE /v1/jobs/{id} cancels.
#include "server/openai.h"
#include "server/server_state.h"
#include "server/sse.h"

namespace pensieve::server {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

static json job_result(const engine::Generation& g) {
  return {{"text", g.text},
          {"finish_reason", std::string(engine::finish_reason_name(g.finish))},
          {"usage", {{"prompt_tokens", g.n_prompt}, {"cached_tokens", g.n_cached}, {"completion_tokens", g.n_generated}}}};
}

static json job_timings(const engine::Generation& g, Clock::time_point submitted, Clock::time_point started) {
  double queued_ms = std::chrono::duration<double, std::milli>(started - submitted).count();
  double tps = g.decode_ms > 0 ? 1000.0 * g.n_generated / g.decode_ms : 0.0;
  return {{"queued_ms", queued_ms},
          {"prefill_ms", g.prefill_ms},
          {"ttft_ms", g.ttft_ms},
          {"decode_ms", g.decode_ms},
          {"tokens_per_s", tps}};
}

static Result<ChatRequest> parse_job(json body, const std::string& default_model) {
  if (!body.is_object()) return make_error(ErrorKind::invalid_request, "the request body must be a JSON object");
  if (body.contains("kind") && !body["kind"].is_string()) return make_error(ErrorKind::invalid_request, "kind: expected a string");
  std::string kind = body.value("kind", "generate");
  if (kind != "generate") return make_error(ErrorKind::invalid_request, "kind: only 'generate' jobs exist");
  if (!body.contains("model")) body["model"] = default_model;
  bool has_max = body.contains("max_tokens") || body.contains("max_completion_tokens");
  if (!has_max) body["max_tokens"] = 256;
  body["stream"] = false;
  if (body.contains("messages")) return parse_openai_chat_request(body);
  if (body.contains("prompt")) return parse_openai_completion_request(body);
  return make_error(ErrorKind::invalid_request, "a job needs 'messages' or 'prompt'");
}

static void handle_create(ServerState& s, const http::Request& req, http::Response& res) {
  WireFormat wire = wire_for(req);
  json body;
  if (!parse_body(req, res, wire, body)) return;
  const std::string name = body.is_object() && body.contains("model") && body["model"].is_string() ? body["model"].get<std::string>() : "";
  auto model = require_model(s, res, wire, name);
  if (!model) return;
  auto parsed = parse_job(body, model->id);
  if (!parsed.ok()) return send_error(res, wire, parsed.error());
  ChatRequest& request = parsed.value();
  auto prepared = prepare_request(*model, wire, request);
  if (!prepared.ok()) return send_error(res, wire, prepared.error());

  auto job = s.jobs.create("generate", request.options.max_tokens);
  auto submitted = std::make_shared<Clock::time_point>(Clock::now());
  auto started = std::make_shared<Clock::time_point>(Clock::now());
  QueuedGeneration q;
  q.prompt = std::move(prepared->prompt.tokens);
  q.options = request.options;
  q.cancel = job->cancel_flag();
  q.on_start = [job, started] {
    *started = Clock::now();
    job->mark_running();
  };
  q.on_token = [job](std::string_view text, token_id) {
    job->add_token(std::string(text));
    return !job->cancel_flag()->load();
  };
  ServerState* sp = &s;
  q.on_done = [job, sp, submitted, started, hold = model.hold](Result<engine::Generation> r) {
    if (!r.ok()) {
      if (r.error().kind == ErrorKind::cancelled) job->mark_cancelled(nullptr);
      else job->fail(anthropic_error_type(r.error().kind), r.error().message);
      return;
    }
    const engine::Generation& g = r.value();
    sp->metrics.observe_generation(g.n_prompt, g.n_cached, g.n_generated, g.ttft_ms / 1000.0, g.decode_ms / 1000.0);
    if (g.finish == engine::FinishReason::cancelled) job->mark_cancelled(job_result(g));
    else job->succeed(job_result(g), job_timings(g, *submitted, *started));
  };
  Status st = model.queue->submit(std::move(q));
  if (!st.ok()) {
    s.jobs.remove(job->id());
    return send_error(res, wire, st.error());
  }
  res.set_header("Location", "/v1/jobs/" + job->id());
  send_json(res, 202, job->to_json());
}

static std::shared_ptr<Job> find_job(ServerState& s, const http::Request& req, http::Response& res) {
  std::string id = req.params.at(0);
  auto job = s.jobs.find(id);
  if (!job) send_error(res, wire_for(req), make_error(ErrorKind::not_found, "job '" + id + "' not found"));
  return job;
}

static uint64_t last_event_id(const http::Request& req) {
  std::string v = req.header("Last-Event-ID");
  if (v.empty()) v = req.query_param("last_event_id");
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 19) return 0;
  return std::stoull(v);
}

static void handle_stream(ServerState& s, const http::Request& req, http::Response& res) {
  auto job = find_job(s, req, res);
  if (!job) return;
  auto d = std::make_shared<http::Deferred>();
  job->add_watcher(d->notifier);
  d->stream = true;
  d->keepalive_ms = s.config.ping_interval_ms;
  d->keepalive = [] { return sse_comment("ping"); };
  auto after = std::make_shared<uint64_t>(last_event_id(req));
  auto ended = std::make_shared<bool>(false);
  d->poll = [job, after, ended](http::Response&, std::string& out) {
    bool terminal = false;
    auto events = job->events_after(*after, std::chrono::milliseconds(0), &terminal);
    for (const auto& e : events) {
      out += sse_event(e.name, e.data, e.id);
      *after = e.id;
    }
    return (terminal && events.empty()) || *ended;
  };
  // The job lives on without this stream: leaving (client gone, shutdown) cancels nothing.
  d->end = [ended](http::EndReason) { *ended = true; };
  res.status = 200;
  res.content_type = "text/event-stream";
  res.set_header("Cache-Control", "no-cache");
  res.deferred = std::move(d);
}

void register_job_routes(ServerState& s) {
  s.router.add("POST", "/v1/jobs", [&s](const http::Request& req, http::Response& res) { handle_create(s, req, res); });
  s.router.add("GET", "/v1/jobs/*", [&s](const http::Request& req, http::Response& res) {
    if (auto job = find_job(s, req, res)) send_json(res, 200, job->to_json());
  });
  s.router.add("GET", "/v1/jobs/*/stream",
             [&s](const http::Request& req, http::Response& res) { handle_stream(s, req, res); });
  s.router.add("DELETE", "/v1/jobs/*", [&s](const http::Request& req, http::Response& res) {
    auto job = find_job(s, req, res);
    if (!job) return;
    job->cancel_flag()->store(true);
    if (job->state() == JobState::queued) job->mark_cancelled(nullptr);  // never reaches the engine
    send_json(res, 200, job->to_json());
  });
}

}  // namespace pensieve::server
