// The llama family: Llama 2 / 3 / 3.1 / 3.2, Mistral, TinyLlama, the llama2.c stories models.
// Pre-norm decoder: x += attn(rms_norm(x)); x += swiglu(rms_norm(x)). GGUF llama checkpoints
// store q/k rows permuted for adjacent-pair ("normal") rope. Also runs qwen2, whose only
// differences (q/k/v biases, NEOX rope) are data (qwen2.cpp).
#include "model/blocks.h"
#include "model/families.h"

namespace pensieve::model {

void forward_llama(const Model& m, backend::Ops& ops, const Scratch& s, int n, int n_outputs, const Observer* obs) {
  const HParams& h = m.hp;
  const int64_t n_x = static_cast<int64_t>(n) * h.n_embd;
  ops.embed(m.w.tok_embd, s.x);
  observe(obs, ops, "inp_embd", -1, s.x, n, h.n_embd);
  for (int il = 0; il < h.n_layer; ++il) {
    const LayerWeights& L = m.w.layers[il];
    ops.rms_norm(s.x, L.attn_norm, h.rms_eps, n, h.n_embd, s.xb);
    observe(obs, ops, "attn_norm", il, s.xb, n, h.n_embd);
    qkv_projection(ops, L, s, n);
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

// Everything llama needs is bound by load_model (rope_freqs.weight included).
static Status bind_llama(Model&, backend::Ops&) { return ok_status(); }

const Family kLlamaFamily{"llama", backend::RopeStyle::normal, bind_llama, forward_llama};

}  // namespace pensieve::model
