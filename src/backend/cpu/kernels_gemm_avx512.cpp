// AVX-512 VNNI prefill GEMM (many tokens) for the integer weight types: Q8_0, Q4_0, Q5_0,
// Q4_1, Q5_1 and the k-quants Q2_K..Q6_K.
//
// The decode kernels (kernels_avx512.cpp) keep 64 elements of ONE row in a register, so every
// (row, token) pair ends in a float conversion, a scale product and a horizontal sum. Here a
// panel of 16 rows is first repacked ("VNNI layout"): register j of a 32-element block holds
// bytes 4j..4j+3 of each of the 16 rows, so one vpdpbusd against a broadcast activation dword
// advances 16 rows of one token by 4 elements, the lanes never need reducing, and a whole
// block's scales are applied once per (16 rows, token) with one cvt + mul + fma. The
// microkernel holds G panels (16 rows each) x T tokens of accumulators; the panel (repacked
// once per 32 rows, reused by every token) stays in L1/L2 while the activations stream by.
//
// Integer math as in the decode kernels: weights are unsigned u = q + off, activations signed;
// each block's int32 accumulator starts at -off * sum(x) (precomputed per token and block).
// K-quants: per 16- or 32-element group the int32 sum is multiplied by the group's integer
// scale (vpmulld) and accumulated per super-block; the mins use the activations' 16-element
// sums (bsums) with one vpdpwssd per two groups.
#include <immintrin.h>

// GCC 12's AVX-512 intrinsics start some conversions from _mm512_undefined_*(), which
// -W(maybe-)uninitialized reports once inlined; the values are fully written.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <cstddef>
#include <cstring>
#include <vector>

#include "backend/cpu/kernels_avx512_common.h"
#include "backend/cpu/kernels_table.h"
#include "backend/cpu/vec_dot.h"
#include "quant/blocks.h"

namespace pensieve::cpu {
namespace {

using namespace avx512;

// Below this many tokens the decode microkernels win (no repacking).
constexpr int kGemmMinTokens = 6;
// Tokens per microkernel call (accumulators: G * T float + G * T int32 registers).
constexpr int kTokensLegacy = 6;
constexpr int kTokensKQuant = 4;

// ---- 16 x 8 dword transpose (three rounds of vpermt2d) ----

struct TransposeTables {
  alignas(64) int32_t s1[2][16];
  alignas(64) int32_t s2[2][16];
  alignas(64) int32_t s3[2][16];
};

// Each round merges two registers; positions are column-major within a register.
const TransposeTables& transpose_tables() {
  static const TransposeTables tables = [] {
    TransposeTables t{};
    for (int p = 0; p < 16; ++p) {
      for (int h = 0; h < 2; ++h) {  // 2 rows x 8 cols (x2) -> 4 rows x cols 4h..4h+3
        const int c = 4 * h + p / 4, rr = p % 4;
        t.s1[h][p] = rr < 2 ? rr * 8 + c : 16 + (rr - 2) * 8 + c;
      }
      for (int q = 0; q < 2; ++q) {  // 4 rows x 4 cols (x2) -> 8 rows x cols 2q, 2q+1
        const int cc = 2 * q + p / 8, rr = p % 8;
        t.s2[q][p] = rr < 4 ? cc * 4 + rr : 16 + cc * 4 + rr - 4;
      }
      for (int e = 0; e < 2; ++e)  // 8 rows x 2 cols (x2) -> 16 rows x col e
        t.s3[e][p] = p < 8 ? e * 8 + p : 16 + e * 8 + p - 8;
    }
    return t;
  }();
  return tables;
}

// in[i]: dwords 0..7 of rows 2i (low half) and 2i+1 (high half). out[j]: dword j of rows 0..15.
inline void transpose16x8(const __m512i in[8], __m512i out[8]) {
  const TransposeTables& tt = transpose_tables();
  __m512i c[4][2], d[2][2][2];
  for (int h = 0; h < 2; ++h) {
    const __m512i s1 = _mm512_load_si512(tt.s1[h]);
    for (int k = 0; k < 4; ++k) c[k][h] = _mm512_permutex2var_epi32(in[2 * k], s1, in[2 * k + 1]);
  }
  for (int q = 0; q < 2; ++q) {
    const __m512i s2 = _mm512_load_si512(tt.s2[q]);
    for (int m = 0; m < 2; ++m)
      for (int h = 0; h < 2; ++h) d[m][h][q] = _mm512_permutex2var_epi32(c[2 * m][h], s2, c[2 * m + 1][h]);
  }
  for (int e = 0; e < 2; ++e) {
    const __m512i s3 = _mm512_load_si512(tt.s3[e]);
    for (int h = 0; h < 2; ++h)
      for (int q = 0; q < 2; ++q) out[4 * h + 2 * q + e] = _mm512_permutex2var_epi32(d[0][h][q], s3, d[1][h][q]);
  }
}

inline __mmask16 row_mask(int rows) { return rows >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << rows) - 1); }

// ---- legacy 32-element block types ----

inline __m256i nibbles32(const uint8_t* qs) {  // elements 0..15 = low nibbles, 16..31 = high
  const __m128i v = _mm_loadu_si128((const __m128i*)qs);
  const __m256i y = _mm256_inserti128_si256(_mm256_castsi128_si256(v), _mm_srli_epi16(v, 4), 1);
  return _mm256_and_si256(y, _mm256_set1_epi8(0x0F));
}
inline __m256i fifth_bits(__m256i u, const uint8_t* qh) {
  uint32_t bits;
  std::memcpy(&bits, qh, 4);
  return _mm256_or_si256(u, _mm256_maskz_mov_epi8(bits, _mm256_set1_epi8(0x10)));
}

struct GemmQ8_0 {
  using Block = block_q8_0;
  using Act = block_q8_0;
  static constexpr int kOff = 128;
  static constexpr bool kHasMin = false;
  static __m256i unpack(const Block& b) {
    return _mm256_xor_si256(_mm256_loadu_si256((const __m256i*)b.qs), _mm256_set1_epi8(static_cast<char>(0x80)));
  }
};
struct GemmQ4_0 {
  using Block = block_q4_0;
  using Act = block_q8_0;
  static constexpr int kOff = 8;
  static constexpr bool kHasMin = false;
  static __m256i unpack(const Block& b) { return nibbles32(b.qs); }
};
struct GemmQ5_0 {
  using Block = block_q5_0;
  using Act = block_q8_0;
  static constexpr int kOff = 16;
  static constexpr bool kHasMin = false;
  static __m256i unpack(const Block& b) { return fifth_bits(nibbles32(b.qs), b.qh); }
};
struct GemmQ4_1 {
  using Block = block_q4_1;
  using Act = block_q8_1;
  static constexpr int kOff = 0;
  static constexpr bool kHasMin = true;
  static __m256i unpack(const Block& b) { return nibbles32(b.qs); }
};
struct GemmQ5_1 {
  using Block = block_q5_1;
  using Act = block_q8_1;
  static constexpr int kOff = 0;
  static constexpr bool kHasMin = true;
  static __m256i unpack(const Block& b) { return fifth_bits(nibbles32(b.qs), b.qh); }
};

// Panel bytes per block: G x (512 quants, 64 scale[, 64 min]).
template <class Ty>
constexpr size_t legacy_block_bytes(int g) {
  return static_cast<size_t>(g) * (512 + 64 + (Ty::kHasMin ? 64 : 0));
}

// Repacks rows [0, rows) (rows <= 16 * G; missing rows are zero) of nb blocks into `panel`.
template <class Ty, int G>
void legacy_repack(const uint8_t* w, size_t ws, int rows, int64_t nb, uint8_t* panel) {
  using Block = typename Ty::Block;
  constexpr size_t kStride = legacy_block_bytes<Ty>(G);
  for (int64_t b = 0; b < nb; ++b) {
    uint8_t* pb = panel + b * kStride;
    for (int g = 0; g < G; ++g) {
      __m512i in[8], out[8];
      alignas(64) uint16_t d[16] = {}, m[16] = {};
      for (int i = 0; i < 8; ++i) {
        __m256i half[2];
        for (int k = 0; k < 2; ++k) {
          const int r = 16 * g + 2 * i + k;
          if (r < rows) {
            const Block& blk = reinterpret_cast<const Block*>(w + r * ws)[b];
            half[k] = Ty::unpack(blk);
            d[2 * i + k] = blk.d;
            if constexpr (Ty::kHasMin) m[2 * i + k] = blk.m;
          } else {
            half[k] = _mm256_setzero_si256();
          }
        }
        in[i] = _mm512_inserti64x4(_mm512_castsi256_si512(half[0]), half[1], 1);
      }
      transpose16x8(in, out);
      for (int j = 0; j < 8; ++j) _mm512_storeu_si512(pb + g * 512 + 64 * j, out[j]);
      _mm512_storeu_ps(pb + G * 512 + g * 64, _mm512_cvtph_ps(_mm256_load_si256((const __m256i*)d)));
      if constexpr (Ty::kHasMin)
        _mm512_storeu_ps(pb + G * 576 + g * 64, _mm512_cvtph_ps(_mm256_load_si256((const __m256i*)m)));
    }
  }
}

// Per token and block: the activation scale, -off * sum(q) and (types with a min) the fp16 s.
struct LegacyActSide {
  std::vector<float> d, s;
  std::vector<int32_t> corr;
};

template <class Ty>
void legacy_act_side(const uint8_t* x, size_t xs, int nt, int64_t nb, LegacyActSide* side) {
  using Act = typename Ty::Act;
  side->d.resize(static_cast<size_t>(nt) * nb);
  side->corr.resize(static_cast<size_t>(nt) * nb);
  if constexpr (Ty::kHasMin) side->s.resize(static_cast<size_t>(nt) * nb);
  const __m256i ones = _mm256_set1_epi8(1);
  for (int t = 0; t < nt; ++t) {
    const Act* a = reinterpret_cast<const Act*>(x + t * xs);
    for (int64_t b = 0; b < nb; ++b) {
      const size_t i = static_cast<size_t>(t) * nb + b;
      side->d[i] = _cvtsh_ss(a[b].d);
      if constexpr (Ty::kHasMin) side->s[i] = _cvtsh_ss(a[b].s);
      if constexpr (Ty::kOff != 0) {
        const __m256i sums = _mm256_dpbusd_epi32(_mm256_setzero_si256(), ones, _mm256_loadu_si256((const __m256i*)a[b].qs));
        const __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sums), _mm256_extracti128_si256(sums, 1));
        const __m128i s2 = _mm_add_epi32(s4, _mm_unpackhi_epi64(s4, s4));
        side->corr[i] = -Ty::kOff * (_mm_cvtsi128_si32(s2) + _mm_extract_epi32(s2, 1));
      } else {
        side->corr[i] = 0;
      }
    }
  }
}

// G panels of 16 rows x T tokens over all nb blocks. side arrays are offset to the first token.
template <class Ty, int G, int T>
void legacy_gemm_micro(int64_t nb, const uint8_t* panel, const uint8_t* x, size_t xs, const float* sd,
                       const int32_t* sc, const float* ss, float* y, int64_t ldy, int rows) {
  using Act = typename Ty::Act;
  constexpr size_t kStride = legacy_block_bytes<Ty>(G);
  constexpr size_t kQsOff = offsetof(Act, qs);
  __m512 acc[G][T];
  for (int g = 0; g < G; ++g)
    for (int t = 0; t < T; ++t) acc[g][t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* pb = panel + b * kStride;
    _mm_prefetch(reinterpret_cast<const char*>(pb + 4 * kStride), _MM_HINT_T0);
    __m512i ia[G][T];
    for (int t = 0; t < T; ++t) {
      const __m512i c = _mm512_set1_epi32(sc[t * nb + b]);
      for (int g = 0; g < G; ++g) ia[g][t] = c;
    }
    const uint8_t* xq = x + b * sizeof(Act) + kQsOff;
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) {
      __m512i wv[G];
      for (int g = 0; g < G; ++g) wv[g] = _mm512_loadu_si512(pb + g * 512 + 64 * j);
      for (int t = 0; t < T; ++t) {
        int32_t xv;
        std::memcpy(&xv, xq + t * xs + 4 * j, 4);
        const __m512i xb = _mm512_set1_epi32(xv);
        for (int g = 0; g < G; ++g) ia[g][t] = _mm512_dpbusd_epi32(ia[g][t], wv[g], xb);
      }
    }
    for (int g = 0; g < G; ++g) {
      const __m512 dw = _mm512_loadu_ps(reinterpret_cast<const float*>(pb + G * 512 + g * 64));
      for (int t = 0; t < T; ++t)
        acc[g][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ia[g][t]), _mm512_mul_ps(dw, _mm512_set1_ps(sd[t * nb + b])),
                                    acc[g][t]);
      if constexpr (Ty::kHasMin) {
        const __m512 mw = _mm512_loadu_ps(reinterpret_cast<const float*>(pb + G * 576 + g * 64));
        for (int t = 0; t < T; ++t) acc[g][t] = _mm512_fmadd_ps(mw, _mm512_set1_ps(ss[t * nb + b]), acc[g][t]);
      }
    }
  }
  for (int g = 0; g < G; ++g) {
    const __mmask16 m = row_mask(rows - 16 * g);
    for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + t * ldy + 16 * g, m, acc[g][t]);
  }
}

template <class Ty, int G>
void legacy_gemm_panel(int64_t nb, const uint8_t* panel, const uint8_t* x, size_t xs, int nt,
                       const LegacyActSide& side, float* y, int64_t ldy, int rows) {
  using Fn = void (*)(int64_t, const uint8_t*, const uint8_t*, size_t, const float*, const int32_t*,
                      const float*, float*, int64_t, int);
  static constexpr Fn kByTokens[kTokensLegacy] = {
      legacy_gemm_micro<Ty, G, 1>, legacy_gemm_micro<Ty, G, 2>, legacy_gemm_micro<Ty, G, 3>,
      legacy_gemm_micro<Ty, G, 4>, legacy_gemm_micro<Ty, G, 5>, legacy_gemm_micro<Ty, G, 6>};
  for (int t0 = 0; t0 < nt; t0 += kTokensLegacy) {
    const int tt = std::min(kTokensLegacy, nt - t0);
    const size_t so = static_cast<size_t>(t0) * nb;
    kByTokens[tt - 1](nb, panel, x + t0 * xs, xs, side.d.data() + so, side.corr.data() + so,
                      Ty::kHasMin ? side.s.data() + so : nullptr, y + t0 * ldy, ldy, rows);
  }
}

TileFn g_fallback[kNumGgmlTypes] = {};

template <class Ty, GgmlType kType>
void legacy_gemm_tile(int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt, float* y,
                      int64_t ldy) {
  if (nt < kGemmMinTokens) return g_fallback[static_cast<int>(kType)](n, w, ws, nr, x, xs, nt, y, ldy);
  const int64_t nb = n / 32;
  thread_local LegacyActSide side;
  thread_local std::vector<uint8_t> panel;
  legacy_act_side<Ty>(x, xs, nt, nb, &side);
  panel.resize(legacy_block_bytes<Ty>(2) * nb);
  for (int r0 = 0; r0 < nr; r0 += 32) {
    const int rows = std::min(32, nr - r0);
    if (rows > 16) {
      legacy_repack<Ty, 2>(w + r0 * ws, ws, rows, nb, panel.data());
      legacy_gemm_panel<Ty, 2>(nb, panel.data(), x, xs, nt, side, y + r0, ldy, rows);
    } else {
      legacy_repack<Ty, 1>(w + r0 * ws, ws, rows, nb, panel.data());
      legacy_gemm_panel<Ty, 1>(nb, panel.data(), x, xs, nt, side, y + r0, ldy, rows);
    }
  }
}

// ---- k-quants (Q8_K activations) ----

template <GgmlType kType>
constexpr int kquant_groups() {  // scale groups per super-block: 16 elements or 32
  return kType == GgmlType::Q4_K || kType == GgmlType::Q5_K ? 8 : 16;
}

template <GgmlType kType>
constexpr size_t kquant_block_bytes(int g) {
  // per group of 16 rows: 4096 quants, scales (int32), 8 min pairs (int16 x2), d, dmin
  return static_cast<size_t>(g) * (4096 + 64 * kquant_groups<kType>() + 512 + 64 + 64);
}

template <GgmlType kType>
size_t kquant_bytes_of_block() {
  return kType == GgmlType::Q2_K   ? sizeof(block_q2_K)
         : kType == GgmlType::Q3_K ? sizeof(block_q3_K)
         : kType == GgmlType::Q4_K ? sizeof(block_q4_K)
         : kType == GgmlType::Q5_K ? sizeof(block_q5_K)
                                   : sizeof(block_q6_K);
}

template <GgmlType kType, int G>
void kquant_repack(const uint8_t* w, size_t ws, int rows, int64_t nsb, uint8_t* panel) {
  constexpr int kGroups = kquant_groups<kType>();
  constexpr size_t kStride = kquant_block_bytes<kType>(G);
  const size_t bb = kquant_bytes_of_block<kType>();
  alignas(64) uint8_t q[16][256];
  alignas(64) int32_t sc[16][16], mn[8][16];
  alignas(64) float d[16], dmin[16];
  KQuantDecoded dec;
  for (int64_t s = 0; s < nsb; ++s) {
    uint8_t* ps = panel + s * kStride;
    for (int g = 0; g < G; ++g) {
      for (int r = 0; r < 16; ++r) {
        const int row = 16 * g + r;
        if (row < rows) {
          const uint8_t* blk = w + row * ws + s * bb;
          decode_kquant_scales(kType, blk, &dec);
          unpack_q<kType>(blk, q[r]);
          d[r] = dec.d;
          dmin[r] = dec.dmin;
          for (int k = 0; k < kGroups; ++k) sc[k][r] = dec.scale[k * (16 / kGroups)];
          for (int p = 0; p < 8; ++p)
            mn[p][r] = static_cast<int32_t>(static_cast<uint16_t>(dec.min[2 * p]) |
                                            (static_cast<uint32_t>(static_cast<uint16_t>(dec.min[2 * p + 1])) << 16));
        } else {
          std::memset(q[r], 0, 256);
          d[r] = dmin[r] = 0.0f;
          for (int k = 0; k < kGroups; ++k) sc[k][r] = 0;
          for (int p = 0; p < 8; ++p) mn[p][r] = 0;
        }
      }
      for (int sb = 0; sb < 8; ++sb) {
        __m512i in[8], out[8];
        for (int i = 0; i < 8; ++i) in[i] = load2x256(q[2 * i] + 32 * sb, q[2 * i + 1] + 32 * sb);
        transpose16x8(in, out);
        for (int j = 0; j < 8; ++j) _mm512_storeu_si512(ps + g * 4096 + sb * 512 + 64 * j, out[j]);
      }
      uint8_t* tail = ps + G * 4096;
      std::memcpy(tail + g * 64 * kGroups, sc, 64 * kGroups);
      tail += G * 64 * kGroups;
      std::memcpy(tail + g * 512, mn, 512);
      tail += G * 512;
      std::memcpy(tail + g * 64, d, 64);
      std::memcpy(tail + G * 64 + g * 64, dmin, 64);
    }
  }
}

template <GgmlType kType, int G, int T>
void kquant_gemm_micro(int64_t nsb, const uint8_t* panel, const uint8_t* x, size_t xs, float* y, int64_t ldy,
                       int rows) {
  constexpr int kGroups = kquant_groups<kType>();
  constexpr int kSteps = 64 / kGroups;  // dword steps per scale group: 4 or 8
  constexpr size_t kStride = kquant_block_bytes<kType>(G);
  __m512 acc[G][T];
  for (int g = 0; g < G; ++g)
    for (int t = 0; t < T; ++t) acc[g][t] = _mm512_setzero_ps();
  for (int64_t s = 0; s < nsb; ++s) {
    const uint8_t* ps = panel + s * kStride;
    const uint8_t* scales = ps + G * 4096;
    const uint8_t* mins = scales + G * 64 * kGroups;
    const uint8_t* dd = mins + G * 512;
    const block_q8_K* xb[T];
    for (int t = 0; t < T; ++t) xb[t] = reinterpret_cast<const block_q8_K*>(x + t * xs) + s;
    __m512i isum[G][T];
    for (int g = 0; g < G; ++g)
      for (int t = 0; t < T; ++t) isum[g][t] = _mm512_setzero_si512();
    for (int k = 0; k < kGroups; ++k) {
      __m512i ia[G][T];
      for (int g = 0; g < G; ++g)
        for (int t = 0; t < T; ++t) ia[g][t] = _mm512_setzero_si512();
#pragma GCC unroll 8
      for (int j = 0; j < kSteps; ++j) {
        const int e = k * kSteps + j;  // dword index in the super-block
        __m512i wv[G];
        for (int g = 0; g < G; ++g) wv[g] = _mm512_loadu_si512(ps + g * 4096 + (e / 8) * 512 + (e % 8) * 64);
        for (int t = 0; t < T; ++t) {
          int32_t xv;
          std::memcpy(&xv, xb[t]->qs + 4 * e, 4);
          const __m512i xv16 = _mm512_set1_epi32(xv);
          for (int g = 0; g < G; ++g) ia[g][t] = _mm512_dpbusd_epi32(ia[g][t], wv[g], xv16);
        }
      }
      for (int g = 0; g < G; ++g) {
        const __m512i scv = _mm512_loadu_si512(scales + g * 64 * kGroups + 64 * k);
        for (int t = 0; t < T; ++t) isum[g][t] = _mm512_add_epi32(isum[g][t], _mm512_mullo_epi32(ia[g][t], scv));
      }
    }
    __m512i msum[G][T];
    for (int g = 0; g < G; ++g)
      for (int t = 0; t < T; ++t) msum[g][t] = _mm512_setzero_si512();
    for (int p = 0; p < 8; ++p) {
      __m512i mv[G];
      for (int g = 0; g < G; ++g) mv[g] = _mm512_loadu_si512(mins + g * 512 + 64 * p);
      for (int t = 0; t < T; ++t) {
        int32_t bs;
        std::memcpy(&bs, &xb[t]->bsums[2 * p], 4);
        const __m512i bv = _mm512_set1_epi32(bs);
        for (int g = 0; g < G; ++g) msum[g][t] = _mm512_dpwssd_epi32(msum[g][t], mv[g], bv);
      }
    }
    for (int g = 0; g < G; ++g) {
      const __m512 dv = _mm512_loadu_ps(reinterpret_cast<const float*>(dd + g * 64));
      const __m512 mv = _mm512_loadu_ps(reinterpret_cast<const float*>(dd + G * 64 + g * 64));
      for (int t = 0; t < T; ++t) {
        const __m512 f = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(msum[g][t]), mv,
                                          _mm512_mul_ps(_mm512_cvtepi32_ps(isum[g][t]), dv));
        acc[g][t] = _mm512_fmadd_ps(f, _mm512_set1_ps(xb[t]->d), acc[g][t]);
      }
    }
  }
  for (int g = 0; g < G; ++g) {
    const __mmask16 m = row_mask(rows - 16 * g);
    for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + t * ldy + 16 * g, m, acc[g][t]);
  }
}

template <GgmlType kType, int G>
void kquant_gemm_panel(int64_t nsb, const uint8_t* panel, const uint8_t* x, size_t xs, int nt, float* y,
                       int64_t ldy, int rows) {
  using Fn = void (*)(int64_t, const uint8_t*, const uint8_t*, size_t, float*, int64_t, int);
  static constexpr Fn kByTokens[kTokensKQuant] = {kquant_gemm_micro<kType, G, 1>, kquant_gemm_micro<kType, G, 2>,
                                                  kquant_gemm_micro<kType, G, 3>, kquant_gemm_micro<kType, G, 4>};
  for (int t0 = 0; t0 < nt; t0 += kTokensKQuant) {
    const int tt = std::min(kTokensKQuant, nt - t0);
    kByTokens[tt - 1](nsb, panel, x + t0 * xs, xs, y + t0 * ldy, ldy, rows);
  }
}

template <GgmlType kType>
void kquant_gemm_tile(int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt, float* y,
                      int64_t ldy) {
  if (nt < kGemmMinTokens) return g_fallback[static_cast<int>(kType)](n, w, ws, nr, x, xs, nt, y, ldy);
  const int64_t nsb = n / QK_K;
  thread_local std::vector<uint8_t> panel;
  panel.resize(kquant_block_bytes<kType>(2) * nsb);
  for (int r0 = 0; r0 < nr; r0 += 32) {
    const int rows = std::min(32, nr - r0);
    if (rows > 16) {
      kquant_repack<kType, 2>(w + r0 * ws, ws, rows, nsb, panel.data());
      kquant_gemm_panel<kType, 2>(nsb, panel.data(), x, xs, nt, y + r0, ldy, rows);
    } else {
      kquant_repack<kType, 1>(w + r0 * ws, ws, rows, nsb, panel.data());
      kquant_gemm_panel<kType, 1>(nsb, panel.data(), x, xs, nt, y + r0, ldy, rows);
    }
  }
}

}  // namespace

// Installs the GEMM tiles over the decode tiles already in the table (which stay the path for
// fewer than kGemmMinTokens tokens).
void fill_kernels_gemm_avx512(CpuKernelTable* t) {
  auto set = [&](GgmlType type, TileFn fn) {
    g_fallback[static_cast<int>(type)] = t->tile[static_cast<int>(type)];
    t->tile[static_cast<int>(type)] = fn;
    t->self_blocking[static_cast<int>(type)] = true;
  };
  set(GgmlType::Q8_0, legacy_gemm_tile<GemmQ8_0, GgmlType::Q8_0>);
  set(GgmlType::Q4_0, legacy_gemm_tile<GemmQ4_0, GgmlType::Q4_0>);
  set(GgmlType::Q5_0, legacy_gemm_tile<GemmQ5_0, GgmlType::Q5_0>);
  set(GgmlType::Q4_1, legacy_gemm_tile<GemmQ4_1, GgmlType::Q4_1>);
  set(GgmlType::Q5_1, legacy_gemm_tile<GemmQ5_1, GgmlType::Q5_1>);
  set(GgmlType::Q2_K, kquant_gemm_tile<GgmlType::Q2_K>);
  set(GgmlType::Q3_K, kquant_gemm_tile<GgmlType::Q3_K>);
  set(GgmlType::Q4_K, kquant_gemm_tile<GgmlType::Q4_K>);
  set(GgmlType::Q5_K, kquant_gemm_tile<GgmlType::Q5_K>);
  set(GgmlType::Q6_K, kquant_gemm_tile<GgmlType::Q6_K>);
}

}  // namespace pensieve::cpu
