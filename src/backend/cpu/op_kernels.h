// Element-wise and attention kernels of the CPU op set (everything but matmul, which lives in
// matmul.h). Each kernel has a scalar `*_ref` with the same signature; AVX2 and AVX-512 variants
// live in op_kernels_avx2.cpp / op_kernels_avx512.cpp and are picked once from cpuid.
#pragma once

#include <cstdint>

#include "backend/ops.h"

namespace pensieve::cpu {

// One table of function pointers per ISA. All row kernels work on one row of n floats.
struct OpKernels {
  const char* isa;
  // y = x / sqrt(mean(x^2) + eps) * w (y may equal x).
  void (*rms_norm)(const float* x, const float* w, float eps, int n, float* y);
  // out = silu(g) * u.
  void (*silu_mul)(const float* g, const float* u, int64_t n, float* out);
  float (*dot_f32)(const float* a, const float* b, int n);
  float (*dot_f16)(const float* a, const uint16_t* b, int n);
  // y += a * x
  void (*axpy_f32)(float a, const float* x, float* y, int n);
  void (*axpy_f16)(float a, const uint16_t* x, float* y, int n);
  // x[i] = exp(x[i] - max), returns the sum (the softmax numerator and denominator).
  float (*exp_sub_sum)(float* x, int n, float max);
  void (*to_f16)(const float* x, uint16_t* y, int n);
};

const OpKernels& op_kernels_ref();
const OpKernels& op_kernels();  // the best table this CPU runs (chosen once)
// Per-ISA tables (defined in the ISA files); callers must check the CPU first.
const OpKernels& op_kernels_avx2();
const OpKernels& op_kernels_avx512();

// Scalar references (also the entries of op_kernels_ref()).
void rms_norm_ref(const float* x, const float* w, float eps, int n, float* y);
void silu_mul_ref(const float* g, const float* u, int64_t n, float* out);
float dot_f32_ref(const float* a, const float* b, int n);
float dot_f16_ref(const float* a, const uint16_t* b, int n);
void axpy_f32_ref(float a, const float* x, float* y, int n);
void axpy_f16_ref(float a, const uint16_t* x, float* y, int n);
float exp_sub_sum_ref(float* x, int n, float max);
void to_f16_ref(const float* x, uint16_t* y, int n);

// Rope of one head row in place: pair i uses cos_sin[2i], cos_sin[2i+1] (already scaled by
// mscale). NORMAL pairs (2i, 2i+1); NEOX pairs (i, i + n_rot/2).
void rope_head(float* x, const float* cos_sin, int n_rot, backend::RopeStyle style);

// A straightforward causal attention for one head over contiguous F32 K/V rows (positions
// 0..n_kv-1, row stride `stride` floats): what tests compare the paged kernel against.
void attention_head_ref(const float* q, const float* k, const float* v, int n_kv, int head_dim, int stride,
                        float scale, float* out);

}  // namespace pensieve::cpu
