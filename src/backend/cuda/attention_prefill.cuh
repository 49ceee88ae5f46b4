// Prefill attention on tensor cores: flash-attention style (online softmax) over the paged F16
// KV cache, causal per token (keys 0..positions[t] of its sequence), with GQA. A block takes 64
// query rows of one kv head, a row being one (token, query head of the group) pair, so the K/V
// tiles it stages in shared memory serve the whole group; Q K^T and P V run as mma.sync
// m16n8k16 F16 products with F32 accumulation. Rows of several sequences may share a block: it
// then makes one pass over the keys per sequence present, masking the other rows.
//
// Used for steps of many tokens; decode keeps attention.cu's kernel (splits over long contexts).
#pragma once

#include <cuda_runtime_api.h>

#include "backend/cuda/attention.cuh"

namespace pensieve::cuda {

// Whether attention_prefill handles this shape: F16 KV cache, head_dim 64 or 128, n_heads a
// multiple of n_kv_heads.
bool attention_prefill_supported(const KvLayout& kv, int n_heads);

// a.out = softmax(scale * Q K^T, causal) V for all a.n_tokens tokens, written directly (a.n_splits
// and a.partial are ignored). Returns false, launching nothing, when the shape is unsupported.
bool attention_prefill(const KvLayout& kv, const AttentionArgs& a, cudaStream_t stream);

}  // namespace pensieve::cuda
