// Scalar reference dot products (see vec_dot.h). Written for clarity, not speed.
#include <cstring>

#include "backend/cpu/vec_dot.h"
#include "quant/blocks.h"
#include "quant/quant.h"

namespace pensieve::cpu {

GgmlType vec_dot_act_type(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0:
    case GgmlType::Q5_0:
    case GgmlType::Q8_0: return GgmlType::Q8_0;
    case GgmlType::Q4_1:
    case GgmlType::Q5_1: return GgmlType::Q8_1;
    case GgmlType::Q2_K:
    case GgmlType::Q3_K:
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K: return GgmlType::Q8_K;
    default: return GgmlType::F32;
  }
}

void quantize_act_ref(GgmlType act, const float* x, void* dst, int64_t n) {
  switch (act) {
    case GgmlType::Q8_0: quantize_row_q8_0_ref(x, dst, n); break;
    case GgmlType::Q8_1: quantize_row_q8_1_ref(x, dst, n); break;
    case GgmlType::Q8_K: quantize_row_q8_K_ref(x, dst, n); break;
    default: std::memcpy(dst, x, static_cast<size_t>(n) * sizeof(float)); break;
  }
}

float vec_dot_f32_ref(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const float*>(w);
  const auto* b = static_cast<const float*>(x);
  double sum = 0.0;  // double: the reference should not itself be the error source
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(a[i]) * b[i];
  return static_cast<float>(sum);
}

float vec_dot_f16_ref(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const fp16_t*>(w);
  const auto* b = static_cast<const float*>(x);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(fp16_to_fp32(a[i])) * b[i];
  return static_cast<float>(sum);
}

float vec_dot_bf16_ref(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const bf16_t*>(w);
  const auto* b = static_cast<const float*>(x);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(bf16_to_fp32(a[i])) * b[i];
  return static_cast<float>(sum);
}

float vec_dot_q4_0_q8_0_ref(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const block_q4_0*>(w);
  const auto* b = static_cast<const block_q8_0*>(x);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK8_0; ++i) {
    int isum = 0;
    for (int j = 0; j < 16; ++j) {
      isum += ((a[i].qs[j] & 0x0F) - 8) * b[i].qs[j];
      isum += ((a[i].qs[j] >> 4) - 8) * b[i].qs[j + 16];
    }
    sum += static_cast<float>(isum) * (fp16_to_fp32(a[i].d) * fp16_to_fp32(b[i].d));
  }
  return sum;
}

float vec_dot_q4_1_q8_1_ref(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const block_q4_1*>(w);
  const auto* b = static_cast<const block_q8_1*>(x);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK8_1; ++i) {
    int isum = 0;
    for (int j = 0; j < 16; ++j) {
      isum += (a[i].qs[j] & 0x0F) * b[i].qs[j];
      isum += (a[i].qs[j] >> 4) * b[i].qs[j + 16];
    }
    sum += static_cast<float>(isum) * (fp16_to_fp32(a[i].d) * fp16_to_fp32(b[i].d)) +
           fp16_to_fp32(a[i].m) * fp16_to_fp32(b[i].s);
  }
  return sum;
}

float vec_dot_q5_0_q8_0_ref(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const block_q5_0*>(w);
  const auto* b = static_cast<const block_q8_0*>(x);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK8_0; ++i) {
    uint32_t qh;
    std::memcpy(&qh, a[i].qh, 4);
    int isum = 0;
    for (int j = 0; j < 16; ++j) {
      const int lo = (a[i].qs[j] & 0x0F) | (((qh >> j) & 1) << 4);
      const int hi = (a[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      isum += (lo - 16) * b[i].qs[j] + (hi - 16) * b[i].qs[j + 16];
    }
    sum += static_cast<float>(isum) * (fp16_to_fp32(a[i].d) * fp16_to_fp32(b[i].d));
  }
  return sum;
}

float vec_dot_q5_1_q8_1_ref(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const block_q5_1*>(w);
  const auto* b = static_cast<const block_q8_1*>(x);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK8_1; ++i) {
    uint32_t qh;
    std::memcpy(&qh, a[i].qh, 4);
    int isum = 0;
    for (int j = 0; j < 16; ++j) {
      const int lo = (a[i].qs[j] & 0x0F) | (((qh >> j) & 1) << 4);
      const int hi = (a[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      isum += lo * b[i].qs[j] + hi * b[i].qs[j + 16];
    }
    sum += static_cast<float>(isum) * (fp16_to_fp32(a[i].d) * fp16_to_fp32(b[i].d)) +
           fp16_to_fp32(a[i].m) * fp16_to_fp32(b[i].s);
  }
  return sum;
}

float vec_dot_q8_0_q8_0_ref(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const block_q8_0*>(w);
  const auto* b = static_cast<const block_q8_0*>(x);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK8_0; ++i) {
    int isum = 0;
    for (int j = 0; j < QK8_0; ++j) isum += a[i].qs[j] * b[i].qs[j];
    sum += static_cast<float>(isum) * (fp16_to_fp32(a[i].d) * fp16_to_fp32(b[i].d));
  }
  return sum;
}

namespace {

template <class Block>
float vec_dot_kquant_ref(GgmlType type, int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const Block*>(w);
  const auto* b = static_cast<const block_q8_K*>(x);
  float sum = 0.0f;
  KQuantDecoded dec;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    decode_kquant_block(type, &a[i], &dec);
    int isum = 0, msum = 0;
    for (int g = 0; g < 16; ++g) {
      int gsum = 0;
      for (int j = 0; j < 16; ++j) gsum += dec.q[g * 16 + j] * b[i].qs[g * 16 + j];
      isum += dec.scale[g] * gsum;
      msum += dec.min[g] * b[i].bsums[g];
    }
    sum += (dec.d * b[i].d) * static_cast<float>(isum) - (dec.dmin * b[i].d) * static_cast<float>(msum);
  }
  return sum;
}

}  // namespace

float vec_dot_q2_K_q8_K_ref(int64_t n, const void* w, const void* x) {
  return vec_dot_kquant_ref<block_q2_K>(GgmlType::Q2_K, n, w, x);
}
float vec_dot_q3_K_q8_K_ref(int64_t n, const void* w, const void* x) {
  return vec_dot_kquant_ref<block_q3_K>(GgmlType::Q3_K, n, w, x);
}
float vec_dot_q4_K_q8_K_ref(int64_t n, const void* w, const void* x) {
  return vec_dot_kquant_ref<block_q4_K>(GgmlType::Q4_K, n, w, x);
}
float vec_dot_q5_K_q8_K_ref(int64_t n, const void* w, const void* x) {
  return vec_dot_kquant_ref<block_q5_K>(GgmlType::Q5_K, n, w, x);
}
float vec_dot_q6_K_q8_K_ref(int64_t n, const void* w, const void* x) {
  return vec_dot_kquant_ref<block_q6_K>(GgmlType::Q6_K, n, w, x);
}

VecDotFn vec_dot_ref_fn(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return vec_dot_f32_ref;
    case GgmlType::F16: return vec_dot_f16_ref;
    case GgmlType::BF16: return vec_dot_bf16_ref;
    case GgmlType::Q4_0: return vec_dot_q4_0_q8_0_ref;
    case GgmlType::Q4_1: return vec_dot_q4_1_q8_1_ref;
    case GgmlType::Q5_0: return vec_dot_q5_0_q8_0_ref;
    case GgmlType::Q5_1: return vec_dot_q5_1_q8_1_ref;
    case GgmlType::Q8_0: return vec_dot_q8_0_q8_0_ref;
    case GgmlType::Q2_K: return vec_dot_q2_K_q8_K_ref;
    case GgmlType::Q3_K: return vec_dot_q3_K_q8_K_ref;
    case GgmlType::Q4_K: return vec_dot_q4_K_q8_K_ref;
    case GgmlType::Q5_K: return vec_dot_q5_K_q8_K_ref;
    case GgmlType::Q6_K: return vec_dot_q6_K_q8_K_ref;
    default: return nullptr;
  }
}

}  // namespace pensieve::cpu
