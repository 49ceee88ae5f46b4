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

// a.out = softmax(scale * Q K^T, causal) V for all a.n_tokens tokens. With a.n_splits > 1 the keys
// are split in ranges of a.split_keys (a second grid dimension, so that a short prompt part after
// a long cached prefix still fills the GPU): each block leaves its partial softmax state in
// a.partial (attention_partial_floats) and a merge launch writes a.out. Returns false, launching
// nothing, when the shape is unsupported.
bool attention_prefill(const KvLayout& kv, const AttentionArgs& a, cudaStream_t stream);
// Key splits for a step of n_tokens whose longest sequence sees max_len keys: enough blocks for
// the GPU's sm_count, each split at least 512 keys long; 1 when the step fills the GPU anyway.
int attention_prefill_splits(int n_tokens, int n_heads, int n_kv_heads, int max_len, int sm_count);
int attention_prefill_split_keys(int max_len, int n_splits);

}  // namespace pensieve::cuda
