#include "backend/cuda/act_quant.cuh"
#include "backend/cuda/common.cuh"

namespace pensieve::cuda {

namespace {

constexpr int kThreads = 256;

// Quantizes one 32-value block held one value per lane of a warp. IEEE-rounded division and
// multiplication (the build uses fast math) so the host reference gives the same bits.
__device__ __forceinline__ void quantize_warp_block(float v, int8_t* q, float* ds) {
  const int lane = threadIdx.x % kWarp;
  const float amax = warp_max(fabsf(v));
  const float d = __fdiv_rn(amax, 127.0f);
  const float inv = amax > 0.0f ? __fdiv_rn(127.0f, amax) : 0.0f;
  const int qi = __float2int_rn(__fmul_rn(v, inv));
  const int sum = __reduce_add_sync(0xffffffffu, qi);
  q[lane] = int8_t(qi);
  if (lane == 0) {
    ds[0] = d;
    ds[1] = __fmul_rn(d, float(sum));
  }
}

__global__ void quantize_act_kernel(const float* __restrict__ x, int64_t n_blocks, int8_t* __restrict__ q,
                                    float* __restrict__ ds) {
  const int64_t b = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
  if (b >= n_blocks) return;  // whole warps exit together
  quantize_warp_block(x[32 * b + threadIdx.x % kWarp], q + 32 * b, ds + 2 * b);
}

__global__ void rms_norm_quant_kernel(const float* x, const float* __restrict__ w, float eps, int width, float* y,
                                      int8_t* __restrict__ q, float* __restrict__ ds) {
  const int64_t row = blockIdx.x;
  const float* xr = x + row * width;
  float* yr = y + row * width;
  float ss = 0.0f;
  for (int i = threadIdx.x; i < width; i += blockDim.x) ss += xr[i] * xr[i];
  ss = block_sum(ss);  // also a barrier: every read of x is done before y (maybe == x) is written
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
  const int64_t b = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
  if (b >= n_blocks) return;
  const int64_t i = 32 * b + threadIdx.x % kWarp;
  const float gv = g[i];
  const float v = gv / (1.0f + expf(-gv)) * u[i];
  out[i] = v;
  quantize_warp_block(v, q + 32 * b, ds + 2 * b);
}

}  // namespace

void quantize_act(const float* x, int64_t n, ActQ8 out, cudaStream_t stream) {
  const int64_t n_blocks = n / 32;
  if (n_blocks == 0) return;
  quantize_act_kernel<<<ceil_div(n_blocks * kWarp, kThreads), kThreads, 0, stream>>>(x, n_blocks, out.q, out.ds);
}

void rms_norm_quant(const float* x, const float* weight, float eps, int64_t n_rows, int width, float* y, ActQ8 yq,
                    cudaStream_t stream) {
  if (n_rows == 0) return;
  const int threads = width >= 2048 ? 512 : width >= 512 ? 256 : 128;
  rms_norm_quant_kernel<<<static_cast<unsigned>(n_rows), threads, 0, stream>>>(x, weight, eps, width, y, yq.q, yq.ds);
}

void silu_mul_quant(const float* gate, const float* up, int64_t n, float* out, ActQ8 outq, cudaStream_t stream) {
  const int64_t n_blocks = n / 32;
  if (n_blocks == 0) return;
  silu_mul_quant_kernel<<<ceil_div(n_blocks * kWarp, kThreads), kThreads, 0, stream>>>(gate, up, n_blocks, out,
                                                                                      outq.q, outq.ds);
}

}  // namespace pensieve::cuda
