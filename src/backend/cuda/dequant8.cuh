// Device dequantization of 8-element groups (group g of a row = elements [8g, 8g + 8)), for the
// decode mat-vec: consecutive lanes take consecutive groups, so a warp's loads of weights and of
// the activations are contiguous (coalesced), unlike one lane per 32-element chunk.
// Types: the ones decode speed depends on (F32/F16/BF16, Q4_0, Q8_0, Q4_K, Q5_K, Q6_K).
#pragma once

#include "backend/cuda/dequant.cuh"

namespace pensieve::cuda {

template <GgmlType T>
struct Dq8;

template <>
struct Dq8<GgmlType::F32> {
  __device__ static void part(const uint8_t* row, int64_t g, float* y) {
    const float4* p = reinterpret_cast<const float4*>(row) + 2 * g;
    const float4 a = __ldg(p), b = __ldg(p + 1);
    y[0] = a.x, y[1] = a.y, y[2] = a.z, y[3] = a.w, y[4] = b.x, y[5] = b.y, y[6] = b.z, y[7] = b.w;
  }
};

template <>
struct Dq8<GgmlType::F16> {
  __device__ static void part(const uint8_t* row, int64_t g, float* y) {
    const uint4 u = __ldg(reinterpret_cast<const uint4*>(row) + g);
    const uint32_t w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const float2 f = __half22float2(*reinterpret_cast<const __half2*>(&w[i]));
      y[2 * i] = f.x, y[2 * i + 1] = f.y;
    }
  }
};

template <>
struct Dq8<GgmlType::BF16> {
  __device__ static void part(const uint8_t* row, int64_t g, float* y) {
    const uint4 u = __ldg(reinterpret_cast<const uint4*>(row) + g);
    const uint32_t w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      y[2 * i] = __uint_as_float(w[i] << 16);
      y[2 * i + 1] = __uint_as_float(w[i] & 0xFFFF0000u);
    }
  }
};

template <>
struct Dq8<GgmlType::Q4_0> {
  __device__ static void part(const uint8_t* row, int64_t g, float* y) {
    const uint8_t* b = row + (g / 4) * 18;
    const int q = int(g % 4);
    const float d = half_bits_to_float(load_u16(b));
    uint32_t w[2];
    load_words<2>(b + 2 + 8 * (q % 2), w);
    const int shift = q >= 2 ? 4 : 0;
#pragma unroll
    for (int j = 0; j < 8; ++j) y[j] = (int((byte_of(w, j) >> shift) & 0xF) - 8) * d;
  }
};

template <>
struct Dq8<GgmlType::Q8_0> {
  __device__ static void part(const uint8_t* row, int64_t g, float* y) {
    const uint8_t* b = row + (g / 4) * 34;
    const float d = half_bits_to_float(load_u16(b));
    uint32_t w[2];
    load_words<2>(b + 2 + 8 * (g % 4), w);
#pragma unroll
    for (int j = 0; j < 8; ++j) y[j] = float(int8_t(byte_of(w, j))) * d;
  }
};

template <>
struct Dq8<GgmlType::Q4_K> {
  __device__ static void part(const uint8_t* row, int64_t g, float* y) {
    const uint8_t* b = row + (g / 32) * 144;
    const int e = int(g % 32) * 8, sub = e / 32, o = e % 32;
    const uint4 head = __ldg(reinterpret_cast<const uint4*>(b));
    const float d = half_bits_to_float(uint16_t(head.x)), dmin = half_bits_to_float(uint16_t(head.x >> 16));
    const uint32_t s[3] = {head.y, head.z, head.w};
    float sc, m;
    k4_scale_min(s, sub, sc, m);
    const float d1 = d * sc, m1 = dmin * m;
    const uint2 q2 = __ldg(reinterpret_cast<const uint2*>(b + 16 + 32 * (sub / 2) + o));
    const uint32_t w[2] = {q2.x, q2.y};
    const int shift = (sub & 1) * 4;
#pragma unroll
    for (int j = 0; j < 8; ++j) y[j] = d1 * ((byte_of(w, j) >> shift) & 0xF) - m1;
  }
};

template <>
struct Dq8<GgmlType::Q5_K> {
  __device__ static void part(const uint8_t* row, int64_t g, float* y) {
    const uint8_t* b = row + (g / 32) * 176;
    const int e = int(g % 32) * 8, sub = e / 32, o = e % 32;
    const uint4 head = __ldg(reinterpret_cast<const uint4*>(b));
    const float d = half_bits_to_float(uint16_t(head.x)), dmin = half_bits_to_float(uint16_t(head.x >> 16));
    const uint32_t s[3] = {head.y, head.z, head.w};
    float sc, m;
    k4_scale_min(s, sub, sc, m);
    const float d1 = d * sc, m1 = dmin * m;
    const uint2 h2 = __ldg(reinterpret_cast<const uint2*>(b + 16 + o));
    const uint2 l2 = __ldg(reinterpret_cast<const uint2*>(b + 48 + 32 * (sub / 2) + o));
    const uint32_t qh[2] = {h2.x, h2.y}, ql[2] = {l2.x, l2.y};
    const int shift = (sub & 1) * 4;
#pragma unroll
    for (int j = 0; j < 8; ++j)
      y[j] = d1 * (((byte_of(ql, j) >> shift) & 0xF) + (((byte_of(qh, j) >> sub) & 1) << 4)) - m1;
  }
};

template <>
struct Dq8<GgmlType::Q6_K> {
  __device__ static void part(const uint8_t* row, int64_t g, float* y) {
    const uint8_t* b = row + (g / 32) * 210;
    const int e = int(g % 32) * 8, sub = e / 32, l0 = e % 32, n = sub / 4, k = sub % 4;
    uint32_t ql[2], qh[2];
    load_words<2>(b + 64 * n + (k & 1) * 32 + l0, ql);
    load_words<2>(b + 128 + 32 * n + l0, qh);
    const float d = half_bits_to_float(load_u16(b + 208));
    const float ds = d * float(int8_t(b[192 + 8 * n + 2 * k + l0 / 16]));
    const int lshift = (k >= 2) ? 4 : 0, hshift = 2 * k;
#pragma unroll
    for (int j = 0; j < 8; ++j)
      y[j] = ds * (int(((byte_of(ql, j) >> lshift) & 0xF) | (((byte_of(qh, j) >> hshift) & 3) << 4)) - 32);
  }
};

}  // namespace pensieve::cuda
