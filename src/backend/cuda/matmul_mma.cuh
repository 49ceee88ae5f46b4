// Batched decode matmul on tensor cores: y[t][r] = sum_k W[r][k] x[t][k] (+ bias[r]) for up to
// kMmaMaxTokens activation rows (the decode tokens of many sequences, or a short mixed step).
// The activations are converted to F16 once per launch; each block asks L2 to prefetch its rows'
// whole k range, then dequantizes 64-row x 128-column tiles of W (dequant.cuh's Dq, any GGUF type
// but F32) to F16 in shared memory and multiplies with WMMA 16x16x16 fragments accumulating in
// F32; the weights are read once per step for all tokens, unlike the mat-vec kernels, which pass
// over them once per 8 tokens.
//
// A token's result does not depend on the other tokens of the launch or their count: each output
// is one fixed-order reduction over k of its own row and column.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "gguf/types.h"

namespace pensieve::cuda {

inline constexpr int kMmaMaxTokens = 64;

// Whether matmul_mma takes this weight type and width (quantized, F16, BF16; n_cols % 128 == 0).
bool matmul_mma_supported(GgmlType type, int64_t n_cols);

// w: device rows of ggml_row_size(type, n_cols) bytes; x: [n_tokens][n_cols] F32, 16-byte aligned;
// y: [n_tokens][n_rows]; bias: n_rows floats or nullptr. 1 <= n_tokens <= kMmaMaxTokens.
// `partial` (scratch, 16-byte aligned) must hold matmul_mma_partial_floats() floats: the F16 copy
// of x and, for short wide products that split k over several blocks (by the shape only, never by
// the tokens), the splits' partial sums, added in split order.
bool matmul_mma(GgmlType type, const void* w, int64_t n_cols, int64_t n_rows, const float* x, int n_tokens, float* y,
                const float* bias, float* partial, cudaStream_t stream);
// Scratch floats matmul_mma needs for this shape (0: none).
int64_t matmul_mma_partial_floats(int64_t n_cols, int64_t n_rows, int n_tokens);

}  // namespace pensieve::cuda
