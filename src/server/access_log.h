// Operator logs: every line goes to stderr, as text ("pensieve: ...") or as JSON (one object a
// line, for log shippers), chosen once by `serve --log-format`. Request lines carry an ISO-8601
// timestamp, the client address and a request id that the response also carries in its
// `request-id` header, so a client's report can be matched to the server's line.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "server/http/types.h"

namespace pensieve::server {

enum class LogFormat { text, json };

// Process-wide; set once before the server starts (text by default).
void set_log_format(LogFormat format);
LogFormat log_format();
std::optional<LogFormat> parse_log_format(std::string_view name);  // "text" | "json"

// UTC with milliseconds: 2026-12-02T17:33:41.123Z
std::string iso8601_utc(std::chrono::system_clock::time_point t);

// One event on stderr. text: "pensieve: MESSAGE"; json: {"time", "level", "msg": MESSAGE,
// ...fields}. `message` is a whole sentence in both formats, so a line-matching tool (or a test
// waiting for "listening on http://...") works with either.
void log_event(std::string_view level, std::string_view message,
               const nlohmann::json& fields = nlohmann::json::object());

// A client-chosen request id is kept when it is 1-128 characters of [A-Za-z0-9._:-] (it ends up
// in log lines and headers, so nothing else passes).
bool is_valid_request_id(std::string_view id);
// "req_" + 24 random hex digits.
std::string new_request_id();
// The request's own `request-id` or `x-request-id` header if well-formed, else a new id.
std::string request_id_for(const http::Request& req);
// Puts the id on the response (`request-id` and `x-request-id` headers) and into its log stats.
void stamp_request_id(http::Response& res, const std::string& id);

// One answered request as the access log line shows it.
struct AccessRecord {
  std::chrono::system_clock::time_point time;
  std::string client;  // "ip:port"
  std::string request_id;
  std::string method, path;  // as sent (made printable here)
  int status = 0;
  double total_ms = 0;
  http::RequestStats stats;
};
// The line without its newline.
std::string format_access_line(LogFormat format, const AccessRecord& r);

}  // namespace pensieve::server
