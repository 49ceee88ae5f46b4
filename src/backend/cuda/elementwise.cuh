// Small per-element and per-row kernels of the forward pass: rms_norm, rope, silu*mul, add,
// row gather (output rows), greedy argmax. All are launched with PDL (pdl.cuh). Pointers are device pointers; all launches are
// asynchronous on `stream`.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace pensieve::cuda {

// y[r] = x[r] / sqrt(mean(x[r]^2) + eps) * weight, rows of `width`; y may equal x.
void rms_norm(const float* x, const float* weight, float eps, int64_t n_rows, int width, float* y, cudaStream_t stream);
// x += a, then rms_norm of the sum into y (the residual add fused into the next norm); x keeps
// the sum. y may equal x; a must not overlap x or y.
void add_rms_norm(float* x, const float* a, const float* weight, float eps, int64_t n_rows, int width, float* y,
                  cudaStream_t stream);

// In place over x[n_tokens][n_heads][head_dim]: rotate the first n_rot dims of each head by
// positions[t] * inv_freq[i], times mscale. neox: pairs (i, i + n_rot/2); else (2i, 2i+1).
void rope(float* x, int n_tokens, int n_heads, int head_dim, int n_rot, bool neox, const int32_t* positions,
          const float* inv_freq, float mscale, cudaStream_t stream);

void silu_mul(const float* gate, const float* up, int64_t n, float* out, cudaStream_t stream);
void add(float* x, const float* y, int64_t n, cudaStream_t stream);
// x[t][i] += bias[i] for rows of `width`.
void add_bias(float* x, const float* bias, int64_t n_rows, int64_t width, cudaStream_t stream);
// dst[i] = src[rows[i]], rows of `width` floats; rows on the device.
void gather_rows(const float* src, int width, const int32_t* rows, int n, float* dst, cudaStream_t stream);
// out[r] = index of the largest value of row r (lowest index on ties), rows of `width`.
// `scratch`: argmax_scratch_ints(n_rows) device ints, zero before the first call (calls leave
// them zero again).
inline constexpr int kArgmaxBlocks = 64;  // blocks per row (<= 256)
inline int64_t argmax_scratch_ints(int n_rows) { return int64_t(n_rows) * (1 + 2 * kArgmaxBlocks); }
// `allowed` (device, n_rows rows of (width + 63) / 64 words) or null: only tokens whose bit is set
// compete (constrained greedy decoding); a row with none allowed gives token 0.
void argmax_rows(const float* x, int n_rows, int width, const uint64_t* allowed, int32_t* out, int32_t* scratch,
                 cudaStream_t stream);

}  // namespace pensieve::cuda
