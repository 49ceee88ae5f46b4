// Decode mat-vec with integer dot products: y[t][r] = sum_k W[r][k] xq[t][k] (+ bias[r]) where
// xq is the activation batch quantized to 8 bits (act_quant.cuh) and W is Q8_0, Q5_0, Q4_K or
// Q6_K. The weights are read once, 16 (or 8) bytes per lane per load, decoded once per step for
// all tokens, and multiplied with dp4a (vecdot_q8.cuh). Compared with the float mat-vec
// (matvec.cuh) this trades an 8-bit rounding of the activations (nmse ~1e-5) for 2-4x the speed
// on the K-quants.
//
// Two kernels (matvec_q8.cu), chosen by shape: a staged one (one wave of blocks streams tiles of
// whole rows into a shared-memory ring with TMA bulk copies and decodes them from there) for wide
// rows and large launches, and a row stream (warp groups walk rows, prefetching them to L2 ahead
// of the loads) for the rest.
// Both use PDL (pdl.cuh): they may start while the previous kernel finishes, touching only
// weights until their pdl_wait(). Aliasing: y may overlap anything the kernel does not read (in particular the float
// activations x was quantized from); it must not overlap x.q, x.ds, any w, any bias or another
// output's y.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "backend/cuda/act_quant.cuh"
#include "gguf/types.h"

namespace pensieve::cuda {

// Whether matvec_q8 takes this weight type and width.
bool matvec_q8_supported(GgmlType type, int64_t n_cols);

// Tokens per launch; more are done in several launches.
inline constexpr int kMatvecQ8MaxTokens = 8;

// w: device rows of ggml_row_size(type, n_cols) bytes laid end to end, starting 16-byte aligned
// and readable 16 bytes past the last row (the weights carry 64 bytes of padding); x: the
// quantized [n_tokens][n_cols] activations; y: [n_tokens][n_rows]; bias: n_rows floats or nullptr.
// Returns false when the type / width is not supported.
bool matvec_q8(GgmlType type, const void* w, int64_t n_cols, int64_t n_rows, ActQ8 x, int n_tokens, float* y,
               const float* bias, cudaStream_t stream);

// One output of a batched launch: y = W x (+ bias), W of n_rows rows.
struct MatvecQ8Output {
  const void* w = nullptr;
  float* y = nullptr;
  const float* bias = nullptr;
  int64_t n_rows = 0;
};
inline constexpr int kMatvecQ8MaxOutputs = 3;

// Up to kMatvecQ8MaxOutputs mat-vecs of one type and width on the same input, in one launch
// (the q / k / v projections, gate and up). An output with 0 rows is not allowed.
bool matvec_q8_multi(GgmlType type, int64_t n_cols, const MatvecQ8Output* outs, int count, ActQ8 x, int n_tokens,
                     cudaStream_t stream);

// For A/B measurements and tests (process-wide, not thread-safe): 0 = by shape (default: the
// staged kernel for wide rows and large launches, else the row stream), 1 = always the row
// stream (the previous default), 2 = always the staged kernel where the rows fit its ring.
void set_matvec_q8_variant(int variant);

}  // namespace pensieve::cuda
