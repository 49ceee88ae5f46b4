// model::Context: a loaded model running on one Ops, with its scratch buffers and its paged
// KV cache. decode() runs one step of tokens of one sequence and returns logits; the engine
// owns the sequences (SequenceKv) and decides what to run.
//
// Not thread-safe: one step at a time (the engine serializes).
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "backend/ops.h"
#include "model/kv_cache.h"
#include "model/model.h"

namespace pensieve::model {

struct ContextOptions {
  int n_ctx = 2048;           // tokens per sequence at most
  int n_seq_max = 1;          // sequences the pool must hold at full length
  int max_tokens = 512;       // tokens per step (prefill chunk)
  int max_outputs = 1;        // logit rows per step
  int block_size = 16;
  backend::KvType kv_type = backend::KvType::f16;
};

class Context {
 public:
  // Allocates scratch and KV cache on `ops`. `model` and `ops` must outlive the Context.
  static Result<std::unique_ptr<Context>> create(const Model& model, backend::Ops& ops, const ContextOptions& opt);

  const Model& model() const { return model_; }
  const ContextOptions& options() const { return opt_; }
  BlockPool& pool() { return pool_; }
  int n_vocab() const { return model_.hp.n_vocab; }

  // Runs tokens at positions seq.n_tokens().. of `seq` (reserving its blocks), then marks them
  // valid. Logits: of the last token only (all_logits false) or of every token (at most
  // max_outputs), written to `logits` ([rows][n_vocab], host memory).
  // Fails with resource_exhausted when the KV pool cannot hold the tokens, and with
  // invalid_request when they would pass n_ctx; seq is unchanged then.
  Status decode(SequenceKv& seq, std::span<const int32_t> tokens, bool all_logits, float* logits,
                const Observer* obs = nullptr);
  // The same step, but only the greedy choice after its last token comes back (argmax where the
  // logits are: on a GPU, 4 bytes cross the bus instead of n_vocab floats).
  Status decode_greedy(SequenceKv& seq, std::span<const int32_t> tokens, int32_t* next_token,
                       const Observer* obs = nullptr);

 private:
  Context(const Model& model, backend::Ops& ops, const ContextOptions& opt, int n_blocks);
  // Checks the step, reserves its KV blocks and issues the forward pass; the caller reads the
  // output rows (n_out of them) and then marks the tokens valid.
  Status run_step(SequenceKv& seq, std::span<const int32_t> tokens, bool all_logits, int* n_out,
                  const Observer* obs);

  const Model& model_;
  backend::Ops& ops_;
  ContextOptions opt_;
  BlockPool pool_;
  Scratch scratch_;
  // Per-step inputs, reused so a step allocates nothing once warm.
  std::vector<int32_t> positions_, seq_ids_, slots_, table_, seq_lens_, out_rows_;
};

}  // namespace pensieve::model
