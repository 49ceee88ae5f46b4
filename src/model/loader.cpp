// load_model(): hparams, family lookup, binding of the tensors every family shares.
#include <cinttypes>
#include <cstdio>
#include <string>

#include "backend/cpu/matmul.h"
#include "gguf/keys.h"
#include "model/model.h"

namespace pensieve::model {
namespace {

Error load_error(const GgufFile& f, const std::string& what) {
  return make_error(ErrorKind::model_load_failed, f.path() + ": " + what);
}

std::string shape_str(const std::vector<uint64_t>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

}  // namespace

Result<Weight> Model::matrix(backend::Ops& ops, std::string_view name, int64_t n_cols, int64_t n_rows,
                             bool required) {
  const GgufTensorInfo* t = file->tensor(name);
  if (!t) {
    if (!required) return Weight{};
    return load_error(*file, "missing tensor '" + std::string(name) + "'");
  }
  const bool shape_ok = t->ne.size() == 2 && static_cast<int64_t>(t->ne[0]) == n_cols &&
                        static_cast<int64_t>(t->ne[1]) == n_rows;
  if (!shape_ok)
    return load_error(*file, "tensor '" + std::string(name) + "' has shape " + shape_str(t->ne) + ", expected [" +
                                 std::to_string(n_cols) + ", " + std::to_string(n_rows) + "]");
  if (!cpu::matmul_supported(t->type))
    return load_error(*file, "tensor '" + std::string(name) + "' has unsupported type " +
                                 std::string(ggml_type_name(t->type)));
  return ops.bind_weight(Weight{t->type, t->data, n_cols, n_rows}, name);
}

Result<Weight> Model::vector(backend::Ops& ops, std::string_view name, int64_t n, bool required) {
  const GgufTensorInfo* t = file->tensor(name);
  if (!t) {
    if (!required) return Weight{};
    return load_error(*file, "missing tensor '" + std::string(name) + "'");
  }
  if (t->ne.empty() || static_cast<int64_t>(t->n_elements) != n || static_cast<int64_t>(t->ne[0]) != n)
    return load_error(*file, "tensor '" + std::string(name) + "' has shape " + shape_str(t->ne) + ", expected [" +
                                 std::to_string(n) + "]");
  Weight w{t->type, t->data, n, 1};
  if (t->type != GgmlType::F32) {
    // Norms and biases are F32 in practice; convert anything else once, at load.
    if (!cpu::matmul_supported(t->type))
      return load_error(*file, "tensor '" + std::string(name) + "' has unsupported type " +
                                   std::string(ggml_type_name(t->type)));
    owned.emplace_back(static_cast<size_t>(n));
    cpu::get_row(cpu::WeightView{t->type, t->data, n, 1}, 0, owned.back().data());
    w = Weight{GgmlType::F32, owned.back().data(), n, 1};
  }
  return ops.bind_weight(w, name);
}

#define PS_BIND(dst, expr)            \
  do {                                \
    auto r_ = (expr);                 \
    if (!r_.ok()) return r_.error();  \
    dst = *r_;                        \
  } while (0)

Result<std::unique_ptr<Model>> load_model(const GgufFile& file, backend::Ops& ops, const LoadProgress& progress) {
  auto arch = file.get_string(keys::kArchitecture);
  if (!arch) return load_error(file, "missing metadata key 'general.architecture'");
  const Family* family = find_family(*arch);
  if (!family) {
    std::string list;
    for (auto a : supported_architectures()) list += (list.empty() ? "" : ", ") + std::string(a);
    return make_error(ErrorKind::model_load_failed, file.path() + ": unsupported architecture '" +
                                                        std::string(*arch) + "' (supported: " + list + ")");
  }
  auto m = std::make_unique<Model>();
  m->file = &file;
  m->family = family;
  auto hp = read_hparams(file, std::string(*arch));
  if (!hp) return hp.error();
  m->hp = *hp;
  HParams& h = m->hp;

  const GgufTensorInfo* embd = file.tensor(keys::kTokenEmbd);
  if (!embd || embd->ne.size() != 2) return load_error(file, "missing tensor 'token_embd.weight'");
  if (h.n_vocab == 0) h.n_vocab = static_cast<int>(embd->ne[1]);
  PS_BIND(m->w.tok_embd, m->matrix(ops, keys::kTokenEmbd, h.n_embd, h.n_vocab));
  PS_BIND(m->w.output_norm, m->vector(ops, keys::kOutputNorm, h.n_embd));
  PS_BIND(m->w.output, m->matrix(ops, keys::kOutput, h.n_embd, h.n_vocab, /*required=*/false));
  h.tied_embeddings = m->w.output.empty();
  if (h.tied_embeddings) m->w.output = m->w.tok_embd;

  const int64_t q_dim = static_cast<int64_t>(h.n_head) * h.head_dim;
  const int64_t kv_dim = static_cast<int64_t>(h.n_head_kv) * h.head_dim;
  m->w.layers.resize(h.n_layer);
  for (int il = 0; il < h.n_layer; ++il) {
    LayerWeights& L = m->w.layers[il];
    auto name = [il](std::string_view pattern) { return keys::layer_tensor(pattern, il); };
    PS_BIND(L.attn_norm, m->vector(ops, name(keys::kAttnNorm), h.n_embd));
    PS_BIND(L.wq, m->matrix(ops, name(keys::kAttnQ), h.n_embd, q_dim));
    PS_BIND(L.wk, m->matrix(ops, name(keys::kAttnK), h.n_embd, kv_dim));
    PS_BIND(L.wv, m->matrix(ops, name(keys::kAttnV), h.n_embd, kv_dim));
    PS_BIND(L.wo, m->matrix(ops, name(keys::kAttnOutput), q_dim, h.n_embd));
    PS_BIND(L.ffn_norm, m->vector(ops, name(keys::kFfnNorm), h.n_embd));
    PS_BIND(L.ffn_gate, m->matrix(ops, name(keys::kFfnGate), h.n_embd, h.n_ff));
    PS_BIND(L.ffn_up, m->matrix(ops, name(keys::kFfnUp), h.n_embd, h.n_ff));
    PS_BIND(L.ffn_down, m->matrix(ops, name(keys::kFfnDown), h.n_ff, h.n_embd));
    if (progress) progress(il + 1, h.n_layer);
  }
  PS_TRY(family->bind(*m, ops));

  // Rope frequency factors (llama 3.1+ checkpoints) are F32 [n_rot / 2].
  std::vector<float> factors;
  if (const GgufTensorInfo* rf = file.tensor(keys::kRopeFreqs)) {
    if (rf->n_elements != static_cast<uint64_t>(h.n_rot / 2))
      return load_error(file, "tensor 'rope_freqs.weight' has " + std::to_string(rf->n_elements) +
                                  " elements, expected " + std::to_string(h.n_rot / 2));
    factors.resize(h.n_rot / 2);
    cpu::get_row(cpu::WeightView{rf->type, rf->data, h.n_rot / 2, 1}, 0, factors.data());
  }
  m->rope = make_rope_table(h, family->rope_style, factors.empty() ? nullptr : factors.data());
  ops.set_rope(m->rope);
  return m;
}

Scratch make_scratch(const Model& model, backend::Ops& ops, int max_tokens, int max_outputs) {
  const HParams& h = model.hp;
  const int64_t T = max_tokens, O = max_outputs;
  Scratch s;
  s.max_tokens = max_tokens;
  s.max_outputs = max_outputs;
  s.x = ops.alloc(T * h.n_embd);
  s.xb = ops.alloc(T * h.n_embd);
  s.q = ops.alloc(T * h.n_head * h.head_dim);
  s.k = ops.alloc(T * h.n_head_kv * h.head_dim);
  s.v = ops.alloc(T * h.n_head_kv * h.head_dim);
  s.attn = ops.alloc(T * h.n_head * h.head_dim);
  s.gate = ops.alloc(T * h.n_ff);
  s.up = ops.alloc(T * h.n_ff);
  s.out = ops.alloc(O * h.n_embd);
  s.logits = ops.alloc(O * h.n_vocab);
  return s;
}

}  // namespace pensieve::model
