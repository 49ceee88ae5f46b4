// AVX-512 VNNI decode tiles for Q2_K and Q3_K against Q8_K activations (Q4_K..Q6_K take the
// register-unpacking tiles of kernels_kdirect_avx512.cpp; see fill_kernels_kquant_avx512).
//
// Every block is first unpacked, per super-block, into the common KQuantDecoded form
// (vec_dot.h: unsigned q per element, an int16 scale and min per 16-element group, float d
// and dmin), for R rows at a time, into a small L1-resident scratch; the microkernel then
// serves T tokens from it. Per 64 elements, vpdpbusd gives sum(q * x) per 4-element lane
// (at most 4 * 63 * 127, so it fits 16 bits) and vpdpwssd multiplies that by the group's
// scale while accumulating, so the integer sum of a whole super-block costs 2 instructions per
// 64 multiply-adds and is converted to float once. The mins use the activations' 16-element
// sums (bsums): one vpmaddwd per super-block.
#include <immintrin.h>

// GCC 12's AVX-512 intrinsics start some conversions from _mm512_undefined_*(), which
// -W(maybe-)uninitialized reports once inlined; the values are fully written.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <vector>

#include "backend/cpu/kernels_avx512_common.h"
#include "backend/cpu/kernels_table.h"
#include "backend/cpu/vec_dot.h"
#include "quant/blocks.h"

namespace pensieve::cpu {

using KDirectFn = void (*)(int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt,
                           float* y, int64_t ldy);
KDirectFn kdirect_tile(GgmlType type);  // kernels_kdirect_avx512.cpp

namespace {

using namespace avx512;

template <GgmlType kType>
void unpack_rows(const uint8_t* w, size_t ws, int nrows, int64_t nsb, KQuantDecoded* out) {
  constexpr size_t kBlockBytes = sizeof(std::conditional_t<kType == GgmlType::Q2_K, block_q2_K,
      std::conditional_t<kType == GgmlType::Q3_K, block_q3_K,
      std::conditional_t<kType == GgmlType::Q4_K, block_q4_K,
      std::conditional_t<kType == GgmlType::Q5_K, block_q5_K, block_q6_K>>>>);
  for (int r = 0; r < nrows; ++r)
    for (int64_t s = 0; s < nsb; ++s) {
      const uint8_t* block = w + r * ws + s * kBlockBytes;
      KQuantDecoded* d = out + r * nsb + s;
      decode_kquant_scales(kType, block, d);
      unpack_q<kType>(block, d->q);
    }
}

// R rows (decoded, nsb super-blocks each) x T tokens of Q8_K.
template <int R, int T>
void kquant_micro(int64_t nsb, const KQuantDecoded* dec, const uint8_t* x, size_t xs, float* y, int64_t ldy) {
  __m512 acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  // Lane i of vector k holds group 4k + i/4's scale in its low 16 bits (high 16 bits zero).
  const __m512i idx0 = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
  for (int64_t s = 0; s < nsb; ++s) {
    __m512i isum[R][T];
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) isum[r][t] = _mm512_setzero_si512();
    for (int k = 0; k < 4; ++k) {
      __m512i xv[T];
      for (int t = 0; t < T; ++t)
        xv[t] = _mm512_loadu_si512(reinterpret_cast<const block_q8_K*>(x + t * xs)[s].qs + 64 * k);
      const __m512i idx = _mm512_add_epi32(idx0, _mm512_set1_epi32(4 * k));
      for (int r = 0; r < R; ++r) {
        const KQuantDecoded& d = dec[r * nsb + s];
        const __m512i u = _mm512_loadu_si512(d.q + 64 * k);
        const __m512i sc = _mm512_permutexvar_epi32(idx, _mm512_cvtepu16_epi32(load256(d.scale)));
        for (int t = 0; t < T; ++t) {
          const __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, xv[t]);
          isum[r][t] = _mm512_dpwssd_epi32(isum[r][t], p, sc);
        }
      }
    }
    for (int t = 0; t < T; ++t) {
      const block_q8_K& xb = reinterpret_cast<const block_q8_K*>(x + t * xs)[s];
      const __m256i bsums = load256(xb.bsums);
      for (int r = 0; r < R; ++r) {
        const KQuantDecoded& d = dec[r * nsb + s];
        const __m256i msum = _mm256_madd_epi16(load256(d.min), bsums);
        acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[r][t]), _mm512_set1_ps(d.d * xb.d), acc[r][t]);
        acc[r][t] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(_mm512_zextsi256_si512(msum)),
                                     _mm512_set1_ps(d.dmin * xb.d), acc[r][t]);
      }
    }
  }
  store_tile<R, T>(acc, y, ldy);
}

using KMicroFn = void (*)(int64_t, const KQuantDecoded*, const uint8_t*, size_t, float*, int64_t);

template <GgmlType kType>
void kquant_tile(int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt, float* y,
                 int64_t ldy) {
  constexpr int R = 4, T = 3;
  static constexpr KMicroFn kTable[R][T] = {
      {kquant_micro<1, 1>, kquant_micro<1, 2>, kquant_micro<1, 3>},
      {kquant_micro<2, 1>, kquant_micro<2, 2>, kquant_micro<2, 3>},
      {kquant_micro<3, 1>, kquant_micro<3, 2>, kquant_micro<3, 3>},
      {kquant_micro<4, 1>, kquant_micro<4, 2>, kquant_micro<4, 3>}};
  const int64_t nsb = n / QK_K;
  thread_local std::vector<KQuantDecoded> scratch;
  if (scratch.size() < static_cast<size_t>(R * nsb)) scratch.resize(R * nsb);
  for (int r0 = 0; r0 < nr; r0 += R) {
    const int rr = std::min(R, nr - r0);
    unpack_rows<kType>(w + r0 * ws, ws, rr, nsb, scratch.data());
    // The next rows' blocks start coming in while this group computes: unpacking is the first
    // touch of the weights, and without this its loads wait on memory with nothing to overlap.
    if (r0 + R < nr) {
      const char* next = reinterpret_cast<const char*>(w + (r0 + R) * ws);
      const size_t bytes = static_cast<size_t>(std::min(R, nr - r0 - R)) * ws;
      for (size_t off = 0; off < bytes; off += 64) _mm_prefetch(next + off, _MM_HINT_T0);
    }
    for (int t0 = 0; t0 < nt; t0 += T) {
      const int tt = std::min(T, nt - t0);
      kTable[rr - 1][tt - 1](nsb, scratch.data(), x + t0 * xs, xs, y + t0 * ldy + r0, ldy);
    }
  }
}

}  // namespace

void fill_kernels_kquant_avx512(CpuKernelTable* t) {
  t->tile[static_cast<int>(GgmlType::Q2_K)] = kquant_tile<GgmlType::Q2_K>;
  t->tile[static_cast<int>(GgmlType::Q3_K)] = kquant_tile<GgmlType::Q3_K>;
  // Q4_K/Q5_K/Q6_K unpack in registers instead (kernels_kdirect_avx512.cpp), two tokens per
  // pass. These tiles only see the few tokens of a decode step (6 or more take the GEMM tiles),
  // and there the scratch unpack was slower even at 3-5 tokens: at 4 tokens, 1.7x (Q4_K) and
  // 1.3x (Q6_K) the time from DRAM (bench/RESULTS.md, the CPU batching section).
  for (GgmlType type : {GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K})
    t->tile[static_cast<int>(type)] = kdirect_tile(type);
}

}  // namespace pensieve::cpu
