// AVX2 + FMA + F16C kernels (compiled with -mavx2 -mfma -mf16c; used only after cpuid says so):
// the float types, the 32-element block types, the k-quants and the activation quantizers.
//
// Integer dots use vpmaddubsw (unsigned x signed bytes -> int16 pairs) then vpmaddwd:
// - Q4/Q5 types: weights unpacked to unsigned u = q + off (<= 31), activations signed; the
//   int16 pairs cannot saturate (2 * 31 * 127), and -off * sum(x) (one more maddubs per token,
//   shared by every row) makes the sum exact.
// - Q8_0: u would reach 255 and saturate, so the sign trick: |w| (unsigned) against
//   x * sign(w) (|.| <= 127): pairs <= 2 * 128 * 127 < 32767.
// - k-quants: rows are unpacked once per tile to KQuantDecoded-like scratch (q <= 63, so pairs
//   <= 2 * 63 * 127), each 16-element group's int16 sums are multiplied by its scale with
//   vpmaddwd, and the mins use the activations' bsums.
// The microkernels hold R rows x T tokens of accumulators so each unpacked weight vector serves
// T tokens (prefill) and each activation vector R rows.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "backend/cpu/kernels_kunpack.h"
#include "backend/cpu/kernels_table.h"
#include "backend/cpu/vec_dot.h"
#include "quant/blocks.h"
#include "quant/quant.h"
#include "util/fp16.h"

namespace pensieve::cpu {
namespace {

inline float hsum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

inline __m256i load256(const void* p) { return _mm256_loadu_si256((const __m256i*)p); }
inline __m256i sum_pairs16(__m256i v) { return _mm256_madd_epi16(v, _mm256_set1_epi16(1)); }

template <int R, int T>
inline void store_tile(const __m256 (&acc)[R][T], float* y, int64_t ldy) {
  for (int t = 0; t < T; ++t)
    for (int r = 0; r < R; ++r) y[t * ldy + r] = hsum(acc[r][t]);
}

using MicroFn = void (*)(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ldy);

// Covers an nr x nt tile with Micro::run<R, T> (smaller ones at the edges); rows outer.
template <class Micro>
void tile_driver(int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt, float* y,
                 int64_t ldy) {
  static constexpr MicroFn kTable[4][2] = {{Micro::template run<1, 1>, Micro::template run<1, 2>},
                                           {Micro::template run<2, 1>, Micro::template run<2, 2>},
                                           {Micro::template run<3, 1>, Micro::template run<3, 2>},
                                           {Micro::template run<4, 1>, Micro::template run<4, 2>}};
  for (int r0 = 0; r0 < nr; r0 += 4) {
    const int rr = std::min(4, nr - r0);
    for (int t0 = 0; t0 < nt; t0 += 2) {
      const int tt = std::min(2, nt - t0);
      kTable[rr - 1][tt - 1](n, w + r0 * ws, ws, x + t0 * xs, xs, y + t0 * ldy + r0, ldy);
    }
  }
}

// ---- float weights (F32 / F16 / BF16) against F32 activations ----

template <GgmlType W>
inline __m256 load_w8(const uint8_t* row, int64_t k) {
  if constexpr (W == GgmlType::F32) return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + k);
  const __m128i h = _mm_loadu_si128((const __m128i*)(reinterpret_cast<const uint16_t*>(row) + k));
  if constexpr (W == GgmlType::F16) return _mm256_cvtph_ps(h);
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

inline float w_scalar(GgmlType type, const uint8_t* row, int64_t k) {
  if (type == GgmlType::F32) return reinterpret_cast<const float*>(row)[k];
  const uint16_t h = reinterpret_cast<const uint16_t*>(row)[k];
  return type == GgmlType::F16 ? fp16_to_fp32(h) : bf16_to_fp32(h);
}

template <GgmlType W>
struct FloatMicro {
  template <int R, int T>
  static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ldy) {
    __m256 acc[R][T];
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 8 <= n; k += 8) {
      __m256 wv[R];
      for (int r = 0; r < R; ++r) wv[r] = load_w8<W>(w + r * ws, k);
      for (int t = 0; t < T; ++t) {
        const __m256 xv = _mm256_loadu_ps(reinterpret_cast<const float*>(x + t * xs) + k);
        for (int r = 0; r < R; ++r) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
      }
    }
    for (int t = 0; t < T; ++t)
      for (int r = 0; r < R; ++r) {
        float s = hsum(acc[r][t]);
        for (int64_t j = k; j < n; ++j) s += w_scalar(W, w + r * ws, j) * reinterpret_cast<const float*>(x + t * xs)[j];
        y[t * ldy + r] = s;
      }
  }
};

// ---- 32-element block types against Q8_0 / Q8_1 ----

inline __m256i nibbles32(const uint8_t* qs) {  // elements 0..15 = low nibbles, 16..31 = high
  const __m128i v = _mm_loadu_si128((const __m128i*)qs);
  const __m256i y = _mm256_inserti128_si256(_mm256_castsi128_si256(v), _mm_srli_epi16(v, 4), 1);
  return _mm256_and_si256(y, _mm256_set1_epi8(0x0F));
}

// 0x10 in every byte whose bit is set in the 32-bit qh.
inline __m256i fifth_bits(const uint8_t* qh) {
  uint32_t bits;
  std::memcpy(&bits, qh, 4);
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int>(bits)),
      _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303));
  const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
  return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit), _mm256_set1_epi8(0x10));
}

struct Avx2Q8_0 {
  using Block = block_q8_0;
  using Act = block_q8_0;
  static constexpr int kOff = 0;  // signed weights: the sign trick instead of an offset
  static constexpr bool kHasMin = false;
  static constexpr bool kSigned = true;
  static __m256i unpack(const Block& b) { return load256(b.qs); }
};
struct Avx2Q4_0 {
  using Block = block_q4_0;
  using Act = block_q8_0;
  static constexpr int kOff = 8;
  static constexpr bool kHasMin = false;
  static constexpr bool kSigned = false;
  static __m256i unpack(const Block& b) { return nibbles32(b.qs); }
};
struct Avx2Q5_0 {
  using Block = block_q5_0;
  using Act = block_q8_0;
  static constexpr int kOff = 16;
  static constexpr bool kHasMin = false;
  static constexpr bool kSigned = false;
  static __m256i unpack(const Block& b) { return _mm256_or_si256(nibbles32(b.qs), fifth_bits(b.qh)); }
};
struct Avx2Q4_1 {
  using Block = block_q4_1;
  using Act = block_q8_1;
  static constexpr int kOff = 0;
  static constexpr bool kHasMin = true;
  static constexpr bool kSigned = false;
  static __m256i unpack(const Block& b) { return nibbles32(b.qs); }
};
struct Avx2Q5_1 {
  using Block = block_q5_1;
  using Act = block_q8_1;
  static constexpr int kOff = 0;
  static constexpr bool kHasMin = true;
  static constexpr bool kSigned = false;
  static __m256i unpack(const Block& b) { return _mm256_or_si256(nibbles32(b.qs), fifth_bits(b.qh)); }
};

template <class Ty>
struct LegacyMicro {
  template <int R, int T>
  static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ldy) {
    using Block = typename Ty::Block;
    using Act = typename Ty::Act;
    __m256 acc[R][T];
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 32; ++b) {
      __m256i u[R];
      float dw[R];
      [[maybe_unused]] float mw[R];
      for (int r = 0; r < R; ++r) {
        const Block& blk = reinterpret_cast<const Block*>(w + r * ws)[b];
        u[r] = Ty::unpack(blk);
        dw[r] = _cvtsh_ss(blk.d);
        if constexpr (Ty::kHasMin) mw[r] = _cvtsh_ss(blk.m);
      }
      for (int t = 0; t < T; ++t) {
        const Act& xb = reinterpret_cast<const Act*>(x + t * xs)[b];
        const __m256i xv = load256(xb.qs);
        const float dx = _cvtsh_ss(xb.d);
        [[maybe_unused]] __m256i corr;
        if constexpr (Ty::kOff != 0)
          corr = sum_pairs16(_mm256_maddubs_epi16(_mm256_set1_epi8(static_cast<char>(Ty::kOff)), xv));
        for (int r = 0; r < R; ++r) {
          __m256i p;
          if constexpr (Ty::kSigned) {
            p = sum_pairs16(_mm256_maddubs_epi16(_mm256_sign_epi8(u[r], u[r]), _mm256_sign_epi8(xv, u[r])));
          } else {
            p = sum_pairs16(_mm256_maddubs_epi16(u[r], xv));
            if constexpr (Ty::kOff != 0) p = _mm256_sub_epi32(p, corr);
          }
          acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dw[r] * dx), acc[r][t]);
          if constexpr (Ty::kHasMin)  // m * s spread over the 8 lanes
            acc[r][t] = _mm256_add_ps(acc[r][t], _mm256_set1_ps(mw[r] * _cvtsh_ss(xb.s) * 0.125f));
        }
      }
    }
    store_tile<R, T>(acc, y, ldy);
  }
};

// ---- k-quants against Q8_K ----

// One super-block of one row, ready for the microkernel: q in element order and, per pair of
// 16-element groups k, an int16 vector with group 2k's scale in lanes 0..7 and 2k+1's in 8..15.
struct KRow {
  uint8_t q[256];
  int16_t scale_vec[8][16];
  int16_t min[16];
  float d, dmin;
};

template <GgmlType kType>
size_t kblock_bytes() {
  return kType == GgmlType::Q2_K   ? sizeof(block_q2_K)
         : kType == GgmlType::Q3_K ? sizeof(block_q3_K)
         : kType == GgmlType::Q4_K ? sizeof(block_q4_K)
         : kType == GgmlType::Q5_K ? sizeof(block_q5_K)
                                   : sizeof(block_q6_K);
}

template <GgmlType kType>
void unpack_krows(const uint8_t* w, size_t ws, int nrows, int64_t nsb, KRow* out) {
  KQuantDecoded dec;
  for (int r = 0; r < nrows; ++r)
    for (int64_t s = 0; s < nsb; ++s) {
      const uint8_t* block = w + r * ws + s * kblock_bytes<kType>();
      KRow& k = out[r * nsb + s];
      decode_kquant_scales(kType, block, &dec);
      kunpack::unpack_q<kType>(block, k.q);
      for (int p = 0; p < 8; ++p)
        for (int l = 0; l < 16; ++l) k.scale_vec[p][l] = dec.scale[2 * p + l / 8];
      std::memcpy(k.min, dec.min, sizeof(k.min));
      k.d = dec.d;
      k.dmin = dec.dmin;
    }
}

template <int R, int T>
void kquant_micro(int64_t nsb, const KRow* rows, const uint8_t* x, size_t xs, float* y, int64_t ldy) {
  __m256 acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  for (int64_t s = 0; s < nsb; ++s) {
    __m256i isum[R][T];
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) isum[r][t] = _mm256_setzero_si256();
    for (int p = 0; p < 8; ++p) {
      __m256i xv[T];
      for (int t = 0; t < T; ++t) xv[t] = load256(reinterpret_cast<const block_q8_K*>(x + t * xs)[s].qs + 32 * p);
      for (int r = 0; r < R; ++r) {
        const KRow& k = rows[r * nsb + s];
        const __m256i u = load256(k.q + 32 * p), sc = load256(k.scale_vec[p]);
        for (int t = 0; t < T; ++t)
          isum[r][t] = _mm256_add_epi32(isum[r][t], _mm256_madd_epi16(_mm256_maddubs_epi16(u, xv[t]), sc));
      }
    }
    for (int t = 0; t < T; ++t) {
      const block_q8_K& xb = reinterpret_cast<const block_q8_K*>(x + t * xs)[s];
      const __m256i bsums = load256(xb.bsums);
      for (int r = 0; r < R; ++r) {
        const KRow& k = rows[r * nsb + s];
        const __m256i msum = _mm256_madd_epi16(load256(k.min), bsums);
        acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[r][t]), _mm256_set1_ps(k.d * xb.d), acc[r][t]);
        acc[r][t] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_set1_ps(k.dmin * xb.d), acc[r][t]);
      }
    }
  }
  store_tile<R, T>(acc, y, ldy);
}

template <GgmlType kType>
void kquant_tile(int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt, float* y,
                 int64_t ldy) {
  using KMicroFn = void (*)(int64_t, const KRow*, const uint8_t*, size_t, float*, int64_t);
  constexpr int R = 2, T = 4;
  static constexpr KMicroFn kTable[R][T] = {
      {kquant_micro<1, 1>, kquant_micro<1, 2>, kquant_micro<1, 3>, kquant_micro<1, 4>},
      {kquant_micro<2, 1>, kquant_micro<2, 2>, kquant_micro<2, 3>, kquant_micro<2, 4>}};
  const int64_t nsb = n / QK_K;
  thread_local std::vector<KRow> scratch;
  if (scratch.size() < static_cast<size_t>(R * nsb)) scratch.resize(R * nsb);
  for (int r0 = 0; r0 < nr; r0 += R) {
    const int rr = std::min(R, nr - r0);
    unpack_krows<kType>(w + r0 * ws, ws, rr, nsb, scratch.data());
    for (int t0 = 0; t0 < nt; t0 += T) {
      const int tt = std::min(T, nt - t0);
      kTable[rr - 1][tt - 1](nsb, scratch.data(), x + t0 * xs, xs, y + t0 * ldy + r0, ldy);
    }
  }
}

// ---- activation quantizers (bit-exact with quant/q8_ref.cpp) ----

inline __m256 abs_ps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

// roundf(): to nearest, ties away from zero.
inline __m256i round_away(__m256 v) {
  const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 up = _mm256_cmp_ps(abs_ps(_mm256_sub_ps(v, t)), _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  const __m256 one = _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_and_ps(v, _mm256_set1_ps(-0.0f)));  // +-1
  return _mm256_cvttps_epi32(_mm256_add_ps(t, _mm256_and_ps(up, one)));
}

// Four vectors of 8 int32 (each in [-128, 127]) -> 32 int8 in order.
inline __m256i pack32(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
  const __m256i v = _mm256_packs_epi16(ab, cd);
  return _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

template <bool kWithSum>
inline void quantize_block32(const float* x, int8_t* qs, fp16_t* d_out, fp16_t* s_out) {
  __m256 v[4];
  __m256 m = _mm256_setzero_ps();
  for (int i = 0; i < 4; ++i) {
    v[i] = _mm256_loadu_ps(x + 8 * i);
    m = _mm256_max_ps(m, abs_ps(v[i]));
  }
  const __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  const __m128 m2 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  const float amax = _mm_cvtss_f32(_mm_max_ss(m2, _mm_movehdup_ps(m2)));
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  __m256i q[4];
  for (int i = 0; i < 4; ++i) q[i] = round_away(_mm256_mul_ps(v[i], _mm256_set1_ps(id)));
  _mm256_storeu_si256((__m256i*)qs, pack32(q[0], q[1], q[2], q[3]));
  *d_out = fp32_to_fp16(d);
  if constexpr (kWithSum) {
    const __m256i s = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
    alignas(32) int32_t lanes[8];
    _mm256_store_si256((__m256i*)lanes, s);
    int sum = 0;
    for (int l : lanes) sum += l;
    *s_out = fp32_to_fp16(static_cast<float>(sum) * d);
  }
}

void quantize_q8_0_avx2(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<block_q8_0*>(dst);
  for (int64_t b = 0; b < n / 32; ++b) quantize_block32<false>(x + b * 32, y[b].qs, &y[b].d, nullptr);
}
void quantize_q8_1_avx2(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<block_q8_1*>(dst);
  for (int64_t b = 0; b < n / 32; ++b) quantize_block32<true>(x + b * 32, y[b].qs, &y[b].d, &y[b].s);
}

void quantize_q8_K_avx2(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<block_q8_K*>(dst);
  for (int64_t b = 0; b < n / 256; ++b) {
    const float* x = src + b * 256;
    // The first element of largest magnitude gives the scale its sign (as the reference does).
    float amax;
    const float max = signed_absmax(x, 256, &amax);
    if (amax == 0.0f) {
      std::memset(&y[b], 0, sizeof(block_q8_K));
      continue;
    }
    const float iscale = -127.0f / max;
    for (int i = 0; i < 8; ++i) {
      __m256i q[4];
      for (int k = 0; k < 4; ++k) {
        // cvtps rounds to nearest even, exactly the reference's nearest_int().
        q[k] = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 32 * i + 8 * k), _mm256_set1_ps(iscale)));
        q[k] = _mm256_min_epi32(q[k], _mm256_set1_epi32(127));
      }
      const __m256i packed = pack32(q[0], q[1], q[2], q[3]);
      _mm256_storeu_si256((__m256i*)(y[b].qs + 32 * i), packed);
      // bsums of the two 16-element groups of these 32
      const __m256i s16 = _mm256_maddubs_epi16(_mm256_set1_epi8(1), packed);
      const __m256i s32 = sum_pairs16(s16);
      alignas(32) int32_t lanes[8];
      _mm256_store_si256((__m256i*)lanes, s32);
      y[b].bsums[2 * i] = static_cast<int16_t>(lanes[0] + lanes[1] + lanes[2] + lanes[3]);
      y[b].bsums[2 * i + 1] = static_cast<int16_t>(lanes[4] + lanes[5] + lanes[6] + lanes[7]);
    }
    y[b].d = 1.0f / iscale;
  }
}

}  // namespace

void fill_kernels_avx2(CpuKernelTable* t) {
  auto set = [&](GgmlType type, TileFn fn) { t->tile[static_cast<int>(type)] = fn; };
  set(GgmlType::F32, tile_driver<FloatMicro<GgmlType::F32>>);
  set(GgmlType::F16, tile_driver<FloatMicro<GgmlType::F16>>);
  set(GgmlType::BF16, tile_driver<FloatMicro<GgmlType::BF16>>);
  set(GgmlType::Q8_0, tile_driver<LegacyMicro<Avx2Q8_0>>);
  set(GgmlType::Q4_0, tile_driver<LegacyMicro<Avx2Q4_0>>);
  set(GgmlType::Q5_0, tile_driver<LegacyMicro<Avx2Q5_0>>);
  set(GgmlType::Q4_1, tile_driver<LegacyMicro<Avx2Q4_1>>);
  set(GgmlType::Q5_1, tile_driver<LegacyMicro<Avx2Q5_1>>);
  set(GgmlType::Q2_K, kquant_tile<GgmlType::Q2_K>);
  set(GgmlType::Q3_K, kquant_tile<GgmlType::Q3_K>);
  set(GgmlType::Q4_K, kquant_tile<GgmlType::Q4_K>);
  set(GgmlType::Q5_K, kquant_tile<GgmlType::Q5_K>);
  set(GgmlType::Q6_K, kquant_tile<GgmlType::Q6_K>);
  t->quantize[static_cast<int>(GgmlType::Q8_0)] = quantize_q8_0_avx2;
  t->quantize[static_cast<int>(GgmlType::Q8_1)] = quantize_q8_1_avx2;
  t->quantize[static_cast<int>(GgmlType::Q8_K)] = quantize_q8_K_avx2;
}

}  // namespace pensieve::cpu
