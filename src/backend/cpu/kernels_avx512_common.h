// Helpers shared by the AVX-512 kernel files. Include only from *_avx512.cpp files (they are
// compiled with the AVX-512 flags; everything here is inline and stays inside them).
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "gguf/types.h"
#include "quant/blocks.h"
#include "backend/cpu/kernels_kunpack.h"
#include "util/fp16.h"

namespace pensieve::cpu::avx512 {

using kunpack::load256;
using kunpack::unpack_q;

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


}  // namespace pensieve::cpu::avx512
