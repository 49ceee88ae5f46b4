#include "server/sse.h"

namespace pensieve::server {

static std::string dump(const nlohmann::json& j) {
  // Invalid UTF-8 from a model must not throw: replace it.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string sse_event(std::string_view name, const nlohmann::json& data, std::optional<uint64_t> id) {
  std::string out;
  if (id) out += "id: " + std::to_string(*id) + "\n";
  if (!name.empty()) {
    out += "event: ";
    out += name;
    out += "\n";
  }
  out += "data: " + dump(data) + "\n\n";
  return out;
}

std::string sse_data(const nlohmann::json& data) { return "data: " + dump(data) + "\n\n"; }

std::string sse_done() { return "data: [DONE]\n\n"; }

std::string sse_comment(std::string_view text) {
  std::string out = ": ";
  out += text;
  out += "\n\n";
  return out;
}

}  // namespace pensieve::server
