// API-key checks and CORS.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pensieve::server {

// Compares in time that depends only on the lengths, not on where the strings differ.
bool constant_time_equal(std::string_view a, std::string_view b);

// The key a client presented: `x-api-key`, else `Authorization: Bearer <key>`. Empty if none.
std::string presented_key(std::string_view x_api_key, std::string_view authorization);

// True when no key is configured or the presented key matches it.
bool key_accepted(const std::string& configured, std::string_view x_api_key, std::string_view authorization);

// The Access-Control-Allow-Origin value for a request's Origin, or "" when not allowed.
// `allowed` may contain "*".
std::string cors_allow_origin(const std::vector<std::string>& allowed, std::string_view origin);

}  // namespace pensieve::server
