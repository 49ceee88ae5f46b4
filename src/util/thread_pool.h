// A persistent fork-join thread pool. run(fn) calls fn(i, n) exactly once for each i in
// [0, n) with n = size() and returns when all calls are done. The calling thread takes part:
// each index goes to whichever thread claims it first, so a worker that the OS has not
// scheduled yet (a loaded machine) never holds run() up; the caller just runs that part too.
// Callers must not assume which thread runs which index. One run() at a time per pool
// (callers serialize); workers spin briefly, then sleep.
//
// run() is on the decode hot path (hundreds of small matmuls per token), so while the workers
// are spinning it touches no mutex and makes no system call: the job is published through
// atomics and the mutex + condition variable are used only when a worker has gone to sleep.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace pensieve {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }
  void run(const std::function<void(int thread_index, int n_threads)>& fn);

  // Physical cores of this machine (hyper-threads not counted), at least 1.
  static int physical_cores();

 private:
  void worker();
  void wake_sleepers();
  // Claims the next unstarted index of job `generation`; -1 when none is left (or the job is
  // no longer current).
  int claim(uint32_t generation);
  void run_claimed(uint32_t generation);

  int n_threads_;
  std::vector<std::thread> threads_;
  std::atomic<const std::function<void(int, int)>*> job_{nullptr};
  uint32_t generation_ = 0;      // of the last job; written by run() only
  std::atomic<uint64_t> claim_{0};  // (generation << 32) | next unclaimed index
  std::atomic<int> done_{0};        // indices of the current job that have finished
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
};

// Splits [0, n) into n_parts nearly equal ranges; returns part `i`.
struct Range {
  int64_t begin, end;
};
inline Range split_range(int64_t n, int i, int n_parts) {
  const int64_t base = n / n_parts, extra = n % n_parts;
  const int64_t begin = i * base + (i < extra ? i : extra);
  return {begin, begin + base + (i < extra ? 1 : 0)};
}

}  // namespace pensieve
