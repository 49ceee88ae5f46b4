#include "backend/cuda/common.cuh"
#include "backend/cuda/matvec.cuh"
#include "backend/cuda/matvec_q8.cuh"
#include "backend/cuda/vecdot_q8.cuh"

namespace pensieve::cuda {

namespace {

constexpr int kWarpsPerBlock = 4;

int g_variant = 0;  // see set_matvec_q8_variant

// A block of 4 warps; `wpr` warps (1, 2 or 4) share one row. The row's work is a list of units
// (block, part): lane l of the row's warp group takes units l, l + 32 wpr, ... so its part
// (unit % kParts) stays fixed and the lanes of a warp read consecutive bytes. U units are
// loaded before any is used, to keep more loads in flight. One launch serves up to
// kMatvecQ8MaxOutputs matrices of the same type and width on the same input (q, k, v; gate, up):
// the grid's blocks are split between them.
struct Batch {
  MatvecQ8Output out[kMatvecQ8MaxOutputs];
  int first_block[kMatvecQ8MaxOutputs + 1];
  int count;
};

template <GgmlType T, int U>
__global__ void __launch_bounds__(kWarpsPerBlock * kWarp)
    matvec_q8_kernel(const Batch batch, int64_t row_bytes, int n_units, const int8_t* __restrict__ xq,
                     const float* __restrict__ xds, int64_t n_cols, int n_tokens, int64_t y_token_offset,
                     int wpr) {
  using V = q8::VecDot<T>;
  __shared__ float partial[kWarpsPerBlock][kMatvecMaxTokens];
  // Which output this block serves, by selects (a dynamic index into the parameter struct would
  // copy it to local memory: measured 1.8x slower).
  const int bid = int(blockIdx.x);
  const int m = (batch.count > 1 && bid >= batch.first_block[1]) + (batch.count > 2 && bid >= batch.first_block[2]);
  const MatvecQ8Output o = m == 0 ? batch.out[0] : m == 1 ? batch.out[1] : batch.out[2];
  const int first_block = m == 0 ? 0 : m == 1 ? batch.first_block[1] : batch.first_block[2];
  const int64_t n_rows = o.n_rows;
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  const int64_t r = int64_t(bid - first_block) * (kWarpsPerBlock / wpr) + warp / wpr;
  const int group_part = warp % wpr;
  const bool valid = r < n_rows;
  const uint8_t* wr = static_cast<const uint8_t*>(o.w) + (valid ? r : 0) * row_bytes;
  const int part = lane % V::kParts;
  const int stride = wpr * kWarp;
  float acc[kMatvecMaxTokens] = {};
  if (valid) {
    for (int u0 = group_part * kWarp + lane; u0 < n_units; u0 += U * stride) {
      typename V::Frag f[U];
#pragma unroll
      for (int i = 0; i < U; ++i) {
        const int u = u0 + i * stride;
        if (u < n_units) f[i] = V::load(wr + int64_t(u / V::kParts) * V::kBytes, part);
      }
#pragma unroll
      for (int i = 0; i < U; ++i) {
        const int u = u0 + i * stride;
        const int64_t e = int64_t(u / V::kParts) * V::kBlockElems;  // first element of the block
#pragma unroll
        for (int t = 0; t < kMatvecMaxTokens; ++t) {
          if (u < n_units && t < n_tokens) {
            const int64_t off = t * n_cols + e;
            acc[t] += V::dot(f[i], part, xq + off, xds + off / 16);
          }
        }
      }
    }
  }
#pragma unroll
  for (int t = 0; t < kMatvecMaxTokens; ++t) {
    acc[t] = warp_sum(acc[t]);
    if (lane == 0) partial[warp][t] = acc[t];
  }
  if (wpr > 1) __syncthreads();
  else __syncwarp();
  if (valid && group_part == 0 && lane < n_tokens) {
    float s = 0.0f;
    for (int p = 0; p < wpr; ++p) s += partial[warp + p][lane];
    o.y[y_token_offset * n_rows + lane * n_rows + r] = s + (o.bias ? o.bias[r] : 0.0f);
  }
}

template <GgmlType T, int U>
void launch(int64_t n_cols, const MatvecQ8Output* outs, int count, ActQ8 x, int n_tokens, cudaStream_t stream) {
  using V = q8::VecDot<T>;
  const int64_t row_bytes = static_cast<int64_t>(ggml_row_size(T, uint64_t(n_cols)));
  const int n_units = int(n_cols / V::kBlockElems) * V::kParts;
  // Warps per row: about U units (one round of loads) per lane, at most 4 warps.
  const int lanes = (n_units + U - 1) / U;
  const int wpr = lanes >= 3 * kWarp ? 4 : lanes >= 3 * kWarp / 2 ? 2 : 1;
  Batch b{};
  b.count = count;
  for (int i = 0; i < count; ++i) {
    b.out[i] = outs[i];
    b.first_block[i + 1] = b.first_block[i] + ceil_div(outs[i].n_rows, kWarpsPerBlock / wpr);
  }
  for (int t0 = 0; t0 < n_tokens; t0 += kMatvecMaxTokens) {
    const int nt = n_tokens - t0 < kMatvecMaxTokens ? n_tokens - t0 : kMatvecMaxTokens;
    matvec_q8_kernel<T, U><<<b.first_block[count], kWarpsPerBlock * kWarp, 0, stream>>>(
        b, row_bytes, n_units, x.q + int64_t(t0) * n_cols, x.ds + int64_t(t0) * n_cols / 16, n_cols, nt, t0, wpr);
  }
}

}  // namespace

bool matvec_q8_supported(GgmlType type, int64_t n_cols) {
  switch (type) {
    case GgmlType::Q8_0: case GgmlType::Q5_0:
      return n_cols % 32 == 0 && n_cols / 32 * 4 < (int64_t(1) << 30);
    case GgmlType::Q4_K: case GgmlType::Q6_K:
      return n_cols % 256 == 0 && n_cols / 256 * 8 < (int64_t(1) << 30);
    default:
      return false;
  }
}

void set_matvec_q8_variant(int v) { g_variant = v; }

bool matvec_q8(GgmlType type, const void* w, int64_t n_cols, int64_t n_rows, ActQ8 x, int n_tokens, float* y,
               const float* bias, cudaStream_t stream) {
  if (n_rows == 0) return matvec_q8_supported(type, n_cols);
  const MatvecQ8Output out{w, y, bias, n_rows};
  return matvec_q8_multi(type, n_cols, &out, 1, x, n_tokens, stream);
}

bool matvec_q8_multi(GgmlType type, int64_t n_cols, const MatvecQ8Output* outs, int count, ActQ8 x, int n_tokens,
                     cudaStream_t stream) {
  if (!matvec_q8_supported(type, n_cols) || count < 1 || count > kMatvecQ8MaxOutputs) return false;
  if (n_tokens == 0) return true;
  for (int i = 0; i < count; ++i)
    if (outs[i].n_rows == 0) return false;
  const bool more = g_variant == 1;
#define PS_Q8_LAUNCH(TT, U)                                                                   \
  (more ? launch<TT, 2 * U>(n_cols, outs, count, x, n_tokens, stream)                         \
        : launch<TT, U>(n_cols, outs, count, x, n_tokens, stream))
  switch (type) {
    case GgmlType::Q8_0: PS_Q8_LAUNCH(GgmlType::Q8_0, 4); break;
    case GgmlType::Q5_0: PS_Q8_LAUNCH(GgmlType::Q5_0, 4); break;
    case GgmlType::Q4_K: PS_Q8_LAUNCH(GgmlType::Q4_K, 2); break;
    default: PS_Q8_LAUNCH(GgmlType::Q6_K, 2); break;
  }
#undef PS_Q8_LAUNCH
  return true;
}

}  // namespace pensieve::cuda
