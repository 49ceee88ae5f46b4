// The event-driven HTTP/1.1 server: Boost.Beast's parser on Boost.Asio with C++20 coroutines.
// One io_context runs on a few threads; each connection is a coroutine on its own strand, so an
// idle, slow or streaming client costs a few KiB and no thread. Limits and deadlines are enforced
// while reading: the header must arrive within header_timeout (slowloris), a keep-alive
// connection may idle for idle_timeout, the body must arrive within body_timeout and may not
// pass max_body_bytes, chunked or not (413 as soon as it does, without reading the rest).
// Beyond max_connections a client gets a 503 at once. Routes run on a separate handler pool so
// that parsing a large body never stalls the I/O threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "server/http/types.h"
#include "util/status.h"

namespace pensieve::server::http {

struct LoopConfig {
  std::string host = "127.0.0.1";
  int port = 0;
  int second_port = -1;  // >= 0: the same server also listens there (e.g. Ollama's 11434)
  int io_threads = 2;
  int handler_threads = 4;
  size_t max_body_bytes = size_t(32) << 20;
  size_t max_header_bytes = size_t(64) << 10;
  int header_timeout_s = 10;
  int body_timeout_s = 30;
  int idle_timeout_s = 5;
  int write_timeout_s = 30;
  int max_connections = 4096;
};

struct LoopHooks {
  // Serves one parsed request (runs on a handler thread).
  std::function<void(Request&, Response&)> serve;
  // The response for an error the HTTP layer found itself (400 malformed, 408, 413, 431, 503).
  // `req` has whatever of the request was read (method/path/headers may be empty).
  std::function<Response(int status, const Request& req, const std::string& message)> error;
  // Called once per answered request with its total time.
  std::function<void(const Request&, const Response&, double ms)> log;
};

class Loop {
 public:
  Loop(LoopConfig config, LoopHooks hooks);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // Binds and listens (SO_REUSEADDR only: a busy port is an error); returns the port. With
  // second_port, listens there too (an error when that fails).
  Result<int> bind();
  // Runs the I/O threads until stop(); call once, after bind().
  void run();
  // Shutdown, phase 1: stop accepting; close every connection that is not serving a request.
  void stop_accepting();
  // Phase 2: every Deferred still pending gets end(server_stopping).
  void end_pending();
  // Waits up to `timeout` for all connections to close; true if they did.
  bool wait_closed(std::chrono::milliseconds timeout);
  // Phase 3: stops the I/O threads (run() returns).
  void stop();
  int connections() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace pensieve::server::http
