#include "backend/cuda/act_quant.cuh"
#include "backend/cuda/act_quant_device.cuh"
#include "backend/cuda/common.cuh"
#include "backend/cuda/pdl.cuh"

namespace pensieve::cuda {

namespace {

constexpr int kThreads = 256;

__global__ void quantize_act_kernel(const float* __restrict__ x, int64_t n_blocks, int8_t* __restrict__ q,
                                    float* __restrict__ ds) {
  pdl_trigger();
  pdl_wait();
  const int64_t b = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
  if (b >= n_blocks) return;  // whole warps exit together
  quantize_warp_block(x[32 * b + threadIdx.x % kWarp], q + 32 * b, ds + 2 * b);
}

// One block per row. kAdd: x += a first (the residual add of the step before the norm), and the
// sum is written back to x, as add() then rms_norm() would leave it.
template <bool kAdd>
__global__ void rms_norm_quant_kernel(float* x, const float* __restrict__ a, const float* __restrict__ w, float eps,
                                      int width, float* y, int8_t* __restrict__ q, float* __restrict__ ds) {
  pdl_trigger();
  pdl_wait();
  const int64_t row = blockIdx.x;
  float* xr = x + row * width;
  float* yr = y + row * width;
  float ss = 0.0f;
  for (int i = threadIdx.x; i < width; i += blockDim.x) {
    float v = xr[i];
    if constexpr (kAdd) {
      v += a[row * width + i];
      xr[i] = v;
    }
    ss += v * v;
  }
  // Also a barrier: every read (and, with kAdd, write) of x is done before y (maybe == x) is
  // written, and the warps below read sums other threads wrote.
  ss = block_sum(ss);
  const float inv = rsqrtf(ss / width + eps);
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, n_warps = blockDim.x / kWarp;
  for (int b = warp; b < width / 32; b += n_warps) {
    const int i = 32 * b + lane;
    const float v = xr[i] * inv * w[i];
    yr[i] = v;
    quantize_warp_block(v, q + row * width + 32 * b, ds + (row * width) / 16 + 2 * b);
  }
}

__global__ void silu_mul_quant_kernel(const float* g, const float* __restrict__ u, int64_t n_blocks, float* out,
                                      int8_t* __restrict__ q, float* __restrict__ ds) {
  pdl_trigger();
  pdl_wait();
  const int64_t b = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
  if (b >= n_blocks) return;
  const int64_t i = 32 * b + threadIdx.x % kWarp;
  const float gv = g[i];
  const float v = gv / (1.0f + expf(-gv)) * u[i];
  out[i] = v;
  quantize_warp_block(v, q + 32 * b, ds + 2 * b);
}

int norm_threads(int width) { return width >= 2048 ? 512 : width >= 512 ? 256 : 128; }

}  // namespace

void quantize_act(const float* x, int64_t n, ActQ8 out, cudaStream_t stream) {
  const int64_t n_blocks = n / 32;
  if (n_blocks == 0) return;
  launch_pdl(quantize_act_kernel, dim3(ceil_div(n_blocks * kWarp, kThreads)), dim3(kThreads), 0, stream, x, n_blocks,
             out.q, out.ds);
}

void rms_norm_quant(const float* x, const float* weight, float eps, int64_t n_rows, int width, float* y, ActQ8 yq,
                    cudaStream_t stream) {
  if (n_rows == 0) return;
  // x is only read (kAdd false): the cast lets both variants share one kernel.
  launch_pdl(rms_norm_quant_kernel<false>, dim3(unsigned(n_rows)), dim3(norm_threads(width)), 0, stream,
             const_cast<float*>(x), static_cast<const float*>(nullptr), weight, eps, width, y, yq.q, yq.ds);
}

void add_rms_norm_quant(float* x, const float* a, const float* weight, float eps, int64_t n_rows, int width,
                        float* y, ActQ8 yq, cudaStream_t stream) {
  if (n_rows == 0) return;
  launch_pdl(rms_norm_quant_kernel<true>, dim3(unsigned(n_rows)), dim3(norm_threads(width)), 0, stream, x, a, weight,
             eps, width, y, yq.q, yq.ds);
}

void silu_mul_quant(const float* gate, const float* up, int64_t n, float* out, ActQ8 outq, cudaStream_t stream) {
  const int64_t n_blocks = n / 32;
  if (n_blocks == 0) return;
  launch_pdl(silu_mul_quant_kernel, dim3(ceil_div(n_blocks * kWarp, kThreads)), dim3(kThreads), 0, stream, gate, up,
             n_blocks, out, outq.q, outq.ds);
}

}  // namespace pensieve::cuda
