// Server-sent events framing (https://html.spec.whatwg.org/multipage/server-sent-events.html).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace pensieve::server {

// "id: N\n" (optional) "event: NAME\n" "data: JSON\n\n". JSON dumps never contain a raw newline,
// so one data line always suffices. An empty name writes no event line (OpenAI style).
std::string sse_event(std::string_view name, const nlohmann::json& data,
                      std::optional<uint64_t> id = std::nullopt);
std::string sse_data(const nlohmann::json& data);  // "data: JSON\n\n"
std::string sse_done();                             // "data: [DONE]\n\n"
std::string sse_comment(std::string_view text);     // ": text\n\n" (keep-alive; parsers ignore it)

}  // namespace pensieve::server
