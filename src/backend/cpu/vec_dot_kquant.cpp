// Decoding of k-quant super-blocks into the common KQuantDecoded form (vec_dot.h).
// Bit layouts follow ggml-common.h / ggml-quants.c dequantize_row_q*_K.
#include <cstring>

#include "backend/cpu/vec_dot.h"
#include "quant/blocks.h"

namespace pensieve::cpu {
namespace {

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K / Q5_K super-block.
inline void scale_min_k4(int j, const uint8_t* q, int* sc, int* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// Q3_K packs 16 6-bit scales (stored biased by 32) into 12 bytes.
inline void q3_k_scales(const uint8_t* packed, int8_t out[16]) {
  uint32_t aux[4];
  std::memcpy(aux, packed, 12);
  const uint32_t kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f;
  const uint32_t tmp = aux[2];
  aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
  aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
  aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
  aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
  std::memcpy(out, aux, 16);
}

}  // namespace

void decode_kquant_scales(GgmlType type, const void* block, KQuantDecoded* out) {
  switch (type) {
    case GgmlType::Q2_K: {
      const auto* b = static_cast<const block_q2_K*>(block);
      out->d = fp16_to_fp32(b->d);
      out->dmin = fp16_to_fp32(b->dmin);
      for (int g = 0; g < 16; ++g) {
        out->scale[g] = b->scales[g] & 0x0F;
        out->min[g] = b->scales[g] >> 4;
      }
      break;
    }
    case GgmlType::Q3_K: {
      const auto* b = static_cast<const block_q3_K*>(block);
      int8_t sc[16];
      q3_k_scales(b->scales, sc);
      out->d = out->dmin = fp16_to_fp32(b->d);
      for (int g = 0; g < 16; ++g) {
        out->scale[g] = static_cast<int16_t>(sc[g] - 32);
        out->min[g] = static_cast<int16_t>(4 * (sc[g] - 32));
      }
      break;
    }
    case GgmlType::Q4_K:
    case GgmlType::Q5_K: {
      // Q4_K and Q5_K share the header layout (d, dmin, scales[12]).
      const auto* b = static_cast<const block_q4_K*>(block);
      out->d = fp16_to_fp32(b->d);
      out->dmin = fp16_to_fp32(b->dmin);
      for (int j = 0; j < 8; ++j) {
        int sc, m;
        scale_min_k4(j, b->scales, &sc, &m);
        out->scale[2 * j] = out->scale[2 * j + 1] = static_cast<int16_t>(sc);
        out->min[2 * j] = out->min[2 * j + 1] = static_cast<int16_t>(m);
      }
      break;
    }
    case GgmlType::Q6_K: {
      const auto* b = static_cast<const block_q6_K*>(block);
      out->d = out->dmin = fp16_to_fp32(b->d);
      for (int g = 0; g < 16; ++g) {
        out->scale[g] = b->scales[g];
        out->min[g] = static_cast<int16_t>(32 * b->scales[g]);
      }
      break;
    }
    default: break;
  }
}

void decode_kquant_block(GgmlType type, const void* block, KQuantDecoded* out) {
  decode_kquant_scales(type, block, out);
  uint8_t* q = out->q;
  switch (type) {
    case GgmlType::Q2_K: {
      const auto* b = static_cast<const block_q2_K*>(block);
      for (int h = 0; h < 2; ++h)
        for (int j = 0; j < 4; ++j)
          for (int l = 0; l < 32; ++l) q[128 * h + 32 * j + l] = (b->qs[32 * h + l] >> (2 * j)) & 3;
      break;
    }
    case GgmlType::Q3_K: {
      const auto* b = static_cast<const block_q3_K*>(block);
      for (int h = 0; h < 2; ++h)
        for (int j = 0; j < 4; ++j)
          for (int l = 0; l < 32; ++l) {
            const int low = (b->qs[32 * h + l] >> (2 * j)) & 3;
            const int high = (b->hmask[l] >> (4 * h + j)) & 1;
            q[128 * h + 32 * j + l] = static_cast<uint8_t>(low | (high << 2));
          }
      break;
    }
    case GgmlType::Q4_K: {
      const auto* b = static_cast<const block_q4_K*>(block);
      for (int c = 0; c < 4; ++c)
        for (int l = 0; l < 32; ++l) {
          q[64 * c + l] = b->qs[32 * c + l] & 0x0F;
          q[64 * c + 32 + l] = b->qs[32 * c + l] >> 4;
        }
      break;
    }
    case GgmlType::Q5_K: {
      const auto* b = static_cast<const block_q5_K*>(block);
      for (int c = 0; c < 4; ++c)
        for (int l = 0; l < 32; ++l) {
          q[64 * c + l] = static_cast<uint8_t>((b->qs[32 * c + l] & 0x0F) | (((b->qh[l] >> (2 * c)) & 1) << 4));
          q[64 * c + 32 + l] = static_cast<uint8_t>((b->qs[32 * c + l] >> 4) | (((b->qh[l] >> (2 * c + 1)) & 1) << 4));
        }
      break;
    }
    case GgmlType::Q6_K: {
      const auto* b = static_cast<const block_q6_K*>(block);
      for (int h = 0; h < 2; ++h) {
        const uint8_t* ql = b->ql + 64 * h;
        const uint8_t* qh = b->qh + 32 * h;
        for (int l = 0; l < 32; ++l) {
          q[128 * h + l] = static_cast<uint8_t>((ql[l] & 0x0F) | ((qh[l] & 3) << 4));
          q[128 * h + l + 32] = static_cast<uint8_t>((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4));
          q[128 * h + l + 64] = static_cast<uint8_t>((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
          q[128 * h + l + 96] = static_cast<uint8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
        }
      }
      break;
    }
    default: break;
  }
}

}  // namespace pensieve::cpu
