// AMX-INT8 prefill kernels for Q8_0, Q4_0 and Q5_0 weights (compiled with the AMX flags; used
// only at the amx level, i.e. after cpuid and the OS granted the tile state).
//
// One TDPBSSD multiplies a 16-row x 32-byte weight tile (one block of 16 rows) by a 32 x 16
// activation tile (one block of 16 tokens) into 16 x 16 int32: 8192 multiply-adds. Each block
// has its own float scales, so after every block the int32 tile is stored and folded into 16
// float accumulators (rows) of 16 tokens: acc[r] += float(C[r]) * d_w[r] * d_x[tokens].
// Q8_0 weight tiles load straight from the GGUF rows (stride = row size): no repacking at load.
// Q4_0/Q5_0 rows are unpacked to signed bytes (q - 8, q - 16) once per 16-row group into a
// small scratch and reused for every token group. Activations (Q8_0) are repacked per call into
// the VNNI tile layout (4 consecutive k of one token per dword) with gathers.
// Edges that do not fill 16 x 16 use the AVX-512 VNNI tile function.
#include <immintrin.h>

// GCC 12's AVX-512 intrinsics start some conversions from _mm512_undefined_*(), which
// -W(maybe-)uninitialized reports once inlined; the values are fully written.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <cstring>
#include <vector>

#include "backend/cpu/kernels_table.h"
#include "quant/blocks.h"

namespace pensieve::cpu {
namespace {

struct alignas(64) TileConfig {
  uint8_t palette_id = 0;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

// Tile 0: C (16 x 16 int32). Tile 1: A, 16 weight rows x 32 bytes. Tile 2: B, 8 x 64 bytes.
void configure_tiles() {
  thread_local bool configured = false;
  if (configured) return;
  TileConfig cfg;
  cfg.palette_id = 1;
  cfg.rows[0] = 16;
  cfg.colsb[0] = 64;
  cfg.rows[1] = 16;
  cfg.colsb[1] = 32;
  cfg.rows[2] = 8;
  cfg.colsb[2] = 64;
  _tile_loadconfig(&cfg);
  configured = true;
}

// Fallback (AVX-512 VNNI) tile functions, captured when the table is filled.
TileFn g_fallback[kNumGgmlTypes] = {};

// Activations of 16 tokens for every block: bytes [g][b][k/4][token][k%4], scales [g][b][token].
struct PackedActs {
  std::vector<uint8_t> q;
  std::vector<float> d;
};

void pack_acts(const uint8_t* x, size_t xs, int n_groups, int64_t nb, PackedActs* out) {
  out->q.resize(static_cast<size_t>(n_groups) * nb * 512);
  out->d.resize(static_cast<size_t>(n_groups) * nb * 16);
  __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                   _mm512_set1_epi32(static_cast<int>(xs)));
  for (int g = 0; g < n_groups; ++g)
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* base = x + static_cast<size_t>(g) * 16 * xs + b * sizeof(block_q8_0);
      uint8_t* dst = out->q.data() + (static_cast<size_t>(g) * nb + b) * 512;
      for (int k4 = 0; k4 < 8; ++k4)
        _mm512_storeu_si512(dst + 64 * k4, _mm512_i32gather_epi32(idx, base + 2 + 4 * k4, 1));
      const __m512i dd = _mm512_i32gather_epi32(idx, base, 1);  // low 16 bits: the fp16 scale
      _mm512_storeu_ps(out->d.data() + (static_cast<size_t>(g) * nb + b) * 16,
                       _mm512_cvtph_ps(_mm512_cvtepi32_epi16(dd)));
    }
}

// 16 bytes of nibbles -> 32 bytes: low nibbles (elements 0..15), then high nibbles.
inline __m256i nibbles(const uint8_t* qs) {
  const __m128i v = _mm_loadu_si128((const __m128i*)qs);
  const __m256i y = _mm256_inserti128_si256(_mm256_castsi128_si256(v), _mm_srli_epi16(v, 4), 1);
  return _mm256_and_si256(y, _mm256_set1_epi8(0x0F));
}

struct AmxQ8_0 {
  using Block = block_q8_0;
  static constexpr bool kScratch = false;
};
struct AmxQ4_0 {
  using Block = block_q4_0;
  static constexpr bool kScratch = true;
  static void unpack(const Block& b, int8_t* q) {
    _mm256_storeu_si256((__m256i*)q, _mm256_sub_epi8(nibbles(b.qs), _mm256_set1_epi8(8)));
  }
};

struct AmxQ5_0 {
  using Block = block_q5_0;
  static constexpr bool kScratch = true;
  static void unpack(const Block& b, int8_t* q) {
    uint32_t qh;
    std::memcpy(&qh, b.qh, 4);  // bit e = fifth bit of element e
    const __m256i u = _mm256_or_si256(nibbles(b.qs), _mm256_maskz_mov_epi8(qh, _mm256_set1_epi8(0x10)));
    _mm256_storeu_si256((__m256i*)q, _mm256_sub_epi8(u, _mm256_set1_epi8(16)));
  }
};

// 16 rows starting at w (row stride ws) x all groups of 16 tokens.
template <class Ty>
void amx_row_group(int64_t nb, const uint8_t* w, size_t ws, const PackedActs& acts, int n_groups, float* y,
                   int64_t ldy, std::vector<float>& dw, std::vector<int8_t>& scratch) {
  using Block = typename Ty::Block;
  dw.resize(nb * 16);
  for (int r = 0; r < 16; ++r) {
    const Block* row = reinterpret_cast<const Block*>(w + r * ws);
    for (int64_t b = 0; b < nb; ++b) dw[b * 16 + r] = _cvtsh_ss(row[b].d);
  }
  if constexpr (Ty::kScratch) {
    scratch.resize(nb * 16 * 32);
    for (int r = 0; r < 16; ++r) {
      const Block* row = reinterpret_cast<const Block*>(w + r * ws);
      for (int64_t b = 0; b < nb; ++b) Ty::unpack(row[b], scratch.data() + (b * 16 + r) * 32);
    }
  }
  alignas(64) int32_t c[16][16];
  alignas(64) float out[16][16];
  for (int g = 0; g < n_groups; ++g) {
    __m512 acc[16];
    for (int r = 0; r < 16; ++r) acc[r] = _mm512_setzero_ps();
    const uint8_t* bq = acts.q.data() + static_cast<size_t>(g) * nb * 512;
    const float* bd = acts.d.data() + static_cast<size_t>(g) * nb * 16;
    for (int64_t b = 0; b < nb; ++b) {
      if constexpr (Ty::kScratch) _tile_loadd(1, scratch.data() + b * 16 * 32, 32);
      else _tile_loadd(1, w + b * sizeof(Block) + 2, ws);
      _tile_loadd(2, bq + b * 512, 64);
      _tile_zero(0);
      _tile_dpbssd(0, 1, 2);
      _tile_stored(0, c, 64);
      const __m512 dx = _mm512_loadu_ps(bd + b * 16);
      const float* dwb = dw.data() + b * 16;
      for (int r = 0; r < 16; ++r)
        acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(c[r])), _mm512_mul_ps(_mm512_set1_ps(dwb[r]), dx),
                                 acc[r]);
    }
    for (int r = 0; r < 16; ++r) _mm512_store_ps(out[r], acc[r]);
    for (int t = 0; t < 16; ++t)
      for (int r = 0; r < 16; ++r) y[(g * 16 + t) * ldy + r] = out[r][t];
  }
}

template <class Ty, GgmlType kType>
void amx_tile(int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt, float* y,
              int64_t ldy) {
  const TileFn fallback = g_fallback[static_cast<int>(kType)];
  const int n_groups = nt / 16, nr16 = nr / 16 * 16;
  if (n_groups == 0 || nr16 == 0) return fallback(n, w, ws, nr, x, xs, nt, y, ldy);
  configure_tiles();
  const int64_t nb = n / 32;
  thread_local PackedActs acts;
  thread_local std::vector<float> dw;
  thread_local std::vector<int8_t> scratch;
  pack_acts(x, xs, n_groups, nb, &acts);
  for (int r0 = 0; r0 < nr16; r0 += 16)
    amx_row_group<Ty>(nb, w + r0 * ws, ws, acts, n_groups, y + r0, ldy, dw, scratch);
  if (nr16 < nr)  // leftover rows, all tokens
    fallback(n, w + nr16 * ws, ws, nr - nr16, x, xs, nt, y + nr16, ldy);
  if (n_groups * 16 < nt)  // leftover tokens, the AMX rows
    fallback(n, w, ws, nr16, x + n_groups * 16 * xs, xs, nt - n_groups * 16, y + n_groups * 16 * ldy, ldy);
}

}  // namespace

void fill_kernels_amx(CpuKernelTable* t) {
  for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q5_0})
    g_fallback[static_cast<int>(type)] = t->tile[static_cast<int>(type)];
  t->tile[static_cast<int>(GgmlType::Q8_0)] = amx_tile<AmxQ8_0, GgmlType::Q8_0>;
  t->tile[static_cast<int>(GgmlType::Q4_0)] = amx_tile<AmxQ4_0, GgmlType::Q4_0>;
  t->tile[static_cast<int>(GgmlType::Q5_0)] = amx_tile<AmxQ5_0, GgmlType::Q5_0>;
  for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q5_0}) t->self_blocking[static_cast<int>(type)] = true;
}

}  // namespace pensieve::cpu
