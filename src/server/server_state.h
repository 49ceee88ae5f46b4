// Internal to the server: the state routes share, and helpers for responses and generations.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "server/errors.h"
#include "server/generation.h"
#include "server/jobs.h"
#include "server/metrics.h"
#include "server/prompt.h"
#include "server/request_queue.h"
#include "server/server.h"

namespace pensieve::server {

// Filled by a route while it serves a request; read by the access logger (same thread).
struct RequestStats {
  bool generated = false;
  int n_prompt = 0, n_cached = 0, n_generated = 0;
  double ttft_ms = 0, decode_ms = 0;
  std::string note;  // e.g. "cancelled: client disconnected"
};
RequestStats& current_request_stats();

struct ServerState {
  explicit ServerState(ServerConfig c);

  ServerConfig config;
  httplib::Server http;
  Metrics metrics;
  JobRegistry jobs;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::atomic<bool> stopping{false};

  std::shared_ptr<const ServerModel> model() const;
  RequestQueue* queue() const;  // null until a model is installed
  void install(std::shared_ptr<const ServerModel> m, std::string loading_error);
  std::string loading_error() const;

  mutable std::mutex mu;
  std::shared_ptr<const ServerModel> model_;
  std::unique_ptr<RequestQueue> queue_;
  std::string loading_error_;
};

// Which error shape a request gets: Anthropic for /v1/messages* and requests that carry
// Anthropic headers, OpenAI otherwise.
WireFormat wire_for(const httplib::Request& req);

void send_json(httplib::Response& res, int status, const nlohmann::json& body);
void send_error(httplib::Response& res, WireFormat wire, const Error& error);
// Parses the body as JSON or sends a 400 and returns false.
bool parse_body(const httplib::Request& req, httplib::Response& res, WireFormat wire, nlohmann::json& out);
// The model, or sends 503 (still loading / failed to load) and returns null.
std::shared_ptr<const ServerModel> require_model(ServerState& s, httplib::Response& res, WireFormat wire);

// Prompt rendering + context fitting shared by every generation endpoint.
struct PreparedRequest {
  PreparedPrompt prompt;
  bool clamped = false;
};
Result<PreparedRequest> prepare_request(const ServerModel& model, WireFormat wire, ChatRequest& request);

// Waits for a whole generation (non-streaming responses). Cancels it when the client hangs up.
Result<engine::Generation> collect_generation(ServerState& s, const httplib::Request& req, ActiveGeneration& active);

// How one wire format renders a stream.
struct StreamRenderer {
  std::function<std::string()> start;
  std::function<std::string(std::string_view)> text;
  std::function<std::string(const engine::Generation&)> finish;
  std::function<std::string(const Error&)> error;
  std::function<std::string()> keepalive;
};
// Sends an SSE response fed by `active`; the first bytes go out at once.
void stream_generation(ServerState& s, const httplib::Request& req, httplib::Response& res,
                       ActiveGeneration active, StreamRenderer renderer);

void record_generation(ServerState& s, const engine::Generation& g);

void register_anthropic_routes(ServerState& s);
void register_openai_routes(ServerState& s);
void register_job_routes(ServerState& s);
void register_info_routes(ServerState& s);

}  // namespace pensieve::server
