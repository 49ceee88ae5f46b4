// Background generation jobs with resumable event streams.
// A Job records every event it produces with a sequence id (1, 2, ...), so a client that lost its
// SSE connection reconnects with Last-Event-ID and gets exactly the events after that id — also
// after the job has finished, for as long as the registry retains it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/http/types.h"

namespace pensieve::server {

enum class JobState { queued, running, succeeded, failed, cancelled };
const char* job_state_name(JobState s);
bool job_state_terminal(JobState s);

struct JobEvent {
  uint64_t id = 0;
  std::string name;  // state | token | done | error
  nlohmann::json data;
};

class Job {
 public:
  Job(std::string id, std::string kind, int max_tokens);
  const std::string& id() const { return id_; }
  std::shared_ptr<std::atomic<bool>> cancel_flag() const { return cancel_; }

  void mark_running();
  // One generated token; an event is appended only when it produced text (empty = held back).
  void add_token(const std::string& text);
  // Terminal transitions; each appends the final event. `result`/`error` become part of to_json().
  void succeed(nlohmann::json result, nlohmann::json timings);
  void fail(const std::string& error_type, const std::string& message);
  void mark_cancelled(nlohmann::json partial_result);

  // Events with id > after; waits up to `timeout` for new ones when there are none yet.
  // `terminal` tells whether the job has ended (no more events will come).
  std::vector<JobEvent> events_after(uint64_t after, std::chrono::milliseconds timeout, bool* terminal);
  nlohmann::json to_json() const;
  JobState state() const;
  // Each new event notifies the watcher (a connection streaming this job) while it lives.
  void add_watcher(std::weak_ptr<http::Notifier> watcher);
  bool finished_before(std::chrono::steady_clock::time_point t) const;

 private:
  void append_locked(std::string name, nlohmann::json data);

  const std::string id_, kind_;
  const int max_tokens_;
  const int64_t created_unix_;
  std::shared_ptr<std::atomic<bool>> cancel_ = std::make_shared<std::atomic<bool>>(false);
  mutable std::mutex mu_;
  std::condition_variable cv_;
  JobState state_ = JobState::queued;
  std::vector<JobEvent> events_;
  std::vector<std::weak_ptr<http::Notifier>> watchers_;
  int n_tokens_ = 0;  // generated tokens
  int n_events_ = 0;  // token events (tokens that produced text)
  std::string text_;
  nlohmann::json result_, error_, timings_;
  std::chrono::steady_clock::time_point finished_at_{};
};

class JobRegistry {
 public:
  JobRegistry(size_t max_jobs, std::chrono::seconds max_age);
  std::shared_ptr<Job> create(const std::string& kind, int max_tokens);
  std::shared_ptr<Job> find(const std::string& id);
  void remove(const std::string& id);
  size_t size();

 private:
  void evict_locked();

  size_t max_jobs_;
  std::chrono::seconds max_age_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  std::vector<std::string> order_;  // creation order, for count-based eviction
};

}  // namespace pensieve::server
