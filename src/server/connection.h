// Noticing that an HTTP client went away while its request is still generating.
// cpp-httplib 0.11 does not expose a request's socket, so it is found once per request among this
// process's file descriptors by its (local port, peer address, peer port) — unique per connection.
#pragma once

#include <string>

namespace pensieve::server {

// The socket fd of the connection with this local port and peer, or -1.
int find_connection_socket(int local_port, const std::string& remote_addr, int remote_port);

// True when the peer has closed (or reset) the connection. Never blocks; -1 -> false.
bool peer_closed(int fd);

}  // namespace pensieve::server
