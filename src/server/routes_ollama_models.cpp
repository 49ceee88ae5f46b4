// Ollama's model management: GET /api/tags, /api/ps, /api/version; POST /api/show, /api/pull
// (the store's pull code, progress as NDJSON), /api/copy; DELETE /api/delete.
#include <thread>

#include "server/ollama.h"
#include "server/server_state.h"
#include "store/pull.h"

namespace pensieve::server {

using nlohmann::json;

namespace {

constexpr WireFormat kWire = WireFormat::ollama;

std::string parameter_size(int64_t n) {
  char buf[32];
  if (n >= 1000000000) std::snprintf(buf, sizeof buf, "%.1fB", n / 1e9);
  else if (n >= 1000000) std::snprintf(buf, sizeof buf, "%.1fM", n / 1e6);
  else std::snprintf(buf, sizeof buf, "%.1fK", n / 1e3);
  return buf;
}

json details(const std::string& arch, const std::string& quant, int64_t n_params) {
  return {{"parent_model", ""},      {"format", "gguf"},     {"family", arch},
          {"families", json::array({arch})}, {"parameter_size", parameter_size(n_params)},
          {"quantization_level", quant}};
}

json tag_entry(const store::Manifest& m) {
  return {{"name", m.name},       {"model", m.name},          {"modified_at", m.modified}, {"size", m.size},
          {"digest", m.sha256},   {"details", details(m.architecture, m.quant, m.n_params)}};
}

// The pinned model as a store entry (it may not be in the store at all).
store::Manifest pinned_manifest(const ServerModel& m) {
  store::Manifest out;
  out.name = m.id;
  out.architecture = m.info.architecture;
  out.quant = m.info.quant;
  out.n_params = m.info.n_params;
  out.context = m.info.n_ctx_train;
  out.modified = store::now_rfc3339();
  return out;
}

bool model_field(const json& body, const char* key, std::string& out, http::Response& res) {
  std::string v;
  if (body.is_object() && body.contains(key) && body[key].is_string()) v = body[key];
  if (v.empty() && std::string(key) == "model" && body.is_object() && body.contains("name") && body["name"].is_string())
    v = body["name"];  // older clients send `name`
  if (v.empty()) {
    send_error(res, kWire, make_error(ErrorKind::invalid_request, std::string(key) + " is required"));
    return false;
  }
  out = v;
  return true;
}

// Runs a pull on its own thread; its progress goes out as NDJSON lines (or one reply at the end).
struct PullFeed {
  std::mutex mu;
  std::deque<std::string> lines;
  std::optional<Status> result;
  std::atomic<bool> cancel{false};
  std::shared_ptr<http::Notifier> notifier = std::make_shared<http::Notifier>();
  void push(const json& j) {
    {
      std::lock_guard<std::mutex> lock(mu);
      lines.push_back(j.dump() + "\n");
    }
    notifier->notify();
  }
};

void handle_pull(ServerState& s, const http::Request& req, http::Response& res) {
  json body;
  if (!parse_body(req, res, kWire, body)) return;
  std::string spec;
  if (!model_field(body, "model", spec, res)) return;
  if (spec.rfind("hf:", 0) != 0 && spec.rfind("hf.co/", 0) != 0 && spec.rfind("https://", 0) != 0 &&
      spec.rfind("http://", 0) != 0)
    return send_error(res, kWire, make_error(ErrorKind::invalid_request,
                                             "pensieve pulls GGUF files from Hugging Face: hf.co/OWNER/REPO[:QUANT], "
                                             "hf:OWNER/REPO[:QUANT] or an https:// URL, not '" + spec + "'"));
  const bool stream = !body.contains("stream") || !body["stream"].is_boolean() || body["stream"].get<bool>();
  auto feed = std::make_shared<PullFeed>();
  store::Store st = s.store();
  std::thread([feed, st, spec] {
    store::PullOptions o;
    o.cancelled = [feed] { return feed->cancel.load(); };
    o.on_progress = [feed, spec](const store::PullProgress& p) {
      json j = {{"status", p.status == "downloading" ? "pulling " + spec : p.status}};
      if (p.total > 0) j["total"] = p.total;
      if (p.status == "downloading" || p.total > 0) j["completed"] = p.completed;
      if (p.status != "success") feed->push(j);
    };
    auto m = store::pull_model(st, spec, "", o);
    std::lock_guard<std::mutex> lock(feed->mu);
    feed->result = m ? ok_status() : Status(m.error());
    if (m) feed->lines.push_back(json{{"status", "success"}, {"model", m->name}, {"digest", m->sha256}}.dump() + "\n");
    feed->notifier->notify();
  }).detach();

  auto d = std::make_shared<http::Deferred>();
  d->notifier = feed->notifier;
  d->stream = stream;
  d->poll = [feed, stream](http::Response& r, std::string& out) {
    std::lock_guard<std::mutex> lock(feed->mu);
    if (stream) {
      for (auto& l : feed->lines) out += l;
      feed->lines.clear();
      if (!feed->result) return false;
      if (!feed->result->ok()) out += json{{"error", feed->result->error().message}}.dump() + "\n";
      return true;
    }
    if (!feed->result) return false;
    if (!feed->result->ok()) send_error(r, kWire, feed->result->error());
    else send_json(r, 200, json::parse(feed->lines.back()));
    return true;
  };
  d->end = [feed](http::EndReason) { feed->cancel = true; };
  d->keepalive_ms = 10000;
  d->keepalive = [] { return std::string(); };
  if (stream) {
    res.status = 200;
    res.content_type = "application/x-ndjson";
  }
  res.deferred = std::move(d);
}

}  // namespace

void register_ollama_model_routes(ServerState& s) {
  s.router.add("GET", "/api/version", [](const http::Request&, http::Response& res) {
    send_json(res, 200, {{"version", "0.1.0"}});
  });
  s.router.add("GET", "/api/tags", [&s](const http::Request&, http::Response& res) {
    json models = json::array();
    if (s.registry) {
      for (const store::Manifest& m : s.registry->source().list()) models.push_back(tag_entry(m));
    } else if (auto m = s.model()) {
      models.push_back(tag_entry(pinned_manifest(*m)));
    }
    send_json(res, 200, {{"models", models}});
  });
  s.router.add("GET", "/api/ps", [&s](const http::Request&, http::Response& res) {
    json models = json::array();
    auto entry = [](const store::Manifest& m, const std::string& device, int64_t expires_in_ms, int n_ctx) {
      json j = tag_entry(m);
      const std::time_t t = std::time(nullptr) + (expires_in_ms < 0 ? 100LL * 365 * 86400 : expires_in_ms / 1000);
      char buf[32];
      std::tm tm{};
      gmtime_r(&t, &tm);
      std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
      j["expires_at"] = buf;
      j["size_vram"] = device.rfind("cuda", 0) == 0 ? m.size : 0;
      j["context_length"] = n_ctx;
      return j;
    };
    if (s.registry) {
      for (const ModelState& l : s.registry->loaded())
        if (l.state != "loading") models.push_back(entry(l.manifest, l.device, l.expires_in_ms, l.n_ctx));
    } else if (auto m = s.model()) {
      models.push_back(entry(pinned_manifest(*m), m->device, -1, m->info.n_ctx));
    }
    send_json(res, 200, {{"models", models}});
  });
  s.router.add("POST", "/api/show", [&s](const http::Request& req, http::Response& res) {
    json body;
    if (!parse_body(req, res, kWire, body)) return;
    std::string name;
    if (!model_field(body, "model", name, res)) return;
    store::Manifest m;
    std::string tmpl;
    if (s.registry) {
      auto found = s.registry->source().find(name);
      if (!found) return send_error(res, kWire, make_error(ErrorKind::not_found, "model '" + name + "' not found"));
      m = *found;
    } else if (auto pinned = s.model()) {
      m = pinned_manifest(*pinned);
      tmpl = pinned->info.chat_template;
    } else {
      return send_error(res, kWire, make_error(ErrorKind::overloaded, "the model is still loading"));
    }
    json info = {{"general.architecture", m.architecture},
                 {"general.parameter_count", m.n_params},
                 {m.architecture + ".context_length", m.context}};
    send_json(res, 200, {{"modelfile", ""},
                         {"parameters", ""},
                         {"template", tmpl},
                         {"details", details(m.architecture, m.quant, m.n_params)},
                         {"model_info", info},
                         {"capabilities", json::array({"completion", "tools", "embedding"})},
                         {"modified_at", m.modified}});
  });
  s.router.add("POST", "/api/pull", [&s](const http::Request& req, http::Response& res) { handle_pull(s, req, res); });
  s.router.add("DELETE", "/api/delete", [&s](const http::Request& req, http::Response& res) {
    json body;
    if (!parse_body(req, res, kWire, body)) return;
    std::string name;
    if (!model_field(body, "model", name, res)) return;
    if (s.registry) (void)s.registry->release_now(name);
    Status st = s.store().remove(name);
    if (!st.ok()) return send_error(res, kWire, st.error());
    send_json(res, 200, json::object());
  });
  s.router.add("POST", "/api/copy", [&s](const http::Request& req, http::Response& res) {
    json body;
    if (!parse_body(req, res, kWire, body)) return;
    std::string from, to;
    if (!model_field(body, "source", from, res) || !model_field(body, "destination", to, res)) return;
    auto m = s.store().copy(from, to);
    if (!m) return send_error(res, kWire, m.error());
    send_json(res, 200, json::object());
  });
}

}  // namespace pensieve::server
