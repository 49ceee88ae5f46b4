// Device dequantization of 32-element chunks of a GGUF row, one struct per type.
// Chunk c of a row covers elements [32c, 32c + 32). Layouts follow ggml-common.h exactly; the
// tests compare every type against pensieve::dequantize_row (src/quant).
#pragma once

#include "backend/cuda/common.cuh"
#include "gguf/types.h"

namespace pensieve::cuda {

template <GgmlType T>
struct Dq;

template <>
struct Dq<GgmlType::Q4_0> {
  static constexpr int kBytes = 18;
  __device__ static void chunk(const uint8_t* row, int64_t c, float* y) {
    const uint8_t* b = row + c * kBytes;
    const float d = half_bits_to_float(load_u16(b));
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      const uint8_t q = b[2 + j];
      y[j] = (int(q & 0xF) - 8) * d;
      y[j + 16] = (int(q >> 4) - 8) * d;
    }
  }
};

template <>
struct Dq<GgmlType::Q4_1> {
  static constexpr int kBytes = 20;
  __device__ static void chunk(const uint8_t* row, int64_t c, float* y) {
    const uint8_t* b = row + c * kBytes;
    const float d = half_bits_to_float(load_u16(b)), m = half_bits_to_float(load_u16(b + 2));
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      const uint8_t q = b[4 + j];
      y[j] = (q & 0xF) * d + m;
      y[j + 16] = (q >> 4) * d + m;
    }
  }
};

template <>
struct Dq<GgmlType::Q5_0> {
  static constexpr int kBytes = 22;
  __device__ static void chunk(const uint8_t* row, int64_t c, float* y) {
    const uint8_t* b = row + c * kBytes;
    const float d = half_bits_to_float(load_u16(b));
    const uint32_t qh = load_u32(b + 2);
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      const uint8_t q = b[6 + j];
      const int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
      y[j] = (int((q & 0xF) | h0) - 16) * d;
      y[j + 16] = (int((q >> 4) | h1) - 16) * d;
    }
  }
};

template <>
struct Dq<GgmlType::Q5_1> {
  static constexpr int kBytes = 24;
  __device__ static void chunk(const uint8_t* row, int64_t c, float* y) {
    const uint8_t* b = row + c * kBytes;
    const float d = half_bits_to_float(load_u16(b)), m = half_bits_to_float(load_u16(b + 2));
    const uint32_t qh = load_u32(b + 4);
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      const uint8_t q = b[8 + j];
      const int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
      y[j] = ((q & 0xF) | h0) * d + m;
      y[j + 16] = ((q >> 4) | h1) * d + m;
    }
  }
};

template <>
struct Dq<GgmlType::Q8_0> {
  static constexpr int kBytes = 34;
  __device__ static void chunk(const uint8_t* row, int64_t c, float* y) {
    const uint8_t* b = row + c * kBytes;
    const float d = half_bits_to_float(load_u16(b));
    // qs starts at an even offset: read it as 16-bit pairs.
    const uint16_t* qs = reinterpret_cast<const uint16_t*>(b + 2);
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      const uint16_t v = qs[j];
      y[2 * j] = float(int8_t(v & 0xFF)) * d;
      y[2 * j + 1] = float(int8_t(v >> 8)) * d;
    }
  }
};

template <>
struct Dq<GgmlType::Q2_K> {
  static constexpr int kBytes = 84;
  __device__ static void chunk(const uint8_t* row, int64_t c, float* y) {
    const uint8_t* b = row + (c / 8) * kBytes;
    const int sub = int(c % 8), n = sub / 4, j = sub % 4;
    const float d = half_bits_to_float(load_u16(b + 80)), dmin = half_bits_to_float(load_u16(b + 82));
    const uint8_t sc0 = b[8 * n + 2 * j], sc1 = b[8 * n + 2 * j + 1];
    const float dl0 = d * (sc0 & 0xF), ml0 = dmin * (sc0 >> 4);
    const float dl1 = d * (sc1 & 0xF), ml1 = dmin * (sc1 >> 4);
    const uint8_t* q = b + 16 + 32 * n;
    const int shift = 2 * j;
#pragma unroll
    for (int l = 0; l < 16; ++l) {
      y[l] = dl0 * ((q[l] >> shift) & 3) - ml0;
      y[l + 16] = dl1 * ((q[l + 16] >> shift) & 3) - ml1;
    }
  }
};

template <>
struct Dq<GgmlType::Q3_K> {
  static constexpr int kBytes = 110;
  __device__ static int scale(const uint8_t* s, int k) {
    const int low = k < 8 ? (s[k] & 0xF) : (s[k - 8] >> 4);
    const int high = (s[8 + k % 4] >> (2 * (k / 4))) & 3;
    return (low | (high << 4)) - 32;
  }
  __device__ static void chunk(const uint8_t* row, int64_t c, float* y) {
    const uint8_t* b = row + (c / 8) * kBytes;
    const int sub = int(c % 8), n = sub / 4, j = sub % 4;
    const uint8_t* hm = b;
    const uint8_t* q = b + 32 + 32 * n;
    const uint8_t* sc = b + 96;
    const float d = half_bits_to_float(load_u16(b + 108));
    const float dl0 = d * scale(sc, 2 * sub), dl1 = d * scale(sc, 2 * sub + 1);
    const int shift = 2 * j;
    const uint8_t m = uint8_t(1u << sub);
#pragma unroll
    for (int l = 0; l < 16; ++l) {
      y[l] = dl0 * (int((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4));
      y[l + 16] = dl1 * (int((q[l + 16] >> shift) & 3) - ((hm[l + 16] & m) ? 0 : 4));
    }
  }
};

// 6-bit scale and min of sub-block j of a Q4_K / Q5_K super-block.
__device__ __forceinline__ void k4_scale_min(const uint8_t* s, int j, float& sc, float& m) {
  if (j < 4) {
    sc = s[j] & 63;
    m = s[j + 4] & 63;
  } else {
    sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
    m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

template <>
struct Dq<GgmlType::Q4_K> {
  static constexpr int kBytes = 144;
  __device__ static void chunk(const uint8_t* row, int64_t c, float* y) {
    const uint8_t* b = row + (c / 8) * kBytes;
    const int sub = int(c % 8);
    const float d = half_bits_to_float(load_u16(b)), dmin = half_bits_to_float(load_u16(b + 2));
    float sc, m;
    k4_scale_min(b + 4, sub, sc, m);
    const float d1 = d * sc, m1 = dmin * m;
    // 32 bytes of nibbles at a 16-byte aligned offset (rows are multiples of 144 bytes).
    const uint4* q4 = reinterpret_cast<const uint4*>(b + 16 + 32 * (sub / 2));
    const int shift = (sub & 1) * 4;
#pragma unroll
    for (int v = 0; v < 2; ++v) {
      const uint4 w = q4[v];
      const uint32_t words[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
      for (int k = 0; k < 4; ++k)
#pragma unroll
        for (int i = 0; i < 4; ++i) y[16 * v + 4 * k + i] = d1 * ((words[k] >> (8 * i + shift)) & 0xF) - m1;
    }
  }
};

template <>
struct Dq<GgmlType::Q5_K> {
  static constexpr int kBytes = 176;
  __device__ static void chunk(const uint8_t* row, int64_t c, float* y) {
    const uint8_t* b = row + (c / 8) * kBytes;
    const int sub = int(c % 8);
    const float d = half_bits_to_float(load_u16(b)), dmin = half_bits_to_float(load_u16(b + 2));
    float sc, m;
    k4_scale_min(b + 4, sub, sc, m);
    const float d1 = d * sc, m1 = dmin * m;
    const uint8_t* qh = b + 16;
    const uint8_t* ql = b + 48 + 32 * (sub / 2);
    const int shift = (sub & 1) * 4;
#pragma unroll
    for (int l = 0; l < 32; ++l)
      y[l] = d1 * (((ql[l] >> shift) & 0xF) + (((qh[l] >> sub) & 1) << 4)) - m1;
  }
};

template <>
struct Dq<GgmlType::Q6_K> {
  static constexpr int kBytes = 210;
  __device__ static void chunk(const uint8_t* row, int64_t c, float* y) {
    const uint8_t* b = row + (c / 8) * kBytes;
    const int sub = int(c % 8), n = sub / 4, k = sub % 4;
    const uint8_t* ql = b + 64 * n + (k & 1) * 32;
    const uint8_t* qh = b + 128 + 32 * n;
    const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192) + 8 * n + 2 * k;
    const float d = half_bits_to_float(load_u16(b + 208));
    const int lshift = (k >= 2) ? 4 : 0, hshift = 2 * k;
    const float d0 = d * sc[0], d1 = d * sc[1];
#pragma unroll
    for (int l = 0; l < 32; ++l) {
      const int q = int(((ql[l] >> lshift) & 0xF) | (((qh[l] >> hshift) & 3) << 4)) - 32;
      y[l] = (l < 16 ? d0 : d1) * q;
    }
  }
};

template <>
struct Dq<GgmlType::F32> {
  static constexpr int kBytes = 128;
  __device__ static void chunk(const uint8_t* row, int64_t c, float* y) {
    const float* p = reinterpret_cast<const float*>(row) + 32 * c;
#pragma unroll
    for (int l = 0; l < 32; ++l) y[l] = p[l];
  }
};

template <>
struct Dq<GgmlType::F16> {
  static constexpr int kBytes = 64;
  __device__ static void chunk(const uint8_t* row, int64_t c, float* y) {
    const uint16_t* p = reinterpret_cast<const uint16_t*>(row) + 32 * c;
#pragma unroll
    for (int l = 0; l < 32; ++l) y[l] = half_bits_to_float(p[l]);
  }
};

template <>
struct Dq<GgmlType::BF16> {
  static constexpr int kBytes = 64;
  __device__ static void chunk(const uint8_t* row, int64_t c, float* y) {
    const uint16_t* p = reinterpret_cast<const uint16_t*>(row) + 32 * c;
#pragma unroll
    for (int l = 0; l < 32; ++l) y[l] = bf16_bits_to_float(p[l]);
  }
};

// Calls f.template operator()<T>() for the runtime type; returns false when unsupported.
// Types: every type whose layout Dq knows (F32/F16/BF16, the legacy and the K quants).
#define PS_CUDA_DISPATCH_TYPE(type, F)          \
  switch (type) {                               \
    case GgmlType::F32: F(GgmlType::F32); break;   \
    case GgmlType::F16: F(GgmlType::F16); break;   \
    case GgmlType::BF16: F(GgmlType::BF16); break; \
    case GgmlType::Q4_0: F(GgmlType::Q4_0); break; \
    case GgmlType::Q4_1: F(GgmlType::Q4_1); break; \
    case GgmlType::Q5_0: F(GgmlType::Q5_0); break; \
    case GgmlType::Q5_1: F(GgmlType::Q5_1); break; \
    case GgmlType::Q8_0: F(GgmlType::Q8_0); break; \
    case GgmlType::Q2_K: F(GgmlType::Q2_K); break; \
    case GgmlType::Q3_K: F(GgmlType::Q3_K); break; \
    case GgmlType::Q4_K: F(GgmlType::Q4_K); break; \
    case GgmlType::Q5_K: F(GgmlType::Q5_K); break; \
    case GgmlType::Q6_K: F(GgmlType::Q6_K); break; \
    default: return false;                      \
  }

}  // namespace pensieve::cuda
