// Unpacking of k-quant super-blocks to 256 unsigned quants in element order, with AVX2
// instructions only. Include only from *_avx2.cpp / *_avx512.cpp / *_amx.cpp files (compiled
// with at least the AVX2 flags); everything here is inline and stays inside them.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "gguf/types.h"
#include "quant/blocks.h"

namespace pensieve::cpu::kunpack {

inline __m256i load256(const void* p) { return _mm256_loadu_si256((const __m256i*)p); }
inline void store256(void* p, __m256i v) { _mm256_storeu_si256((__m256i*)p, v); }
inline __m256i srl8(__m256i v, int s) { return _mm256_srli_epi16(v, s); }  // then mask: bytes

// The 256 unsigned quants of one k-quant super-block in element order (KQuantDecoded::q).
template <GgmlType kType>
inline void unpack_q(const void* block, uint8_t* q) {
  const __m256i m2 = _mm256_set1_epi8(3), m4 = _mm256_set1_epi8(0x0F);
  if constexpr (kType == GgmlType::Q4_K || kType == GgmlType::Q5_K) {
    const uint8_t* qs = kType == GgmlType::Q4_K ? static_cast<const block_q4_K*>(block)->qs
                                                 : static_cast<const block_q5_K*>(block)->qs;
    [[maybe_unused]] __m256i qh;
    if constexpr (kType == GgmlType::Q5_K) qh = load256(static_cast<const block_q5_K*>(block)->qh);
    for (int c = 0; c < 4; ++c) {
      const __m256i v = load256(qs + 32 * c);
      __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(srl8(v, 4), m4);
      if constexpr (kType == GgmlType::Q5_K) {
        const __m256i bit = _mm256_set1_epi8(0x10);
        lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_slli_epi16(srl8(qh, 2 * c), 4), bit));
        hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_slli_epi16(srl8(qh, 2 * c + 1), 4), bit));
      }
      store256(q + 64 * c, lo);
      store256(q + 64 * c + 32, hi);
    }
  } else if constexpr (kType == GgmlType::Q6_K) {
    const auto* b = static_cast<const block_q6_K*>(block);
    for (int h = 0; h < 2; ++h) {
      const __m256i l0 = load256(b->ql + 64 * h), l1 = load256(b->ql + 64 * h + 32);
      const __m256i qh = load256(b->qh + 32 * h);
      const __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4);
      const __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(srl8(qh, 2), m2), 4);
      const __m256i h2 = _mm256_slli_epi16(_mm256_and_si256(srl8(qh, 4), m2), 4);
      const __m256i h3 = _mm256_slli_epi16(_mm256_and_si256(srl8(qh, 6), m2), 4);
      store256(q + 128 * h, _mm256_or_si256(_mm256_and_si256(l0, m4), h0));
      store256(q + 128 * h + 32, _mm256_or_si256(_mm256_and_si256(l1, m4), h1));
      store256(q + 128 * h + 64, _mm256_or_si256(_mm256_and_si256(srl8(l0, 4), m4), h2));
      store256(q + 128 * h + 96, _mm256_or_si256(_mm256_and_si256(srl8(l1, 4), m4), h3));
    }
  } else if constexpr (kType == GgmlType::Q3_K) {
    const auto* b = static_cast<const block_q3_K*>(block);
    const __m256i hm = load256(b->hmask);
    for (int h = 0; h < 2; ++h) {
      const __m256i v = load256(b->qs + 32 * h);
      for (int j = 0; j < 4; ++j) {
        const __m256i low = _mm256_and_si256(srl8(v, 2 * j), m2);
        const __m256i high = _mm256_and_si256(_mm256_slli_epi16(srl8(hm, 4 * h + j), 2), _mm256_set1_epi8(4));
        store256(q + 128 * h + 32 * j, _mm256_or_si256(low, high));
      }
    }
  } else if constexpr (kType == GgmlType::Q2_K) {
    const auto* b = static_cast<const block_q2_K*>(block);
    for (int h = 0; h < 2; ++h) {
      const __m256i v = load256(b->qs + 32 * h);
      for (int j = 0; j < 4; ++j) store256(q + 128 * h + 32 * j, _mm256_and_si256(srl8(v, 2 * j), m2));
    }
  }
}

}  // namespace pensieve::cpu::kunpack
