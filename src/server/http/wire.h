// HTTP/1.1 response bytes: status line and headers, chunked framing for SSE.
#pragma once

#include <string>
#include <string_view>

#include "server/http/types.h"

namespace pensieve::server::http {

// The whole response with Content-Length (HEAD: the head only).
std::string serialize_response(const Response& res, bool keep_alive, bool head_only);
// The head of a streamed response (res.content_type, res.headers): chunked for HTTP/1.1, else
// the body runs until the connection closes.
std::string serialize_stream_head(const Response& res, bool chunked, bool keep_alive);
std::string chunk(std::string_view data);  // one chunk; empty data gives ""
std::string last_chunk();                  // "0\r\n\r\n"

}  // namespace pensieve::server::http
