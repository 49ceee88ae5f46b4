#include "util/thread_pool.h"

#include <fstream>
#include <set>
#include <string>
#include <utility>

namespace pensieve {
namespace {

inline void cpu_relax() {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#endif
}

// How long a worker spins for the next job before sleeping (decode steps issue many short
// jobs back to back; a sleeping worker costs a futex wake-up, several microseconds).
constexpr int kWorkerSpins = 1 << 15;
// How long the caller spins for the workers to finish before yielding the CPU.
constexpr int kCallerSpins = 1 << 14;

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
  for (int i = 1; i < n_threads_; ++i) threads_.emplace_back([this] { worker(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

// A worker that saw no new job increments sleepers_ under the mutex and re-checks claim_
// before waiting; run() stores claim_ before reading sleepers_ (both sequentially consistent),
// so either run() sees the sleeper and notifies under the mutex, or the sleeper's re-check
// sees the new job. No wake-up is lost.
void ThreadPool::wake_sleepers() {
  if (sleepers_.load() == 0) return;
  { std::lock_guard<std::mutex> lock(mutex_); }
  wake_.notify_all();
}

int ThreadPool::claim(uint32_t generation) {
  uint64_t s = claim_.load(std::memory_order_acquire);
  for (;;) {
    if (static_cast<uint32_t>(s >> 32) != generation || static_cast<int>(s & 0xFFFFFFFFu) >= n_threads_) return -1;
    if (claim_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire))
      return static_cast<int>(s & 0xFFFFFFFFu);
  }
}

// A claimed index keeps its job alive: run() cannot return (and no newer job can replace
// job_) before done_ counts it.
void ThreadPool::run_claimed(uint32_t generation) {
  for (int i = claim(generation); i >= 0; i = claim(generation)) {
    (*job_.load(std::memory_order_relaxed))(i, n_threads_);
    done_.fetch_add(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::run(const std::function<void(int, int)>& fn) {
  if (n_threads_ == 1) {
    fn(0, 1);
    return;
  }
  const uint32_t gen = ++generation_;
  job_.store(&fn, std::memory_order_relaxed);
  done_.store(0, std::memory_order_relaxed);
  claim_.store(static_cast<uint64_t>(gen) << 32);  // seq_cst: publishes job_ and done_ too
  wake_sleepers();
  run_claimed(gen);
  for (int spin = 0; done_.load(std::memory_order_acquire) != n_threads_; ++spin) {
    if (spin < kCallerSpins) cpu_relax();
    else std::this_thread::yield();
  }
}

void ThreadPool::worker() {
  uint32_t seen = 0;
  auto current = [&] { return static_cast<uint32_t>(claim_.load(std::memory_order_acquire) >> 32); };
  for (;;) {
    uint32_t gen = current();
    for (int spin = 0; gen == seen && spin < kWorkerSpins; ++spin) {
      if (stop_.load(std::memory_order_relaxed)) return;
      cpu_relax();
      gen = current();
    }
    if (gen == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      sleepers_.fetch_add(1);
      wake_.wait(lock, [&] { return stop_.load() || current() != seen; });
      sleepers_.fetch_sub(1);
      if (stop_.load()) return;
      gen = current();
    }
    seen = gen;
    run_claimed(gen);
  }
}

int ThreadPool::physical_cores() {
  // Count distinct (physical id, core id) pairs; fall back to the logical count.
  std::ifstream in("/proc/cpuinfo");
  std::set<std::pair<std::string, std::string>> cores;
  std::string line, phys = "0";
  while (std::getline(in, line)) {
    if (line.rfind("physical id", 0) == 0) phys = line.substr(line.find(':') + 1);
    if (line.rfind("core id", 0) == 0) cores.insert({phys, line.substr(line.find(':') + 1)});
  }
  int n = static_cast<int>(cores.size());
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  return n < 1 ? 1 : n;
}

}  // namespace pensieve
