// GET|HEAD /, /health, /metrics, /v1/models, /v1/models/{id}.
#include <ctime>

#include "server/server_state.h"
#include "server/web_page.h"

namespace pensieve::server {

using nlohmann::json;

static std::string rfc3339(std::time_t t) {
  char buf[32];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// One entry that both SDKs parse: OpenAI's {id, object, created, owned_by} plus Anthropic's
// {type, id, display_name, created_at, max_input_tokens, max_tokens}.
static json model_entry(const ServerModel& m, const std::string& id, std::time_t created) {
  const int n_ctx = m.info.n_ctx;
  return {{"id", id},
          {"object", "model"},
          {"created", static_cast<int64_t>(created)},
          {"owned_by", "pensieve"},
          {"type", "model"},
          {"display_name", m.info.name.empty() ? id : m.info.name},
          {"created_at", rfc3339(created)},
          {"max_input_tokens", n_ctx},
          {"max_tokens", n_ctx},
          {"context_length", n_ctx},
          {"meta",
           {{"architecture", m.info.architecture},
            {"quant", m.info.quant},
            {"variant", m.variant},
            {"device", m.device},
            {"n_params", m.info.n_params},
            {"n_ctx_train", m.info.n_ctx_train}}}};
}

static bool model_id_known(const ServerModel& m, const std::string& id) {
  if (id == m.id || id.rfind("claude", 0) == 0) return true;
  for (const auto& a : m.aliases)
    if (a == id) return true;
  return false;
}

void register_info_routes(ServerState& s) {
  // The web chat page. Its policy allows nothing from elsewhere (it works offline, and an
  // injected tag could not load or send anything) and no framing by other sites.
  auto root = [](const http::Request&, http::Response& res) {
    res.set_content(std::string(web_chat_page()), "text/html; charset=utf-8");
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
                   "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("Cache-Control", "no-cache");
  };
  s.router.add("GET", "/", root);
  s.router.add("GET", "/health", [&s](const http::Request&, http::Response& res) {
    auto model = s.model();
    double uptime = std::chrono::duration<double>(std::chrono::steady_clock::now() - s.started).count();
    if (!model) {
      std::string err = s.loading_error();
      send_json(res, 503, {{"status", err.empty() ? "loading" : "error"}, {"error", err}, {"uptime_s", uptime}});
      return;
    }
    send_json(res, 200, {{"status", "ok"},
                         {"model", model->id},
                         {"variant", model->variant},
                         {"device", model->device},
                         {"n_ctx", model->info.n_ctx},
                         {"uptime_s", uptime}});
  });
  s.router.add("GET", "/metrics", [&s](const http::Request&, http::Response& res) {
    LiveGauges g;
    if (RequestQueue* queue = s.queue()) {
      g.waiting = queue->waiting();
      g.running = queue->running();
    }
    if (auto model = s.model(); model && model->kv_usage) {
      const engine::KvUsage kv = model->kv_usage();
      g.kv_tokens = kv.tokens;
      g.kv_capacity = kv.capacity;
    }
    if (auto model = s.model(); model && model->engine_stats) g.engine = model->engine_stats();
    res.set_content(s.metrics.render(g), "text/plain; version=0.0.4");
  });
  s.router.add("GET", "/v1/models", [&s](const http::Request& req, http::Response& res) {
    auto model = require_model(s, res, wire_for(req));
    if (!model) return;
    std::time_t created = std::time(nullptr) -
        static_cast<std::time_t>(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - s.started).count());
    json data = json::array({model_entry(*model, model->id, created)});
    for (const auto& a : model->aliases)
      if (a != model->id) data.push_back(model_entry(*model, a, created));
    send_json(res, 200, {{"object", "list"},
                         {"data", data},
                         {"has_more", false},
                         {"first_id", data.front()["id"]},
                         {"last_id", data.back()["id"]}});
  });
  s.router.add("GET", "/v1/models/*", [&s](const http::Request& req, http::Response& res) {
    WireFormat wire = wire_for(req);
    auto model = require_model(s, res, wire);
    if (!model) return;
    std::string id = req.params.at(0);
    if (!model_id_known(*model, id))
      return send_error(res, wire, make_error(ErrorKind::not_found, "model '" + id + "' not found"));
    send_json(res, 200, model_entry(*model, id, std::time(nullptr)));
  });
}

}  // namespace pensieve::server
