// model::Context: a loaded model running on one Ops, with its scratch buffers and its paged
// KV cache. step() runs one forward pass over tokens of several sequences at once (the decode
// tokens of every running sequence plus prefill chunks) and returns the logits, or the greedy
// choice, after each sequence's last token; decode() / decode_greedy() are its one-sequence
// forms. The engine owns the sequences (SequenceKv) and decides what to run.
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
  int n_seq_max = 1;          // sequences the pool must hold at full length (when n_blocks is 0)
  int n_blocks = 0;           // KV blocks in the pool; 0: n_seq_max * n_ctx tokens' worth
  int max_step_tokens = 512;  // tokens per forward step (decode tokens + prefill chunks)
  int max_outputs = 1;        // logit rows per step (one per sequence in the step)
  int block_size = 16;
  backend::KvType kv_type = backend::KvType::f16;
};

// One sequence's part of a step: `tokens` run at positions kv->n_tokens().. of the sequence;
// the last n_outputs of them produce output rows (0: none, 1: the next-token prediction).
struct SeqStep {
  SequenceKv* kv = nullptr;
  std::span<const int32_t> tokens;
  int n_outputs = 1;
};

class Context {
 public:
  // Allocates scratch and KV cache on `ops`. `model` and `ops` must outlive the Context.
  static Result<std::unique_ptr<Context>> create(const Model& model, backend::Ops& ops, const ContextOptions& opt);

  const Model& model() const { return model_; }
  const ContextOptions& options() const { return opt_; }
  BlockPool& pool() { return pool_; }
  int n_vocab() const { return model_.hp.n_vocab; }

  // One forward pass over every part of `batch` (reserving their blocks), then marks the tokens
  // valid. The output rows, in batch order, go to `logits` ([rows][n_vocab], host memory) or,
  // when `logits` is null, their argmax to `argmax` ([rows]). Fails with resource_exhausted when
  // the KV pool cannot hold the tokens and with invalid_request when a sequence would pass n_ctx
  // or the step is too big; no sequence's valid length changes then. `masks` (with `argmax`
  // only): per output row, backend::allowed_words(n_vocab) words of a token bit mask, asked for
  // once the forward pass is under way (backend::MaskSource); the argmax is taken over the
  // allowed tokens (grammar-constrained greedy decoding).
  Status step(std::span<const SeqStep> batch, float* logits, int32_t* argmax, const Observer* obs = nullptr,
              const backend::MaskSource* masks = nullptr);
  // Row `row` of the last step's output logits ([n_vocab], host memory): for the rare output row
  // whose argmax the caller cannot take after all (still on the device until the next step).
  Status read_logits_row(int row, float* logits);
  // One sequence: logits of the last token only (all_logits false) or of every token (at most
  // max_outputs).
  Status decode(SequenceKv& seq, std::span<const int32_t> tokens, bool all_logits, float* logits,
                const Observer* obs = nullptr);
  // The same step, but only the greedy choice after its last token comes back (argmax where the
  // logits are: on a GPU, 4 bytes cross the bus instead of n_vocab floats).
  Status decode_greedy(SequenceKv& seq, std::span<const int32_t> tokens, int32_t* next_token,
                       const Observer* obs = nullptr);
  // The same step for embeddings: every token's last hidden state after the final norm
  // ([tokens of the batch, in batch order][n_embd], host memory) instead of logits. The step's
  // output rows are not read (n_outputs of each part: 1).
  Status hidden_states(std::span<const SeqStep> batch, float* hidden, const Observer* obs = nullptr);

 private:
  Context(const Model& model, backend::Ops& ops, const ContextOptions& opt, int n_blocks);
  int max_blocks_per_seq() const { return (opt_.n_ctx + opt_.block_size - 1) / opt_.block_size; }
  Status check(std::span<const SeqStep> batch, int* n_tokens, int* n_out) const;
  Status run_step(std::span<const SeqStep> batch, float* logits, int32_t* argmax, const backend::MaskSource* masks,
                  float* hidden, const Observer* obs);

  const Model& model_;
  backend::Ops& ops_;
  ContextOptions opt_;
  BlockPool pool_;
  Scratch scratch_;
  // Per-step inputs, reused so a step allocates nothing once warm.
  std::vector<int32_t> tokens_, positions_, seq_ids_, slots_, table_, seq_lens_, out_rows_;
};

}  // namespace pensieve::model
