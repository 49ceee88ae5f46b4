// Test helper: splits an SSE byte stream into (event, data) pairs the way SSE clients do.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pensieve::server::testing {

struct SseEvent {
  std::string id, event;
  std::string data;
};

inline std::vector<SseEvent> parse_sse(const std::string& bytes) {
  std::vector<SseEvent> out;
  SseEvent cur;
  bool any = false;
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t nl = bytes.find('\n', pos);
    if (nl == std::string::npos) nl = bytes.size();
    std::string line = bytes.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty()) {
      if (any) out.push_back(cur);
      cur = SseEvent{};
      any = false;
    } else if (line[0] == ':') {
      continue;
    } else if (line.rfind("event: ", 0) == 0) {
      cur.event = line.substr(7), any = true;
    } else if (line.rfind("data: ", 0) == 0) {
      cur.data += line.substr(6), any = true;
    } else if (line.rfind("id: ", 0) == 0) {
      cur.id = line.substr(4), any = true;
    }
  }
  return out;
}

}  // namespace pensieve::server::testing
