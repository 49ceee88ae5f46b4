#include "server/connection.h"

#include <poll.h>
#include <sys/socket.h>


namespace pensieve::server {

bool peer_closed(int fd) {
  if (fd < 0) return false;
  pollfd p{fd, static_cast<short>(POLLIN | POLLRDHUP), 0};
  if (poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) return true;
  if (p.revents & POLLIN) {
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0;  // orderly shutdown; n > 0 is a pipelined request, not a hang-up
  }
  return false;
}

}  // namespace pensieve::server
