// A persistent fork-join thread pool. run(fn) calls fn(i, n) once for each i in [0, n) with
// n = size(), the calling thread taking i = 0, and returns when all calls are done.
// One run() at a time per pool (callers serialize); workers spin briefly, then sleep.
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
  void worker(int index);

  int n_threads_;
  std::vector<std::thread> threads_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
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
