#include "backend/cuda/dequant.cuh"
#include "backend/cuda/matvec.cuh"

namespace pensieve::cuda {

namespace {

constexpr int kRowsPerWarp = 2;
constexpr int kWarpsPerBlock = 4;

template <GgmlType T>
__global__ void __launch_bounds__(kWarpsPerBlock * kWarp)
    matvec_kernel(const uint8_t* __restrict__ w, int64_t row_bytes, int64_t n_chunks, int64_t n_rows,
                  const float* __restrict__ x, int64_t n_cols, int n_tokens, float* __restrict__ y,
                  const float* __restrict__ bias) {
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  const int64_t r0 = (int64_t(blockIdx.x) * kWarpsPerBlock + warp) * kRowsPerWarp;
  if (r0 >= n_rows) return;
  const bool has_r1 = r0 + 1 < n_rows;
  const uint8_t* w0 = w + r0 * row_bytes;
  const uint8_t* w1 = has_r1 ? w0 + row_bytes : w0;
  float acc[kRowsPerWarp][kMatvecMaxTokens] = {};
  for (int64_t c = lane; c < n_chunks; c += kWarp) {
    float a[32], b[32];
    Dq<T>::chunk(w0, c, a);
    Dq<T>::chunk(w1, c, b);
#pragma unroll
    for (int t = 0; t < kMatvecMaxTokens; ++t) {
      if (t >= n_tokens) break;
      const float4* xp = reinterpret_cast<const float4*>(x + t * n_cols + 32 * c);
#pragma unroll
      for (int v = 0; v < 8; ++v) {
        const float4 xv = __ldg(xp + v);
        acc[0][t] += a[4 * v] * xv.x + a[4 * v + 1] * xv.y + a[4 * v + 2] * xv.z + a[4 * v + 3] * xv.w;
        acc[1][t] += b[4 * v] * xv.x + b[4 * v + 1] * xv.y + b[4 * v + 2] * xv.z + b[4 * v + 3] * xv.w;
      }
    }
  }
#pragma unroll
  for (int t = 0; t < kMatvecMaxTokens; ++t) {
    if (t >= n_tokens) break;
    const float s0 = warp_sum(acc[0][t]), s1 = warp_sum(acc[1][t]);
    if (lane == 0) {
      y[t * n_rows + r0] = s0 + (bias ? bias[r0] : 0.0f);
      if (has_r1) y[t * n_rows + r0 + 1] = s1 + (bias ? bias[r0 + 1] : 0.0f);
    }
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
  const dim3 grid(ceil_div(n_rows, kRowsPerWarp * kWarpsPerBlock));
  for (int t0 = 0; t0 < n_tokens; t0 += kMatvecMaxTokens) {
    const int nt = n_tokens - t0 < kMatvecMaxTokens ? n_tokens - t0 : kMatvecMaxTokens;
    const float* xt = x + int64_t(t0) * n_cols;
    float* yt = y + int64_t(t0) * n_rows;
#define PS_LAUNCH(TT)                                                                             \
  matvec_kernel<TT><<<grid, kWarpsPerBlock * kWarp, 0, stream>>>(static_cast<const uint8_t*>(w), row_bytes, \
                                                                 n_chunks, n_rows, xt, n_cols, nt, yt, bias)
    PS_CUDA_DISPATCH_TYPE(type, PS_LAUNCH)
#undef PS_LAUNCH
  }
  return true;
}

}  // namespace pensieve::cuda
