// Reference quantizers of the k-quants Q2_K..Q6_K: 256-element super-blocks made of 16 or 32
// sub-blocks, each with its own (quantized) scale and, for Q2_K/Q4_K/Q5_K, min. The per-sub-block
// scales come from the searches in quant_k_search.h; they are then quantized to 4/6/8 bits
// against one fp16 super-block scale, and finally every element is re-quantized against the
// scale it will actually be decoded with. This is ggml's reference algorithm (what
// llama-quantize uses without an importance matrix); the layouts are decoded in dequant_k.cpp.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/quant_k_search.h"
#include "quant/quant_rows.h"

namespace pensieve::quant_rows {

using ksearch::nearest_int;

namespace {

// Q4_K / Q5_K pack 8 six-bit scales and 8 six-bit mins into 12 bytes: bytes 0-3 hold scales 0-3
// (low 6 bits), bytes 4-7 mins 0-3; bytes 8-11 hold the low nibbles of scale/min 4-7, whose
// top two bits go to the spare top bits of bytes 0-3 (scales) and 4-7 (mins).
void pack_scales_mins_k4(const uint8_t ls[8], const uint8_t lm[8], uint8_t out[K_SCALE_SIZE]) {
  for (int j = 0; j < 4; ++j) {
    out[j] = ls[j];
    out[j + 4] = lm[j];
  }
  for (int j = 4; j < 8; ++j) {
    out[j + 4] = static_cast<uint8_t>((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
    out[j - 4] |= static_cast<uint8_t>((ls[j] >> 4) << 6);
    out[j] |= static_cast<uint8_t>((lm[j] >> 4) << 6);
  }
}

void unpack_scale_min_k4(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// 2-bit planes: byte l of each 32-byte group holds elements l, l+32, l+64, l+96 of a 128 half.
void pack_2bit_planes(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < QK_K; j += 128) {
    for (int l = 0; l < 32; ++l) {
      qs[j / 4 + l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
                                           (L[j + l + 96] << 6));
    }
  }
}

// Q3_K's 16 six-bit scales (stored +32): low nibbles in bytes 0-7 (scale j and j+8 share a
// byte), the top two bits in bytes 8-11 (scale j at byte 8 + j%4, bit 2*(j/4)).
void pack_scales_q3(const int levels[16], uint8_t out[12]) {
  std::memset(out, 0, 12);
  for (int j = 0; j < 16; ++j) {
    const int l = levels[j];
    if (j < 8) {
      out[j] = static_cast<uint8_t>(l & 0xF);
    } else {
      out[j - 8] |= static_cast<uint8_t>((l & 0xF) << 4);
    }
    out[j % 4 + 8] |= static_cast<uint8_t>((l >> 4) << (2 * (j / 4)));
  }
}

int unpack_scale_q3(int j, const uint8_t* s) {
  const int lo = j < 8 ? (s[j] & 0xF) : (s[j - 8] >> 4);
  return (lo | (((s[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32;
}

// Q4_K and Q5_K differ only in the level count, the search grid and the packing of levels.
void quantize_superblock_k4(const float* x, int nmax, float rmin, float rdelta, int nstep, uint8_t* L,
                            fp16_t* d_out, fp16_t* dmin_out, uint8_t scales_out[K_SCALE_SIZE]) {
  uint8_t Laux[32];
  float weights[32], mins[QK_K / 32], scales[QK_K / 32];
  float max_scale = 0, max_min = 0;  // scales are positive once the min is taken out
  for (int j = 0; j < QK_K / 32; ++j) {
    const float* xs = x + 32 * j;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xs[l]);
    scales[j] = ksearch::asymmetric_scale_search(32, nmax, xs, weights, L + 32 * j, &mins[j], Laux, rmin,
                                                 rdelta, nstep, false);
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  uint8_t ls[8], lm[8];
  for (int j = 0; j < QK_K / 32; ++j) {
    ls[j] = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_scale * scales[j])));
    lm[j] = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_min * mins[j])));
  }
  pack_scales_mins_k4(ls, lm, scales_out);
  *d_out = fp32_to_fp16(max_scale / 63.f);
  *dmin_out = fp32_to_fp16(max_min / 63.f);
  for (int j = 0; j < QK_K / 32; ++j) {
    uint8_t sc, m;
    unpack_scale_min_k4(j, scales_out, &sc, &m);
    const float d = fp16_to_fp32(*d_out) * sc;
    if (d == 0.0f) continue;
    const float dm = fp16_to_fp32(*dmin_out) * m;
    for (int ii = 0; ii < 32; ++ii) {
      L[32 * j + ii] = static_cast<uint8_t>(std::clamp(nearest_int((x[32 * j + ii] + dm) / d), 0, nmax));
    }
  }
}

}  // namespace

void q2_K_from_float(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<block_q2_K*>(dst);
  uint8_t L[QK_K], Laux[16];
  float weights[16], mins[QK_K / 16], scales[QK_K / 16];
  const float q4scale = 15.f;
  for (int64_t i = 0; i < n / QK_K; ++i, src += QK_K) {
    const float* x = src;
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < QK_K / 16; ++j) {
      for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
      scales[j] = ksearch::asymmetric_scale_search(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux,
                                                   -0.5f, 0.1f, 15, true);
      max_scale = std::max(max_scale, scales[j]);
      max_min = std::max(max_min, mins[j]);
    }
    std::memset(y[i].scales, 0, sizeof(y[i].scales));
    y[i].d = fp32_to_fp16(0.f);
    y[i].dmin = fp32_to_fp16(0.f);
    if (max_scale > 0) {
      const float iscale = q4scale / max_scale;
      for (int j = 0; j < QK_K / 16; ++j) y[i].scales[j] = static_cast<uint8_t>(nearest_int(iscale * scales[j]));
      y[i].d = fp32_to_fp16(max_scale / q4scale);
    }
    if (max_min > 0) {
      const float iscale = q4scale / max_min;
      for (int j = 0; j < QK_K / 16; ++j) y[i].scales[j] |= static_cast<uint8_t>(nearest_int(iscale * mins[j]) << 4);
      y[i].dmin = fp32_to_fp16(max_min / q4scale);
    }
    for (int j = 0; j < QK_K / 16; ++j) {
      const float d = fp16_to_fp32(y[i].d) * (y[i].scales[j] & 0xF);
      if (d == 0.0f) continue;
      const float dm = fp16_to_fp32(y[i].dmin) * (y[i].scales[j] >> 4);
      for (int ii = 0; ii < 16; ++ii) {
        L[16 * j + ii] = static_cast<uint8_t>(std::clamp(nearest_int((x[16 * j + ii] + dm) / d), 0, 3));
      }
    }
    pack_2bit_planes(L, y[i].qs);
  }
}

void q3_K_from_float(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<block_q3_K*>(dst);
  int8_t L[QK_K];
  float scales[QK_K / 16];
  for (int64_t i = 0; i < n / QK_K; ++i, src += QK_K) {
    const float* x = src;
    float max_scale = 0, amax = 0;
    for (int j = 0; j < QK_K / 16; ++j) {
      scales[j] = ksearch::symmetric_scale_refine(16, 4, x + 16 * j, L + 16 * j);
      if (std::fabs(scales[j]) > amax) {
        amax = std::fabs(scales[j]);
        max_scale = scales[j];
      }
    }
    int levels[16] = {};
    if (max_scale != 0.0f) {
      const float iscale = -32.f / max_scale;
      for (int j = 0; j < QK_K / 16; ++j) {
        const int8_t l = static_cast<int8_t>(nearest_int(iscale * scales[j]));
        levels[j] = std::clamp<int>(l, -32, 31) + 32;
      }
      pack_scales_q3(levels, y[i].scales);
      y[i].d = fp32_to_fp16(1 / iscale);
    } else {
      std::memset(y[i].scales, 0, 12);
      y[i].d = fp32_to_fp16(0.f);
    }
    for (int j = 0; j < QK_K / 16; ++j) {
      const float d = fp16_to_fp32(y[i].d) * unpack_scale_q3(j, y[i].scales);
      if (d == 0.0f) continue;
      for (int ii = 0; ii < 16; ++ii) {
        L[16 * j + ii] = static_cast<int8_t>(std::clamp(nearest_int(x[16 * j + ii] / d), -4, 3) + 4);
      }
    }
    // The third bit of element j is bit j / 32 of hmask[j % 32]; the low two bits go in planes.
    std::memset(y[i].hmask, 0, sizeof(y[i].hmask));
    uint8_t low[QK_K];
    for (int j = 0; j < QK_K; ++j) {
      int l = L[j];
      if (l > 3) {
        y[i].hmask[j % 32] |= static_cast<uint8_t>(1u << (j / 32));
        l -= 4;
      }
      low[j] = static_cast<uint8_t>(l);
    }
    pack_2bit_planes(low, y[i].qs);
  }
}

void q4_K_from_float(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<block_q4_K*>(dst);
  uint8_t L[QK_K];
  for (int64_t i = 0; i < n / QK_K; ++i, src += QK_K) {
    quantize_superblock_k4(src, 15, -1.f, 0.1f, 20, L, &y[i].d, &y[i].dmin, y[i].scales);
    // Each 64-element chunk: 32 bytes, low nibble = element l, high nibble = element l + 32.
    for (int j = 0; j < QK_K; j += 64) {
      for (int l = 0; l < 32; ++l) y[i].qs[j / 2 + l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
    }
  }
}

void q5_K_from_float(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<block_q5_K*>(dst);
  uint8_t L[QK_K];
  for (int64_t i = 0; i < n / QK_K; ++i, src += QK_K) {
    quantize_superblock_k4(src, 31, -0.5f, 0.1f, 15, L, &y[i].d, &y[i].dmin, y[i].scales);
    // As Q4_K for the low nibbles; the fifth bit of element e is bit e / 32 of qh[e % 32].
    std::memset(y[i].qh, 0, sizeof(y[i].qh));
    for (int e = 0; e < QK_K; ++e) {
      if (L[e] > 15) y[i].qh[e % 32] |= static_cast<uint8_t>(1u << (e / 32));
    }
    for (int j = 0; j < QK_K; j += 64) {
      for (int l = 0; l < 32; ++l) {
        y[i].qs[j / 2 + l] = static_cast<uint8_t>((L[j + l] & 0xF) | ((L[j + l + 32] & 0xF) << 4));
      }
    }
  }
}

void q6_K_from_float(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<block_q6_K*>(dst);
  int8_t L[QK_K];
  float scales[QK_K / 16];
  for (int64_t i = 0; i < n / QK_K; ++i, src += QK_K) {
    const float* x = src;
    float max_scale = 0, max_abs_scale = 0;
    for (int ib = 0; ib < QK_K / 16; ++ib) {
      scales[ib] = ksearch::symmetric_scale_search(16, 32, x + 16 * ib, L + 16 * ib, nullptr);
      if (std::fabs(scales[ib]) > max_abs_scale) {
        max_abs_scale = std::fabs(scales[ib]);
        max_scale = scales[ib];
      }
    }
    if (max_abs_scale < 1e-15f) {  // an all-zero super-block
      std::memset(&y[i], 0, sizeof(block_q6_K));
      continue;
    }
    const float iscale = -128.f / max_scale;
    y[i].d = fp32_to_fp16(1 / iscale);
    for (int ib = 0; ib < QK_K / 16; ++ib) {
      y[i].scales[ib] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[ib])));
    }
    for (int j = 0; j < QK_K / 16; ++j) {
      const float d = fp16_to_fp32(y[i].d) * y[i].scales[j];
      if (d == 0.0f) continue;
      for (int ii = 0; ii < 16; ++ii) {
        L[16 * j + ii] = static_cast<int8_t>(std::clamp(nearest_int(x[16 * j + ii] / d), -32, 31) + 32);
      }
    }
    // Per 128 half: ql[l] = low nibbles of elements l (bits 0-3) and l+64 (bits 4-7),
    // ql[l+32] = elements l+32 and l+96; qh[l] = the top two bits of l, l+32, l+64, l+96.
    for (int j = 0; j < QK_K; j += 128) {
      uint8_t* ql = y[i].ql + j / 2;
      uint8_t* qh = y[i].qh + j / 4;
      for (int l = 0; l < 32; ++l) {
        const int q1 = L[j + l], q2 = L[j + l + 32], q3 = L[j + l + 64], q4 = L[j + l + 96];
        ql[l] = static_cast<uint8_t>((q1 & 0xF) | ((q3 & 0xF) << 4));
        ql[l + 32] = static_cast<uint8_t>((q2 & 0xF) | ((q4 & 0xF) << 4));
        qh[l] = static_cast<uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
      }
    }
  }
}

}  // namespace pensieve::quant_rows
