// Checks every request passes before any route sees it (local-server safety):
// - Host: a server bound to a loopback address answers only requests whose Host header names a
//   loopback address or an --allowed-hosts entry. A web page cannot then reach it through a DNS
//   name that resolves to 127.0.0.1 (DNS rebinding).
// - Header values with NUL or other control bytes are refused (they would be cut or smuggled).
// - POST API routes need Content-Type: application/json, so a page cannot send a "simple"
//   cross-origin request (text/plain, no preflight) to them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/errors.h"
#include "server/server.h"

namespace pensieve::server {

using HeaderList = std::vector<std::pair<std::string, std::string>>;  // names as sent

// "127.0.0.1", "127.x.y.z", "::1", "[::1]", "localhost", "*.localhost" (RFC 6761).
bool is_loopback_name(std::string_view host);
// The host of a Host header value, without port and brackets, lower-cased.
std::string host_without_port(std::string_view host_header);
// Whether a request with this Host header may be served (see above). `bound_host` is --host.
bool host_allowed(const ServerConfig& config, std::string_view host_header);
// No byte < 0x20 other than TAB, no DEL.
// A browser names the page behind a request in Origin, and a page of any site may send a "simple"
// POST (form or text/plain body, no preflight) to a local address. Requests that change
// something (not GET/HEAD/OPTIONS) with an Origin are taken only from this server's own pages
// (Origin's host:port = Host) and from --cors-origin ones; no Origin (curl, SDKs) is fine.
bool origin_allowed(const ServerConfig& config, std::string_view method, std::string_view origin,
                    std::string_view host_header);
bool header_value_clean(std::string_view value);
// application/json, any case, parameters (charset) allowed.
bool is_json_content_type(std::string_view content_type);
// The routes that take a JSON body.
bool route_takes_json(std::string_view method, std::string_view path);

// The error response for a request that fails a check, or nullopt.
std::optional<HttpError> screen_request(const ServerConfig& config, std::string_view method, std::string_view path,
                                        const HeaderList& headers, WireFormat wire);

}  // namespace pensieve::server
