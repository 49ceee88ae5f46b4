#include "server/auth.h"

namespace pensieve::server {

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Always walk the longer input so the time does not reveal a matching prefix.
  size_t n = a.size() > b.size() ? a.size() : b.size();
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

std::string presented_key(std::string_view x_api_key, std::string_view authorization) {
  if (!x_api_key.empty()) return std::string(x_api_key);
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() > kBearer.size()) {
    std::string_view scheme = authorization.substr(0, kBearer.size());
    bool is_bearer = true;
    for (size_t i = 0; i < kBearer.size(); ++i)
      is_bearer &= (scheme[i] | 0x20) == (kBearer[i] | 0x20);
    if (is_bearer) return std::string(authorization.substr(kBearer.size()));
  }
  return "";
}

bool key_accepted(const std::string& configured, std::string_view x_api_key, std::string_view authorization) {
  if (configured.empty()) return true;
  // Clients may send both headers (an SDK's default key in one): accept if either matches.
  if (!x_api_key.empty() && constant_time_equal(x_api_key, configured)) return true;
  std::string bearer = presented_key("", authorization);
  return !bearer.empty() && constant_time_equal(bearer, configured);
}

std::string cors_allow_origin(const std::vector<std::string>& allowed, std::string_view origin) {
  if (origin.empty()) return "";
  for (const auto& a : allowed) {
    if (a == "*") return "*";
    if (a == origin) return std::string(origin);
  }
  return "";
}

}  // namespace pensieve::server
