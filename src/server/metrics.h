// Prometheus text-format metrics (https://prometheus.io/docs/instrumenting/exposition_formats/).
// All methods are thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>
#include <optional>

#include "engine/inference.h"

namespace pensieve::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  // Appends `name_bucket{le=..}`, `name_sum`, `name_count` lines.
  void render(const std::string& name, std::string& out) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket (not cumulative); last = +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

// Values read at scrape time: the request queue and the KV cache.
struct LiveGauges {
  int waiting = 0;
  int running = 0;
  int64_t kv_tokens = 0;    // tokens the KV cache holds (engine::KvUsage)
  int64_t kv_capacity = 0;  // tokens it can hold
  std::optional<engine::EngineStats> engine;  // the batching engine's state, when there is one
};

class Metrics {
 public:
  Metrics();
  void count_request(const std::string& endpoint, int status);
  // One finished generation: prompt tokens (of which cached), generated tokens and timings.
  void observe_generation(int n_prompt, int n_cached, int n_generated, double ttft_s, double decode_s);
  std::string render(const LiveGauges& live) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  uint64_t prompt_tokens_ = 0, cached_tokens_ = 0, generated_tokens_ = 0;
  uint64_t generations_ = 0, prefix_hits_ = 0;
  Histogram ttft_;
  Histogram itl_;
};

// Resident set size of this process in bytes (VmRSS from /proc/self/status); 0 if unknown.
uint64_t process_rss_bytes();

}  // namespace pensieve::server
