// A generation in flight, seen from the HTTP thread that waits for it: the worker pushes text
// pieces and the final result into a StreamChannel; the HTTP thread pops them, renders them for
// its wire format, and sets `cancel` when its client goes away.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "server/request_queue.h"

namespace pensieve::server {

struct StreamItem {
  enum class Kind { piece, done, failed };
  Kind kind = Kind::piece;
  std::string text;              // piece
  engine::Generation generation;  // done
  Error error;                   // failed
};

class StreamChannel {
 public:
  void push(StreamItem item);
  // Waits up to `timeout` for the next item; nullopt on timeout.
  std::optional<StreamItem> pop(std::chrono::milliseconds timeout);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<StreamItem> items_;
};

struct ActiveGeneration {
  std::shared_ptr<StreamChannel> channel = std::make_shared<StreamChannel>();
  std::shared_ptr<std::atomic<bool>> cancel = std::make_shared<std::atomic<bool>>(false);
  std::chrono::steady_clock::time_point submitted = std::chrono::steady_clock::now();
};

// Enqueues a generation whose output flows into the returned channel. Fails with `overloaded`
// when the queue is full.
Result<ActiveGeneration> start_generation(RequestQueue& queue, std::vector<token_id> prompt,
                                          engine::GenerateOptions options);

}  // namespace pensieve::server
