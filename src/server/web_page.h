// The web chat page served at GET / (src/server/web/chat.html, embedded at build time by
// cmake/embed_file.cmake): HTML, CSS and JS in one file, nothing loaded from elsewhere.
#pragma once

#include <string_view>

namespace pensieve::server {

std::string_view web_chat_page();

}  // namespace pensieve::server
