#include "server/metrics.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace pensieve::server {

static std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

void Histogram::render(const std::string& name, std::string& out) const {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += name + "_bucket{le=\"" + num(bounds_[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  cumulative += counts_.back();
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
  out += name + "_sum " + num(sum_) + "\n";
  out += name + "_count " + std::to_string(count_) + "\n";
}

Metrics::Metrics()
    : ttft_({0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}),
      itl_({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}) {}

void Metrics::count_request(const std::string& endpoint, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{endpoint, status}];
}

void Metrics::observe_generation(int n_prompt, int n_cached, int n_generated, double ttft_s, double decode_s) {
  std::lock_guard<std::mutex> lock(mu_);
  ++generations_;
  prompt_tokens_ += n_prompt;
  cached_tokens_ += n_cached;
  generated_tokens_ += n_generated;
  if (n_cached > 0) ++prefix_hits_;
  if (n_generated > 0) ttft_.observe(ttft_s);
  if (n_generated > 1) itl_.observe(decode_s / (n_generated - 1));
}

static void header(std::string& out, const char* name, const char* type, const char* help) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

namespace {

void gauge(std::string& out, const char* name, const char* help, int64_t value) {
  header(out, name, "gauge", help);
  out += std::string(name) + " " + std::to_string(value) + "\n";
}

void counter(std::string& out, const char* name, const char* help, int64_t value) {
  header(out, name, "counter", help);
  out += std::string(name) + " " + std::to_string(value) + "\n";
}

// A counter of seconds (microsecond digits, never the rounding of %g on a long-running total).
void seconds_counter(std::string& out, const char* name, const char* help, double seconds) {
  header(out, name, "counter", help);
  out += std::string(name) + " " + std::to_string(seconds) + "\n";
}

// The batching engine: sequences, KV blocks, preemptions, prefix-cache hits, batch sizes.
void render_engine(const engine::EngineStats& e, std::string& out) {
  gauge(out, "pensieve_engine_running_sequences", "Sequences in the engine's batch.", e.running);
  gauge(out, "pensieve_engine_waiting_sequences", "Sequences waiting for a batch slot or KV room.", e.waiting);
  gauge(out, "pensieve_kv_blocks_used", "KV blocks held by running sequences.", e.blocks_used);
  gauge(out, "pensieve_kv_blocks_cached", "Free KV blocks whose content the prefix cache keeps.", e.blocks_cached);
  gauge(out, "pensieve_kv_blocks_free", "KV blocks holding nothing.", e.blocks_total - e.blocks_used - e.blocks_cached);
  gauge(out, "pensieve_kv_block_size_tokens", "Tokens per KV block.", e.block_size);
  counter(out, "pensieve_engine_steps_total", "Forward steps run.", e.steps);
  counter(out, "pensieve_engine_step_tokens_total", "Tokens run by all forward steps.", e.step_tokens);
  seconds_counter(out, "pensieve_engine_forward_seconds_total",
                  "Engine time in forward passes (the device's work included, and the grammar masks made while it runs).",
                  e.forward_seconds);
  seconds_counter(out, "pensieve_engine_host_seconds_total",
                  "Engine time around forward passes: scheduling, grammar masks, sampling, streaming.", e.host_seconds);
  counter(out, "pensieve_engine_preemptions_total", "Sequences preempted (KV pool full) to be recomputed.",
          e.preemptions);
  counter(out, "pensieve_engine_prefix_hit_tokens_total", "Prompt tokens found in the prefix cache.",
          e.prefix_hit_tokens);
  header(out, "pensieve_engine_batch_size", "histogram", "Sequences per forward step.");
  int64_t cum = 0;
  for (int i = 0; i < engine::kBatchBuckets; ++i) {
    cum += e.batch_hist[i];
    const std::string le = i < engine::kBatchBuckets - 1 ? std::to_string(engine::kBatchBucketBounds[i]) : "+Inf";
    out += "pensieve_engine_batch_size_bucket{le=\"" + le + "\"} " + std::to_string(cum) + "\n";
  }
  out += "pensieve_engine_batch_size_sum " + std::to_string(e.step_seqs) + "\n";
  out += "pensieve_engine_batch_size_count " + std::to_string(cum) + "\n";
}

}  // namespace

std::string Metrics::render(const LiveGauges& live) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  header(out, "pensieve_requests_total", "counter", "HTTP requests by endpoint and status.");
  for (const auto& [key, n] : requests_)
    out += "pensieve_requests_total{endpoint=\"" + key.first + "\",status=\"" + std::to_string(key.second) +
           "\"} " + std::to_string(n) + "\n";
  counter(out, "pensieve_generations_total", "Finished generations.", generations_);
  counter(out, "pensieve_prompt_tokens_total", "Prompt (input) tokens, cached ones included.", prompt_tokens_);
  counter(out, "pensieve_generated_tokens_total", "Generated (output) tokens.", generated_tokens_);
  counter(out, "pensieve_prefix_cache_hits_total", "Generations that reused a cached prompt prefix.", prefix_hits_);
  counter(out, "pensieve_prefix_cache_tokens_total", "Prompt tokens whose KV cache was reused.", cached_tokens_);
  header(out, "pensieve_time_to_first_token_seconds", "histogram", "Time from start of prefill to the first token.");
  ttft_.render("pensieve_time_to_first_token_seconds", out);
  header(out, "pensieve_inter_token_latency_seconds", "histogram", "Mean time between generated tokens, per generation.");
  itl_.render("pensieve_inter_token_latency_seconds", out);
  gauge(out, "pensieve_queue_waiting", "Requests waiting for a worker.", live.waiting);
  gauge(out, "pensieve_queue_running", "Requests being generated.", live.running);
  gauge(out, "pensieve_kv_cache_tokens", "Tokens in KV blocks that running requests use or the prefix cache keeps.",
        live.kv_tokens);
  gauge(out, "pensieve_kv_cache_capacity_tokens", "Tokens the KV pool can hold (all sequences together).",
        live.kv_capacity);
  if (live.engine) render_engine(*live.engine, out);
  gauge(out, "pensieve_process_resident_memory_bytes", "Resident set size (VmRSS).",
        static_cast<int64_t>(process_rss_bytes()));
  return out;
}

uint64_t process_rss_bytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      std::istringstream in(line.substr(6));
      uint64_t kb = 0;
      in >> kb;
      return kb * 1024;
    }
  }
  return 0;
}

}  // namespace pensieve::server
