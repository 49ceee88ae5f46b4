// ThreadPool: every index runs exactly once per run(), back to back (workers spinning) and
// after pauses long enough for the workers to fall asleep (the futex wake-up path).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "util/thread_pool.h"

namespace pensieve {
namespace {

void expect_each_index_once(ThreadPool& pool, int round) {
  std::vector<std::atomic<int>> hits(pool.size());
  std::atomic<int> bad_n{0};
  pool.run([&](int i, int n) {
    if (n != pool.size()) bad_n.fetch_add(1);
    hits[i].fetch_add(1);
  });
  for (int i = 0; i < pool.size(); ++i) ASSERT_EQ(hits[i].load(), 1) << "round " << round << " index " << i;
  ASSERT_EQ(bad_n.load(), 0);
}

TEST(ThreadPool, ManyShortJobsBackToBack) {
  for (int threads : {1, 2, 3}) {  // 3: more threads than this 2-core CI machine has
    ThreadPool pool(threads);
    for (int round = 0; round < 2000; ++round) {
      expect_each_index_once(pool, round);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(ThreadPool, JobsAfterWorkersFellAsleep) {
  ThreadPool pool(3);
  for (int round = 0; round < 6; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));  // longer than the spin phase
    expect_each_index_once(pool, round);
    if (HasFatalFailure()) return;
  }
}

TEST(ThreadPool, WorkIsSplitAndResultsVisibleAfterRun) {
  ThreadPool pool(2);
  std::vector<int64_t> data(100000, 0);
  for (int round = 1; round <= 50; ++round) {
    pool.run([&](int i, int n) {
      const Range r = split_range(static_cast<int64_t>(data.size()), i, n);
      for (int64_t k = r.begin; k < r.end; ++k) data[k] += k;  // plain writes, read below
    });
    int64_t sum = 0;
    for (int64_t v : data) sum += v;
    const int64_t n = static_cast<int64_t>(data.size());
    ASSERT_EQ(sum, round * (n * (n - 1) / 2));
  }
}

TEST(ThreadPool, WorkersTakePartInLongJobs) {
  // Every index waits until all size() indices have started: only possible when each runs on its
  // own thread, i.e. the workers claimed theirs (the caller alone would wait forever). Event-based:
  // a condition variable, with a generous deadline so a broken pool fails instead of hanging.
  ThreadPool pool(3);
  for (int round = 0; round < 10; ++round) {
    std::mutex m;
    std::condition_variable cv;
    int started = 0;
    bool all_met = true;
    std::set<std::thread::id> runners;
    pool.run([&](int, int n) {
      std::unique_lock<std::mutex> lock(m);
      runners.insert(std::this_thread::get_id());
      if (++started == n) cv.notify_all();
      if (!cv.wait_for(lock, std::chrono::seconds(60), [&] { return started == n; })) all_met = false;
    });
    ASSERT_TRUE(all_met) << "round " << round << ": only " << started << " of " << pool.size() << " indices started together";
    EXPECT_EQ(runners.size(), static_cast<size_t>(pool.size())) << "round " << round;
  }
}

TEST(ThreadPool, DestroysWhileWorkersSleep) {
  auto pool = std::make_unique<ThreadPool>(4);
  std::atomic<int> ran{0};
  pool->run([&](int, int) { ran.fetch_add(1); });
  EXPECT_EQ(ran.load(), 4);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));  // past the spin phase: asleep
  // The destructor wakes and joins the sleeping workers; a hang fails the test after 60 s.
  const auto t0 = std::chrono::steady_clock::now();
  auto destroyed = std::async(std::launch::async, [&] { pool.reset(); });
  ASSERT_EQ(destroyed.wait_for(std::chrono::seconds(60)), std::future_status::ready) << "~ThreadPool hangs";
  std::printf("  ~ThreadPool with 3 sleeping workers took %.3f ms\n",
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  EXPECT_EQ(pool, nullptr);
}

TEST(ThreadPool, SplitRangeCoversEverythingOnce) {
  for (int64_t n : {0, 1, 7, 100}) {
    for (int parts : {1, 2, 3, 8}) {
      int64_t next = 0;
      for (int i = 0; i < parts; ++i) {
        const Range r = split_range(n, i, parts);
        EXPECT_EQ(r.begin, next);
        EXPECT_GE(r.end, r.begin);
        next = r.end;
      }
      EXPECT_EQ(next, n);
    }
  }
}

}  // namespace
}  // namespace pensieve
