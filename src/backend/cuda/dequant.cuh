// Device dequantization of 32-element chunks of a GGUF row, one struct per type.
// Chunk c of a row covers elements [32c, 32c + 32). Layouts follow ggml-common.h exactly; the
// tests compare every type against pensieve::dequantize_row (src/quant).
#pragma once

#include "backend/cuda/common.cuh"
#include "gguf/types.h"

namespace pensieve::cuda {

template <GgmlType T>
struct Dq;

// Loads the N little-endian 32-bit words that start at byte p (any alignment): N + 1 aligned
// loads and a funnel shift, instead of 4N byte loads. May read up to 4 bytes past p + 4N
// (weights are uploaded with padding).
template <int N>
__device__ __forceinline__ void load_words(const uint8_t* p, uint32_t* w) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  const uint32_t* base = reinterpret_cast<const uint32_t*>(a & ~uintptr_t(3));
  const uint32_t shift = uint32_t(a & 3) * 8;
  uint32_t raw[N + 1];
#pragma unroll
  for (int i = 0; i <= N; ++i) raw[i] = __ldg(base + i);
#pragma unroll
  for (int i = 0; i < N; ++i) w[i] = __funnelshift_r(raw[i], raw[i + 1], shift);
}

// 32 bytes from a 16-byte aligned address.
__device__ __forceinline__ void load_words_a16x2(const uint8_t* p, uint32_t* w) {
  const uint4 a = __ldg(reinterpret_cast<const uint4*>(p)), b = __ldg(reinterpret_cast<const uint4*>(p) + 1);
  w[0] = a.x, w[1] = a.y, w[2] = a.z, w[3] = a.w, w[4] = b.x, w[5] = b.y, w[6] = b.z, w[7] = b.w;
}

__device__ __forceinline__ uint32_t byte_of(const uint32_t* w, int j) { return (w[j >> 2] >> (8 * (j & 3))) & 0xFFu; }

template <>
struct Dq<GgmlType::Q4_0> {
  static constexpr int kBytes = 18;
  __device__ static void chunk(const uint8_t* row, int64_t c, float* y) {
    const uint8_t* b = row + c * kBytes;
    const float d = half_bits_to_float(load_u16(b));
    uint32_t q[4];
    load_words<4>(b + 2, q);
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      const uint32_t v = byte_of(q, j);
      y[j] = (int(v & 0xF) - 8) * d;
      y[j + 16] = (int(v >> 4) - 8) * d;
    }
  }
};

template <>
struct Dq<GgmlType::Q4_1> {
  static constexpr int kBytes = 20;
  __device__ static void chunk(const uint8_t* row, int64_t c, float* y) {
    const uint8_t* b = row + c * kBytes;
    uint32_t q[5];
    load_words<5>(b, q);
    const float d = half_bits_to_float(uint16_t(q[0])), m = half_bits_to_float(uint16_t(q[0] >> 16));
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      const uint32_t v = byte_of(q + 1, j);
      y[j] = (v & 0xF) * d + m;
      y[j + 16] = (v >> 4) * d + m;
    }
  }
};

template <>
struct Dq<GgmlType::Q5_0> {
  static constexpr int kBytes = 22;
  __device__ static void chunk(const uint8_t* row, int64_t c, float* y) {
    const uint8_t* b = row + c * kBytes;
    const float d = half_bits_to_float(load_u16(b));
    uint32_t q[5];
    load_words<5>(b + 2, q);
    const uint32_t qh = q[0];
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      const uint32_t v = byte_of(q + 1, j);
      const int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
      y[j] = (int((v & 0xF) | h0) - 16) * d;
      y[j + 16] = (int((v >> 4) | h1) - 16) * d;
    }
  }
};

template <>
struct Dq<GgmlType::Q5_1> {
  static constexpr int kBytes = 24;
  __device__ static void chunk(const uint8_t* row, int64_t c, float* y) {
    const uint8_t* b = row + c * kBytes;
    uint32_t q[6];
    load_words<6>(b, q);
    const float d = half_bits_to_float(uint16_t(q[0])), m = half_bits_to_float(uint16_t(q[0] >> 16));
    const uint32_t qh = q[1];
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      const uint32_t v = byte_of(q + 2, j);
      const int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
      y[j] = ((v & 0xF) | h0) * d + m;
      y[j + 16] = ((v >> 4) | h1) * d + m;
    }
  }
};

template <>
struct Dq<GgmlType::Q8_0> {
  static constexpr int kBytes = 34;
  __device__ static void chunk(const uint8_t* row, int64_t c, float* y) {
    const uint8_t* b = row + c * kBytes;
    const float d = half_bits_to_float(load_u16(b));
    uint32_t q[8];
    load_words<8>(b + 2, q);
#pragma unroll
    for (int j = 0; j < 32; ++j) y[j] = float(int8_t(byte_of(q, j))) * d;
  }
};

template <>
struct Dq<GgmlType::Q2_K> {
  static constexpr int kBytes = 84;
  __device__ static void chunk(const uint8_t* row, int64_t c, float* y) {
    const uint8_t* b = row + (c / 8) * kBytes;
    const int sub = int(c % 8), n = sub / 4, j = sub % 4;
    uint32_t dd[1], q[8];
    load_words<1>(b + 80, dd);
    load_words<8>(b + 16 + 32 * n, q);
    const float d = half_bits_to_float(uint16_t(dd[0])), dmin = half_bits_to_float(uint16_t(dd[0] >> 16));
    const uint8_t sc0 = b[8 * n + 2 * j], sc1 = b[8 * n + 2 * j + 1];
    const float dl0 = d * (sc0 & 0xF), ml0 = dmin * (sc0 >> 4);
    const float dl1 = d * (sc1 & 0xF), ml1 = dmin * (sc1 >> 4);
    const int shift = 2 * j;
#pragma unroll
    for (int l = 0; l < 16; ++l) {
      y[l] = dl0 * ((byte_of(q, l) >> shift) & 3) - ml0;
      y[l + 16] = dl1 * ((byte_of(q, l + 16) >> shift) & 3) - ml1;
    }
  }
};

template <>
struct Dq<GgmlType::Q3_K> {
  static constexpr int kBytes = 110;
  __device__ static int scale(const uint32_t* s, int k) {
    const int low = k < 8 ? int(byte_of(s, k) & 0xF) : int(byte_of(s, k - 8) >> 4);
    const int high = int(byte_of(s, 8 + k % 4) >> (2 * (k / 4))) & 3;
    return (low | (high << 4)) - 32;
  }
  __device__ static void chunk(const uint8_t* row, int64_t c, float* y) {
    const uint8_t* b = row + (c / 8) * kBytes;
    const int sub = int(c % 8), n = sub / 4, j = sub % 4;
    uint32_t hm[8], q[8], sc[3];
    load_words<8>(b, hm);
    load_words<8>(b + 32 + 32 * n, q);
    load_words<3>(b + 96, sc);
    const float d = half_bits_to_float(load_u16(b + 108));
    const float dl0 = d * scale(sc, 2 * sub), dl1 = d * scale(sc, 2 * sub + 1);
    const int shift = 2 * j;
    const uint32_t m = 1u << sub;
#pragma unroll
    for (int l = 0; l < 16; ++l) {
      y[l] = dl0 * (int((byte_of(q, l) >> shift) & 3) - ((byte_of(hm, l) & m) ? 0 : 4));
      y[l + 16] = dl1 * (int((byte_of(q, l + 16) >> shift) & 3) - ((byte_of(hm, l + 16) & m) ? 0 : 4));
    }
  }
};

// 6-bit scale and min of sub-block j of a Q4_K / Q5_K super-block (s: its 12 scale bytes).
__device__ __forceinline__ void k4_scale_min(const uint32_t* s, int j, float& sc, float& m) {
  if (j < 4) {
    sc = byte_of(s, j) & 63;
    m = byte_of(s, j + 4) & 63;
  } else {
    sc = (byte_of(s, j + 4) & 0xF) | ((byte_of(s, j - 4) >> 6) << 4);
    m = (byte_of(s, j + 4) >> 4) | ((byte_of(s, j) >> 6) << 4);
  }
}

template <>
struct Dq<GgmlType::Q4_K> {
  static constexpr int kBytes = 144;
  __device__ static void chunk(const uint8_t* row, int64_t c, float* y) {
    const uint8_t* b = row + (c / 8) * kBytes;  // 16-byte aligned: rows are multiples of 144 bytes
    const int sub = int(c % 8);
    const uint4 head = __ldg(reinterpret_cast<const uint4*>(b));  // d, dmin, 12 scale bytes
    const float d = half_bits_to_float(uint16_t(head.x)), dmin = half_bits_to_float(uint16_t(head.x >> 16));
    const uint32_t s[3] = {head.y, head.z, head.w};
    float sc, m;
    k4_scale_min(s, sub, sc, m);
    const float d1 = d * sc, m1 = dmin * m;
    uint32_t q[8];
    load_words_a16x2(b + 16 + 32 * (sub / 2), q);
    const int shift = (sub & 1) * 4;
#pragma unroll
    for (int l = 0; l < 32; ++l) y[l] = d1 * ((byte_of(q, l) >> shift) & 0xF) - m1;
  }
};

template <>
struct Dq<GgmlType::Q5_K> {
  static constexpr int kBytes = 176;
  __device__ static void chunk(const uint8_t* row, int64_t c, float* y) {
    const uint8_t* b = row + (c / 8) * kBytes;  // 16-byte aligned
    const int sub = int(c % 8);
    const uint4 head = __ldg(reinterpret_cast<const uint4*>(b));
    const float d = half_bits_to_float(uint16_t(head.x)), dmin = half_bits_to_float(uint16_t(head.x >> 16));
    const uint32_t s[3] = {head.y, head.z, head.w};
    float sc, m;
    k4_scale_min(s, sub, sc, m);
    const float d1 = d * sc, m1 = dmin * m;
    uint32_t qh[8], ql[8];
    load_words_a16x2(b + 16, qh);
    load_words_a16x2(b + 48 + 32 * (sub / 2), ql);
    const int shift = (sub & 1) * 4;
#pragma unroll
    for (int l = 0; l < 32; ++l)
      y[l] = d1 * (((byte_of(ql, l) >> shift) & 0xF) + (((byte_of(qh, l) >> sub) & 1) << 4)) - m1;
  }
};

template <>
struct Dq<GgmlType::Q6_K> {
  static constexpr int kBytes = 210;
  __device__ static void chunk(const uint8_t* row, int64_t c, float* y) {
    const uint8_t* b = row + (c / 8) * kBytes;
    const int sub = int(c % 8), n = sub / 4, k = sub % 4;
    uint32_t ql[8], qh[8];
    load_words<8>(b + 64 * n + (k & 1) * 32, ql);
    load_words<8>(b + 128 + 32 * n, qh);
    const uint16_t sc2 = load_u16(b + 192 + 8 * n + 2 * k);
    const float d = half_bits_to_float(load_u16(b + 208));
    const int lshift = (k >= 2) ? 4 : 0, hshift = 2 * k;
    const float d0 = d * int8_t(sc2 & 0xFF), d1 = d * int8_t(sc2 >> 8);
#pragma unroll
    for (int l = 0; l < 32; ++l) {
      const int q = int(((byte_of(ql, l) >> lshift) & 0xF) | (((byte_of(qh, l) >> hshift) & 3) << 4)) - 32;
      y[l] = (l < 16 ? d0 : d1) * q;
    }
  }
};

template <>
struct Dq<GgmlType::F32> {
  static constexpr int kBytes = 128;
  __device__ static void chunk(const uint8_t* row, int64_t c, float* y) {
    const float4* p = reinterpret_cast<const float4*>(row) + 8 * c;
#pragma unroll
    for (int v = 0; v < 8; ++v) {
      const float4 f = __ldg(p + v);
      y[4 * v] = f.x, y[4 * v + 1] = f.y, y[4 * v + 2] = f.z, y[4 * v + 3] = f.w;
    }
  }
};

template <>
struct Dq<GgmlType::F16> {
  static constexpr int kBytes = 64;
  __device__ static void chunk(const uint8_t* row, int64_t c, float* y) {
    const uint4* p = reinterpret_cast<const uint4*>(row) + 4 * c;
#pragma unroll
    for (int v = 0; v < 4; ++v) {
      const uint4 u = __ldg(p + v);
      const uint32_t w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const float2 f = __half22float2(*reinterpret_cast<const __half2*>(&w[i]));
        y[8 * v + 2 * i] = f.x, y[8 * v + 2 * i + 1] = f.y;
      }
    }
  }
};

template <>
struct Dq<GgmlType::BF16> {
  static constexpr int kBytes = 64;
  __device__ static void chunk(const uint8_t* row, int64_t c, float* y) {
    const uint4* p = reinterpret_cast<const uint4*>(row) + 4 * c;
#pragma unroll
    for (int v = 0; v < 4; ++v) {
      const uint4 u = __ldg(p + v);
      const uint32_t w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        y[8 * v + 2 * i] = __uint_as_float(w[i] << 16);
        y[8 * v + 2 * i + 1] = __uint_as_float(w[i] & 0xFFFF0000u);
      }
    }
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
