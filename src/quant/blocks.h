// Quantized block layouts, byte-for-byte as GGUF stores them (ggml-common.h).
// Each is a POD whose size is pinned; the traits table (quant/traits.h) describes them.
#pragma once

#include <cstdint>

#include "gguf/types.h"
#include "util/fp16.h"

namespace pensieve {

inline constexpr int QK4_0 = 32;
inline constexpr int QK4_1 = 32;
inline constexpr int QK5_0 = 32;
inline constexpr int QK5_1 = 32;
inline constexpr int QK8_0 = 32;
inline constexpr int QK8_1 = 32;
inline constexpr int QK_K = kQK_K;
inline constexpr int K_SCALE_SIZE = 12;

struct block_q4_0 {
  fp16_t d;
  uint8_t qs[QK4_0 / 2];  // nibbles: low = element j, high = element j + 16
};
static_assert(sizeof(block_q4_0) == 18);

struct block_q4_1 {
  fp16_t d;
  fp16_t m;
  uint8_t qs[QK4_1 / 2];
};
static_assert(sizeof(block_q4_1) == 20);

struct block_q5_0 {
  fp16_t d;
  uint8_t qh[4];  // 5th bit of each element
  uint8_t qs[QK5_0 / 2];
};
static_assert(sizeof(block_q5_0) == 22);

struct block_q5_1 {
  fp16_t d;
  fp16_t m;
  uint8_t qh[4];
  uint8_t qs[QK5_1 / 2];
};
static_assert(sizeof(block_q5_1) == 24);

struct block_q8_0 {
  fp16_t d;
  int8_t qs[QK8_0];
};
static_assert(sizeof(block_q8_0) == 34);

struct block_q8_1 {
  fp16_t d;
  fp16_t s;  // d * sum(qs)
  int8_t qs[QK8_1];
};
static_assert(sizeof(block_q8_1) == 36);

// 2.625 bits per weight: 16 sub-blocks of 16, 4-bit scale + 4-bit min each.
struct block_q2_K {
  uint8_t scales[QK_K / 16];
  uint8_t qs[QK_K / 4];
  fp16_t d;
  fp16_t dmin;
};
static_assert(sizeof(block_q2_K) == 84);

// 3.4375 bits per weight: 16 sub-blocks of 16, 6-bit scales.
struct block_q3_K {
  uint8_t hmask[QK_K / 8];
  uint8_t qs[QK_K / 4];
  uint8_t scales[12];
  fp16_t d;
};
static_assert(sizeof(block_q3_K) == 110);

// 4.5 bits per weight: 8 sub-blocks of 32, 6-bit scales and mins.
struct block_q4_K {
  fp16_t d;
  fp16_t dmin;
  uint8_t scales[K_SCALE_SIZE];
  uint8_t qs[QK_K / 2];
};
static_assert(sizeof(block_q4_K) == 144);

// 5.5 bits per weight.
struct block_q5_K {
  fp16_t d;
  fp16_t dmin;
  uint8_t scales[K_SCALE_SIZE];
  uint8_t qh[QK_K / 8];
  uint8_t qs[QK_K / 2];
};
static_assert(sizeof(block_q5_K) == 176);

// 6.5625 bits per weight: 16 sub-blocks of 16, 8-bit scales.
struct block_q6_K {
  uint8_t ql[QK_K / 2];
  uint8_t qh[QK_K / 4];
  int8_t scales[QK_K / 16];
  fp16_t d;
};
static_assert(sizeof(block_q6_K) == 210);

// Activations for k-quant dot products: float scale, sums of each group of 16.
struct block_q8_K {
  float d;
  int8_t qs[QK_K];
  int16_t bsums[QK_K / 16];
};
static_assert(sizeof(block_q8_K) == 292);

}  // namespace pensieve
