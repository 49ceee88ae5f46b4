#include "model/blocks.h"

#include <cmath>
#include <vector>

namespace pensieve::model {

void observe(const Observer* obs, backend::Ops& ops, std::string_view name, int layer, const float* data,
             int64_t n_rows, int width) {
  if (!obs || !*obs) return;
  std::vector<float> host(static_cast<size_t>(n_rows) * width);
  ops.read(data, static_cast<int64_t>(host.size()), host.data());
  (*obs)(name, layer, host.data(), n_rows, width);
}

static const Weight* bias_or_null(const Weight& b) { return b.empty() ? nullptr : &b; }

void qkv_projection(backend::Ops& ops, const LayerWeights& L, const Scratch& s, int n) {
  ops.matmul(L.wq, s.xb, n, s.q, bias_or_null(L.bq));
  ops.matmul(L.wk, s.xb, n, s.k, bias_or_null(L.bk));
  ops.matmul(L.wv, s.xb, n, s.v, bias_or_null(L.bv));
}

void self_attention(backend::Ops& ops, const Model& m, const LayerWeights& L, const Scratch& s, int layer, int n,
                    const Observer* obs) {
  const HParams& h = m.hp;
  ops.rope(s.q, h.n_head, h.head_dim);
  ops.rope(s.k, h.n_head_kv, h.head_dim);
  observe(obs, ops, "Qcur", layer, s.q, n, h.n_head * h.head_dim);
  observe(obs, ops, "Kcur", layer, s.k, n, h.n_head_kv * h.head_dim);
  observe(obs, ops, "Vcur", layer, s.v, n, h.n_head_kv * h.head_dim);
  ops.kv_write(layer, s.k, s.v);
  const backend::AttentionShape shape{h.n_head, h.n_head_kv, h.head_dim, 1.0f / std::sqrt(static_cast<float>(h.head_dim))};
  ops.attention(layer, s.q, shape, s.attn);
  observe(obs, ops, "kq_out", layer, s.attn, n, h.n_head * h.head_dim);
  ops.matmul(L.wo, s.attn, n, s.xb);
  observe(obs, ops, "attn_out", layer, s.xb, n, h.n_embd);
}

void ffn_swiglu(backend::Ops& ops, const LayerWeights& L, const Scratch& s, int n) {
  ops.matmul(L.ffn_gate, s.xb, n, s.gate);
  ops.matmul(L.ffn_up, s.xb, n, s.up);
  ops.silu_mul(s.gate, s.up, static_cast<int64_t>(n) * L.ffn_gate.n_rows, s.gate);
  ops.matmul(L.ffn_down, s.gate, n, s.xb);
}

void output_logits(backend::Ops& ops, const Model& m, const Scratch& s, int n, int n_outputs, const Observer* obs) {
  const HParams& h = m.hp;
  if (s.hidden_only) {
    ops.rms_norm(s.x, m.w.output_norm, h.rms_eps, n, h.n_embd, s.xb);
    observe(obs, ops, "result_norm", -1, s.xb, n, h.n_embd);
    return;
  }
  ops.copy_output_rows(s.x, h.n_embd, s.out);
  ops.rms_norm(s.out, m.w.output_norm, h.rms_eps, n_outputs, h.n_embd, s.out);
  observe(obs, ops, "result_norm", -1, s.out, n_outputs, h.n_embd);
  ops.matmul(m.w.output, s.out, n_outputs, s.logits);
  observe(obs, ops, "result_output", -1, s.logits, n_outputs, h.n_vocab);
}

}  // namespace pensieve::model
