#include "server/jobs.h"

#include <algorithm>
#include <ctime>

#include "server/tool_calls.h"

namespace pensieve::server {

const char* job_state_name(JobState s) {
  switch (s) {
    case JobState::queued: return "queued";
    case JobState::running: return "running";
    case JobState::succeeded: return "succeeded";
    case JobState::failed: return "failed";
    case JobState::cancelled: return "cancelled";
  }
  return "unknown";
}

bool job_state_terminal(JobState s) {
  return s == JobState::succeeded || s == JobState::failed || s == JobState::cancelled;
}

Job::Job(std::string id, std::string kind, int max_tokens)
    : id_(std::move(id)), kind_(std::move(kind)), max_tokens_(max_tokens), created_unix_(std::time(nullptr)) {}

void Job::append_locked(std::string name, nlohmann::json data) {
  events_.push_back(JobEvent{events_.size() + 1, std::move(name), std::move(data)});
  cv_.notify_all();
  size_t kept = 0;
  for (auto& w : watchers_) {
    if (auto n = w.lock()) {
      n->notify();
      watchers_[kept++] = w;
    }
  }
  watchers_.resize(kept);
}

void Job::add_watcher(std::weak_ptr<http::Notifier> watcher) {
  std::lock_guard<std::mutex> lock(mu_);
  watchers_.push_back(std::move(watcher));
}

void Job::mark_running() {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ != JobState::queued) return;
  state_ = JobState::running;
  append_locked("state", {{"state", "running"}});
}

void Job::add_token(const std::string& text) {
  std::lock_guard<std::mutex> lock(mu_);
  ++n_tokens_;  // every generated token counts, also those with no text yet (held-back bytes, control tokens)
  if (text.empty()) return;
  text_ += text;
  append_locked("token", {{"index", n_events_++}, {"text", text}});
}

void Job::succeed(nlohmann::json result, nlohmann::json timings) {
  std::lock_guard<std::mutex> lock(mu_);
  state_ = JobState::succeeded;
  result_ = std::move(result);
  timings_ = std::move(timings);
  finished_at_ = std::chrono::steady_clock::now();
  append_locked("done", {{"state", "succeeded"}, {"result", result_}, {"timings", timings_}});
}

void Job::fail(const std::string& error_type, const std::string& message) {
  std::lock_guard<std::mutex> lock(mu_);
  state_ = JobState::failed;
  error_ = {{"type", error_type}, {"message", message}};
  finished_at_ = std::chrono::steady_clock::now();
  append_locked("error", {{"state", "failed"}, {"error", error_}});
}

void Job::mark_cancelled(nlohmann::json partial_result) {
  std::lock_guard<std::mutex> lock(mu_);
  if (job_state_terminal(state_)) return;
  state_ = JobState::cancelled;
  result_ = std::move(partial_result);
  finished_at_ = std::chrono::steady_clock::now();
  append_locked("done", {{"state", "cancelled"}, {"result", result_}});
}

std::vector<JobEvent> Job::events_after(uint64_t after, std::chrono::milliseconds timeout, bool* terminal) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return events_.size() > after || job_state_terminal(state_); });
  std::vector<JobEvent> out;
  if (events_.size() > after) out.assign(events_.begin() + static_cast<std::ptrdiff_t>(after), events_.end());
  *terminal = job_state_terminal(state_);
  return out;
}

nlohmann::json Job::to_json() const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json progress = {{"generated_tokens", n_tokens_}, {"max_tokens", max_tokens_}};
  if (max_tokens_ > 0)
    progress["fraction"] = job_state_terminal(state_) ? 1.0 : std::min(1.0, double(n_tokens_) / max_tokens_);
  return {{"id", id_},
          {"object", "job"},
          {"kind", kind_},
          {"state", job_state_name(state_)},
          {"created_at", created_unix_},
          {"progress", progress},
          {"text", text_},
          {"result", result_},
          {"error", error_},
          {"timings", timings_},
          {"last_event_id", events_.size()}};
}

JobState Job::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

bool Job::finished_before(std::chrono::steady_clock::time_point t) const {
  std::lock_guard<std::mutex> lock(mu_);
  return job_state_terminal(state_) && finished_at_ < t;
}

JobRegistry::JobRegistry(size_t max_jobs, std::chrono::seconds max_age)
    : max_jobs_(max_jobs < 1 ? 1 : max_jobs), max_age_(max_age) {}

std::shared_ptr<Job> JobRegistry::create(const std::string& kind, int max_tokens) {
  std::lock_guard<std::mutex> lock(mu_);
  auto job = std::make_shared<Job>(random_id("job_"), kind, max_tokens);
  jobs_[job->id()] = job;
  order_.push_back(job->id());
  evict_locked();
  return job;
}

std::shared_ptr<Job> JobRegistry::find(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  evict_locked();
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : it->second;
}

void JobRegistry::remove(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  jobs_.erase(id);
  order_.erase(std::remove(order_.begin(), order_.end(), id), order_.end());
}

size_t JobRegistry::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return jobs_.size();
}

void JobRegistry::evict_locked() {
  // Only finished jobs are evicted: by age, then the oldest while over the count limit.
  auto cutoff = std::chrono::steady_clock::now() - max_age_;
  std::vector<std::string> keep;
  size_t excess = jobs_.size() > max_jobs_ ? jobs_.size() - max_jobs_ : 0;
  for (const auto& id : order_) {
    auto& job = jobs_.at(id);
    bool finished = job_state_terminal(job->state());
    if (finished && (job->finished_before(cutoff) || excess > 0)) {
      if (excess > 0) --excess;
      jobs_.erase(id);
      continue;
    }
    keep.push_back(id);
  }
  order_ = std::move(keep);
}

}  // namespace pensieve::server
