#include "backend/cuda/matmul_mma.cuh"

#include <cuda_fp16.h>
#include <mma.h>

#include "backend/cuda/dequant.cuh"

namespace pensieve::cuda {
namespace {

using namespace nvcuda;

constexpr int kRows = 64;      // output rows per block: one 16-row fragment per warp
constexpr int kK = 128;        // columns per shared-memory tile (4 dequant chunks of 32)
constexpr int kPad = 8;        // halves of padding per smem row (keeps wmma pointers 32-byte aligned)
constexpr int kThreads = 128;
constexpr int kTargetBlocks = 1056;  // ~8 blocks per SM of an H100/H200: many tiles in flight

// Asks L2 to fetch [p, p + bytes) ahead of the loads (a hint: never faults, never waits). The
// whole k range of a block's rows is requested when the block starts, so HBM streams the weights
// at full rate while the warps still dequantize earlier tiles (the tile loop alone has only a
// few loads in flight per thread and is latency-bound).
__device__ __forceinline__ void prefetch_l2(const uint8_t* p, int64_t bytes) {
  const uintptr_t a0 = (reinterpret_cast<uintptr_t>(p) + 15) & ~uintptr_t(15);
  const uintptr_t a1 = (reinterpret_cast<uintptr_t>(p) + uintptr_t(bytes)) & ~uintptr_t(15);
  if (a1 <= a0) return;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("cp.async.bulk.prefetch.L2.global [%0], %1;" ::"l"(a0), "r"(uint32_t(a1 - a0)) : "memory");
#else
  for (uintptr_t a = a0; a < a1; a += 128) asm volatile("prefetch.global.L2 [%0];" ::"l"(a));
#endif
}

// x (F32) -> F16 once per launch, so each block reads half the bytes and converts nothing.
__global__ void to_half_kernel(const float* __restrict__ x, half* __restrict__ xh, int64_t n4) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n4) return;
  const float4 v = __ldg(reinterpret_cast<const float4*>(x) + i);
  half2* d = reinterpret_cast<half2*>(xh) + 2 * i;
  d[0] = __floats2half2_rn(v.x, v.y);
  d[1] = __floats2half2_rn(v.z, v.w);
}

template <int NP>
struct Smem {
  static constexpr int kW = kRows * (kK + kPad) * 2, kX = NP * (kK + kPad) * 2, kC = kRows * (NP + 4) * 4;
  static constexpr int kBytes = kW + kX > kC ? kW + kX : kC;
};

// Block (bx, s): rows [32 bx, 32 bx + 32) over the k tiles of split s. One split writes y (+ bias);
// several write their partial sums to `partial` ([split][token][row]) for reduce_kernel.
template <GgmlType T, int NP>  // NP: tokens padded to a multiple of 16
__global__ void __launch_bounds__(kThreads) mma_kernel(const uint8_t* __restrict__ w, int64_t row_bytes,
                                                       int64_t n_cols, int64_t n_rows, const half* __restrict__ x,
                                                       int n_tokens, float* __restrict__ y,
                                                       const float* __restrict__ bias, int tiles_per_split,
                                                       float* __restrict__ partial) {
  __shared__ __align__(32) unsigned char smem[Smem<NP>::kBytes];
  auto ws = reinterpret_cast<half(*)[kK + kPad]>(smem);
  auto xs = reinterpret_cast<half(*)[kK + kPad]>(smem + Smem<NP>::kW);
  auto cs = reinterpret_cast<float(*)[NP + 4]>(smem);  // after the k loop
  const int warp = threadIdx.x / 32;
  const int64_t r0 = int64_t(blockIdx.x) * kRows;
  const int64_t k_begin = int64_t(blockIdx.y) * tiles_per_split * kK;
  const int64_t k_end = min(n_cols, k_begin + int64_t(tiles_per_split) * kK);

  if (threadIdx.x < kRows && r0 + threadIdx.x < n_rows) {
    const uint8_t* row = w + (r0 + threadIdx.x) * row_bytes;
    const int64_t b0 = k_begin * row_bytes / n_cols, b1 = k_end * row_bytes / n_cols;
    prefetch_l2(row + b0, b1 - b0);
  }

  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[NP / 16];
#pragma unroll
  for (int j = 0; j < NP / 16; ++j) wmma::fill_fragment(acc[j], 0.0f);

  for (int64_t k0 = k_begin; k0 < k_end; k0 += kK) {
    // Every global load of the tile is issued before any result is used (the activation tile into
    // registers, then each thread's weight chunks): one memory round trip per tile, not four.
    constexpr int kXPer = NP * (kK / 8) / kThreads;  // 16-byte activation pieces per thread
    uint4 xv[kXPer];
#pragma unroll
    for (int j = 0; j < kXPer; ++j) {
      const int i = threadIdx.x + j * kThreads, t = i / (kK / 8), c8 = (i % (kK / 8)) * 8;
      xv[j] = t < n_tokens ? __ldg(reinterpret_cast<const uint4*>(x + int64_t(t) * n_cols + k0 + c8))
                           : make_uint4(0, 0, 0, 0);
    }
    // The weight tile: kRows rows x 4 chunks of 32, dequantized once. The loop is unrolled, so the
    // compiler issues the later chunks' loads (read-only global) ahead of the earlier chunks' math
    // and shared-memory stores.
    constexpr int kWPer = kRows * (kK / 32) / kThreads;  // chunks per thread
#pragma unroll
    for (int j = 0; j < kWPer; ++j) {
      const int i = threadIdx.x + j * kThreads, rr = i / (kK / 32), cc = i % (kK / 32);
      float v[32];
      if (r0 + rr < n_rows) {
        Dq<T>::chunk(w + (r0 + rr) * row_bytes, k0 / 32 + cc, v);
      } else {
#pragma unroll
        for (int e = 0; e < 32; ++e) v[e] = 0.0f;
      }
      half2* dst = reinterpret_cast<half2*>(&ws[rr][cc * 32]);
#pragma unroll
      for (int e = 0; e < 16; ++e) dst[e] = __floats2half2_rn(v[2 * e], v[2 * e + 1]);
    }
#pragma unroll
    for (int j = 0; j < kXPer; ++j) {
      const int i = threadIdx.x + j * kThreads, t = i / (kK / 8), c8 = (i % (kK / 8)) * 8;
      *reinterpret_cast<uint4*>(&xs[t][c8]) = xv[j];
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kK; kk += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, half, wmma::row_major> a;
      wmma::load_matrix_sync(a, &ws[warp * 16][kk], kK + kPad);
#pragma unroll
      for (int j = 0; j < NP / 16; ++j) {
        wmma::fragment<wmma::matrix_b, 16, 16, 16, half, wmma::col_major> b;
        wmma::load_matrix_sync(b, &xs[j * 16][kk], kK + kPad);
        wmma::mma_sync(acc[j], a, b, acc[j]);
      }
    }
    __syncthreads();
  }
#pragma unroll
  for (int j = 0; j < NP / 16; ++j)
    wmma::store_matrix_sync(&cs[warp * 16][j * 16], acc[j], NP + 4, wmma::mem_row_major);
  __syncthreads();
  // y[t][r] (or the split's partial): consecutive threads write consecutive rows of one token.
  float* out = partial ? partial + int64_t(blockIdx.y) * n_tokens * n_rows : y;
  for (int i = threadIdx.x; i < kRows * NP; i += kThreads) {
    const int t = i / kRows, rr = i % kRows;
    const int64_t r = r0 + rr;
    if (t < n_tokens && r < n_rows) out[int64_t(t) * n_rows + r] = cs[rr][t] + (bias && !partial ? bias[r] : 0.0f);
  }
}

// y = sum of the splits' partials in split order (+ bias): the same order whatever the tokens.
__global__ void reduce_kernel(const float* __restrict__ partial, int splits, int64_t n, int64_t n_rows,
                              const float* __restrict__ bias, float* __restrict__ y) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  float v = partial[i];
  for (int s = 1; s < splits; ++s) v += partial[int64_t(s) * n + i];
  y[i] = v + (bias ? bias[i % n_rows] : 0.0f);
}

// Splits of k so that a launch has about 8 blocks per SM of an H100/H200, whatever the tokens.
struct Plan {
  int splits, tiles_per_split;
};
Plan plan(int64_t n_cols, int64_t n_rows) {
  const int64_t row_blocks = (n_rows + kRows - 1) / kRows, tiles = n_cols / kK;
  int64_t s = (kTargetBlocks + row_blocks - 1) / row_blocks;
  s = s < 1 ? 1 : (s > 16 ? 16 : s);
  if (s > tiles) s = tiles;
  const int64_t per = (tiles + s - 1) / s;
  return Plan{int((tiles + per - 1) / per), int(per)};
}

// Floats of scratch for the F16 copy of x (a multiple of 4: the partials after it stay 16-byte aligned).
int64_t half_floats(int64_t n_cols, int n_tokens) { return (int64_t(n_tokens) * n_cols / 2 + 3) / 4 * 4; }

template <GgmlType T>
void launch(const void* w, int64_t n_cols, int64_t n_rows, const float* x, int n_tokens, float* y, const float* bias,
            float* partial, cudaStream_t s) {
  const int64_t row_bytes = int64_t(ggml_row_size(T, uint64_t(n_cols)));
  const Plan p = plan(n_cols, n_rows);
  // Scratch: the F16 activations, then (when k is split) the splits' partial sums.
  half* xh = reinterpret_cast<half*>(partial);
  const int64_t n4 = int64_t(n_tokens) * n_cols / 4;
  to_half_kernel<<<unsigned((n4 + 255) / 256), 256, 0, s>>>(x, xh, n4);
  float* part = p.splits > 1 ? partial + half_floats(n_cols, n_tokens) : nullptr;
  const dim3 grid(unsigned((n_rows + kRows - 1) / kRows), unsigned(p.splits));
  const auto* wb = static_cast<const uint8_t*>(w);
  const int tps = p.tiles_per_split;
  if (n_tokens <= 16) mma_kernel<T, 16><<<grid, kThreads, 0, s>>>(wb, row_bytes, n_cols, n_rows, xh, n_tokens, y, bias, tps, part);
  else if (n_tokens <= 32) mma_kernel<T, 32><<<grid, kThreads, 0, s>>>(wb, row_bytes, n_cols, n_rows, xh, n_tokens, y, bias, tps, part);
  else if (n_tokens <= 48) mma_kernel<T, 48><<<grid, kThreads, 0, s>>>(wb, row_bytes, n_cols, n_rows, xh, n_tokens, y, bias, tps, part);
  else mma_kernel<T, 64><<<grid, kThreads, 0, s>>>(wb, row_bytes, n_cols, n_rows, xh, n_tokens, y, bias, tps, part);
  if (part) {
    const int64_t n = int64_t(n_tokens) * n_rows;
    reduce_kernel<<<unsigned((n + 255) / 256), 256, 0, s>>>(part, p.splits, n, n_rows, bias, y);
  }
}

}  // namespace

bool matmul_mma_supported(GgmlType type, int64_t n_cols) {
  if (n_cols <= 0 || n_cols % kK != 0) return false;
  switch (type) {
    case GgmlType::Q4_0: case GgmlType::Q4_1: case GgmlType::Q5_0: case GgmlType::Q5_1: case GgmlType::Q8_0:
    case GgmlType::Q2_K: case GgmlType::Q3_K: case GgmlType::Q4_K: case GgmlType::Q5_K: case GgmlType::Q6_K:
    case GgmlType::F16: case GgmlType::BF16:
      return true;
    default:
      return false;
  }
}

int64_t matmul_mma_partial_floats(int64_t n_cols, int64_t n_rows, int n_tokens) {
  if (n_cols < kK || n_rows <= 0) return 0;
  const Plan p = plan(n_cols, n_rows);
  return half_floats(n_cols, n_tokens) + (p.splits > 1 ? int64_t(p.splits) * n_tokens * n_rows : 0);
}

bool matmul_mma(GgmlType type, const void* w, int64_t n_cols, int64_t n_rows, const float* x, int n_tokens, float* y,
                const float* bias, float* partial, cudaStream_t s) {
  if (!matmul_mma_supported(type, n_cols) || n_tokens < 1 || n_tokens > kMmaMaxTokens || n_rows <= 0) return false;
  if (partial == nullptr && matmul_mma_partial_floats(n_cols, n_rows, n_tokens) > 0) return false;
  switch (type) {
    case GgmlType::Q4_0: launch<GgmlType::Q4_0>(w, n_cols, n_rows, x, n_tokens, y, bias, partial, s); break;
    case GgmlType::Q4_1: launch<GgmlType::Q4_1>(w, n_cols, n_rows, x, n_tokens, y, bias, partial, s); break;
    case GgmlType::Q5_0: launch<GgmlType::Q5_0>(w, n_cols, n_rows, x, n_tokens, y, bias, partial, s); break;
    case GgmlType::Q5_1: launch<GgmlType::Q5_1>(w, n_cols, n_rows, x, n_tokens, y, bias, partial, s); break;
    case GgmlType::Q8_0: launch<GgmlType::Q8_0>(w, n_cols, n_rows, x, n_tokens, y, bias, partial, s); break;
    case GgmlType::Q2_K: launch<GgmlType::Q2_K>(w, n_cols, n_rows, x, n_tokens, y, bias, partial, s); break;
    case GgmlType::Q3_K: launch<GgmlType::Q3_K>(w, n_cols, n_rows, x, n_tokens, y, bias, partial, s); break;
    case GgmlType::Q4_K: launch<GgmlType::Q4_K>(w, n_cols, n_rows, x, n_tokens, y, bias, partial, s); break;
    case GgmlType::Q5_K: launch<GgmlType::Q5_K>(w, n_cols, n_rows, x, n_tokens, y, bias, partial, s); break;
    case GgmlType::Q6_K: launch<GgmlType::Q6_K>(w, n_cols, n_rows, x, n_tokens, y, bias, partial, s); break;
    case GgmlType::F16: launch<GgmlType::F16>(w, n_cols, n_rows, x, n_tokens, y, bias, partial, s); break;
    default: launch<GgmlType::BF16>(w, n_cols, n_rows, x, n_tokens, y, bias, partial, s); break;
  }
  return true;
}

}  // namespace pensieve::cuda
