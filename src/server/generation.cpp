#include "server/generation.h"

namespace pensieve::server {

void StreamChannel::push(StreamItem item) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    items_.push_back(std::move(item));
  }
  cv_.notify_one();
}

std::optional<StreamItem> StreamChannel::pop(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return !items_.empty(); })) return std::nullopt;
  StreamItem item = std::move(items_.front());
  items_.pop_front();
  return item;
}

Result<ActiveGeneration> start_generation(RequestQueue& queue, std::vector<token_id> prompt,
                                          engine::GenerateOptions options) {
  ActiveGeneration active;
  QueuedGeneration job;
  job.prompt = std::move(prompt);
  job.options = std::move(options);
  job.cancel = active.cancel;
  auto channel = active.channel;
  auto cancel = active.cancel;
  job.on_token = [channel, cancel](std::string_view text, token_id) {
    if (!text.empty()) channel->push(StreamItem{StreamItem::Kind::piece, std::string(text), {}, {}});
    return !cancel->load();
  };
  job.on_done = [channel](Result<engine::Generation> r) {
    StreamItem item;
    if (r.ok()) {
      item.kind = StreamItem::Kind::done;
      item.generation = std::move(r.value());
    } else {
      item.kind = StreamItem::Kind::failed;
      item.error = r.error();
    }
    channel->push(std::move(item));
  };
  PS_TRY(queue.submit(std::move(job)));
  return active;
}

}  // namespace pensieve::server
