#include "server/request_checks.h"

#include <arpa/inet.h>

#include <cctype>

#include "server/auth.h"

namespace pensieve::server {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

HttpError forbidden(WireFormat wire, const std::string& message) {
  HttpError e;
  e.status = 403;
  if (wire == WireFormat::anthropic)
    e.body = {{"type", "error"}, {"error", {{"type", "permission_error"}, {"message", message}}}};
  else if (wire == WireFormat::ollama)
    e.body = {{"error", message}};
  else
    e.body = {{"error", {{"message", message}, {"type", "invalid_request_error"}, {"param", nullptr}, {"code", "forbidden"}}}};
  return e;
}

}  // namespace

bool is_loopback_name(std::string_view host) {
  std::string h = lower(host);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (!h.empty() && h.back() == '.') h.pop_back();  // "localhost."
  if (h == "localhost" || ends_with(h, ".localhost")) return true;
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    if (IN6_IS_ADDR_V4MAPPED(&v6)) return v6.s6_addr[12] == 127;
  }
  return false;
}

std::string host_without_port(std::string_view host_header) {
  std::string_view h = host_header;
  while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.remove_prefix(1);
  while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.remove_suffix(1);
  if (!h.empty() && h.front() == '[') {  // [v6]:port
    size_t close = h.find(']');
    return lower(close == std::string_view::npos ? h : h.substr(1, close - 1));
  }
  size_t colon = h.find(':');
  if (colon != std::string_view::npos && h.find(':', colon + 1) == std::string_view::npos) h = h.substr(0, colon);
  return lower(h);
}

bool host_allowed(const ServerConfig& config, std::string_view host_header) {
  const bool loopback_bound = is_loopback_name(config.host);
  if (!loopback_bound && config.allowed_hosts.empty()) return true;  // exposed on purpose: use --api-key
  std::string host = host_without_port(host_header);
  if (host.empty()) return true;  // HTTP/1.0 without Host: not a browser, so not a rebinding attack
  for (const auto& a : config.allowed_hosts) {
    if (a == "*") return true;
    std::string allowed = lower(a);
    if (allowed == host) return true;
    if (allowed.size() > 1 && allowed[0] == '.' && ends_with(host, allowed)) return true;  // ".example.com"
  }
  return is_loopback_name(host);
}

bool origin_allowed(const ServerConfig& config, std::string_view method, std::string_view origin,
                    std::string_view host_header) {
  if (origin.empty() || method == "GET" || method == "HEAD" || method == "OPTIONS") return true;
  if (!cors_allow_origin(config.cors_origins, origin).empty()) return true;  // a --cors-origin
  const size_t scheme = origin.find("://");
  if (scheme == std::string_view::npos) return false;  // "null": sandboxed frames, file:// pages
  std::string_view authority = origin.substr(scheme + 3);
  if (!authority.empty() && authority.back() == '/') authority.remove_suffix(1);
  return !host_header.empty() && iequals(authority, host_header);  // the page this server served
}

bool header_value_clean(std::string_view value) {
  for (char ch : value) {
    unsigned char c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

bool is_json_content_type(std::string_view ct) {
  size_t semi = ct.find(';');
  std::string_view type = ct.substr(0, semi);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  return iequals(type, "application/json");
}

bool route_takes_json(std::string_view method, std::string_view path) {
  if (method != "POST") return false;
  size_t q = path.find('?');
  std::string_view p = path.substr(0, q);
  return p == "/v1/messages" || p == "/v1/messages/count_tokens" || p == "/v1/chat/completions" ||
         p == "/v1/completions" || p == "/v1/jobs";
}

std::optional<HttpError> screen_request(const ServerConfig& config, std::string_view method, std::string_view path,
                                        const HeaderList& headers, WireFormat wire) {
  std::string_view host, content_type, origin;
  int n_host = 0;
  for (const auto& [name, value] : headers) {
    if (!header_value_clean(value) || !header_value_clean(name))
      return to_http_error(wire, make_error(ErrorKind::invalid_request,
                                            "header '" + lower(name.substr(0, 64)) + "' contains a control character"));
    if (iequals(name, "host")) {
      host = value;
      ++n_host;
    } else if (iequals(name, "content-type")) {
      content_type = value;
    } else if (iequals(name, "origin")) {
      origin = value;
    }
  }
  if (n_host > 1) return to_http_error(wire, make_error(ErrorKind::invalid_request, "more than one Host header"));
  if (!host_allowed(config, host))
    return forbidden(wire, "Host '" + std::string(host.substr(0, 128)) +
                               "' is not allowed: this server answers only requests addressed to a loopback name "
                               "(127.0.0.1, localhost, [::1]) or to a name given with --allowed-hosts");
  if (!origin_allowed(config, method, origin, host))
    return forbidden(wire, "Origin '" + std::string(origin.substr(0, 128)) +
                               "' may not send " + std::string(method) +
                               " requests here: only this server's own pages and origins given with --cors-origin "
                               "may (a web page of any site can post to a local address)");
  if (route_takes_json(method, path) && !is_json_content_type(content_type)) {
    HttpError e = to_http_error(wire, make_error(ErrorKind::invalid_request,
                                                 "Content-Type must be application/json (got '" +
                                                     std::string(content_type.substr(0, 128)) +
                                                     "'); with curl add -H 'Content-Type: application/json'. "
                                                     "Required so that web pages cannot post to this server"));
    e.status = 415;
    return e;
  }
  return std::nullopt;
}

}  // namespace pensieve::server
