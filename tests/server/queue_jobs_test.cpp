// RequestQueue admission, cancellation and shutdown; JobRegistry resumption and retention.
// The queue is exercised with a plain generate function that emits tokens until told to stop:
// what is under test is the queue, not a model.
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdio>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "server/generation.h"
#include "server/jobs.h"
#include "server/request_queue.h"

namespace pensieve::server {
namespace {

using namespace std::chrono_literals;

// Emits "t" every millisecond until max_tokens or should_stop.
Result<engine::Generation> ticking_generate(const std::vector<token_id>& prompt, const engine::GenerateOptions& o,
                                            const engine::OnToken& on_token) {
  engine::Generation g;
  g.n_prompt = static_cast<int>(prompt.size());
  for (int i = 0; o.max_tokens < 0 || i < o.max_tokens; ++i) {
    if (o.should_stop && o.should_stop()) {
      g.finish = engine::FinishReason::cancelled;
      return g;
    }
    std::this_thread::sleep_for(1ms);
    ++g.n_generated;
    g.text += "t";
    if (!on_token("t", 1)) {
      g.finish = engine::FinishReason::cancelled;
      return g;
    }
  }
  g.finish = engine::FinishReason::max_tokens;
  return g;
}

// Counts generations that reached the generate function, and lets a test wait for that event
// instead of polling the queue's counters.
struct StartSignal {
  std::mutex m;
  std::condition_variable cv;
  int started = 0;
  GenerateFn wrap(GenerateFn inner) {
    return [this, inner](const std::vector<token_id>& p, const engine::GenerateOptions& o, const engine::OnToken& t) {
      {
        std::lock_guard<std::mutex> lock(m);
        ++started;
      }
      cv.notify_all();
      return inner(p, o, t);
    };
  }
  bool wait_for(int n) {  // generous: only a broken queue takes 30 s
    std::unique_lock<std::mutex> lock(m);
    return cv.wait_for(lock, 30s, [&] { return started >= n; });
  }
};

engine::Generation wait_done(ActiveGeneration& a) {
  for (;;) {
    auto item = a.channel->pop(30s);  // generous: returns as soon as an item comes
    EXPECT_TRUE(item.has_value());
    if (!item) return {};
    if (item->kind == StreamItem::Kind::done) return item->generation;
    EXPECT_NE(item->kind, StreamItem::Kind::failed);
  }
}

TEST(RequestQueue, RunsAndStreamsPieces) {
  RequestQueue q(ticking_generate, 1, 4);
  engine::GenerateOptions o;
  o.max_tokens = 5;
  auto a = start_generation(q, {1, 2, 3}, o);
  ASSERT_TRUE(a.ok());
  int pieces = 0;
  for (;;) {
    auto item = a->channel->pop(30s);
    ASSERT_TRUE(item);
    if (item->kind == StreamItem::Kind::piece) ++pieces;
    if (item->kind == StreamItem::Kind::done) {
      EXPECT_EQ(item->generation.n_generated, 5);
      EXPECT_EQ(item->generation.n_prompt, 3);
      break;
    }
  }
  EXPECT_EQ(pieces, 5);
}

TEST(RequestQueue, FullQueueIsOverloadedAndCancelFreesTheWorker) {
  StartSignal sig;
  RequestQueue q(sig.wrap(ticking_generate), 1, 1);
  engine::GenerateOptions forever;
  forever.max_tokens = -1;
  auto running = start_generation(q, {1}, forever);
  ASSERT_TRUE(running.ok());
  // Wait until the worker picked it up, so the next one waits in the queue.
  ASSERT_TRUE(sig.wait_for(1));
  ASSERT_EQ(q.running(), 1);
  auto waiting = start_generation(q, {1}, forever);
  ASSERT_TRUE(waiting.ok());
  auto rejected = start_generation(q, {1}, forever);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().kind, ErrorKind::overloaded);
  // Cancelled while still waiting: it never reaches the engine.
  waiting->cancel->store(true);
  auto t0 = std::chrono::steady_clock::now();
  running->cancel->store(true);
  EXPECT_EQ(wait_done(running.value()).finish, engine::FinishReason::cancelled);
  // The generate function checks the flag every 1 ms; a loaded 2-core machine may take far
  // longer, so the bound is generous and the measured time is printed.
  const double cancel_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("  cancelling a running generation took %.1f ms\n", cancel_ms);
  EXPECT_LT(cancel_ms, 10000.0);
  auto item = waiting->channel->pop(30s);
  ASSERT_TRUE(item);
  EXPECT_EQ(item->kind, StreamItem::Kind::failed);
  EXPECT_EQ(item->error.kind, ErrorKind::cancelled);
}

// A client that sends its next request the moment it reads a reply (the reply is handed over in
// on_done) finds the worker free, even with no waiting room: it is not told the queue is full.
TEST(RequestQueue, TheNextRequestSentOnTheReplyFindsTheWorkerFree) {
  RequestQueue q(ticking_generate, 1, 0);
  std::promise<Status> second_admitted;
  std::promise<void> second_done;
  QueuedGeneration first;
  first.prompt = {1};
  first.options.max_tokens = 2;
  first.on_token = [](std::string_view, token_id) { return true; };
  first.on_done = [&](Result<engine::Generation>) {
    QueuedGeneration next;
    next.prompt = {1};
    next.options.max_tokens = 1;
    next.on_token = [](std::string_view, token_id) { return true; };
    next.on_done = [&](Result<engine::Generation>) { second_done.set_value(); };
    second_admitted.set_value(q.submit(std::move(next)));
  };
  ASSERT_TRUE(q.submit(std::move(first)).ok());
  auto admitted = second_admitted.get_future();
  ASSERT_EQ(admitted.wait_for(30s), std::future_status::ready);
  const Status st = admitted.get();
  EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message);
  if (st.ok()) EXPECT_EQ(second_done.get_future().wait_for(30s), std::future_status::ready);
}

// An exception thrown inside a generation becomes an internal error for that request only: the
// worker survives and runs the next one.
TEST(RequestQueue, AnExceptionInsideAGenerationFailsOnlyThatRequest) {
  int calls = 0;
  RequestQueue q(
      [&calls](const std::vector<token_id>& p, const engine::GenerateOptions& o, const engine::OnToken& t) {
        if (++calls == 1) throw std::runtime_error("out of device memory");
        return ticking_generate(p, o, t);
      },
      1, 4);
  engine::GenerateOptions o;
  o.max_tokens = 3;
  auto bad = start_generation(q, {1}, o);
  ASSERT_TRUE(bad.ok());
  auto item = bad->channel->pop(30s);
  ASSERT_TRUE(item);
  ASSERT_EQ(item->kind, StreamItem::Kind::failed);
  EXPECT_EQ(item->error.kind, ErrorKind::internal);
  EXPECT_EQ(item->error.message, "generation failed: out of device memory");
  auto good = start_generation(q, {1}, o);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(wait_done(good.value()).n_generated, 3);
  EXPECT_EQ(calls, 2);
}

TEST(RequestQueue, ShutdownCancelsRunningAndWaiting) {
  StartSignal sig;
  auto q = std::make_unique<RequestQueue>(sig.wrap(ticking_generate), 1, 4);
  engine::GenerateOptions forever;
  forever.max_tokens = -1;
  auto a = start_generation(*q, {1}, forever);
  auto b = start_generation(*q, {1}, forever);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(sig.wait_for(1));
  q->shutdown(true);
  EXPECT_EQ(wait_done(a.value()).finish, engine::FinishReason::cancelled);
  auto item = b->channel->pop(30s);
  ASSERT_TRUE(item);
  while (item && item->kind == StreamItem::Kind::piece) item = b->channel->pop(30s);
  ASSERT_TRUE(item);
  EXPECT_EQ(item->kind, StreamItem::Kind::failed);
  EXPECT_EQ(item->error.kind, ErrorKind::cancelled);
  EXPECT_FALSE(start_generation(*q, {1}, forever).ok());
}

TEST(Jobs, EventsResumeAfterLastEventIdWithoutGapsOrRepeats) {
  JobRegistry reg(8, std::chrono::seconds(60));
  auto job = reg.create("generate", 3);
  job->mark_running();
  job->add_token("a");
  bool terminal = true;
  auto first = job->events_after(0, 0ms, &terminal);
  EXPECT_FALSE(terminal);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].id, 1u);
  EXPECT_EQ(first[1].name, "token");
  job->add_token("b");
  job->add_token("c");
  job->succeed({{"text", "abc"}}, {});
  auto rest = job->events_after(first.back().id, 0ms, &terminal);
  EXPECT_TRUE(terminal);
  ASSERT_EQ(rest.size(), 3u);
  EXPECT_EQ(rest[0].id, 3u);
  EXPECT_EQ(rest[0].data["text"], "b");
  EXPECT_EQ(rest[2].name, "done");
  EXPECT_TRUE(job->events_after(5, 0ms, &terminal).empty());
  EXPECT_EQ(job->to_json()["state"], "succeeded");
  EXPECT_EQ(job->to_json()["text"], "abc");
}

TEST(Jobs, WaitingForEventsWakesOnNewOnes) {
  JobRegistry reg(8, std::chrono::seconds(60));
  auto job = reg.create("generate", 1);
  std::thread producer([job] {
    std::this_thread::sleep_for(20ms);
    job->add_token("x");
  });
  bool terminal = false;
  auto ev = job->events_after(0, 30s, &terminal);  // returns as soon as the event comes
  producer.join();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data["text"], "x");
}

TEST(Jobs, FailureEndsTheStreamWithAnErrorEvent) {
  JobRegistry reg(8, std::chrono::seconds(60));
  auto job = reg.create("generate", 4);
  job->mark_running();
  job->add_token("a");
  job->fail("api_error", "the engine failed");
  bool terminal = false;
  auto ev = job->events_after(0, 0ms, &terminal);
  EXPECT_TRUE(terminal);
  ASSERT_EQ(ev.size(), 3u);  // running, token, error
  EXPECT_EQ(ev[1].name, "token");
  EXPECT_EQ(ev[2].name, "error");
  EXPECT_EQ(ev[2].id, 3u);
  EXPECT_EQ(ev[2].data, (nlohmann::json{{"state", "failed"},
                                        {"error", {{"type", "api_error"}, {"message", "the engine failed"}}}}));
  const nlohmann::json j = job->to_json();
  EXPECT_EQ(j["state"], "failed");
  EXPECT_EQ(j["error"]["message"], "the engine failed");
  EXPECT_EQ(j["text"], "a");
  EXPECT_EQ(j["progress"]["fraction"], 1.0);
  // A cancel after the failure changes nothing: failed is terminal.
  job->mark_cancelled(nullptr);
  EXPECT_EQ(job->to_json()["state"], "failed");
  EXPECT_EQ(job->events_after(3, 0ms, &terminal).size(), 0u);
}

TEST(Jobs, RetentionEvictsOnlyFinishedJobsBeyondTheCount) {
  JobRegistry reg(2, std::chrono::seconds(3600));
  auto a = reg.create("generate", 1);
  auto b = reg.create("generate", 1);
  a->succeed(nullptr, nullptr);
  auto c = reg.create("generate", 1);  // over the limit: finished `a` goes
  EXPECT_EQ(reg.find(a->id()), nullptr);
  EXPECT_NE(reg.find(b->id()), nullptr);
  auto d = reg.create("generate", 1);  // nothing finished: running jobs are kept
  EXPECT_NE(reg.find(b->id()), nullptr);
  EXPECT_NE(reg.find(c->id()), nullptr);
  EXPECT_NE(reg.find(d->id()), nullptr);
}

TEST(Jobs, RetentionByAge) {
  JobRegistry reg(100, std::chrono::seconds(0));
  auto a = reg.create("generate", 1);
  a->fail("api_error", "boom");
  std::this_thread::sleep_for(5ms);
  EXPECT_EQ(reg.find(a->id()), nullptr);
}

}  // namespace
}  // namespace pensieve::server
