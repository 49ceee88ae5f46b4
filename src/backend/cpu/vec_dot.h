// Scalar reference dot products: one weight row (GGUF layout) against one activation row in
// the weight type's vec-dot type (F32 for float weights; Q8_0 / Q8_1 / Q8_K for quantized
// ones, as ggml pairs them). Integer sums are exact; each block's float scale is applied once.
// These define what every SIMD kernel must compute (tests compare against them).
#pragma once

#include <cstddef>
#include <cstdint>

#include "gguf/types.h"

namespace pensieve::cpu {

using VecDotFn = float (*)(int64_t n, const void* w_row, const void* x_row);

// The activation format a weight type's dot product consumes (F32 for F32/F16/BF16).
GgmlType vec_dot_act_type(GgmlType weight_type);

// Quantizes n floats (a multiple of the act type's block size) into `act` format (reference).
void quantize_act_ref(GgmlType act, const float* x, void* dst, int64_t n);

// nullptr for unsupported weight types.
VecDotFn vec_dot_ref_fn(GgmlType weight_type);

float vec_dot_f32_ref(int64_t n, const void* w, const void* x);
float vec_dot_f16_ref(int64_t n, const void* w, const void* x);
float vec_dot_bf16_ref(int64_t n, const void* w, const void* x);
float vec_dot_q4_0_q8_0_ref(int64_t n, const void* w, const void* x);
float vec_dot_q4_1_q8_1_ref(int64_t n, const void* w, const void* x);
float vec_dot_q5_0_q8_0_ref(int64_t n, const void* w, const void* x);
float vec_dot_q5_1_q8_1_ref(int64_t n, const void* w, const void* x);
float vec_dot_q8_0_q8_0_ref(int64_t n, const void* w, const void* x);
float vec_dot_q2_K_q8_K_ref(int64_t n, const void* w, const void* x);
float vec_dot_q3_K_q8_K_ref(int64_t n, const void* w, const void* x);
float vec_dot_q4_K_q8_K_ref(int64_t n, const void* w, const void* x);
float vec_dot_q5_K_q8_K_ref(int64_t n, const void* w, const void* x);
float vec_dot_q6_K_q8_K_ref(int64_t n, const void* w, const void* x);

// A k-quant super-block decoded to one common form: element i of group g (16 elements) is
//   d * scale[g] * q[i] - dmin * min[g]
// with q unsigned (0..63). Every k-quant fits: Q6_K has min = 32*scale and dmin = d, Q3_K
// min = 4*scale, Q4_K/Q5_K repeat each 32-element scale for two groups. The reference dots
// and the SIMD tile kernels both build on it.
struct KQuantDecoded {
  float d = 0.0f;
  float dmin = 0.0f;
  int16_t scale[16] = {};
  int16_t min[16] = {};
  uint8_t q[256] = {};
};
void decode_kquant_block(GgmlType type, const void* block, KQuantDecoded* out);
// Only the scales/mins/d/dmin (no q): what the SIMD kernels need besides their own unpack.
void decode_kquant_scales(GgmlType type, const void* block, KQuantDecoded* out);

}  // namespace pensieve::cpu
