// Integer dot products of quantized weight blocks with activations quantized to 8 bits
// (q8_1-style: blocks of 32 int8 values with a float scale d and the sum d * sum(q)).
//
// Written once as __host__ __device__ code: the decode mat-vec kernels (matvec_q8.cu) run it on
// the GPU with dp4a, and the tests (tests/cuda/vecdot_host_test.cpp) run the very same functions
// on the host against dequantize_row, so the bit manipulation is checked even without a GPU.
//
// Per weight type, a struct with:
//   kBlockElems, kBytes      elements and bytes of one weight block (GGUF layout, ggml-common.h)
//   kParts                   threads sharing one block (each takes a fixed slice of it)
//   Frag load(blk, part)     that slice's quantized weights and scales, decoded once
//                            (load<false>: from shared memory, see ld16)
//   X load_x(xq, xds, part)  the slice's activations of one token, where xq / xds point at the
//                            activations of this block (kBlockElems int8 values, kBlockElems / 32
//                            (d, d * sum) pairs); the same for every row, so a kernel whose lanes
//                            keep their units from row to row loads them once (matvec_q8.cu)
//   float dot(f, x)          the slice's dot with those activations
//   float dot(f, part, xq, xds) = dot(f, load_x(xq, xds, part))
// Summing dot() over all parts and blocks of a row gives sum_k W[k] * dequant(x)[k].
#pragma once

#include <cstdint>
#include <cstring>

#include <cmath>

#ifdef __CUDACC__
#include <cuda_fp16.h>
#define PS_HD __host__ __device__ __forceinline__
#else
#define PS_HD inline
#endif

#include "gguf/types.h"
#include "util/fp16.h"

namespace pensieve::cuda::q8 {

constexpr int kActBlock = 32;  // activation block (elements per scale)

struct Act {  // one token's quantized activations, or the whole [n_tokens][n_cols] batch
  const int8_t* q;  // n_cols values
  const float* ds;  // 2 floats per 32-block: d, d * sum(q)
};

// ---------------------------------------------------------------- portable primitives

// Signed 8-bit x4 dot product accumulated into c (one dp4a instruction on the GPU).
PS_HD int dp4a(int a, int b, int c) {
#ifdef __CUDA_ARCH__
  return __dp4a(a, b, c);
#else
  for (int i = 0; i < 4; ++i) c += int(int8_t(uint32_t(a) >> (8 * i))) * int(int8_t(uint32_t(b) >> (8 * i)));
  return c;
#endif
}

PS_HD float half_to_float(uint16_t h) {
#ifdef __CUDA_ARCH__
  return __half2float(__ushort_as_half(h));
#else
  return fp16_to_fp32(h);
#endif
}

// Per byte: v - k for v in [0, 128) and k in [0, 128) (no borrow crosses bytes).
PS_HD uint32_t sub_bytes(uint32_t v, uint32_t k) { return ((v | 0x80808080u) - k) ^ 0x80808080u; }

// The low 4 bits of `bits` spread to bit 4 of each byte: bit i -> bit 8i + 4.
PS_HD uint32_t spread4_to_bit4(uint32_t bits) { return ((bits & 0xFu) * 0x00204081u & 0x01010101u) << 4; }

// The weight loads below take kLdg: true reads read-only global memory through the
// non-coherent cache (__ldg); false uses plain loads (weights staged in shared memory).
template <bool kLdg = true>
PS_HD uint16_t ld16(const uint8_t* p) {
#ifdef __CUDA_ARCH__
  if constexpr (kLdg) return __ldg(reinterpret_cast<const unsigned short*>(p));
  else return *reinterpret_cast<const unsigned short*>(p);
#else
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
#endif
}

// A 32-bit word at a 2-byte aligned address.
template <bool kLdg = true>
PS_HD uint32_t ld32_a2(const uint8_t* p) { return uint32_t(ld16<kLdg>(p)) | (uint32_t(ld16<kLdg>(p + 2)) << 16); }

// n 32-bit words at a 4-byte aligned address (n = 2 or 4 with matching alignment: 8 or 16 bytes).
template <int N, bool kLdg = true>
PS_HD void ld_words(const uint8_t* p, uint32_t* w) {
#ifdef __CUDA_ARCH__
  if constexpr (N == 4) {
    const uint4 v = kLdg ? __ldg(reinterpret_cast<const uint4*>(p)) : *reinterpret_cast<const uint4*>(p);
    w[0] = v.x, w[1] = v.y, w[2] = v.z, w[3] = v.w;
  } else if constexpr (N == 2) {
    const uint2 v = kLdg ? __ldg(reinterpret_cast<const uint2*>(p)) : *reinterpret_cast<const uint2*>(p);
    w[0] = v.x, w[1] = v.y;
  } else {
    for (int i = 0; i < N; ++i)
      w[i] = kLdg ? __ldg(reinterpret_cast<const uint32_t*>(p) + i) : reinterpret_cast<const uint32_t*>(p)[i];
  }
#else
  std::memcpy(w, p, 4 * N);
#endif
}

// N 32-bit words at a 2-byte aligned address: N + 1 aligned loads and funnel shifts on the GPU
// (instead of 2N 16-bit loads). May read up to 4 bytes past the N words (weights carry padding).
// The host runs the same aligned loads and shifts (memcpy of aligned words), so the host test
// checks this arithmetic too; there it also reads up to 2 bytes before p (inside the buffer when
// the buffer is 4-byte aligned).
template <int N, bool kLdg = true>
PS_HD void ld_words_a2(const uint8_t* p, uint32_t* w) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  const uint32_t shift = uint32_t(a & 3) * 8;
  uint32_t raw[N + 1];
#ifdef __CUDA_ARCH__
  const uint32_t* base = reinterpret_cast<const uint32_t*>(a & ~uintptr_t(3));
#pragma unroll
  for (int i = 0; i <= N; ++i) raw[i] = kLdg ? __ldg(base + i) : base[i];
#pragma unroll
  for (int i = 0; i < N; ++i) w[i] = __funnelshift_r(raw[i], raw[i + 1], shift);
#else
  const uint8_t* base = p - (a & 3);
  for (int i = 0; i <= N; ++i) std::memcpy(&raw[i], base + 4 * i, 4);
  for (int i = 0; i < N; ++i) w[i] = uint32_t(((uint64_t(raw[i + 1]) << 32) | raw[i]) >> shift);
#endif
}

// Activation words (int8 x 4), from an 8- or 16-byte aligned address.
template <int N>
PS_HD void ld_act(const int8_t* p, int* w) {
  ld_words<N>(reinterpret_cast<const uint8_t*>(p), reinterpret_cast<uint32_t*>(w));
}

// ---------------------------------------------------------------- quantizing activations

// One block of 32: q = round(x * 127 / amax), d = amax / 127, ds = {d, d * sum(q)}.
// The device kernels use the same formula with IEEE-rounded division, so results match bit for bit.
inline void quantize_block_ref(const float* x, int8_t* q, float* ds) {
  float amax = 0.0f;
  for (int i = 0; i < kActBlock; ++i) amax = amax > std::fabs(x[i]) ? amax : std::fabs(x[i]);
  const float d = amax / 127.0f;
  const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
  int sum = 0;
  for (int i = 0; i < kActBlock; ++i) {
    q[i] = int8_t(std::nearbyint(x[i] * inv));
    sum += q[i];
  }
  ds[0] = d;
  ds[1] = d * float(sum);
}

// ---------------------------------------------------------------- weight types

template <GgmlType T>
struct VecDot;

// Q8_0: {half d; int8 qs[32]} (34 bytes, 2-byte aligned). 2 parts of 16 values.
template <>
struct VecDot<GgmlType::Q8_0> {
  static constexpr int kBlockElems = 32, kBytes = 34, kParts = 2;
  struct Frag {
    uint32_t q[4];
    float d;
  };
  template <bool kLdg = true>
  PS_HD static Frag load(const uint8_t* b, int part) {
    Frag f;
    f.d = half_to_float(ld16<kLdg>(b));
    ld_words_a2<4, kLdg>(b + 2 + 16 * part, f.q);
    return f;
  }
  struct X {
    int q[4];
    float d;
  };
  PS_HD static X load_x(const int8_t* xq, const float* xds, int part) {
    X x;
    ld_act<4>(xq + 16 * part, x.q);
    x.d = xds[0];
    return x;
  }
  PS_HD static float dot(const Frag& f, const X& x) {
    int s = 0;
    for (int k = 0; k < 4; ++k) s = dp4a(int(f.q[k]), x.q[k], s);
    return f.d * x.d * float(s);
  }
  PS_HD static float dot(const Frag& f, int part, const int8_t* xq, const float* xds) {
    return dot(f, load_x(xq, xds, part));
  }
};

// Q5_0: {half d; uint8 qh[4]; uint8 qs[16]} (22 bytes). Element j < 16: low nibble of qs[j]
// with bit j of qh as bit 4; element j + 16: high nibble with bit j + 16; value (q - 16) * d.
// 2 parts: part p takes qs[8p, 8p + 8), i.e. elements 8p.. and 16 + 8p.. (8 each).
template <>
struct VecDot<GgmlType::Q5_0> {
  static constexpr int kBlockElems = 32, kBytes = 22, kParts = 2;
  struct Frag {
    int lo[2], hi[2];
    float d;
  };
  template <bool kLdg = true>
  PS_HD static Frag load(const uint8_t* b, int part) {
    Frag f;
    f.d = half_to_float(ld16<kLdg>(b));
    const uint32_t qh = ld32_a2<kLdg>(b + 2) >> (8 * part);
    uint32_t qs2[2];
    ld_words_a2<2, kLdg>(b + 6 + 8 * part, qs2);
    for (int k = 0; k < 2; ++k) {
      const uint32_t qs = qs2[k];
      const uint32_t lo = (qs & 0x0F0F0F0Fu) | spread4_to_bit4(qh >> (4 * k));
      const uint32_t hi = ((qs >> 4) & 0x0F0F0F0Fu) | spread4_to_bit4(qh >> (16 + 4 * k));
      f.lo[k] = int(sub_bytes(lo, 0x10101010u));
      f.hi[k] = int(sub_bytes(hi, 0x10101010u));
    }
    return f;
  }
  struct X {
    int lo[2], hi[2];
    float d;
  };
  PS_HD static X load_x(const int8_t* xq, const float* xds, int part) {
    X x;
    ld_act<2>(xq + 8 * part, x.lo);
    ld_act<2>(xq + 16 + 8 * part, x.hi);
    x.d = xds[0];
    return x;
  }
  PS_HD static float dot(const Frag& f, const X& x) {
    int s = dp4a(f.lo[0], x.lo[0], 0);
    s = dp4a(f.lo[1], x.lo[1], s);
    s = dp4a(f.hi[0], x.hi[0], s);
    s = dp4a(f.hi[1], x.hi[1], s);
    return f.d * x.d * float(s);
  }
  PS_HD static float dot(const Frag& f, int part, const int8_t* xq, const float* xds) {
    return dot(f, load_x(xq, xds, part));
  }
};

// 6-bit scales and mins of sub-blocks 2g and 2g + 1 (g = 0..3) of a K-quant block (ggml
// get_scale_min_k4), from the 12 scale bytes as 3 little-endian words: the pair shares one
// 16-bit half of each word, so both are decoded at once with 16-bit masks (no per-byte branches).
// sc and m hold the pair as two bytes: low byte sub-block 2g, next byte 2g + 1.
PS_HD void scale_min_k4_pair(const uint32_t* s, int g, uint32_t& sc, uint32_t& m) {
  const int sh = 16 * (g & 1);
  const uint32_t w0 = s[0] >> sh, w1 = s[1] >> sh, w2 = s[2] >> sh;
  if (g < 2) {
    sc = w0 & 0x3F3Fu;
    m = w1 & 0x3F3Fu;
  } else {  // low 4 bits from the third word, high 2 bits from the top of the first / second
    sc = (w2 & 0x0F0Fu) | ((w0 >> 2) & 0x3030u);
    m = ((w2 >> 4) & 0x0F0Fu) | ((w1 >> 2) & 0x3030u);
  }
}

// Q4_K: {half d, dmin; uint8 scales[12]; uint8 qs[128]} (144 bytes, 16-byte aligned in a row).
// 8 sub-blocks of 32 with 6-bit scale and min: value = d * sc * q - dmin * m. qs[32g + l] holds
// element 64g + l (low nibble) and 64g + 32 + l (high nibble).
// 4 parts: part g takes qs[32g, +32), i.e. all of sub-blocks 2g (low nibbles) and 2g + 1 (high),
// so the scales are decoded once per 64 values and each sub-block's min term is added once.
template <>
struct VecDot<GgmlType::Q4_K> {
  static constexpr int kBlockElems = 256, kBytes = 144, kParts = 4;
  struct Frag {
    uint32_t q[8];
    float d_lo, d_hi, m_lo, m_hi;  // d * sc and dmin * m of sub-blocks 2g and 2g + 1
  };
  template <bool kLdg = true>
  PS_HD static Frag load(const uint8_t* b, int part) {
    Frag f;
    uint32_t head[4];
    ld_words<4, kLdg>(b, head);
    const float d = half_to_float(uint16_t(head[0])), dmin = half_to_float(uint16_t(head[0] >> 16));
    uint32_t sc, m;
    scale_min_k4_pair(head + 1, part, sc, m);
    f.d_lo = d * float(sc & 0xFF);
    f.d_hi = d * float(sc >> 8);
    f.m_lo = dmin * float(m & 0xFF);
    f.m_hi = dmin * float(m >> 8);
    ld_words<4, kLdg>(b + 16 + 32 * part, f.q);
    ld_words<4, kLdg>(b + 32 + 32 * part, f.q + 4);
    return f;
  }
  struct X {
    int lo[8], hi[8];  // sub-blocks 2g and 2g + 1
    float ds[4];       // their (d, d * sum)
  };
  PS_HD static X load_x(const int8_t* xq, const float* xds, int part) {
    X x;
    ld_act<4>(xq + 64 * part, x.lo);
    ld_act<4>(xq + 64 * part + 16, x.lo + 4);
    ld_act<4>(xq + 64 * part + 32, x.hi);
    ld_act<4>(xq + 64 * part + 48, x.hi + 4);
    for (int i = 0; i < 4; ++i) x.ds[i] = xds[4 * part + i];
    return x;
  }
  PS_HD static float dot(const Frag& f, const X& x) {
    int sl = 0, sh = 0;
    for (int k = 0; k < 8; ++k) {
      sl = dp4a(int(f.q[k] & 0x0F0F0F0Fu), x.lo[k], sl);
      sh = dp4a(int((f.q[k] >> 4) & 0x0F0F0F0Fu), x.hi[k], sh);
    }
    return f.d_lo * x.ds[0] * float(sl) + f.d_hi * x.ds[2] * float(sh) - f.m_lo * x.ds[1] - f.m_hi * x.ds[3];
  }
  PS_HD static float dot(const Frag& f, int part, const int8_t* xq, const float* xds) {
    return dot(f, load_x(xq, xds, part));
  }
};

// Q6_K: {uint8 ql[128]; uint8 qh[64]; int8 scales[16]; half d} (210 bytes, 2-byte aligned).
// For half n (128 elements) and l < 32: element 128n + 32k + l (quarter k) has 4 low bits from
// ql[64n + l] (k = 0, 2) or ql[64n + 32 + l] (k = 1, 3) (low nibble for k < 2, high for k >= 2),
// 2 high bits from qh[32n + l] >> 2k, scale scales[8n + 2k + l / 16]; value d * sc * (q - 32).
// 4 parts: part p takes n = p / 2, l in [16 (p % 2), +16): 16 values of each quarter, which
// share one scale per quarter.
template <>
struct VecDot<GgmlType::Q6_K> {
  static constexpr int kBlockElems = 256, kBytes = 210, kParts = 4;
  struct Frag {
    int q[4][4];  // per quarter: 16 values (q - 32) as int8
    float d[4];   // d * scale per quarter
  };
  template <bool kLdg = true>
  PS_HD static Frag load(const uint8_t* b, int part) {
    Frag f;
    const int n = part / 2, l0 = (part % 2) * 16;
    // 5 aligned words and funnel shifts per 16 bytes (the block is 2-byte aligned), not 8 halves.
    uint32_t qa[4], qb[4], qh[4], sc[2];
    ld_words_a2<4, kLdg>(b + 64 * n + l0, qa);
    ld_words_a2<4, kLdg>(b + 64 * n + 32 + l0, qb);
    ld_words_a2<4, kLdg>(b + 128 + 32 * n + l0, qh);
    ld_words_a2<2, kLdg>(b + 192 + 8 * n, sc);
    for (int i = 0; i < 4; ++i) {
      const uint32_t v0 = (qa[i] & 0x0F0F0F0Fu) | ((qh[i] << 4) & 0x30303030u);
      const uint32_t v1 = (qb[i] & 0x0F0F0F0Fu) | ((qh[i] << 2) & 0x30303030u);
      const uint32_t v2 = ((qa[i] >> 4) & 0x0F0F0F0Fu) | (qh[i] & 0x30303030u);
      const uint32_t v3 = ((qb[i] >> 4) & 0x0F0F0F0Fu) | ((qh[i] >> 2) & 0x30303030u);
      f.q[0][i] = int(sub_bytes(v0, 0x20202020u));
      f.q[1][i] = int(sub_bytes(v1, 0x20202020u));
      f.q[2][i] = int(sub_bytes(v2, 0x20202020u));
      f.q[3][i] = int(sub_bytes(v3, 0x20202020u));
    }
    const float d = half_to_float(ld16<kLdg>(b + 208));
    // Quarter k uses scales[8n + 2k + l0 / 16]: bytes 2k + l0 / 16 of the 8 scales of half n.
    const uint32_t s03 = sc[0], s47 = sc[1];
    const int sh = 8 * (l0 / 16);
    f.d[0] = d * float(int8_t(s03 >> sh));
    f.d[1] = d * float(int8_t(s03 >> (16 + sh)));
    f.d[2] = d * float(int8_t(s47 >> sh));
    f.d[3] = d * float(int8_t(s47 >> (16 + sh)));
    return f;
  }
  struct X {
    int q[4][4];  // per quarter: the 16 activations of the part
    float d[4];   // per quarter: the activation scale
  };
  PS_HD static X load_x(const int8_t* xq, const float* xds, int part) {
    const int n = part / 2, l0 = (part % 2) * 16;
    X x;
    for (int k = 0; k < 4; ++k) {
      ld_act<4>(xq + 128 * n + 32 * k + l0, x.q[k]);
      x.d[k] = xds[2 * (4 * n + k)];
    }
    return x;
  }
  PS_HD static float dot(const Frag& f, const X& x) {
    float acc = 0.0f;
    for (int k = 0; k < 4; ++k) {
      int s = 0;
      for (int i = 0; i < 4; ++i) s = dp4a(f.q[k][i], x.q[k][i], s);
      acc += f.d[k] * x.d[k] * float(s);
    }
    return acc;
  }
  PS_HD static float dot(const Frag& f, int part, const int8_t* xq, const float* xds) {
    return dot(f, load_x(xq, xds, part));
  }
};

// Types with an integer mat-vec.
inline bool has_vecdot_q8(GgmlType t) {
  return t == GgmlType::Q8_0 || t == GgmlType::Q5_0 || t == GgmlType::Q4_K || t == GgmlType::Q6_K;
}

}  // namespace pensieve::cuda::q8

#undef PS_HD
