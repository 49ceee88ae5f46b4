// Attention over the paged KV cache (layout per layer [n_blocks][block_size][n_kv_heads][head_dim],
// F16 or F32) and the K/V write into it. One kernel serves prefill and decode: a block per
// (token, kv head, split) runs the query heads of that kv group, one warp each, with an online
// softmax over 32-key tiles staged in shared memory; decode splits long contexts over several
// blocks (flash-decoding) and the last block of each (token, kv head) merges the partial softmax
// states. Kernels are launched with PDL (pdl.cuh).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace pensieve::cuda {

inline constexpr int kAttnMaxHeadDim = 256;
inline constexpr int kAttnMaxSplits = 64;

struct KvLayout {
  void* k = nullptr;  // this layer's K pool
  void* v = nullptr;
  bool f16 = true;
  int block_size = 16;
  int n_kv_heads = 0;
  int head_dim = 0;
};

struct AttentionArgs {
  const float* q = nullptr;  // [n_tokens][n_heads * head_dim]
  float* out = nullptr;      // same shape
  int n_tokens = 0;
  int n_heads = 0;
  float scale = 1.0f;
  const int32_t* positions = nullptr;     // [n_tokens]
  const int32_t* seq_ids = nullptr;       // [n_tokens]
  const int32_t* block_tables = nullptr;  // [n_seqs][bt_stride]
  int bt_stride = 0;
  int n_splits = 1;          // 1: no partials
  float* partial = nullptr;  // n_tokens * n_heads * n_splits * (head_dim + 2) floats when n_splits > 1
  int* counters = nullptr;   // n_tokens * n_kv_heads ints, all 0, when n_splits > 1 (left 0)
  int split_keys = 0;        // attention_prefill with n_splits > 1: keys per split (a multiple of 64)
  // When set, out is also written quantized (act_quant.cuh layout); needs head_dim % 32 == 0.
  int8_t* out_q = nullptr;
  float* out_ds = nullptr;
};

bool attention_supported(int n_heads, int n_kv_heads, int head_dim);
// Partial-state floats attention() needs for a launch with these sizes.
int64_t attention_partial_floats(int n_tokens, int n_heads, int head_dim, int n_splits);
void attention(const KvLayout& kv, const AttentionArgs& a, cudaStream_t stream);

// rope (elementwise.cuh) on q and k, then kv_write of k and v: one launch instead of three.
struct RopeKvArgs {
  float* q = nullptr;  // [n_tokens][n_q_heads][head_dim], rotated in place
  int n_q_heads = 0;
  float* k = nullptr;  // [n_tokens][n_kv_heads][head_dim], rotated in place, then cached
  const float* v = nullptr;
  const int32_t* slots = nullptr;
  const int32_t* positions = nullptr;
  const float* inv_freq = nullptr;
  int n_rot = 0;
  bool neox = false;
  float mscale = 1.0f;
};
void rope_kv_write(const KvLayout& kv, const RopeKvArgs& r, int n_tokens, cudaStream_t stream);

// cache[slots[t]] = k[t] / v[t] for t < n_tokens; rows of n_kv_heads * head_dim floats.
void kv_write(const KvLayout& kv, const float* k, const float* v, const int32_t* slots, int n_tokens,
              cudaStream_t stream);

}  // namespace pensieve::cuda
