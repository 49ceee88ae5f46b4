// Noticing that an HTTP client went away while its request is still generating.
#pragma once

#include <string>

namespace pensieve::server {

// True when the peer has closed (or reset) the connection. Never blocks; -1 -> false.
bool peer_closed(int fd);

}  // namespace pensieve::server
