// Internal to the server: the state routes share, and helpers for responses and generations.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "server/errors.h"
#include "server/http/router.h"
#include "server/http/types.h"
#include "server/jobs.h"
#include "server/metrics.h"
#include "server/model_registry.h"
#include "server/prompt.h"
#include "server/request_queue.h"
#include "server/server.h"

namespace pensieve::server {

using RequestStats = http::RequestStats;

struct ServerState {
  explicit ServerState(ServerConfig c);

  ServerConfig config;
  http::Router router;
  Metrics metrics;
  JobRegistry jobs;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::atomic<bool> stopping{false};

  // The pinned (-m) model and its queue; null until it is installed, and in store mode.
  std::shared_ptr<const ServerModel> model() const;
  RequestQueue* queue() const;
  void install(std::shared_ptr<const ServerModel> m, std::string loading_error);
  std::string loading_error() const;

  mutable std::mutex mu;
  std::shared_ptr<const ServerModel> model_;
  std::unique_ptr<RequestQueue> queue_;
  std::string loading_error_;
  // Store mode (serve without -m): models load on demand by name. Null when a model is pinned.
  std::unique_ptr<ModelRegistry> registry;
  // Both modes: the model store /api/tags, /api/pull, /api/delete and /api/copy work on.
  store::Store store() const;
};

// Which error shape a request gets: Anthropic for /v1/messages* and requests that carry
// Anthropic headers, OpenAI otherwise.
WireFormat wire_for(const http::Request& req);

void send_json(http::Response& res, int status, const nlohmann::json& body);
void send_error(http::Response& res, WireFormat wire, const Error& error);
// Parses the body as JSON (depth-limited) or sends a 400 and returns false.
bool parse_body(const http::Request& req, http::Response& res, WireFormat wire, nlohmann::json& out);
// The model a request names (the pinned model whatever the name, when one is pinned), loading it
// in store mode; or sends the error (503 while a pinned model loads, 404 for an unknown name)
// and returns an empty lease. Keep the lease (start_feed does) while the model is in use.
ModelLease require_model(ServerState& s, http::Response& res, WireFormat wire, const std::string& name,
                         std::optional<std::chrono::milliseconds> keep_alive = std::nullopt);

// Prompt rendering + context fitting shared by every generation endpoint.
struct PreparedRequest {
  PreparedPrompt prompt;
  bool clamped = false;
};
Result<PreparedRequest> prepare_request(const ServerModel& model, WireFormat wire, ChatRequest& request);

// A generation in flight as the HTTP layer sees it: the engine thread appends pieces and the
// result and wakes the connection; the connection drains them on its strand.
struct GenerationFeed {
  std::mutex mu;
  std::deque<std::string> pieces;
  std::optional<Result<engine::Generation>> result;
  bool stopped = false;  // the server is stopping and no result will be waited for
  std::shared_ptr<std::atomic<bool>> cancel = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<http::Notifier> notifier = std::make_shared<http::Notifier>();
  std::shared_ptr<void> hold;  // keeps the model loaded until the response is done
};
// Submits a generation to the queue; fails with `overloaded` when the queue is full.
Result<std::shared_ptr<GenerationFeed>> start_feed(RequestQueue& queue, std::vector<token_id> prompt,
                                                   engine::GenerateOptions options);
// The same, keeping the model's lease until the response is done.
Result<std::shared_ptr<GenerationFeed>> start_feed(const ModelLease& model, std::vector<token_id> prompt,
                                                   engine::GenerateOptions options);

// The error a generation reports when it ended without its client asking (server shutdown,
// engine cancellation): never a normal stop.
Error cut_short_error(const ServerState& s);

// Non-streaming: the response is made by `reply` once the generation ended (a generation cut
// short by the server becomes an error response instead). Cancels it when the client hangs up.
using ReplyFn = std::function<void(const engine::Generation&, http::Response&)>;
void await_generation(ServerState& s, http::Response& res, WireFormat wire, std::shared_ptr<GenerationFeed> feed,
                      ReplyFn reply);

// How one wire format renders a stream.
struct StreamRenderer {
  std::function<std::string()> start;
  std::function<std::string(std::string_view)> text;
  std::function<std::string(const engine::Generation&)> finish;
  std::function<std::string(const Error&)> error;
  std::function<std::string()> keepalive;
};
// Answers with an SSE stream fed by `feed`; the first bytes go out at once.
void stream_generation(ServerState& s, http::Response& res, std::shared_ptr<GenerationFeed> feed,
                       StreamRenderer renderer);

void record_generation(ServerState& s, const engine::Generation& g, RequestStats& stats);

void register_anthropic_routes(ServerState& s);
void register_openai_routes(ServerState& s);
void register_job_routes(ServerState& s);
void register_info_routes(ServerState& s);
void register_ollama_routes(ServerState& s);
void register_ollama_model_routes(ServerState& s);
void register_embedding_routes(ServerState& s);

}  // namespace pensieve::server
