// A generation the client did not stop (engine error, server shutdown) never ends like a
// normal reply: the stream's last event is an error, a non-streaming request gets an error.
#include <gtest/gtest.h>

#include <thread>

#include "server/anthropic.h"
#include "server/openai.h"
#include "server/server_state.h"

namespace pensieve::server {
namespace {

using namespace std::chrono_literals;

// Two tokens, then the engine fails (or reports a cancel it was not asked for).
GenerateFn failing_engine(bool cancelled) {
  return [cancelled](const std::vector<token_id>&, const engine::GenerateOptions&,
                     const engine::OnToken& on_token) -> Result<engine::Generation> {
    on_token("Hel", 1);
    on_token("lo", 2);
    if (!cancelled) return make_error(ErrorKind::internal, "CUDA error: device lost");
    engine::Generation g;
    g.text = "Hello";
    g.n_generated = 2;
    g.finish = engine::FinishReason::cancelled;
    return g;
  };
}

// Drives a Deferred the way a connection does, until it finishes.
std::string drain(http::Response& res) {
  std::string all;
  for (int i = 0; i < 500; ++i) {
    std::string out;
    bool done = res.deferred->poll(res, out);
    all += out;
    if (done) return all;
    std::this_thread::sleep_for(5ms);
  }
  ADD_FAILURE() << "the deferred response never finished";
  return all;
}

StreamRenderer anthropic_renderer(std::shared_ptr<AnthropicStream> st) {
  StreamRenderer r;
  r.start = [st] { return st->start(); };
  r.text = [st](std::string_view p) { return st->text(p); };
  r.finish = [st](const engine::Generation& g) { return st->finish(g, false); };
  r.error = [](const Error& e) { return AnthropicStream::error(e); };
  r.keepalive = [] { return AnthropicStream::ping(); };
  return r;
}

TEST(HonestEndings, EngineErrorEndsAnthropicStreamWithApiError) {
  ServerState s{ServerConfig{}};
  RequestQueue q(failing_engine(false), 1, 4);
  auto feed = start_feed(q, {1, 2, 3}, {});
  ASSERT_TRUE(feed.ok());
  http::Response res;
  stream_generation(s, res, feed.value(), anthropic_renderer(std::make_shared<AnthropicStream>("msg_1", "m", 3, std::vector<std::string>{})));
  std::string out = drain(res);
  EXPECT_NE(out.find("content_block_delta"), std::string::npos);
  EXPECT_NE(out.find("event: error"), std::string::npos);
  EXPECT_NE(out.find("\"api_error\""), std::string::npos);
  EXPECT_EQ(out.find("message_stop"), std::string::npos);
  EXPECT_EQ(out.find("end_turn"), std::string::npos);
  q.shutdown(true);
}

TEST(HonestEndings, ShutdownCutEndsOpenAIStreamWithErrorChunkNotStop) {
  ServerState s{ServerConfig{}};
  s.stopping = true;
  RequestQueue q(failing_engine(true), 1, 4);
  auto feed = start_feed(q, {1, 2, 3}, {});
  ASSERT_TRUE(feed.ok());
  auto st = std::make_shared<OpenAIStream>("chatcmpl-1", 1, "m", true, false, std::vector<std::string>{});
  StreamRenderer r;
  r.start = [st] { return st->start(); };
  r.text = [st](std::string_view p) { return st->text(p); };
  r.finish = [st](const engine::Generation& g) { return st->finish(g); };
  r.error = [](const Error& e) { return OpenAIStream::error(e); };
  r.keepalive = [] { return std::string(": ping\n\n"); };
  http::Response res;
  stream_generation(s, res, feed.value(), std::move(r));
  std::string out = drain(res);
  EXPECT_NE(out.find("\"error\""), std::string::npos);
  EXPECT_NE(out.find("shutting down"), std::string::npos);
  EXPECT_EQ(out.find("\"finish_reason\":\"stop\""), std::string::npos);
  q.shutdown(true);
}

TEST(HonestEndings, ShutdownCutNonStreamingIsOverloadedError) {
  ServerState s{ServerConfig{}};
  s.stopping = true;
  RequestQueue q(failing_engine(true), 1, 4);
  auto feed = start_feed(q, {1, 2, 3}, {});
  ASSERT_TRUE(feed.ok());
  http::Response res;
  bool replied = false;
  await_generation(s, res, WireFormat::anthropic, feed.value(),
                   [&](const engine::Generation&, http::Response&) { replied = true; });
  drain(res);
  EXPECT_FALSE(replied);
  EXPECT_EQ(res.status, 529);
  EXPECT_NE(res.body.find("overloaded_error"), std::string::npos);
  q.shutdown(true);
}

TEST(HonestEndings, ServerStoppingWithoutResultStillEndsWithError) {
  ServerState s{ServerConfig{}};
  auto feed = std::make_shared<GenerationFeed>();  // never fed: a generation that never reports
  http::Response res;
  stream_generation(s, res, feed, anthropic_renderer(std::make_shared<AnthropicStream>("msg_1", "m", 3, std::vector<std::string>{})));
  std::string out;
  EXPECT_FALSE(res.deferred->poll(res, out));
  s.stopping = true;
  res.deferred->end(http::EndReason::server_stopping);
  EXPECT_TRUE(feed->cancel->load());
  out.clear();
  EXPECT_TRUE(res.deferred->poll(res, out));
  EXPECT_NE(out.find("overloaded_error"), std::string::npos);
}

}  // namespace
}  // namespace pensieve::server
