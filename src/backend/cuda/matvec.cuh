// Decode mat-vec directly on quantized weights: y[t][r] = sum_k W[r][k] x[t][k] (+ bias[r]) for
// a few tokens (the decode batch). Each warp streams two weight rows, dequantizing 32-element
// chunks in registers, so the weights are read once per call at close to memory bandwidth.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "gguf/types.h"

namespace pensieve::cuda {

// Tokens one launch handles; matvec() loops over groups of this many.
inline constexpr int kMatvecMaxTokens = 4;

bool matvec_supported(GgmlType type, int64_t n_cols);

// w: device rows of ggml_row_size(type, n_cols) bytes; x: [n_tokens][n_cols]; y: [n_tokens][n_rows];
// bias: n_rows floats or nullptr. Returns false when the type / width is not supported.
bool matvec(GgmlType type, const void* w, int64_t n_cols, int64_t n_rows, const float* x, int n_tokens,
            float* y, const float* bias, cudaStream_t stream);

}  // namespace pensieve::cuda
