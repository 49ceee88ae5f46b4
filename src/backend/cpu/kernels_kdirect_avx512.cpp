// Decode-path (few tokens) AVX-512 VNNI kernels for Q4_K, Q5_K and Q6_K: the weights are
// unpacked in registers straight from the GGUF bytes (no scratch), since at 1-2 tokens every
// weight byte is used once and the kernel must keep up with memory bandwidth.
//
// Q4_K/Q5_K: one 512-bit load holds two 32-byte chunks; its low nibbles are sub-blocks
// (2c, 2c+2) and its high nibbles (2c+1, 2c+3) in the k-quant layout, so the activations are
// loaded in that order (two 256-bit halves) instead of shuffling the weights. Q6_K's nibble
// halves are already in element order. Integer math as in kernels_kquant_avx512.cpp.
#include <immintrin.h>

// GCC 12's AVX-512 intrinsics start some conversions from _mm512_undefined_*(), which
// -W(maybe-)uninitialized reports once inlined; the values are fully written.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <cstring>

#include "backend/cpu/kernels_avx512_common.h"
#include "backend/cpu/kernels_table.h"
#include "quant/blocks.h"

namespace pensieve::cpu {

using KDirectFn = void (*)(int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt,
                           float* y, int64_t ldy);
KDirectFn kdirect_tile(GgmlType type);

namespace {

using namespace avx512;

inline float half(fp16_t h) { return _cvtsh_ss(h); }

// Q4_K/Q5_K 6-bit scales and mins: bytes sc[0..7] and m[0..7].
inline void k4_scales(const uint8_t* s, uint64_t* sc, uint64_t* m) {
  uint32_t a0, a1, a2;
  std::memcpy(&a0, s, 4);
  std::memcpy(&a1, s + 4, 4);
  std::memcpy(&a2, s + 8, 4);
  const uint32_t sc_lo = a0 & 0x3f3f3f3f, m_lo = a1 & 0x3f3f3f3f;
  const uint32_t sc_hi = (a2 & 0x0f0f0f0f) | (((a0 >> 6) & 0x03030303) << 4);
  const uint32_t m_hi = ((a2 >> 4) & 0x0f0f0f0f) | (((a1 >> 6) & 0x03030303) << 4);
  *sc = sc_lo | (static_cast<uint64_t>(sc_hi) << 32);
  *m = m_lo | (static_cast<uint64_t>(m_hi) << 32);
}

// Activation bytes for step k of the Q4_K/Q5_K order: elements [64(k/2)*2 + 32(k%2) ...].
// Step k covers sub-blocks (a, a+2) with a = 4(k/2) + k%2, i.e. elements 32a.. and 32(a+2)...
inline __m512i k4_x(const int8_t* qs, int k) {
  const int a = 4 * (k / 2) + (k % 2);
  return load2x256(qs + 32 * a, qs + 32 * (a + 2));
}

template <GgmlType kType, int R, int T>
void k45_micro(int64_t nsb, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ldy) {
  using Block = std::conditional_t<kType == GgmlType::Q4_K, block_q4_K, block_q5_K>;
  __m512 acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  for (int64_t s = 0; s < nsb; ++s) {
    __m512i xv[T][4];
    __m256i bs[T];
    float dx[T];
    for (int t = 0; t < T; ++t) {
      const block_q8_K& xb = reinterpret_cast<const block_q8_K*>(x + t * xs)[s];
      for (int k = 0; k < 4; ++k) xv[t][k] = k4_x(xb.qs, k);
      bs[t] = _mm256_loadu_si256((const __m256i*)xb.bsums);
      dx[t] = xb.d;
    }
    for (int r = 0; r < R; ++r) {
      const Block& b = reinterpret_cast<const Block*>(w + r * ws)[s];
      const char* next = reinterpret_cast<const char*>(w + (r + R) * ws + s * sizeof(Block));
      for (int l = 0; l < static_cast<int>(sizeof(Block)); l += 64) _mm_prefetch(next + l, _MM_HINT_T0);
      uint64_t scb, mb;
      k4_scales(b.scales, &scb, &mb);
      const __m512i sc32 = _mm512_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(scb)));
      const __m128i mbytes = _mm_cvtsi64_si128(static_cast<long long>(mb));
      const __m256i mins = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mbytes, mbytes));
      __m512i u[4];
      const __m512i v0 = _mm512_loadu_si512(b.qs), v1 = _mm512_loadu_si512(b.qs + 64);
      u[0] = _mm512_and_si512(v0, m4);
      u[1] = _mm512_and_si512(_mm512_srli_epi16(v0, 4), m4);
      u[2] = _mm512_and_si512(v1, m4);
      u[3] = _mm512_and_si512(_mm512_srli_epi16(v1, 4), m4);
      if constexpr (kType == GgmlType::Q5_K) {
        const __m512i hh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i*)b.qh));
        const __m512i bit = _mm512_set1_epi8(0x10);
        for (int k = 0; k < 4; ++k) {
          // Sub-blocks (a, a+2) take qh bits a and a+2.
          const int a = 4 * (k / 2) + (k % 2);
          const __m512i sel = _mm512_inserti64x4(_mm512_set1_epi8(static_cast<char>(1 << a)),
                                                 _mm256_set1_epi8(static_cast<char>(1 << (a + 2))), 1);
          u[k] = _mm512_or_si512(u[k], _mm512_maskz_mov_epi8(_mm512_test_epi8_mask(hh, sel), bit));
        }
      }
      __m512i sc[4];
      for (int k = 0; k < 4; ++k) {
        const int a = 4 * (k / 2) + (k % 2);
        const __m512i idx = _mm512_inserti64x4(_mm512_set1_epi32(a), _mm256_set1_epi32(a + 2), 1);
        sc[k] = _mm512_permutexvar_epi32(idx, sc32);
      }
      const float d = half(b.d), dmin = half(b.dmin);
      for (int t = 0; t < T; ++t) {
        __m512i isum = _mm512_setzero_si512();
        for (int k = 0; k < 4; ++k)
          isum = _mm512_dpwssd_epi32(isum, _mm512_dpbusd_epi32(_mm512_setzero_si512(), u[k], xv[t][k]), sc[k]);
        const __m256i msum = _mm256_madd_epi16(mins, bs[t]);
        acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_set1_ps(d * dx[t]), acc[r][t]);
        acc[r][t] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(_mm512_zextsi256_si512(msum)),
                                     _mm512_set1_ps(dmin * dx[t]), acc[r][t]);
      }
    }
  }
  store_tile<R, T>(acc, y, ldy);
}

template <int R, int T>
void q6k_micro(int64_t nsb, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ldy) {
  __m512 acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  const __m512i m4 = _mm512_set1_epi8(0x0F), m30 = _mm512_set1_epi8(0x30);
  // qh bit pairs: (0,1) for elements 0..31 of a 64-element step, (2,3) for 32..63; (4,5)/(6,7)
  // for the high-nibble steps.
  const __m512i cnt_lo = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
  const __m512i cnt_hi = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(6), 1);
  for (int64_t s = 0; s < nsb; ++s) {
    for (int r = 0; r < R; ++r) {  // the next R rows, same super-block
      const char* next = reinterpret_cast<const char*>(w + (r + R) * ws + s * sizeof(block_q6_K));
      for (int l = 0; l < static_cast<int>(sizeof(block_q6_K)); l += 64) _mm_prefetch(next + l, _MM_HINT_T0);
    }
    for (int r = 0; r < R; ++r) {
      const block_q6_K& b = reinterpret_cast<const block_q6_K*>(w + r * ws)[s];
      __m512i u[4];
      for (int h = 0; h < 2; ++h) {
        const __m512i l = _mm512_loadu_si512(b.ql + 64 * h);
        const __m512i hh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i*)(b.qh + 32 * h)));
        const __m512i hlo = _mm512_and_si512(_mm512_slli_epi16(_mm512_srlv_epi16(hh, cnt_lo), 4), m30);
        const __m512i hhi = _mm512_and_si512(_mm512_slli_epi16(_mm512_srlv_epi16(hh, cnt_hi), 4), m30);
        u[2 * h] = _mm512_or_si512(_mm512_and_si512(l, m4), hlo);
        u[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4), hhi);
      }
      const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)b.scales));
      const __m512i sc32 = _mm512_cvtepu16_epi32(sc16);  // (scale, 0) int16 pairs
      const __m256i mins = _mm256_slli_epi16(sc16, 5);   // 32 * scale
      __m512i sc[4];
      for (int k = 0; k < 4; ++k) {
        const __m512i idx = _mm512_setr_epi32(4 * k, 4 * k, 4 * k, 4 * k, 4 * k + 1, 4 * k + 1, 4 * k + 1, 4 * k + 1,
                                              4 * k + 2, 4 * k + 2, 4 * k + 2, 4 * k + 2, 4 * k + 3, 4 * k + 3,
                                              4 * k + 3, 4 * k + 3);
        sc[k] = _mm512_permutexvar_epi32(idx, sc32);
      }
      const float d = half(b.d);
      for (int t = 0; t < T; ++t) {
        const block_q8_K& xb = reinterpret_cast<const block_q8_K*>(x + t * xs)[s];
        __m512i isum = _mm512_setzero_si512();
        for (int k = 0; k < 4; ++k)
          isum = _mm512_dpwssd_epi32(
              isum, _mm512_dpbusd_epi32(_mm512_setzero_si512(), u[k], _mm512_loadu_si512(xb.qs + 64 * k)), sc[k]);
        const __m256i msum = _mm256_madd_epi16(mins, _mm256_loadu_si256((const __m256i*)xb.bsums));
        const __m512 isf = _mm512_sub_ps(_mm512_cvtepi32_ps(isum), _mm512_cvtepi32_ps(_mm512_zextsi256_si512(msum)));
        acc[r][t] = _mm512_fmadd_ps(isf, _mm512_set1_ps(d * xb.d), acc[r][t]);
      }
    }
  }
  store_tile<R, T>(acc, y, ldy);
}

template <GgmlType kType>
struct KDirect {
  template <int R, int T>
  static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ldy) {
    if constexpr (kType == GgmlType::Q6_K) q6k_micro<R, T>(n / QK_K, w, ws, x, xs, y, ldy);
    else k45_micro<kType, R, T>(n / QK_K, w, ws, x, xs, y, ldy);
  }
};

}  // namespace

KDirectFn kdirect_tile(GgmlType type) {
  switch (type) {
    case GgmlType::Q4_K: return tile_driver<KDirect<GgmlType::Q4_K>, 4, 2>;
    case GgmlType::Q5_K: return tile_driver<KDirect<GgmlType::Q5_K>, 4, 2>;
    case GgmlType::Q6_K: return tile_driver<KDirect<GgmlType::Q6_K>, 4, 2>;
    default: return nullptr;
  }
}

}  // namespace pensieve::cpu
