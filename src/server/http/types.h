// The event-driven HTTP layer's plain types: what a route receives and returns.
// A route runs on a handler thread and returns at once: either a whole response, or a Deferred
// (an SSE stream, or a response that waits for a generation) that the connection then drives
// on its own I/O strand without holding any thread while it waits.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pensieve::server::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;  // names as sent, in order

bool iequals(std::string_view a, std::string_view b);

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path + query
  std::string path;    // target without the query
  std::string query;   // after '?', raw
  HeaderList headers;
  std::string body;
  std::vector<std::string> params;  // path segments matched by '*' in the route pattern
  unsigned version = 11;            // HTTP/1.1; 10 for HTTP/1.0 (no chunked streams)
  std::string remote;               // the client's address, "ip:port" ("[ip6]:port")

  // The first header with this name (any case), or "".
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
  // A query parameter, percent-decoded, or "".
  std::string query_param(std::string_view name) const;
};

// Wakes a waiting connection from any thread (engine threads call it with each token).
// Cheap when nobody waits or a wake is already pending.
class Notifier {
 public:
  void notify();
  // The connection installs its wake function while it waits; clear() before it goes away.
  void set(std::function<void()> wake);
  void clear();
  // Called by the connection when it has been woken (re-arms notify()).
  void consumed() { pending_.store(false); }

 private:
  std::mutex mu_;
  std::function<void()> wake_;
  std::atomic<bool> pending_{false};
};

enum class EndReason { client_gone, server_stopping };

struct Response;

// A response whose body (stream = true: SSE, sent as it is produced) or whole content
// (stream = false: e.g. a non-streaming generation) comes later. All functions run on the
// connection's strand, one at a time.
struct Deferred {
  std::shared_ptr<Notifier> notifier = std::make_shared<Notifier>();
  bool stream = false;
  // Appends what is ready to `out` (stream) or fills `res` (not stream); returns true once
  // finished. Never blocks.
  std::function<bool(Response& res, std::string& out)> poll;
  // The client went away, or the server is stopping; poll() is called again afterwards and must
  // then finish soon (stopping: with each API's error event).
  std::function<void(EndReason)> end;
  int keepalive_ms = 0;  // > 0: keepalive() is sent after this long without output
  std::function<std::string()> keepalive;
};

// Filled by routes; read by the access log line.
struct RequestStats {
  bool generated = false;
  int n_prompt = 0, n_cached = 0, n_generated = 0;
  double ttft_ms = 0, decode_ms = 0;
  std::string note;  // e.g. "cancelled: client disconnected"
  bool client_gone = false;  // the client left before its reply began: logged as 499
  std::string request_id;    // also sent in the response's request-id header
  std::string model;         // the model that generated (empty: none did)
};

struct Response {
  int status = 200;
  HeaderList headers;
  std::string content_type;
  std::string body;
  std::shared_ptr<Deferred> deferred;
  std::shared_ptr<RequestStats> stats = std::make_shared<RequestStats>();

  void set_header(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }
  void set_content(std::string b, std::string type) {
    body = std::move(b);
    content_type = std::move(type);
  }
};

const char* status_text(int status);

}  // namespace pensieve::server::http
