// Why Boost.Beast/Asio (libboost1.74-dev, Debian bookworm): a maintained HTTP/1.1 parser that
// enforces header and body limits incrementally (chunked included) and an event loop with
// timers and strands; C++20 coroutines keep each connection's logic a straight-line function.
#include "server/http/loop.h"

#include <sys/socket.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "server/connection.h"
#include "server/http/wire.h"

namespace pensieve::server::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

constexpr milliseconds kTick{200};  // how often a waiting connection checks its peer and the clock

enum class ConnState { reading, busy };

struct Conn {
  explicit Conn(tcp::socket s) : stream(std::move(s)), timer(stream.get_executor()) {}
  beast::tcp_stream stream;
  asio::steady_timer timer;  // a waiting Deferred sleeps on it; cancel() wakes it
  ConnState state = ConnState::reading;
  bool end_requested = false;  // end_pending() was called while busy
};

}  // namespace

struct Loop::Impl {
  Impl(LoopConfig c, LoopHooks h)
      : config(std::move(c)), hooks(std::move(h)), acceptor(ioc),
        handlers(static_cast<size_t>(std::max(1, config.handler_threads))) {}

  // Declared before the io_context so that they outlive it: destroying the io_context destroys
  // the suspended connection coroutines, which unregister themselves.
  LoopConfig config;
  LoopHooks hooks;
  mutable std::mutex mu;
  std::condition_variable closed_cv;
  std::unordered_set<std::shared_ptr<Conn>> conns;
  std::atomic<bool> stopping{false};
  std::atomic<bool> ending{false};

  asio::io_context ioc;
  tcp::acceptor acceptor;
  asio::thread_pool handlers;

  void add(const std::shared_ptr<Conn>& c) {
    std::lock_guard<std::mutex> lock(mu);
    conns.insert(c);
  }
  void remove(const std::shared_ptr<Conn>& c) {
    std::lock_guard<std::mutex> lock(mu);
    conns.erase(c);
    closed_cv.notify_all();
  }
  size_t count() const {
    std::lock_guard<std::mutex> lock(mu);
    return conns.size();
  }
  template <class F>
  void for_each(F f) {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& c : conns) f(c);
  }

  awaitable<void> accept_loop();
  awaitable<void> session(std::shared_ptr<Conn> c);
  awaitable<void> serve_requests(std::shared_ptr<Conn> c);
  awaitable<void> refuse(tcp::socket sock);
  awaitable<bool> write(Conn& c, const std::string& bytes);
  awaitable<bool> serve_deferred(std::shared_ptr<Conn> cp, const Request& req, Response& res, bool head_only, bool* keep_alive);
  awaitable<void> send_error_and_close(Conn& c, int status, const Request& req, const std::string& message, Clock::time_point t0);
};

namespace {

Request head_of(const bhttp::request_parser<bhttp::string_body>& parser) {
  Request req;
  const auto& m = parser.get();
  req.method = std::string(m.method_string());
  req.target = std::string(m.target());
  req.version = m.version();
  size_t q = req.target.find('?');
  req.path = req.target.substr(0, q);
  if (q != std::string::npos) req.query = req.target.substr(q + 1);
  for (const auto& f : m) req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  return req;
}

// Method and path from the buffered start of a request whose header could not be parsed, so that
// its error still gets the shape of the API it was meant for.
Request request_line_of(const beast::flat_buffer& buffer) {
  Request req;
  auto data = buffer.data();
  std::string_view text(static_cast<const char*>(data.data()), std::min<size_t>(data.size(), 4096));
  text = text.substr(0, text.find("\r\n"));
  size_t sp1 = text.find(' ');
  if (sp1 == std::string_view::npos) return req;
  size_t sp2 = text.find(' ', sp1 + 1);
  req.method = std::string(text.substr(0, sp1));
  req.target = std::string(text.substr(sp1 + 1, sp2 == std::string_view::npos ? std::string_view::npos : sp2 - sp1 - 1));
  req.path = req.target.substr(0, req.target.find('?'));
  return req;
}

// "ip:port", "[ip6]:port", or "" when the socket has no peer any more.
std::string peer_address(const tcp::socket& sock) {
  beast::error_code ec;
  tcp::endpoint ep = sock.remote_endpoint(ec);
  if (ec) return "";
  const std::string ip = ep.address().to_string();
  return (ep.address().is_v6() ? "[" + ip + "]" : ip) + ":" + std::to_string(ep.port());
}

bool is_disconnect(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::operation_aborted || ec == beast::error::timeout || ec == asio::error::broken_pipe ||
         ec == asio::error::not_connected || ec == asio::error::bad_descriptor;
}

}  // namespace

awaitable<bool> Loop::Impl::write(Conn& c, const std::string& bytes) {
  beast::error_code ec;
  c.stream.expires_after(seconds(config.write_timeout_s));
  co_await asio::async_write(c.stream, asio::buffer(bytes), asio::redirect_error(use_awaitable, ec));
  c.stream.expires_never();
  co_return !ec;
}

awaitable<void> Loop::Impl::send_error_and_close(Conn& c, int status, const Request& req, const std::string& message,
                                                 Clock::time_point t0) {
  Response res = hooks.error(status, req, message);
  co_await write(c, serialize_response(res, /*keep_alive=*/false, req.method == "HEAD"));
  if (hooks.log) hooks.log(req, res, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  beast::error_code ec;
  c.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  // Read and discard what the client is still sending (bounded in bytes and time, never
  // buffered): closing with unread input would reset the connection before the client read
  // the response.
  c.stream.expires_after(seconds(2));
  char sink[16384];
  size_t drained = 0;
  while (!ec && drained < (size_t(8) << 20)) {
    size_t n = co_await c.stream.async_read_some(asio::buffer(sink), asio::redirect_error(use_awaitable, ec));
    drained += n;
  }
}

awaitable<bool> Loop::Impl::serve_deferred(std::shared_ptr<Conn> cp, const Request& req, Response& res, bool head_only,
                                           bool* keep_alive) {
  Conn& c = *cp;
  std::shared_ptr<Deferred> d = res.deferred;
  const int fd = c.stream.socket().native_handle();
  std::weak_ptr<Conn> weak = cp;
  auto executor = c.stream.get_executor();
  d->notifier->set([weak, executor] {
    asio::post(executor, [weak] {
      if (auto p = weak.lock()) p->timer.cancel();
    });
  });
  struct Clear {
    Deferred* d;
    ~Clear() { d->notifier->clear(); }
  } clear{d.get()};

  const bool chunked = req.version >= 11;  // an HTTP/1.0 client reads the stream until close
  if (!chunked) *keep_alive = false;
  auto frame = [chunked](const std::string& bytes) { return chunked ? chunk(bytes) : bytes; };
  bool head_sent = false, ended = false, ok = true;
  auto last_write = Clock::now();
  std::string out;
  for (;;) {
    d->notifier->consumed();
    out.clear();
    bool done = d->poll(res, out);
    if (d->stream) {
      if (!head_sent) {
        head_sent = true;
        if (!co_await write(c, serialize_stream_head(res, chunked, *keep_alive))) {
          ok = false;
        }
        last_write = Clock::now();
      }
      if (ok && !out.empty() && !head_only) {
        if (!co_await write(c, frame(out))) ok = false;
        last_write = Clock::now();
      }
      if (ok && done) {
        if (chunked) ok = co_await write(c, last_chunk());
        co_return ok;
      }
    } else if (done) {
      ok = co_await write(c, serialize_response(res, *keep_alive, head_only));
      co_return ok;
    }
    if (!ok || (!ended && peer_closed(fd))) {  // the client went away: stop its work
      d->end(EndReason::client_gone);
      *keep_alive = false;
      co_return false;
    }
    if (!out.empty()) continue;
    if ((ending.load() || c.end_requested) && !ended) {
      ended = true;
      *keep_alive = false;
      d->end(EndReason::server_stopping);
      continue;
    }
    if (d->stream && d->keepalive_ms > 0 && Clock::now() - last_write >= milliseconds(d->keepalive_ms)) {
      if (!co_await write(c, frame(d->keepalive()))) ok = false;
      last_write = Clock::now();
      continue;
    }
    c.timer.expires_after(kTick);
    beast::error_code ec;
    co_await c.timer.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

awaitable<void> Loop::Impl::session(std::shared_ptr<Conn> c) {
  struct Unregister {
    Impl* im;
    std::shared_ptr<Conn> c;
    ~Unregister() { im->remove(c); }
  } unregister{this, c};
  try {
    co_await serve_requests(c);
  } catch (const std::exception& e) {  // a bug in a route's stream code: drop this connection only
    std::fprintf(stderr, "pensieve: connection closed after an internal error: %s\n", e.what());
  }
  beast::error_code ec;
  c->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  c->stream.close();
}

awaitable<void> Loop::Impl::serve_requests(std::shared_ptr<Conn> c) {
  beast::flat_buffer buffer;
  bool first = true;
  const std::string peer = peer_address(c->stream.socket());
  while (!stopping.load()) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(config.max_header_bytes));
    parser.body_limit(config.max_body_bytes);
    c->state = ConnState::reading;
    c->stream.expires_after(seconds(first ? config.header_timeout_s : config.idle_timeout_s));
    first = false;
    beast::error_code ec;
    co_await bhttp::async_read_header(c->stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
    const auto t0 = Clock::now();
    if (ec) {
      // A declared length over the limit is found right after the fields were parsed.
      // The request line (and fields) parsed so far: errors get the shape of the API meant.
      Request partial = head_of(parser);
      if (partial.target.empty()) partial = request_line_of(buffer);
      partial.remote = peer;
      if (ec == bhttp::error::body_limit)
        co_await send_error_and_close(*c, 413, partial, "Request exceeds the maximum allowed number of bytes.", t0);
      else if (ec == bhttp::error::header_limit)
        co_await send_error_and_close(*c, 431, partial, "request header fields too large", t0);
      else if (ec == beast::error::timeout && buffer.size() > 0)
        co_await send_error_and_close(*c, 408, partial, "the request header did not arrive in time", t0);
      else if (!is_disconnect(ec) && ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category())
        co_await send_error_and_close(*c, 400, partial, "malformed HTTP request: " + ec.message(), t0);
      break;
    }
    Request req = head_of(parser);
    req.remote = peer;
    if (stopping.load()) break;
    if (iequals(req.header("Expect"), "100-continue") && !parser.is_done())
      if (!co_await write(*c, "HTTP/1.1 100 Continue\r\n\r\n")) break;
    c->stream.expires_after(seconds(config.body_timeout_s));
    if (!parser.is_done())
      co_await bhttp::async_read(c->stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
    c->stream.expires_never();
    if (ec) {
      if (ec == bhttp::error::body_limit)
        co_await send_error_and_close(*c, 413, req, "Request exceeds the maximum allowed number of bytes.", t0);
      else if (ec == beast::error::timeout)
        co_await send_error_and_close(*c, 408, req, "the request body did not arrive in time", t0);
      else if (!is_disconnect(ec))
        co_await send_error_and_close(*c, 400, req, "malformed HTTP request body: " + ec.message(), t0);
      break;
    }
    c->state = ConnState::busy;  // from here on, shutdown lets the request finish
    req.body = std::move(parser.get().body());
    bool keep_alive = parser.get().keep_alive();
    const bool head_only = req.method == "HEAD";
    // The route runs on the handler pool; this coroutine resumes on its strand afterwards.
    Response res = co_await asio::co_spawn(
        handlers.get_executor(),
        [this, &req]() -> awaitable<Response> {
          Response r;
          try {
            hooks.serve(req, r);
          } catch (const std::exception& e) {
            r = hooks.error(500, req, std::string("internal error: ") + e.what());
          } catch (...) {
            r = hooks.error(500, req, "internal error");
          }
          co_return r;
        },
        use_awaitable);
    if (stopping.load()) keep_alive = false;
    bool ok;
    if (res.deferred) ok = co_await serve_deferred(c, req, res, head_only, &keep_alive);
    else ok = co_await write(*c, serialize_response(res, keep_alive, head_only));
    if (hooks.log) hooks.log(req, res, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!ok || !keep_alive) break;
  }
}

awaitable<void> Loop::Impl::refuse(tcp::socket sock) {
  auto c = std::make_shared<Conn>(std::move(sock));
  Request none;
  none.remote = peer_address(c->stream.socket());
  co_await send_error_and_close(*c, 503, none, "too many connections (the server's limit is " +
                                                   std::to_string(config.max_connections) + "); retry later",
                                Clock::now());
  c->stream.close();
}

awaitable<void> Loop::Impl::accept_loop() {
  for (;;) {
    tcp::socket sock(asio::make_strand(ioc));
    beast::error_code ec;
    co_await acceptor.async_accept(sock, asio::redirect_error(use_awaitable, ec));
    if (stopping.load() || ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {  // EMFILE and the like: wait a little instead of spinning
      asio::steady_timer t(ioc, milliseconds(50));
      co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    sock.set_option(tcp::no_delay(true), ec);
    if (count() >= static_cast<size_t>(config.max_connections)) {
      auto ex = sock.get_executor();
      asio::co_spawn(ex, refuse(std::move(sock)), asio::detached);
      continue;
    }
    auto c = std::make_shared<Conn>(std::move(sock));
    add(c);
    asio::co_spawn(c->stream.get_executor(), session(c), asio::detached);
  }
}

Loop::Loop(LoopConfig config, LoopHooks hooks) : impl_(std::make_shared<Impl>(std::move(config), std::move(hooks))) {}

Loop::~Loop() {
  stop();
  impl_->handlers.join();
}

Result<int> Loop::bind() {
  Impl& im = *impl_;
  beast::error_code ec;
  auto addr = asio::ip::make_address(im.config.host == "localhost" ? "127.0.0.1" : im.config.host, ec);
  if (ec) return make_error(ErrorKind::invalid_request, "--host " + im.config.host + ": not an IP address");
  tcp::endpoint ep(addr, static_cast<unsigned short>(im.config.port));
  im.acceptor.open(ep.protocol(), ec);
  if (!ec) im.acceptor.set_option(asio::socket_base::reuse_address(true), ec);  // never SO_REUSEPORT
  if (!ec) im.acceptor.bind(ep, ec);
  if (ec == asio::error::address_in_use)
    return make_error(ErrorKind::internal, "cannot listen on " + im.config.host + ":" + std::to_string(im.config.port) +
                                               ": the port is already in use (another server is listening there)");
  if (!ec) im.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error(ErrorKind::internal, "cannot listen on " + im.config.host + ":" +
                                               std::to_string(im.config.port) + ": " + ec.message());
  return static_cast<int>(im.acceptor.local_endpoint().port());
}

void Loop::run() {
  Impl& im = *impl_;
  asio::co_spawn(im.ioc, im.accept_loop(), asio::detached);
  auto guard = asio::make_work_guard(im.ioc);
  std::vector<std::thread> threads;
  for (int i = 1; i < std::max(1, im.config.io_threads); ++i) threads.emplace_back([&im] { im.ioc.run(); });
  im.ioc.run();
  for (auto& t : threads) t.join();
}

void Loop::stop_accepting() {
  auto im = impl_;
  if (im->stopping.exchange(true)) return;
  asio::post(im->ioc, [im] {
    beast::error_code ec;
    im->acceptor.close(ec);
  });
  im->for_each([](const std::shared_ptr<Conn>& c) {
    asio::post(c->stream.get_executor(), [c] {
      if (c->state == ConnState::reading) c->stream.cancel();  // idle or slow: close at once
    });
  });
}

void Loop::end_pending() {
  auto im = impl_;
  im->ending = true;
  im->for_each([](const std::shared_ptr<Conn>& c) {
    asio::post(c->stream.get_executor(), [c] {
      c->end_requested = true;
      c->timer.cancel();
      if (c->state == ConnState::reading) c->stream.cancel();
    });
  });
}

bool Loop::wait_closed(milliseconds timeout) {
  std::unique_lock<std::mutex> lock(impl_->mu);
  return impl_->closed_cv.wait_for(lock, timeout, [&] { return impl_->conns.empty(); });
}

void Loop::stop() { impl_->ioc.stop(); }

int Loop::connections() const { return static_cast<int>(impl_->count()); }

}  // namespace pensieve::server::http
