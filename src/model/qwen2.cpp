// The qwen2 family (Qwen2, Qwen2.5): the llama computation with biases on q/k/v and NEOX rope
// on unpermuted q/k rows; small models tie the output projection to the embeddings.
// The forward pass is llama's: the biases are data (LayerWeights::bq/bk/bv).
#include "gguf/keys.h"
#include "model/families.h"

namespace pensieve::model {

static Status bind_qwen2(Model& m, backend::Ops& ops) {
  const HParams& h = m.hp;
  const int64_t q_dim = static_cast<int64_t>(h.n_head) * h.head_dim;
  const int64_t kv_dim = static_cast<int64_t>(h.n_head_kv) * h.head_dim;
  for (int il = 0; il < h.n_layer; ++il) {
    LayerWeights& L = m.w.layers[il];
    auto bq = m.vector(ops, keys::layer_tensor(keys::kAttnQBias, il), q_dim);
    if (!bq) return bq.error();
    auto bk = m.vector(ops, keys::layer_tensor(keys::kAttnKBias, il), kv_dim);
    if (!bk) return bk.error();
    auto bv = m.vector(ops, keys::layer_tensor(keys::kAttnVBias, il), kv_dim);
    if (!bv) return bv.error();
    L.bq = *bq;
    L.bk = *bk;
    L.bv = *bv;
  }
  return ok_status();
}

const Family kQwen2Family{"qwen2", backend::RopeStyle::neox, bind_qwen2, forward_llama};

}  // namespace pensieve::model
