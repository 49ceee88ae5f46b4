#include "backend/cuda/dequant.cuh"
#include "backend/cuda/dequant8.cuh"
#include "backend/cuda/matvec.cuh"

namespace pensieve::cuda {

namespace {

constexpr int kWarpsPerBlock = 4;

// Block of 4 warps; `wpr` warps (1, 2 or 4) share one row, splitting its 32-element chunks, so
// that short rows still keep every lane busy and long rows get more loads in flight.
template <GgmlType T>
__global__ void __launch_bounds__(kWarpsPerBlock * kWarp)
    matvec_kernel(const uint8_t* __restrict__ w, int64_t row_bytes, int64_t n_chunks, int64_t n_rows,
                  const float* __restrict__ x, int64_t n_cols, int n_tokens, float* __restrict__ y,
                  const float* __restrict__ bias, int wpr) {
  __shared__ float partial[kWarpsPerBlock][kMatvecMaxTokens];
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  const int rows_per_block = kWarpsPerBlock / wpr;
  const int64_t r = int64_t(blockIdx.x) * rows_per_block + warp / wpr;
  const int part = warp % wpr;
  const bool valid = r < n_rows;
  const uint8_t* wr = w + (valid ? r : 0) * row_bytes;
  float acc[kMatvecMaxTokens] = {};
  if (valid) {
    for (int64_t c = part * kWarp + lane; c < n_chunks; c += int64_t(wpr) * kWarp) {
      float a[32];
      Dq<T>::chunk(wr, c, a);
#pragma unroll
      for (int t = 0; t < kMatvecMaxTokens; ++t) {
        if (t >= n_tokens) break;
        const float4* xp = reinterpret_cast<const float4*>(x + t * n_cols + 32 * c);
#pragma unroll
        for (int v = 0; v < 8; ++v) {
          const float4 xv = __ldg(xp + v);
          acc[t] += a[4 * v] * xv.x + a[4 * v + 1] * xv.y + a[4 * v + 2] * xv.z + a[4 * v + 3] * xv.w;
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
  if (valid && part == 0 && lane < n_tokens) {
    float s = 0.0f;
    for (int p = 0; p < wpr; ++p) s += partial[warp + p][lane];
    y[lane * n_rows + r] = s + (bias ? bias[r] : 0.0f);
  }
}

// The same with 8-element groups per lane (coalesced loads); see dequant8.cuh.
template <GgmlType T>
__global__ void __launch_bounds__(kWarpsPerBlock * kWarp)
    matvec8_kernel(const uint8_t* __restrict__ w, int64_t row_bytes, int64_t n_groups, int64_t n_rows,
                   const float* __restrict__ x, int64_t n_cols, int n_tokens, float* __restrict__ y,
                   const float* __restrict__ bias, int wpr) {
  __shared__ float partial[kWarpsPerBlock][kMatvecMaxTokens];
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  const int64_t r = int64_t(blockIdx.x) * (kWarpsPerBlock / wpr) + warp / wpr;
  const int part = warp % wpr;
  const bool valid = r < n_rows;
  const uint8_t* wr = w + (valid ? r : 0) * row_bytes;
  float acc[kMatvecMaxTokens] = {};
  if (valid) {
    for (int64_t g = part * kWarp + lane; g < n_groups; g += int64_t(wpr) * kWarp) {
      float a[8];
      Dq8<T>::part(wr, g, a);
#pragma unroll
      for (int t = 0; t < kMatvecMaxTokens; ++t) {
        if (t >= n_tokens) break;
        const float4* xp = reinterpret_cast<const float4*>(x + t * n_cols + 8 * g);
        const float4 x0 = __ldg(xp), x1 = __ldg(xp + 1);
        acc[t] += a[0] * x0.x + a[1] * x0.y + a[2] * x0.z + a[3] * x0.w + a[4] * x1.x + a[5] * x1.y +
                  a[6] * x1.z + a[7] * x1.w;
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
  if (valid && part == 0 && lane < n_tokens) {
    float s = 0.0f;
    for (int p = 0; p < wpr; ++p) s += partial[warp + p][lane];
    y[lane * n_rows + r] = s + (bias ? bias[r] : 0.0f);
  }
}

bool has_matvec8(GgmlType t) {
  switch (t) {
    case GgmlType::F32: case GgmlType::F16: case GgmlType::BF16: case GgmlType::Q4_0: case GgmlType::Q8_0:
    case GgmlType::Q4_K: case GgmlType::Q5_K: case GgmlType::Q6_K:
      return true;
    default:
      return false;
  }
}

// Float weights of any width (no 32-element chunking): one warp per row, lane-strided.
template <GgmlType T>
__global__ void matvec_float_any_kernel(const void* __restrict__ w, int64_t n_rows, const float* __restrict__ x,
                                        int64_t n_cols, int n_tokens, float* __restrict__ y,
                                        const float* __restrict__ bias) {
  const int lane = threadIdx.x % kWarp;
  const int64_t r = int64_t(blockIdx.x) * (blockDim.x / kWarp) + threadIdx.x / kWarp;
  if (r >= n_rows) return;
  for (int t = 0; t < n_tokens; ++t) {
    float acc = 0.0f;
    for (int64_t k = lane; k < n_cols; k += kWarp) {
      float wv;
      if constexpr (T == GgmlType::F32) wv = static_cast<const float*>(w)[r * n_cols + k];
      else if constexpr (T == GgmlType::F16) wv = half_bits_to_float(static_cast<const uint16_t*>(w)[r * n_cols + k]);
      else wv = bf16_bits_to_float(static_cast<const uint16_t*>(w)[r * n_cols + k]);
      acc += wv * x[t * n_cols + k];
    }
    acc = warp_sum(acc);
    if (lane == 0) y[t * n_rows + r] = acc + (bias ? bias[r] : 0.0f);
  }
}

bool is_float_type(GgmlType t) { return t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16; }

}  // namespace

bool matvec_supported(GgmlType type, int64_t n_cols) {
  switch (type) {
    case GgmlType::F32: case GgmlType::F16: case GgmlType::BF16:
      return true;
    case GgmlType::Q4_0: case GgmlType::Q4_1: case GgmlType::Q5_0: case GgmlType::Q5_1: case GgmlType::Q8_0:
      return n_cols % 32 == 0;
    case GgmlType::Q2_K: case GgmlType::Q3_K: case GgmlType::Q4_K: case GgmlType::Q5_K: case GgmlType::Q6_K:
      return n_cols % 256 == 0;
    default:
      return false;
  }
}

bool matvec(GgmlType type, const void* w, int64_t n_cols, int64_t n_rows, const float* x, int n_tokens,
            float* y, const float* bias, cudaStream_t stream) {
  if (!matvec_supported(type, n_cols)) return false;
  if (n_rows == 0 || n_tokens == 0) return true;
  if (is_float_type(type) && (n_cols % 32 != 0 || (reinterpret_cast<uintptr_t>(x) % 16) != 0)) {
    const int warps = 4;
    const dim3 grid(ceil_div(n_rows, warps));
#define PS_LAUNCH_ANY(TT) matvec_float_any_kernel<TT><<<grid, warps * kWarp, 0, stream>>>(w, n_rows, x, n_cols, n_tokens, y, bias)
    if (type == GgmlType::F32) PS_LAUNCH_ANY(GgmlType::F32);
    else if (type == GgmlType::F16) PS_LAUNCH_ANY(GgmlType::F16);
    else PS_LAUNCH_ANY(GgmlType::BF16);
#undef PS_LAUNCH_ANY
    return true;
  }
  const int64_t row_bytes = static_cast<int64_t>(ggml_row_size(type, n_cols));
  const int64_t n_chunks = n_cols / 32;
  const bool by8 = has_matvec8(type);
  const int64_t n_units = by8 ? n_cols / 8 : n_chunks;
  // Warps per row: enough that each lane gets a few units of work and many loads are in flight.
  const int wpr = n_units >= 4 * 2 * kWarp ? 4 : n_units >= 2 * kWarp ? 2 : 1;
  const dim3 grid(ceil_div(n_rows, kWarpsPerBlock / wpr));
  for (int t0 = 0; t0 < n_tokens; t0 += kMatvecMaxTokens) {
    const int nt = n_tokens - t0 < kMatvecMaxTokens ? n_tokens - t0 : kMatvecMaxTokens;
    const float* xt = x + int64_t(t0) * n_cols;
    float* yt = y + int64_t(t0) * n_rows;
#define PS_LAUNCH(TT)                                                                                     \
  matvec_kernel<TT><<<grid, kWarpsPerBlock * kWarp, 0, stream>>>(static_cast<const uint8_t*>(w), row_bytes,    \
                                                                 n_chunks, n_rows, xt, n_cols, nt, yt, bias, wpr)
#define PS_LAUNCH8(TT)                                                                                    \
  matvec8_kernel<TT><<<grid, kWarpsPerBlock * kWarp, 0, stream>>>(static_cast<const uint8_t*>(w), row_bytes,   \
                                                                  n_units, n_rows, xt, n_cols, nt, yt, bias, wpr)
    if (by8) {
      switch (type) {
        case GgmlType::F32: PS_LAUNCH8(GgmlType::F32); break;
        case GgmlType::F16: PS_LAUNCH8(GgmlType::F16); break;
        case GgmlType::BF16: PS_LAUNCH8(GgmlType::BF16); break;
        case GgmlType::Q4_0: PS_LAUNCH8(GgmlType::Q4_0); break;
        case GgmlType::Q8_0: PS_LAUNCH8(GgmlType::Q8_0); break;
        case GgmlType::Q4_K: PS_LAUNCH8(GgmlType::Q4_K); break;
        case GgmlType::Q5_K: PS_LAUNCH8(GgmlType::Q5_K); break;
        default: PS_LAUNCH8(GgmlType::Q6_K); break;
      }
      continue;
    }
    PS_CUDA_DISPATCH_TYPE(type, PS_LAUNCH)
#undef PS_LAUNCH
#undef PS_LAUNCH8
  }
  return true;
}

}  // namespace pensieve::cuda
