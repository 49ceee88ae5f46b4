#include "server/access_log.h"

#include <atomic>
#include <cstdio>
#include <ctime>
#include <random>

namespace pensieve::server {

using nlohmann::json;

namespace {

std::atomic<LogFormat> g_format{LogFormat::text};

// Printable (no control bytes) and short: methods, paths and notes come from clients.
std::string printable(std::string_view s, size_t max = 200) {
  std::string out;
  for (char c : s.substr(0, max)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return out;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// One write per line: stdio locks each call, so lines from several threads never interleave.
void write_line(std::string line) {
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

double round1(double v) { return static_cast<double>(static_cast<int64_t>(v * 10 + (v >= 0 ? 0.5 : -0.5))) / 10; }

}  // namespace

void set_log_format(LogFormat format) { g_format.store(format); }
LogFormat log_format() { return g_format.load(); }

std::optional<LogFormat> parse_log_format(std::string_view name) {
  if (name == "text") return LogFormat::text;
  if (name == "json") return LogFormat::json;
  return std::nullopt;
}

std::string iso8601_utc(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

void log_event(std::string_view level, std::string_view message, const json& fields) {
  if (log_format() == LogFormat::text) {
    write_line("pensieve: " + std::string(message));
    return;
  }
  json line = {{"time", iso8601_utc(std::chrono::system_clock::now())}, {"level", level}, {"msg", message}};
  if (fields.is_object())
    for (const auto& [k, v] : fields.items()) line[k] = v;
  write_line(dump(line));
}

bool is_valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string new_request_id() {
  // Per-thread generator seeded from the OS: ids must not repeat across restarts or threads.
  thread_local std::mt19937_64 rng{(static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}()};
  static const char kHex[] = "0123456789abcdef";
  std::string id = "req_";
  for (int word = 0; word < 2; ++word) {
    uint64_t bits = rng();
    for (int i = 0; i < 12; ++i, bits >>= 4) id += kHex[bits & 15];
  }
  return id;
}

std::string request_id_for(const http::Request& req) {
  for (const char* name : {"request-id", "x-request-id"}) {
    std::string id = req.header(name);
    if (is_valid_request_id(id)) return id;
  }
  return new_request_id();
}

void stamp_request_id(http::Response& res, const std::string& id) {
  std::erase_if(res.headers, [](const auto& h) { return http::iequals(h.first, "request-id") || http::iequals(h.first, "x-request-id"); });
  res.stats->request_id = id;
  res.set_header("request-id", id);
  res.set_header("x-request-id", id);
}

std::string format_access_line(LogFormat format, const AccessRecord& r) {
  const http::RequestStats& st = r.stats;
  const std::string method = r.method.empty() ? "-" : printable(r.method, 20);
  const std::string path = r.path.empty() ? "-" : printable(r.path);
  const std::string client = r.client.empty() ? "-" : r.client;
  const std::string id = r.request_id.empty() ? "-" : r.request_id;
  const double tps = st.decode_ms > 0 ? 1000.0 * st.n_generated / st.decode_ms : 0.0;
  if (format == LogFormat::json) {
    json j = {{"time", iso8601_utc(r.time)}, {"level", r.status >= 500 ? "error" : "info"},
              {"msg", "request"},           {"client", client},
              {"request_id", id},           {"method", method},
              {"path", path},               {"status", r.status},
              {"duration_ms", round1(r.total_ms)}};
    if (!st.model.empty()) j["model"] = st.model;
    if (st.generated) {
      j["prompt_tokens"] = st.n_prompt;
      j["cached_tokens"] = st.n_cached;
      j["generated_tokens"] = st.n_generated;
      j["ttft_ms"] = round1(st.ttft_ms);
      j["decode_ms"] = round1(st.decode_ms);
      j["tokens_per_s"] = round1(tps);
    }
    if (!st.note.empty()) j["note"] = printable(st.note);
    return dump(j);
  }
  char buf[1024];
  int n = std::snprintf(buf, sizeof buf, "pensieve: %s %s %s %s %s %d", iso8601_utc(r.time).c_str(), client.c_str(),
                        id.c_str(), method.c_str(), path.c_str(), r.status);
  std::string line(buf, static_cast<size_t>(std::max(0, std::min<int>(n, sizeof buf - 1))));
  if (!st.model.empty()) line += " model=" + printable(st.model, 100);
  if (st.generated) {
    std::snprintf(buf, sizeof buf, " in=%d out=%d cached=%d ttft=%.1fms %.1f tok/s", st.n_prompt, st.n_generated,
                  st.n_cached, st.ttft_ms, tps);
    line += buf;
  }
  std::snprintf(buf, sizeof buf, " %.0fms", r.total_ms);
  line += buf;
  if (!st.note.empty()) line += " " + printable(st.note);
  return line;
}

}  // namespace pensieve::server
