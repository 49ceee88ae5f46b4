// Helpers shared by the AVX-512 kernel files. Include only from *_avx512.cpp files (they are
// compiled with the AVX-512 flags; everything here is inline and stays inside them).
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "gguf/types.h"
#include "quant/blocks.h"
#include "util/fp16.h"

namespace pensieve::cpu::avx512 {

// Two unaligned 256-bit loads into one 512-bit register.
inline __m512i load2x256(const void* lo, const void* hi) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i*)lo)),
                            _mm256_loadu_si256((const __m256i*)hi), 1);
}

// Lanes 0..7 = fp16 a, lanes 8..15 = fp16 b, as floats.
inline __m512 halves_fp16(fp16_t a, fp16_t b) {
  const __m128i v = _mm_cvtsi32_si128(static_cast<int>(a | (static_cast<uint32_t>(b) << 16)));
  const __m256i idx = _mm256_setr_epi16(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  return _mm512_cvtph_ps(_mm256_permutexvar_epi16(idx, _mm256_castsi128_si256(v)));
}

template <int R, int T>
inline void store_tile(const __m512 (&acc)[R][T], float* y, int64_t ldy) {
  for (int t = 0; t < T; ++t)
    for (int r = 0; r < R; ++r) y[t * ldy + r] = _mm512_reduce_add_ps(acc[r][t]);
}

using MicroFn = void (*)(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ldy);

// Covers an nr x nt tile with Micro::run<R, T> microkernels (smaller ones at the edges).
// Rows outer, tokens inner: the R weight rows stay in L1 while the token groups pass over them.
template <class Micro, int R = 4, int T = 4>
void tile_driver(int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt, float* y,
                 int64_t ldy) {
  static constexpr MicroFn kTable[4][4] = {
      {Micro::template run<1, 1>, Micro::template run<1, 2>, Micro::template run<1, 3>, Micro::template run<1, 4>},
      {Micro::template run<2, 1>, Micro::template run<2, 2>, Micro::template run<2, 3>, Micro::template run<2, 4>},
      {Micro::template run<3, 1>, Micro::template run<3, 2>, Micro::template run<3, 3>, Micro::template run<3, 4>},
      {Micro::template run<4, 1>, Micro::template run<4, 2>, Micro::template run<4, 3>, Micro::template run<4, 4>}};
  static_assert(R <= 4 && T <= 4);
  for (int r0 = 0; r0 < nr; r0 += R) {
    const int rr = std::min(R, nr - r0);
    for (int t0 = 0; t0 < nt; t0 += T) {
      const int tt = std::min(T, nt - t0);
      kTable[rr - 1][tt - 1](n, w + r0 * ws, ws, x + t0 * xs, xs, y + t0 * ldy + r0, ldy);
    }
  }
}


// ---- k-quant super-block unpacking (kernels_kquant_avx512.cpp, kernels_gemm_avx512.cpp) ----

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

}  // namespace pensieve::cpu::avx512
