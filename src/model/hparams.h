// Model hyper-parameters read from GGUF metadata (keys from gguf/keys.h only), and the rope
// table they imply.
#pragma once

#include <string>

#include "backend/ops.h"
#include "gguf/gguf.h"
#include "util/status.h"

namespace pensieve::model {

enum class RopeScaling { none, linear, yarn, llama3, kSentinel };
inline bool EnumValid(RopeScaling s) { return s < RopeScaling::kSentinel; }

struct HParams {
  std::string arch;
  int n_vocab = 0;
  int n_ctx_train = 0;
  int n_embd = 0;
  int n_layer = 0;
  int n_head = 0;
  int n_head_kv = 0;
  int head_dim = 0;  // key_length, else n_embd / n_head
  int n_ff = 0;
  int n_rot = 0;     // rope.dimension_count, else head_dim
  float rms_eps = 1e-5f;
  float rope_freq_base = 10000.0f;
  RopeScaling rope_scaling = RopeScaling::none;
  float rope_factor = 1.0f;      // context extension factor (linear / yarn / llama3)
  int rope_orig_ctx = 0;         // yarn / llama3: the pre-extension context length
  float yarn_attn_factor = 1.0f;
  float yarn_beta_fast = 32.0f;
  float yarn_beta_slow = 1.0f;
  bool tied_embeddings = false;  // no output.weight: logits use token_embd
};

// Reads and validates the hyper-parameters of `arch` (shape checks against tensors come later).
Result<HParams> read_hparams(const GgufFile& file, const std::string& arch);

// The per-pair rope speeds for these hparams. `freq_factors` (rope_freqs.weight, n_rot/2
// values, may be null) divide the base frequencies, as llama 3.1 checkpoints store them.
backend::RopeTable make_rope_table(const HParams& hp, backend::RopeStyle style, const float* freq_factors);

}  // namespace pensieve::model
