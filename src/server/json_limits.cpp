#include "server/json_limits.h"

#include <atomic>

namespace pensieve::server {

namespace {
std::atomic<int> g_max_depth{kDefaultMaxJsonDepth};
}

int max_json_depth() { return g_max_depth.load(std::memory_order_relaxed); }

void set_max_json_depth(int depth) { g_max_depth.store(depth > 0 ? depth : kDefaultMaxJsonDepth); }

size_t json_nesting_depth(std::string_view text, size_t stop_after) {
  size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;  // the escaped character cannot end the string
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > stop_after) return stop_after + 1;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

Result<nlohmann::json> parse_json_limited(std::string_view text, const std::string& what, int max_depth) {
  const size_t limit = static_cast<size_t>(max_depth > 0 ? max_depth : max_json_depth());
  if (json_nesting_depth(text, limit) > limit)
    return make_error(ErrorKind::invalid_request,
                      what + " nests JSON deeper than " + std::to_string(limit) + " levels (the limit)");
  nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error(ErrorKind::invalid_request, what + " is not valid JSON");
  return j;
}

}  // namespace pensieve::server
