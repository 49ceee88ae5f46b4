#include "server/http/wire.h"

#include <cstdio>

namespace pensieve::server::http {

static void head_lines(std::string& out, const Response& res) {
  out += "HTTP/1.1 " + std::to_string(res.status) + " " + status_text(res.status) + "\r\n";
  for (const auto& [k, v] : res.headers) {
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  if (!res.content_type.empty()) out += "Content-Type: " + res.content_type + "\r\n";
}

std::string serialize_response(const Response& res, bool keep_alive, bool head_only) {
  std::string out;
  out.reserve(256 + (head_only ? 0 : res.body.size()));
  head_lines(out, res);
  out += "Content-Length: " + std::to_string(res.body.size()) + "\r\n";
  out += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  if (!head_only) out += res.body;
  return out;
}

std::string serialize_stream_head(const Response& res, bool chunked, bool keep_alive) {
  std::string out;
  head_lines(out, res);
  if (chunked) out += "Transfer-Encoding: chunked\r\n";
  out += chunked && keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  return out;
}

std::string chunk(std::string_view data) {
  if (data.empty()) return "";
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  std::string out = size;
  out += data;
  out += "\r\n";
  return out;
}

std::string last_chunk() { return "0\r\n\r\n"; }

}  // namespace pensieve::server::http
