// engine::InferenceBackend: what the CLI, the server and embedders use (DESIGN.md).
// load() / unload() / infer() / stream() / variant() / device(). Safe to call from many
// threads at once: one engine thread batches every request in flight (up to n_parallel) into
// each forward step, and a request's tokens do not depend on which others share its steps.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "text/chat_template.h"
#include "text/tokenizer.h"
#include "util/status.h"

namespace pensieve::grammar {
struct Grammar;
}

namespace pensieve::engine {

using text::token_id;

struct SamplingParams {
  float temperature = 0.8f;  // <= 0: greedy
  int top_k = 40;            // <= 0: off
  float top_p = 0.95f;       // >= 1: off
  float min_p = 0.05f;       // <= 0: off
  float repeat_penalty = 1.0f;  // 1: off
  int repeat_last_n = 64;
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  std::optional<uint64_t> seed;  // unset: random
};

struct GenerateOptions {
  SamplingParams sampling;
  int max_tokens = 256;            // < 0: until the context is full
  std::vector<std::string> stop;   // stop strings; never part of the output
  bool ignore_eos = false;         // benchmarks
  // Polled between decode steps; true cancels (finish = cancelled).
  std::function<bool()> should_stop;
  // Constrained decoding: only tokens the grammar allows are sampled (whatever the sampler
  // settings), the end-of-generation token only where the grammar accepts, and the generation
  // ends (finish = eos) once the grammar is complete and nothing more may follow. Near the
  // max_tokens / context limit, tokens are chosen so that the output can still be finished.
  std::shared_ptr<const grammar::Grammar> grammar;
  // Non-empty: the grammar is lazy. The output is free until one of these strings appears in
  // it; the grammar then applies from that string's first byte (so it must match the trigger)
  // until it is complete, and the output is free again.
  std::vector<std::string> grammar_triggers;
};

enum class FinishReason { eos, stop_string, max_tokens, context_full, cancelled };
std::string_view finish_reason_name(FinishReason r);

struct Generation {
  std::string text;               // generated text, stop string excluded
  std::vector<token_id> tokens;   // generated tokens
  FinishReason finish = FinishReason::max_tokens;
  std::string stop_string;        // which stop string matched, if any
  int n_prompt = 0;               // prompt tokens
  int n_cached = 0;               // prompt tokens whose KV was reused from an earlier request
  int n_generated = 0;
  double prefill_ms = 0, decode_ms = 0, ttft_ms = 0;
};

// Called with each new piece of text (complete UTF-8, stop strings held back) and its token.
// Return false to stop generating (finish = cancelled).
using OnToken = std::function<bool(std::string_view text, token_id token)>;

struct LoadOptions {
  std::string model_path;
  std::string device = "auto";  // auto | cpu | cuda | cuda:N
  int threads = 0;              // 0: physical cores
  int n_ctx = 0;                // 0: the model's context length, at most default_ctx_cap (and capped by memory)
  // The cap on that default: a terminal session gets 8192; a server (paged KV pool: a sequence's
  // limit costs nothing until it is used) 0 = none, so a 25k-token agent prompt fits.
  int default_ctx_cap = 8192;
  std::string kv_type = "f16";  // f16 | f32
  int n_ubatch = 512;           // tokens per forward step (decode tokens + prefill chunks)
  int n_parallel = 0;           // sequences decoded together; 0: 4 on a CPU, 32 on a GPU
  int64_t kv_budget_mb = 0;     // KV pool size; 0: n_ctx x n_parallel tokens (GPU: capped by free memory)
  bool quiet = false;           // no log line about the device choice
  // GPU: a request's tokens do not depend on what shares its steps (slower; cuda_ops.h says how).
  bool batch_invariant = false;
  // Called after each layer's weights are bound (on a GPU: uploaded): (layers done, layers).
  std::function<void(int done, int total)> on_progress;
};

struct ModelInfo {
  std::string name;          // general.name or the file name
  std::string architecture;  // llama | qwen2 | qwen3
  std::string quant;         // dominant weight type, e.g. "Q4_K"
  int n_ctx = 0;             // context this backend was loaded with
  int n_ctx_train = 0;
  int64_t n_params = 0;
  std::string chat_template;  // the model's own, or ChatML when it has none
};

// What the KV pool holds: tokens in blocks that running requests use or that the prefix cache
// keeps for reuse, and the tokens the whole pool can hold.
struct KvUsage {
  int64_t tokens = 0;
  int64_t capacity = 0;
};

// Batch sizes (sequences per forward step) are counted in buckets with these upper bounds;
// the last bucket takes everything larger.
inline constexpr int kBatchBuckets = 9;
inline constexpr int kBatchBucketBounds[kBatchBuckets - 1] = {1, 2, 4, 8, 16, 32, 64, 128};

// The engine's live state, read without a lock (for /metrics).
struct EngineStats {
  int running = 0, waiting = 0;        // sequences in the batch / waiting for a slot
  int64_t steps = 0, step_tokens = 0;  // forward steps run, tokens they ran
  int64_t step_seqs = 0;               // sequences over all steps (steps x mean batch size)
  int64_t preemptions = 0;             // sequences sent back to recompute for lack of KV room
  int64_t prefix_hit_tokens = 0;       // prompt tokens found in the prefix cache
  int64_t blocks_used = 0, blocks_cached = 0, blocks_total = 0, block_size = 0;
  int64_t batch_hist[kBatchBuckets] = {};  // steps per batch-size bucket (not cumulative)
  // Engine-thread time: in forward passes (device work included) and on the host around them
  // (scheduling, grammar masks, sampling, streaming): where a step's time goes.
  double forward_seconds = 0, host_seconds = 0;
};

class InferenceBackend {
 public:
  InferenceBackend();
  ~InferenceBackend();
  InferenceBackend(const InferenceBackend&) = delete;
  InferenceBackend& operator=(const InferenceBackend&) = delete;

  Status load(const LoadOptions& options);
  void unload();  // frees all host/device memory of the model
  bool loaded() const;

  const ModelInfo& info() const;
  const text::Tokenizer& tokenizer() const;
  std::string variant() const;  // e.g. "qwen2 Q4_K_M"
  std::string device() const;   // "cpu" | "cuda:0"
  // Lock-free (a monitoring thread may ask while a generation runs); updated per step.
  KvUsage kv_usage() const;
  EngineStats stats() const;
  int n_parallel() const;  // sequences the engine batches at most

  // Tokenizes with the model's BOS rule; special-token text in the prompt is parsed.
  std::vector<token_id> tokenize(std::string_view text) const;

  Result<Generation> infer(const std::vector<token_id>& prompt, const GenerateOptions& options);
  Result<Generation> infer(std::string_view prompt, const GenerateOptions& options);
  Result<Generation> stream(const std::vector<token_id>& prompt, const GenerateOptions& options,
                            const OnToken& on_token);

  // Embeddings: per input, the mean over its tokens of the last hidden state (after the final
  // norm), L2-normalised. Inputs are batched into shared forward steps (several inputs, and
  // chunks of long ones, per step) on the engine thread, between generation steps. Each input
  // needs 1..n_ctx tokens.
  Result<std::vector<std::vector<float>>> embed(const std::vector<std::vector<token_id>>& inputs);
  int n_embd() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pensieve::engine
