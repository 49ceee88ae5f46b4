// A loaded model: hparams, device views of its weights, and the family (architecture) whose
// forward pass runs it. Families live one per file (llama.cpp, qwen2.cpp, qwen3.cpp) and are
// found through the registry (registry.cpp, one line per family).
//
// After load_model() a Model is immutable; the GgufFile it was loaded from must outlive it
// (weights are views into the mapping).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backend/ops.h"
#include "gguf/gguf.h"
#include "model/hparams.h"
#include "util/status.h"

namespace pensieve::model {

using backend::Weight;

struct LayerWeights {
  Weight attn_norm, wq, wk, wv, wo;
  Weight bq, bk, bv;        // qwen2 (empty otherwise)
  Weight q_norm, k_norm;    // qwen3 per-head RMSNorm (empty otherwise)
  Weight ffn_norm, ffn_gate, ffn_up, ffn_down;
};

struct ModelWeights {
  Weight tok_embd, output_norm, output;  // output = tok_embd when tied
  std::vector<LayerWeights> layers;
};

// Device activation buffers of one model on one Ops, sized for max_tokens per step and
// max_outputs logit rows. Allocated once at load; the forward pass allocates nothing.
struct Scratch {
  int max_tokens = 0, max_outputs = 0;
  float* x = nullptr;     // [T][n_embd] residual stream
  float* xb = nullptr;    // [T][n_embd] normed input / block output
  float* q = nullptr;     // [T][n_head * head_dim]
  float* k = nullptr;     // [T][n_head_kv * head_dim]
  float* v = nullptr;     // [T][n_head_kv * head_dim]
  float* attn = nullptr;  // [T][n_head * head_dim]
  float* gate = nullptr;  // [T][n_ff]
  float* up = nullptr;    // [T][n_ff]
  float* out = nullptr;   // [O][n_embd] rows that produce logits
  float* logits = nullptr;  // [O][n_vocab]
  // Embeddings (Context::hidden_states): the forward stops after the final norm, which it
  // applies to every token's row, into xb; no vocabulary projection.
  bool hidden_only = false;
};

// Debug hook: called with each named activation (host copy) when set. Names follow
// llama.cpp's cb() names: "inp_embd", "attn_norm", "Qcur", "Kcur", "Vcur", "kq_out",
// "attn_out", "ffn_inp", "ffn_norm", "ffn_out", "l_out", "result_norm", "result_output";
// layer is -1 for activations outside the layers.
using Observer = std::function<void(std::string_view name, int layer, const float* data, int64_t n_rows, int width)>;
// An observer writing each activation to dir/<step>-<name>-<layer>.f32 (raw little-endian
// floats, rows * width; step counts forward passes from 1) and a line "<file> <rows> <width>"
// to dir/index.txt. The engine installs it when PENSIEVE_DUMP=dir is set.
Observer dump_observer(const std::string& dir);

struct Model;

// One architecture family: how its tensors are bound and how its forward pass runs.
struct Family {
  std::string_view name;
  backend::RopeStyle rope_style;
  Status (*bind)(Model& model, backend::Ops& ops);
  // Runs the step given to ops.begin_step (n_tokens tokens) and leaves the logits of the step's
  // output rows in scratch.logits.
  void (*forward)(const Model& model, backend::Ops& ops, const Scratch& s, int n_tokens, int n_outputs,
                  const Observer* obs);
};

// The family for a general.architecture value, or nullptr.
const Family* find_family(std::string_view arch);
std::vector<std::string_view> supported_architectures();

struct Model {
  const GgufFile* file = nullptr;
  HParams hp;
  const Family* family = nullptr;
  ModelWeights w;
  backend::RopeTable rope;
  std::vector<std::vector<float>> owned;  // non-F32 vectors converted to F32 at load

  // Binding helpers for Family::bind: check shape [n_cols, n_rows] and type, bind on the device.
  // Missing required tensors / wrong shapes are model_load_failed errors naming the tensor.
  Result<Weight> matrix(backend::Ops& ops, std::string_view name, int64_t n_cols, int64_t n_rows, bool required = true);
  Result<Weight> vector(backend::Ops& ops, std::string_view name, int64_t n, bool required = true);
};

// Reads hparams, picks the family, binds every weight. The common tensors (embeddings, norms,
// attention and FFN matrices) are bound here; Family::bind adds what the family needs beyond.
// `progress` (optional) is called after each layer's weights are bound (uploaded, on a GPU) with
// (layers done, layers in all): a progress line for big models.
using LoadProgress = std::function<void(int done, int total)>;
Result<std::unique_ptr<Model>> load_model(const GgufFile& file, backend::Ops& ops, const LoadProgress& progress = {});

// Allocates the scratch buffers of `model` on `ops`.
Scratch make_scratch(const Model& model, backend::Ops& ops, int max_tokens, int max_outputs);

}  // namespace pensieve::model
