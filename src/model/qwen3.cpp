// The qwen3 family (dense Qwen3): llama's block with a per-head RMSNorm of q and k (weights of
// head_dim, applied before rope), NEOX rope, no biases, head_dim from attention.key_length
// (so q may be wider than n_embd).
#include "gguf/keys.h"
#include "model/blocks.h"
#include "model/families.h"

namespace pensieve::model {

static void forward_qwen3(const Model& m, backend::Ops& ops, const Scratch& s, int n, int n_outputs,
                          const Observer* obs) {
  const HParams& h = m.hp;
  const int64_t n_x = static_cast<int64_t>(n) * h.n_embd;
  ops.embed(m.w.tok_embd, s.x);
  observe(obs, ops, "inp_embd", -1, s.x, n, h.n_embd);
  for (int il = 0; il < h.n_layer; ++il) {
    const LayerWeights& L = m.w.layers[il];
    ops.rms_norm(s.x, L.attn_norm, h.rms_eps, n, h.n_embd, s.xb);
    observe(obs, ops, "attn_norm", il, s.xb, n, h.n_embd);
    qkv_projection(ops, L, s, n);
    // The qwen3 difference: each head of q and k normalized over head_dim.
    ops.rms_norm(s.q, L.q_norm, h.rms_eps, static_cast<int64_t>(n) * h.n_head, h.head_dim, s.q);
    ops.rms_norm(s.k, L.k_norm, h.rms_eps, static_cast<int64_t>(n) * h.n_head_kv, h.head_dim, s.k);
    self_attention(ops, m, L, s, il, n, obs);
    ops.add(s.x, s.xb, n_x);
    observe(obs, ops, "ffn_inp", il, s.x, n, h.n_embd);

    ops.rms_norm(s.x, L.ffn_norm, h.rms_eps, n, h.n_embd, s.xb);
    observe(obs, ops, "ffn_norm", il, s.xb, n, h.n_embd);
    ffn_swiglu(ops, L, s, n);
    observe(obs, ops, "ffn_out", il, s.xb, n, h.n_embd);
    ops.add(s.x, s.xb, n_x);
    observe(obs, ops, "l_out", il, s.x, n, h.n_embd);
  }
  output_logits(ops, m, s, n, n_outputs, obs);
}

static Status bind_qwen3(Model& m, backend::Ops& ops) {
  for (int il = 0; il < m.hp.n_layer; ++il) {
    LayerWeights& L = m.w.layers[il];
    auto qn = m.vector(ops, keys::layer_tensor(keys::kAttnQNorm, il), m.hp.head_dim);
    if (!qn) return qn.error();
    auto kn = m.vector(ops, keys::layer_tensor(keys::kAttnKNorm, il), m.hp.head_dim);
    if (!kn) return kn.error();
    L.q_norm = *qn;
    L.k_norm = *kn;
  }
  return ok_status();
}

const Family kQwen3Family{"qwen3", backend::RopeStyle::neox, bind_qwen3, forward_qwen3};

}  // namespace pensieve::model
