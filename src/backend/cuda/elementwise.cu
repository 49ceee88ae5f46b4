#include "backend/cuda/common.cuh"
#include "backend/cuda/elementwise.cuh"
#include "backend/cuda/pdl.cuh"

namespace pensieve::cuda {

namespace {

// One block per row. kAdd: x += a first (the residual add fused into the next norm); each thread
// reads back only the sums it wrote itself.
template <bool kAdd>
__global__ void rms_norm_kernel(float* x, const float* __restrict__ a, const float* __restrict__ w, float eps,
                                int width, float* y) {
  pdl_wait();
  pdl_trigger();
  float* xr = x + int64_t(blockIdx.x) * width;
  float* yr = y + int64_t(blockIdx.x) * width;
  float ss = 0.0f;
  for (int i = threadIdx.x; i < width; i += blockDim.x) {
    float v = xr[i];
    if constexpr (kAdd) {
      v += a[int64_t(blockIdx.x) * width + i];
      xr[i] = v;
    }
    ss += v * v;
  }
  ss = blockDim.x == kWarp ? warp_sum(ss) : block_sum(ss);
  const float inv = rsqrtf(ss / width + eps);
  for (int i = threadIdx.x; i < width; i += blockDim.x) yr[i] = xr[i] * inv * w[i];
}

__global__ void rope_kernel(float* x, int n_tokens, int n_heads, int head_dim, int n_rot, bool neox,
                            const int32_t* __restrict__ positions, const float* __restrict__ inv_freq, float mscale) {
  pdl_wait();
  pdl_trigger();
  const int half = n_rot / 2;
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= int64_t(n_tokens) * n_heads * half) return;
  const int p = int(i % half);
  const int64_t th = i / half;  // token * n_heads + head
  const int t = int(th / n_heads);
  float* head = x + th * head_dim;
  // The angle is rounded to float as the CPU computes it, then its sine and cosine are taken
  // accurately (fast-math sinf is far off for angles of thousands of radians).
  const float angle = float(positions[t]) * inv_freq[p];
  double s, c;
  sincos(double(angle), &s, &c);
  const float cs = float(c) * mscale, sn = float(s) * mscale;
  const int a = neox ? p : 2 * p, b = neox ? p + half : 2 * p + 1;
  const float x0 = head[a], x1 = head[b];
  head[a] = x0 * cs - x1 * sn;
  head[b] = x0 * sn + x1 * cs;
}

__global__ void silu_mul_kernel(const float* __restrict__ g, const float* __restrict__ u, int64_t n, float* out) {
  pdl_wait();
  pdl_trigger();
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) {
    const float v = g[i];
    out[i] = v / (1.0f + expf(-v)) * u[i];
  }
}

__global__ void add_kernel(float* x, const float* __restrict__ y, int64_t n) {
  pdl_wait();
  pdl_trigger();
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) x[i] += y[i];
}

__global__ void add_bias_kernel(float* x, const float* __restrict__ b, int64_t n, int64_t width) {
  pdl_wait();
  pdl_trigger();
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) x[i] += b[i % width];
}

__global__ void gather_rows_kernel(const float* __restrict__ src, int width, const int32_t* __restrict__ rows,
                                   float* __restrict__ dst) {
  pdl_wait();
  pdl_trigger();
  const int64_t r = rows[blockIdx.x];
  for (int i = threadIdx.x; i < width; i += blockDim.x) dst[int64_t(blockIdx.x) * width + i] = src[r * width + i];
}

// (v, i) pairs: the larger value wins, the lower index among equals.
__device__ __forceinline__ void argmax_merge(float& v, int& i, float ov, int oi) {
  if (ov > v || (ov == v && oi < i)) {
    v = ov;
    i = oi;
  }
}

// Reduces every thread's (v, i) to thread 0's (blockDim.x a multiple of 32, <= 1024).
__device__ __forceinline__ void argmax_block(float& v, int& i) {
  __shared__ float sv[32];
  __shared__ int si[32];
#pragma unroll
  for (int o = 16; o > 0; o >>= 1)
    argmax_merge(v, i, __shfl_xor_sync(0xffffffffu, v, o), __shfl_xor_sync(0xffffffffu, i, o));
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  __syncthreads();  // sv / si may still be read by a previous call
  if (lane == 0) {
    sv[warp] = v;
    si[warp] = i;
  }
  __syncthreads();
  if (warp == 0) {
    const int n_warps = blockDim.x / kWarp;
    v = lane < n_warps ? sv[lane] : -INFINITY;
    i = lane < n_warps ? si[lane] : 0x7fffffff;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1)
      argmax_merge(v, i, __shfl_xor_sync(0xffffffffu, v, o), __shfl_xor_sync(0xffffffffu, i, o));
  }
}

// grid (kArgmaxBlocks, n_rows): each block scans a slice of its row with 8 loads in flight per
// thread and leaves its (max, index) in the scratch; the last block of a row to finish (a
// counter per row, reset by that block) merges them. One block per row took ~20-40 us on a
// 150k vocabulary, every decode step.
__global__ void argmax_kernel(const float* __restrict__ x, int width, const uint64_t* __restrict__ allowed,
                              int32_t* out, int32_t* scratch) {
  pdl_wait();
  pdl_trigger();
  constexpr int kUnroll = 8;
  const int row = blockIdx.y, nb = gridDim.x;
  const float* r = x + int64_t(row) * width;
  const uint64_t* bits = allowed ? allowed + int64_t(row) * ((width + 63) / 64) : nullptr;
  const int chunk = (width + nb - 1) / nb;
  const int begin = blockIdx.x * chunk, end = min(width, begin + chunk);
  float best = -INFINITY;
  int best_i = 0x7fffffff;
  for (int i0 = begin + threadIdx.x; i0 < end; i0 += kUnroll * blockDim.x) {
    float v[kUnroll];
#pragma unroll
    for (int k = 0; k < kUnroll; ++k) {
      const int i = i0 + k * blockDim.x;
      v[k] = i < end && (!bits || ((bits[i >> 6] >> (i & 63)) & 1)) ? r[i] : -INFINITY;
    }
#pragma unroll
    for (int k = 0; k < kUnroll; ++k)  // increasing index: a strict > keeps the first of equals
      if (v[k] > best) {
        best = v[k];
        best_i = i0 + k * blockDim.x;
      }
  }
  argmax_block(best, best_i);
  // This row's scratch: {counter, nb partial values, nb partial indices}.
  int32_t* counter = scratch + int64_t(row) * (1 + 2 * nb);
  float* part_v = reinterpret_cast<float*>(counter + 1);
  int32_t* part_i = counter + 1 + nb;
  __shared__ bool last;
  if (threadIdx.x == 0) {
    part_v[blockIdx.x] = best;
    part_i[blockIdx.x] = best_i;
    __threadfence();
    last = atomicAdd(counter, 1) == nb - 1;
  }
  __syncthreads();
  if (!last) return;
  __threadfence();
  best = threadIdx.x < nb ? __ldcg(part_v + threadIdx.x) : -INFINITY;
  best_i = threadIdx.x < nb ? __ldcg(part_i + threadIdx.x) : 0x7fffffff;
  argmax_block(best, best_i);
  if (threadIdx.x == 0) {
    out[row] = best_i == 0x7fffffff ? 0 : best_i;  // all -inf / NaN: token 0
    *counter = 0;
  }
}

constexpr int kThreads = 256;

int norm_threads(int width) { return width >= 1024 ? 512 : (width >= 256 ? 128 : kWarp); }

}  // namespace

void rms_norm(const float* x, const float* weight, float eps, int64_t n_rows, int width, float* y, cudaStream_t stream) {
  if (n_rows == 0) return;
  // x is only read (kAdd false): the cast lets both variants share one kernel.
  launch_pdl(rms_norm_kernel<false>, dim3(unsigned(n_rows)), dim3(norm_threads(width)), 0, stream,
             const_cast<float*>(x), static_cast<const float*>(nullptr), weight, eps, width, y);
}

void add_rms_norm(float* x, const float* a, const float* weight, float eps, int64_t n_rows, int width, float* y,
                  cudaStream_t stream) {
  if (n_rows == 0) return;
  launch_pdl(rms_norm_kernel<true>, dim3(unsigned(n_rows)), dim3(norm_threads(width)), 0, stream, x, a, weight, eps,
             width, y);
}

void rope(float* x, int n_tokens, int n_heads, int head_dim, int n_rot, bool neox, const int32_t* positions,
          const float* inv_freq, float mscale, cudaStream_t stream) {
  const int64_t n = int64_t(n_tokens) * n_heads * (n_rot / 2);
  if (n == 0) return;
  launch_pdl(rope_kernel, dim3(ceil_div(n, kThreads)), dim3(kThreads), 0, stream, x, n_tokens, n_heads, head_dim,
             n_rot, neox, positions, inv_freq, mscale);
}

void silu_mul(const float* gate, const float* up, int64_t n, float* out, cudaStream_t stream) {
  if (n == 0) return;
  launch_pdl(silu_mul_kernel, dim3(ceil_div(n, kThreads)), dim3(kThreads), 0, stream, gate, up, n, out);
}

void add(float* x, const float* y, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  launch_pdl(add_kernel, dim3(ceil_div(n, kThreads)), dim3(kThreads), 0, stream, x, y, n);
}

void add_bias(float* x, const float* bias, int64_t n_rows, int64_t width, cudaStream_t stream) {
  const int64_t n = n_rows * width;
  if (n == 0) return;
  launch_pdl(add_bias_kernel, dim3(ceil_div(n, kThreads)), dim3(kThreads), 0, stream, x, bias, n, width);
}

void gather_rows(const float* src, int width, const int32_t* rows, int n, float* dst, cudaStream_t stream) {
  if (n == 0) return;
  launch_pdl(gather_rows_kernel, dim3(n), dim3(kThreads), 0, stream, src, width, rows, dst);
}

void argmax_rows(const float* x, int n_rows, int width, const uint64_t* allowed, int32_t* out, int32_t* scratch,
                 cudaStream_t stream) {
  if (n_rows == 0) return;
  launch_pdl(argmax_kernel, dim3(kArgmaxBlocks, n_rows), dim3(256), 0, stream, x, width, allowed, out, scratch);
}

}  // namespace pensieve::cuda
