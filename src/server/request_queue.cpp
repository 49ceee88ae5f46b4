#include "server/request_queue.h"

namespace pensieve::server {

RequestQueue::RequestQueue(GenerateFn generate, int workers, int max_waiting)
    : generate_(std::move(generate)), max_waiting_(max_waiting < 0 ? 0 : max_waiting) {
  if (workers < 1) workers = 1;
  idle_ = workers;  // free from the start: a request right after start-up must not find the queue full
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { worker_loop(); });
}

RequestQueue::~RequestQueue() { shutdown(true); }

Status RequestQueue::submit(QueuedGeneration job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return make_error(ErrorKind::overloaded, "the server is shutting down");
    // A request may wait only while there is room: idle workers take jobs at once.
    int free_workers = idle_.load();
    if (static_cast<int>(waiting_.size()) >= max_waiting_ + free_workers)
      return make_error(ErrorKind::overloaded, "Overloaded: the request queue is full, retry later");
    waiting_.push_back(std::move(job));
  }
  cv_.notify_one();
  return ok_status();
}

int RequestQueue::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(waiting_.size());
}

void RequestQueue::worker_loop() {
  std::unique_lock<std::mutex> lock(mu_);  // counted idle since the constructor
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
    if (waiting_.empty()) {  // stopping and drained
      --idle_;
      return;
    }
    QueuedGeneration job = std::move(waiting_.front());
    waiting_.pop_front();
    --idle_;
    ++running_;
    lock.unlock();
    Result<engine::Generation> result = run_one(job);
    lock.lock();
    --running_;
    // Free before the result is handed over: a client that sends its next request as soon as it
    // reads this reply must find the worker free, not a full queue (with --max-queue 0).
    ++idle_;
    lock.unlock();
    job.on_done(std::move(result));
    lock.lock();
  }
}

Result<engine::Generation> RequestQueue::run_one(QueuedGeneration& job) {
  auto cancel = job.cancel;
  if (cancel->load() || cancel_all_.load()) return make_error(ErrorKind::cancelled, "cancelled before it started");
  if (job.on_start) job.on_start();
  auto user_stop = job.options.should_stop;
  job.options.should_stop = [this, cancel, user_stop] {
    return cancel->load() || cancel_all_.load() || (user_stop && user_stop());
  };
  try {
    return generate_(job.prompt, job.options, job.on_token);
  } catch (const std::exception& e) {
    return make_error(ErrorKind::internal, std::string("generation failed: ") + e.what());
  }
}

void RequestQueue::shutdown(bool cancel_running) {
  std::deque<QueuedGeneration> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
    if (cancel_running) cancel_all_ = true;
    dropped.swap(waiting_);
  }
  cv_.notify_all();
  for (auto& job : dropped) job.on_done(make_error(ErrorKind::cancelled, "the server is shutting down"));
  for (auto& t : workers_)
    if (t.joinable()) t.join();
  workers_.clear();
}

}  // namespace pensieve::server
