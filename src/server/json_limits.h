// JSON that cannot crash the server: every JSON text that comes from outside (request bodies,
// tool-call arguments inside them, tool calls in model output) is parsed through here.
//
// nlohmann's parser is iterative, but copying, dumping and rendering a parsed value (chat
// templates, schema hints) recurse once per nesting level, so a 100 KB body of '[' can overflow
// the stack. The nesting depth is therefore checked by a linear pre-scan of the text, before the
// parser builds anything, and deeper input is refused with an invalid_request error.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace pensieve::server {

inline constexpr int kDefaultMaxJsonDepth = 128;

// The process-wide depth limit (set once by the server from --max-json-depth).
int max_json_depth();
void set_max_json_depth(int depth);

// The deepest nesting of arrays/objects in `text` (strings are skipped, escapes honoured), or
// stop_after + 1 as soon as the depth passes stop_after. Linear time, constant memory; needs no
// valid JSON.
size_t json_nesting_depth(std::string_view text, size_t stop_after);

// Parses `text`; an invalid_request error naming `what` when it is not JSON or nests deeper than
// max_depth (<= 0: max_json_depth()).
Result<nlohmann::json> parse_json_limited(std::string_view text, const std::string& what, int max_depth = 0);

}  // namespace pensieve::server
