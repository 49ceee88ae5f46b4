#include "backend/cpu/op_kernels.h"

#include <cmath>
#include <vector>

#include "backend/cpu/cpu_features.h"
#include "util/fp16.h"

namespace pensieve::cpu {

void rms_norm_ref(const float* x, const float* w, float eps, int n, float* y) {
  double ss = 0;  // double: the reference should not depend on summation order
  for (int i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float inv = static_cast<float>(1.0 / std::sqrt(ss / n + eps));
  for (int i = 0; i < n; ++i) y[i] = x[i] * inv * w[i];
}

void silu_mul_ref(const float* g, const float* u, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

float dot_f32_ref(const float* a, const float* b, int n) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
  return static_cast<float>(s);
}

float dot_f16_ref(const float* a, const uint16_t* b, int n) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += static_cast<double>(a[i]) * fp16_to_fp32(b[i]);
  return static_cast<float>(s);
}

void axpy_f32_ref(float a, const float* x, float* y, int n) {
  for (int i = 0; i < n; ++i) y[i] += a * x[i];
}

void axpy_f16_ref(float a, const uint16_t* x, float* y, int n) {
  for (int i = 0; i < n; ++i) y[i] += a * fp16_to_fp32(x[i]);
}

float exp_sub_sum_ref(float* x, int n, float max) {
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  return static_cast<float>(sum);
}

void to_f16_ref(const float* x, uint16_t* y, int n) {
  for (int i = 0; i < n; ++i) y[i] = fp32_to_fp16(x[i]);
}

void rope_head(float* x, const float* cos_sin, int n_rot, backend::RopeStyle style) {
  const int half = n_rot / 2;
  for (int i = 0; i < half; ++i) {
    const float c = cos_sin[2 * i], s = cos_sin[2 * i + 1];
    const int a = style == backend::RopeStyle::neox ? i : 2 * i;
    const int b = style == backend::RopeStyle::neox ? i + half : 2 * i + 1;
    const float x0 = x[a], x1 = x[b];
    x[a] = x0 * c - x1 * s;
    x[b] = x0 * s + x1 * c;
  }
}

void attention_head_ref(const float* q, const float* k, const float* v, int n_kv, int head_dim, int stride,
                        float scale, float* out) {
  std::vector<double> w(n_kv);
  double max = -INFINITY;
  for (int j = 0; j < n_kv; ++j) {
    double s = 0;
    for (int d = 0; d < head_dim; ++d) s += static_cast<double>(q[d]) * k[j * stride + d];
    w[j] = s * scale;
    max = std::max(max, w[j]);
  }
  double sum = 0;
  for (int j = 0; j < n_kv; ++j) sum += (w[j] = std::exp(w[j] - max));
  for (int d = 0; d < head_dim; ++d) {
    double acc = 0;
    for (int j = 0; j < n_kv; ++j) acc += w[j] * v[j * stride + d];
    out[d] = static_cast<float>(acc / sum);
  }
}

const OpKernels& op_kernels_ref() {
  static const OpKernels k{"scalar",      rms_norm_ref,  silu_mul_ref,    dot_f32_ref, dot_f16_ref,
                           axpy_f32_ref,  axpy_f16_ref,  exp_sub_sum_ref, to_f16_ref};
  return k;
}

const OpKernels& op_kernels() {
  // The ISA files are compiled with the flags cpu_features.h names for each level.
  static const OpKernels& k = active_cpu_isa() == CpuIsa::avx512 ? op_kernels_avx512()
                              : active_cpu_isa() == CpuIsa::avx2 ? op_kernels_avx2()
                                                                 : op_kernels_ref();
  return k;
}

}  // namespace pensieve::cpu
