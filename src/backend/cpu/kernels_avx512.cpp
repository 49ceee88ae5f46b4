// AVX-512 (F/BW/VL/DQ) + VNNI kernels for the float and 32-element block types, and the
// activation quantizers. Compiled with the AVX-512 flags; called only after cpuid says so.
//
// Integer blocks: weights are unpacked to unsigned bytes u = q + off (off = 128 for Q8_0, 8 for
// Q4_0, 16 for Q5_0, 0 for the types with a min), activations stay signed (Q8_0 / Q8_1), so one
// vpdpbusd gives sum(u * x) per 4-element lane; starting its accumulator at -off * sum(x)
// (computed once per token, shared by every row of the tile) yields the exact sum(q * x). Each
// 512-bit step covers two blocks; the microkernel keeps R rows x T tokens of float
// accumulators in registers so every unpacked weight block is used T times.
#include <immintrin.h>

// GCC 12's AVX-512 intrinsics start some conversions from _mm512_undefined_*(), which
// -W(maybe-)uninitialized reports once inlined; the values are fully written.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <cstring>
#include <vector>

#include "backend/cpu/kernels_avx512_common.h"
#include "backend/cpu/kernels_table.h"
#include "quant/blocks.h"

namespace pensieve::cpu {
namespace {

using namespace avx512;

// ---- weight block unpackers: two blocks (512 bits) or one (upper half zero) ----

// Two 16-byte nibble arrays -> [lo0 hi0 | lo1 hi1] as bytes 0..15.
inline __m512i nibbles2(const uint8_t* q0, const uint8_t* q1) {
  const __m256i y = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i*)q0)),
                                            _mm_loadu_si128((const __m128i*)q1), 1);
  const __m512i t = _mm512_castsi256_si512(y);
  __m512i z = _mm512_shuffle_i64x2(t, t, _MM_SHUFFLE(1, 1, 0, 0));
  z = _mm512_mask_srli_epi16(z, 0xFF00FF00u, z, 4);
  return _mm512_and_si512(z, _mm512_set1_epi8(0x0F));
}
inline __m512i nibbles1(const uint8_t* q0) {
  const __m128i v = _mm_loadu_si128((const __m128i*)q0);
  const __m256i y = _mm256_inserti128_si256(_mm256_castsi128_si256(v), _mm_srli_epi16(v, 4), 1);
  return _mm512_zextsi256_si512(_mm256_and_si256(y, _mm256_set1_epi8(0x0F)));
}
inline uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

struct TypeQ8_0 {
  using Block = block_q8_0;
  using Act = block_q8_0;
  static constexpr int kOff = 128;
  static constexpr bool kHasMin = false;
  static __m512i unpack2(const Block* b) {
    const __m512i v = load2x256(b[0].qs, b[1].qs);
    return _mm512_xor_si512(v, _mm512_set1_epi8(static_cast<char>(0x80)));
  }
  static __m512i unpack1(const Block* b) {
    const __m256i v = _mm256_loadu_si256((const __m256i*)b[0].qs);
    return _mm512_zextsi256_si512(_mm256_xor_si256(v, _mm256_set1_epi8(static_cast<char>(0x80))));
  }
};

struct TypeQ4_0 {
  using Block = block_q4_0;
  using Act = block_q8_0;
  static constexpr int kOff = 8;
  static constexpr bool kHasMin = false;
  static __m512i unpack2(const Block* b) { return nibbles2(b[0].qs, b[1].qs); }
  static __m512i unpack1(const Block* b) { return nibbles1(b[0].qs); }
};

struct TypeQ4_1 {
  using Block = block_q4_1;
  using Act = block_q8_1;
  static constexpr int kOff = 0;
  static constexpr bool kHasMin = true;
  static __m512i unpack2(const Block* b) { return nibbles2(b[0].qs, b[1].qs); }
  static __m512i unpack1(const Block* b) { return nibbles1(b[0].qs); }
};

// The fifth bit of element e is bit e of qh: a byte mask adds 16 where it is set.
template <class B>
inline __m512i add_high_bits2(__m512i u, const B* b) {
  const __mmask64 k = static_cast<__mmask64>(load_u32(b[0].qh)) | (static_cast<__mmask64>(load_u32(b[1].qh)) << 32);
  return _mm512_mask_add_epi8(u, k, u, _mm512_set1_epi8(0x10));  // nibbles < 16: add = or
}
template <class B>
inline __m512i add_high_bits1(__m512i u, const B* b) {
  const __mmask64 k = static_cast<__mmask64>(load_u32(b[0].qh));
  return _mm512_mask_add_epi8(u, k, u, _mm512_set1_epi8(0x10));
}

struct TypeQ5_0 {
  using Block = block_q5_0;
  using Act = block_q8_0;
  static constexpr int kOff = 16;
  static constexpr bool kHasMin = false;
  static __m512i unpack2(const Block* b) { return add_high_bits2(nibbles2(b[0].qs, b[1].qs), b); }
  static __m512i unpack1(const Block* b) { return add_high_bits1(nibbles1(b[0].qs), b); }
};

struct TypeQ5_1 {
  using Block = block_q5_1;
  using Act = block_q8_1;
  static constexpr int kOff = 0;
  static constexpr bool kHasMin = true;
  static __m512i unpack2(const Block* b) { return add_high_bits2(nibbles2(b[0].qs, b[1].qs), b); }
  static __m512i unpack1(const Block* b) { return add_high_bits1(nibbles1(b[0].qs), b); }
};

template <class Ty>
inline const typename Ty::Block* wblock(const uint8_t* w, size_t ws, int r, int64_t b) {
  return reinterpret_cast<const typename Ty::Block*>(w + r * ws) + b;
}

// A token's side of a block pair: its scale pair and, for types without a min, the offset
// correction (one dpbusd). It does not depend on the weight row: legacy_tile computes it once
// per tile (kPre) instead of once per R rows, a fifth of the kernel at a few tokens a step.
struct LegacyXSide {
  __m512 dx;
  __m512i init;
};

// A token's activations of block b (and b + 1 with kPair), and its side of that pair given them.
template <class Ty, bool kPair>
inline __m512i load_act(const typename Ty::Act* xb) {
  return kPair ? load2x256(xb[0].qs, xb[1].qs) : _mm512_zextsi256_si512(_mm256_loadu_si256((const __m256i*)xb[0].qs));
}
template <class Ty, bool kPair>
inline LegacyXSide xside_of(const typename Ty::Act* xb, __m512i xv) {
  LegacyXSide o;
  o.dx = kPair ? halves_fp16(xb[0].d, xb[1].d) : halves_fp16(xb[0].d, 0);
  o.init = _mm512_setzero_si512();
  if constexpr (Ty::kOff != 0)
    o.init = _mm512_sub_epi32(o.init, _mm512_dpbusd_epi32(_mm512_setzero_si512(),
                                                          _mm512_set1_epi8(static_cast<char>(Ty::kOff)), xv));
  return o;
}

template <class Ty>
void prepare_xside(int64_t nb, const uint8_t* x, size_t xs, int nt, LegacyXSide* out) {
  using Act = typename Ty::Act;
  const int64_t npairs = (nb + 1) / 2;
  for (int t = 0; t < nt; ++t)
    for (int64_t p = 0; p < npairs; ++p) {
      const Act* xb = reinterpret_cast<const Act*>(x + t * xs) + 2 * p;
      out[t * npairs + p] = 2 * p + 1 < nb ? xside_of<Ty, true>(xb, load_act<Ty, true>(xb))
                                           : xside_of<Ty, false>(xb, load_act<Ty, false>(xb));
    }
}

// One step over two blocks (kPair) or the last single block, for R rows x T tokens; with kPre
// the tokens' side comes from `xside` ([T][npairs], see prepare_xside).
template <class Ty, int R, int T, bool kPair, bool kPre>
inline void legacy_step(int64_t b, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, const LegacyXSide* xside,
                        int64_t npairs, __m512 (&acc)[R][T]) {
  using Act = typename Ty::Act;
  __m512i u[R];
  __m512 dw[R];
  [[maybe_unused]] __m512 mw[R];
  for (int r = 0; r < R; ++r) {
    const auto* blk = wblock<Ty>(w, ws, r, b);
    u[r] = kPair ? Ty::unpack2(blk) : Ty::unpack1(blk);
    dw[r] = kPair ? halves_fp16(blk[0].d, blk[1].d) : halves_fp16(blk[0].d, 0);
    if constexpr (Ty::kHasMin) mw[r] = kPair ? halves_fp16(blk[0].m, blk[1].m) : halves_fp16(blk[0].m, 0);
  }
  for (int t = 0; t < T; ++t) {
    const Act* xb = reinterpret_cast<const Act*>(x + t * xs) + b;
    const __m512i xv = load_act<Ty, kPair>(xb);
    LegacyXSide side;
    if constexpr (kPre) side = xside[t * npairs + b / 2];
    else side = xside_of<Ty, kPair>(xb, xv);
    const __m512 dx = side.dx;
    const __m512i init = side.init;
    [[maybe_unused]] __m512 sx;
    if constexpr (Ty::kHasMin)  // m * s per block, spread over the 8 lanes of its half
      sx = _mm512_mul_ps(kPair ? halves_fp16(xb[0].s, xb[1].s) : halves_fp16(xb[0].s, 0), _mm512_set1_ps(0.125f));
    for (int r = 0; r < R; ++r) {
      const __m512i p = _mm512_dpbusd_epi32(init, u[r], xv);
      acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_mul_ps(dw[r], dx), acc[r][t]);
      if constexpr (Ty::kHasMin) acc[r][t] = _mm512_fmadd_ps(mw[r], sx, acc[r][t]);
    }
  }
}

template <class Ty, int R, int T, bool kPre = false>
void legacy_micro(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, const LegacyXSide* xside,
                  int64_t npairs, float* y, int64_t ldy) {
  const int64_t nb = n / 32;
  __m512 acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    // Prefetch the same columns of the next R rows (the next microkernel's): rows are short
    // streams (often < 1 KiB) that the hardware prefetchers do not ramp up on in time.
    for (int r = 0; r < R; ++r) {
      const char* next = reinterpret_cast<const char*>(wblock<Ty>(w, ws, r + R, b));
      _mm_prefetch(next, _MM_HINT_T0);
      _mm_prefetch(next + 2 * sizeof(typename Ty::Block) - 1, _MM_HINT_T0);
    }
    legacy_step<Ty, R, T, true, kPre>(b, w, ws, x, xs, xside, npairs, acc);
  }
  if (b < nb) legacy_step<Ty, R, T, false, kPre>(b, w, ws, x, xs, xside, npairs, acc);
  store_tile<R, T>(acc, y, ldy);
}

// Few-token tiles of the types without a min: the tokens' side once per tile (prepare_xside),
// then R x T microkernels over it. Per thread, a few KiB.
template <class Ty>
void legacy_tile(int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt, float* y,
                 int64_t ldy) {
  static_assert(!Ty::kHasMin && Ty::kOff != 0);
  using PreFn = void (*)(int64_t, const uint8_t*, size_t, const uint8_t*, size_t, const LegacyXSide*, int64_t, float*,
                         int64_t);
  static constexpr PreFn kTable[4][4] = {
      {legacy_micro<Ty, 1, 1, true>, legacy_micro<Ty, 1, 2, true>, legacy_micro<Ty, 1, 3, true>, legacy_micro<Ty, 1, 4, true>},
      {legacy_micro<Ty, 2, 1, true>, legacy_micro<Ty, 2, 2, true>, legacy_micro<Ty, 2, 3, true>, legacy_micro<Ty, 2, 4, true>},
      {legacy_micro<Ty, 3, 1, true>, legacy_micro<Ty, 3, 2, true>, legacy_micro<Ty, 3, 3, true>, legacy_micro<Ty, 3, 4, true>},
      {legacy_micro<Ty, 4, 1, true>, legacy_micro<Ty, 4, 2, true>, legacy_micro<Ty, 4, 3, true>, legacy_micro<Ty, 4, 4, true>}};
  const int64_t nb = n / 32, npairs = (nb + 1) / 2;
  thread_local std::vector<LegacyXSide> xside;
  if (xside.size() < static_cast<size_t>(nt * npairs)) xside.resize(static_cast<size_t>(nt * npairs));
  prepare_xside<Ty>(nb, x, xs, nt, xside.data());
  for (int r0 = 0; r0 < nr; r0 += 4) {
    const int rr = std::min(4, nr - r0);
    for (int t0 = 0; t0 < nt; t0 += 4) {
      const int tt = std::min(4, nt - t0);
      kTable[rr - 1][tt - 1](n, w + r0 * ws, ws, x + t0 * xs, xs, xside.data() + t0 * npairs, npairs,
                             y + t0 * ldy + r0, ldy);
    }
  }
}

// ---- float weights (F32 / F16 / BF16) against F32 activations ----

template <GgmlType W>
inline __m512 load_w16(const uint8_t* row, int64_t k) {
  if constexpr (W == GgmlType::F32) return _mm512_loadu_ps(reinterpret_cast<const float*>(row) + k);
  if constexpr (W == GgmlType::F16)
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)(reinterpret_cast<const uint16_t*>(row) + k)));
  const __m256i h = _mm256_loadu_si256((const __m256i*)(reinterpret_cast<const uint16_t*>(row) + k));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
template <GgmlType W>
inline __m512 load_w16_masked(const uint8_t* row, int64_t k, __mmask16 m) {
  if constexpr (W == GgmlType::F32) return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(row) + k);
  const __m256i h = _mm256_maskz_loadu_epi16(m, reinterpret_cast<const uint16_t*>(row) + k);
  if constexpr (W == GgmlType::F16) return _mm512_cvtph_ps(h);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

template <GgmlType W, int R, int T>
void float_micro(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ldy) {
  __m512 acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= n; k += 16) {
    if (k % 32 == 0)  // next R rows, same columns (see legacy_micro)
      for (int r = 0; r < R; ++r) _mm_prefetch((const char*)(w + (r + R) * ws) + k * (W == GgmlType::F32 ? 4 : 2), _MM_HINT_T0);
    __m512 wv[R];
    for (int r = 0; r < R; ++r) wv[r] = load_w16<W>(w + r * ws, k);
    for (int t = 0; t < T; ++t) {
      const __m512 xv = _mm512_loadu_ps(reinterpret_cast<const float*>(x + t * xs) + k);
      for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
    }
  }
  if (k < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - k)) - 1);
    __m512 wv[R];
    for (int r = 0; r < R; ++r) wv[r] = load_w16_masked<W>(w + r * ws, k, m);
    for (int t = 0; t < T; ++t) {
      const __m512 xv = _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(x + t * xs) + k);
      for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
    }
  }
  store_tile<R, T>(acc, y, ldy);
}

template <class Ty>
struct LegacyMicro {
  template <int R, int T>
  static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ldy) {
    legacy_micro<Ty, R, T>(n, w, ws, x, xs, nullptr, 0, y, ldy);
  }
};
template <GgmlType W>
struct FloatMicro {
  template <int R, int T>
  static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ldy) {
    float_micro<W, R, T>(n, w, ws, x, xs, y, ldy);
  }
};

// ---- Q8_0 decode (one token): 8 rows per pass, x-side work hoisted out of the row loop ----

// fp16 a in lanes 0..7 and fp16 b in lanes 8..15 as floats, read straight from memory (two
// word broadcasts + one insert: cheaper than assembling the pair in a general register).
inline __m512 halves_fp16_mem(const fp16_t* a, const fp16_t* b) {
  const __m128i lo = _mm_set1_epi16(static_cast<short>(*a));
  const __m128i hi = _mm_set1_epi16(static_cast<short>(*b));
  return _mm512_cvtph_ps(_mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1));
}

// How far ahead each row stream is prefetched. A pass's R rows are read in lockstep, so when
// the distance runs past a row's end it continues in the row R below (the same slot of the
// next pass). Same-column-next-pass prefetching (legacy_micro's) lands R rows ahead, which
// for long rows is further than L1 holds; 1 KiB per stream measured best on Zen 5 (512 and 1536
// were slower).
constexpr int64_t kDecodePrefetchBytes = 1024;

// R rows of Q8_0 weights against one Q8_0 token. Per two-block step the token's bytes, scales
// and the -128 * sum(x) correction are computed once and shared by the R rows; each row then
// costs two loads, a sign flip, one vpdpbusd, its scales and one conversion + multiply + FMA.
template <int R>
void q8_0_decode_rows(int64_t nb, const uint8_t* w, size_t ws, const block_q8_0* xb, float* y) {
  __m512 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  const __m512i off = _mm512_set1_epi8(static_cast<char>(TypeQ8_0::kOff));
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    const __m512i xv = load2x256(xb[b].qs, xb[b + 1].qs);
    const __m512 dx = halves_fp16_mem(&xb[b].d, &xb[b + 1].d);
    const __m512i init = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), off, xv));
    const int64_t pos = b * static_cast<int64_t>(sizeof(block_q8_0)) + kDecodePrefetchBytes;
    const int64_t pf = pos < static_cast<int64_t>(ws) ? kDecodePrefetchBytes : kDecodePrefetchBytes + (R - 1) * static_cast<int64_t>(ws);
    for (int r = 0; r < R; ++r) {
      const auto* blk = reinterpret_cast<const block_q8_0*>(w + r * ws) + b;
      const char* next = reinterpret_cast<const char*>(blk) + pf;
      _mm_prefetch(next, _MM_HINT_T0);
      _mm_prefetch(next + 2 * sizeof(block_q8_0) - 1, _MM_HINT_T0);
      const __m512i u = _mm512_xor_si512(load2x256(blk[0].qs, blk[1].qs), flip);
      const __m512 scale = _mm512_mul_ps(halves_fp16_mem(&blk[0].d, &blk[1].d), dx);
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(init, u, xv)), scale, acc[r]);
    }
  }
  if (b < nb) {  // odd block count: the last block alone (upper halves zero)
    const __m512i xv = _mm512_zextsi256_si512(_mm256_loadu_si256((const __m256i*)xb[b].qs));
    const __m512 dx = halves_fp16(xb[b].d, 0);
    const __m512i init = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), off, xv));
    for (int r = 0; r < R; ++r) {
      const auto* blk = reinterpret_cast<const block_q8_0*>(w + r * ws) + b;
      const __m512i u = TypeQ8_0::unpack1(blk);
      const __m512 scale = _mm512_mul_ps(halves_fp16(blk[0].d, 0), dx);
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(init, u, xv)), scale, acc[r]);
    }
  }
  for (int r = 0; r < R; ++r) y[r] = _mm512_reduce_add_ps(acc[r]);
}

// Q8_0 tiles: one token takes the decode kernel above, more tokens the shared microkernels.
void q8_0_tile(int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt, float* y,
               int64_t ldy) {
  if (nt != 1) {
    legacy_tile<TypeQ8_0>(n, w, ws, nr, x, xs, nt, y, ldy);
    return;
  }
  const int64_t nb = n / 32;
  const auto* xb = reinterpret_cast<const block_q8_0*>(x);
  int r0 = 0;
  for (; r0 + 8 <= nr; r0 += 8) q8_0_decode_rows<8>(nb, w + r0 * ws, ws, xb, y + r0);
  for (; r0 + 4 <= nr; r0 += 4) q8_0_decode_rows<4>(nb, w + r0 * ws, ws, xb, y + r0);
  for (; r0 < nr; ++r0) q8_0_decode_rows<1>(nb, w + r0 * ws, ws, xb, y + r0);
}

// ---- activation quantizers (bit-exact with quant/q8_ref.cpp) ----

// roundf(): to nearest, ties away from zero (the reference's rounding).
inline __m512i round_away(__m512 v) {
  const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m512 frac = _mm512_sub_ps(v, t);
  const __mmask16 up = _mm512_cmp_ps_mask(_mm512_abs_ps(frac), _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  const __m512 one = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ),
                                          _mm512_set1_ps(1.0f), _mm512_set1_ps(-1.0f));
  return _mm512_cvttps_epi32(_mm512_mask_add_ps(t, up, t, one));
}

template <bool kWithSum>
inline void quantize_block32(const float* x, int8_t* qs, fp16_t* d_out, fp16_t* s_out) {
  const __m512 a = _mm512_loadu_ps(x), b = _mm512_loadu_ps(x + 16);
  const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(a), _mm512_abs_ps(b)));
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const __m512 vid = _mm512_set1_ps(id);
  const __m512i qa = round_away(_mm512_mul_ps(a, vid)), qb = round_away(_mm512_mul_ps(b, vid));
  _mm_storeu_si128((__m128i*)qs, _mm512_cvtepi32_epi8(qa));
  _mm_storeu_si128((__m128i*)(qs + 16), _mm512_cvtepi32_epi8(qb));
  *d_out = fp32_to_fp16(d);
  if constexpr (kWithSum) *s_out = fp32_to_fp16(static_cast<float>(_mm512_reduce_add_epi32(_mm512_add_epi32(qa, qb))) * d);
}

void quantize_q8_0_avx512(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<block_q8_0*>(dst);
  for (int64_t b = 0; b < n / 32; ++b) quantize_block32<false>(x + b * 32, y[b].qs, &y[b].d, nullptr);
}
void quantize_q8_1_avx512(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<block_q8_1*>(dst);
  for (int64_t b = 0; b < n / 32; ++b) quantize_block32<true>(x + b * 32, y[b].qs, &y[b].d, &y[b].s);
}

void quantize_q8_K_avx512(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<block_q8_K*>(dst);
  for (int64_t b = 0; b < n / 256; ++b) {
    const float* x = src + b * 256;
    __m512 vmax = _mm512_setzero_ps();
    for (int i = 0; i < 16; ++i) vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_loadu_ps(x + 16 * i)));
    const float amax = _mm512_reduce_max_ps(vmax);
    if (amax == 0.0f) {
      std::memset(&y[b], 0, sizeof(block_q8_K));
      continue;
    }
    // The first element of largest magnitude gives the scale its sign (as the reference does).
    float max = 0.0f;
    for (int i = 0; i < 16; ++i) {
      const __mmask16 m = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(x + 16 * i)), _mm512_set1_ps(amax), _CMP_EQ_OQ);
      if (m != 0) {
        max = x[16 * i + __builtin_ctz(m)];
        break;
      }
    }
    const float iscale = -127.0f / max;
    const __m512 vs = _mm512_set1_ps(iscale);
    for (int i = 0; i < 16; ++i) {
      // cvtps rounds to nearest even, exactly the reference's nearest_int().
      __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + 16 * i), vs));
      q = _mm512_min_epi32(q, _mm512_set1_epi32(127));
      _mm_storeu_si128((__m128i*)(y[b].qs + 16 * i), _mm512_cvtepi32_epi8(q));
      y[b].bsums[i] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
    }
    y[b].d = 1.0f / iscale;
  }
}

}  // namespace

void fill_kernels_kquant_avx512(CpuKernelTable* table);
void fill_kernels_gemm_avx512(CpuKernelTable* table);  // kernels_gemm_avx512.cpp

void fill_kernels_avx512(CpuKernelTable* t) {
  auto set = [&](GgmlType type, TileFn fn) { t->tile[static_cast<int>(type)] = fn; };
  set(GgmlType::F32, tile_driver<FloatMicro<GgmlType::F32>>);
  set(GgmlType::F16, tile_driver<FloatMicro<GgmlType::F16>>);
  set(GgmlType::BF16, tile_driver<FloatMicro<GgmlType::BF16>>);
  set(GgmlType::Q4_0, legacy_tile<TypeQ4_0>);
  set(GgmlType::Q4_1, tile_driver<LegacyMicro<TypeQ4_1>>);
  set(GgmlType::Q5_0, legacy_tile<TypeQ5_0>);
  set(GgmlType::Q5_1, tile_driver<LegacyMicro<TypeQ5_1>>);
  set(GgmlType::Q8_0, q8_0_tile);
  t->quantize[static_cast<int>(GgmlType::Q8_0)] = quantize_q8_0_avx512;
  t->quantize[static_cast<int>(GgmlType::Q8_1)] = quantize_q8_1_avx512;
  t->quantize[static_cast<int>(GgmlType::Q8_K)] = quantize_q8_K_avx512;
  fill_kernels_kquant_avx512(t);
  fill_kernels_gemm_avx512(t);  // many-token tiles; the ones above stay the few-token path
}

}  // namespace pensieve::cpu
