// The one bounded queue every generation goes through. HTTP threads only enqueue; the queue's
// worker thread(s) are the only callers of the engine. A full queue is an `overloaded` error
// (529 / 429 on the wire) so clients back off instead of piling up.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "server/chat_request.h"

namespace pensieve::server {

struct QueuedGeneration {
  std::vector<token_id> prompt;
  engine::GenerateOptions options;
  std::function<void()> on_start;  // optional; the worker picked the job up
  engine::OnToken on_token;  // runs on the worker thread; keep it cheap
  // Runs on the worker thread exactly once: the generation, or why there is none.
  std::function<void(Result<engine::Generation>)> on_done;
  // Set by whoever waits for the result (client gone, job deleted); polled between decode steps.
  std::shared_ptr<std::atomic<bool>> cancel = std::make_shared<std::atomic<bool>>(false);
};

class RequestQueue {
 public:
  // max_waiting: requests allowed to wait while all workers are busy (0: none).
  RequestQueue(GenerateFn generate, int workers, int max_waiting);
  ~RequestQueue();
  RequestQueue(const RequestQueue&) = delete;
  RequestQueue& operator=(const RequestQueue&) = delete;

  Status submit(QueuedGeneration job);
  int waiting() const;
  int running() const { return running_.load(); }
  // Stops accepting; waiting jobs end as cancelled; running ones are cancelled too when
  // cancel_running, else allowed to finish. Joins the workers.
  void shutdown(bool cancel_running);

 private:
  void worker_loop();
  Result<engine::Generation> run_one(QueuedGeneration& job);  // the generation; on_done is the caller's

  GenerateFn generate_;
  int max_waiting_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<QueuedGeneration> waiting_;
  std::atomic<int> running_{0};
  std::atomic<int> idle_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> cancel_all_{false};
  std::vector<std::thread> workers_;
};

}  // namespace pensieve::server
