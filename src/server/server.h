// `pensieve serve`: the HTTP server. Routes (routes_*.cpp) parse with the API adapters, render
// prompts through the model's chat template and hand every generation to one RequestQueue.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "server/chat_request.h"
#include "server/model_registry.h"

namespace pensieve::server {

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port
  int ollama_port = -1;  // >= 0: also answer there (Ollama clients look at 11434)
  std::string api_key;  // empty: no authentication
  std::vector<std::string> cors_origins;  // empty: no CORS headers at all
  // Host names (besides loopback ones) a loopback-bound server answers to; "*" turns the check
  // off; ".example.com" allows that domain's subdomains. Off loopback the check applies only
  // when this is non-empty.
  std::vector<std::string> allowed_hosts;
  int max_json_depth = 128;  // nesting of arrays/objects in any request JSON
  int workers = 1;       // at least this many queue workers (the model's n_parallel decides)
  int max_queue = 16;    // requests allowed to wait for a worker
  size_t max_body_bytes = size_t(32) << 20;   // 413 as soon as a body passes it, chunked or not
  size_t max_header_bytes = size_t(64) << 10;  // request line + headers; 431 beyond
  int header_timeout_s = 10;  // a new connection's request header must arrive within this
  int read_timeout_s = 30;    // a request body must arrive within this (408 beyond)
  int idle_timeout_s = 5;     // keep-alive connections without a request
  int write_timeout_s = 30;   // a client that reads nothing for this long is dropped
  int max_connections = 4096; // open connections; beyond, 503 at once
  int io_threads = 2;         // event-loop threads (connections never hold one)
  int http_threads = 4;       // threads that run routes (JSON parsing, templates, tokenizing)
  int ping_interval_ms = 10000;  // keep-alive events while a stream has nothing to send
  size_t max_jobs = 256;         // finished jobs kept for GET / stream resumption
  int job_ttl_s = 3600;
  int shutdown_grace_ms = 2000;  // in-flight generations may finish within this on stop()
  bool log_requests = true;
  std::string models_dir;  // the model store (empty: $PENSIEVE_MODELS or ~/.local/share/pensieve/models)
};

class Server {
 public:
  explicit Server(ServerConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listening socket; returns the port (the chosen one when config.port is 0).
  Result<int> bind();
  // Installs the loaded model: /health turns 200 and generation endpoints start working.
  void set_model(std::shared_ptr<const ServerModel> model, std::string loading_error = "");
  // Instead of one model: serve the store, loading models by name on demand (model_registry.h).
  // Call before run().
  void serve_store(RegistryOptions options, ModelSource source);
  // Serves until stop(); returns after in-flight requests ended.
  void run();
  // Stops accepting, lets generations finish for shutdown_grace_ms, then cancels the rest.
  // Safe from any thread (not from a signal handler).
  void stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace pensieve::server
