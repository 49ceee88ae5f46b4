#include "backend/cuda/act_quant.cuh"
#include "backend/cuda/act_quant_device.cuh"
#include "backend/cuda/common.cuh"
#include "backend/cuda/pdl.cuh"

namespace pensieve::cuda {

namespace {

constexpr int kThreads = 256;

__global__ void quantize_act_kernel(const float* __restrict__ x, int64_t n_blocks, int8_t* __restrict__ q,
                                    float* __restrict__ ds) {
  pdl_wait();
  pdl_trigger();
  const int64_t b = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
  if (b >= n_blocks) return;  // whole warps exit together
  quantize_warp_block(x[32 * b + threadIdx.x % kWarp], q + 32 * b, ds + 2 * b);
}

// One block per row. kAdd: x += a first (the residual add of the step before the norm), and the
// sum is written back to x, as add() then rms_norm() would leave it. The general kernel, for rows
// the vectorized one below does not take.
template <bool kAdd>
__global__ void rms_norm_quant_kernel(float* x, const float* __restrict__ a, const float* __restrict__ w, float eps,
                                      int width, float* y, int8_t* __restrict__ q, float* __restrict__ ds) {
  pdl_wait();
  pdl_trigger();
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

// The decode-step norm: one block per row, each thread holds VPT float4s of the row in
// registers, so the row is read once, with every load of a thread issued together (the loop
// above waits on one load after another: ~12 us for a 4096-wide row on the H100, this one ~4).
// The norm weight is read before pdl_wait (weights do not change during a step). A 32-value
// block of the 8-bit copy is 8 consecutive float4s, i.e. 8 consecutive lanes: quantized with
// 3 shuffle rounds, to the bit of quantize_warp_block (same IEEE-rounded formula).
template <bool kAdd, int VPT>
__global__ void __launch_bounds__(1024)
    rms_norm_quant_v4_kernel(float* x, const float* __restrict__ a, const float* __restrict__ w, float eps, int width,
                             float* y, int8_t* __restrict__ q, float* __restrict__ ds) {
  const int n4 = width / 4;
  const int64_t row = blockIdx.x;
  float4 wv[VPT], v[VPT];
#pragma unroll
  for (int k = 0; k < VPT; ++k) {
    const int j = threadIdx.x + k * blockDim.x;
    wv[k] = j < n4 ? reinterpret_cast<const float4*>(w)[j] : make_float4(0, 0, 0, 0);
  }
  pdl_wait();
  pdl_trigger();
  float4* xr = reinterpret_cast<float4*>(x + row * width);
  float ss = 0.0f;
#pragma unroll
  for (int k = 0; k < VPT; ++k) {
    const int j = threadIdx.x + k * blockDim.x;
    v[k] = j < n4 ? xr[j] : make_float4(0, 0, 0, 0);
    if constexpr (kAdd) {
      if (j < n4) {
        const float4 b = reinterpret_cast<const float4*>(a + row * width)[j];
        v[k].x += b.x, v[k].y += b.y, v[k].z += b.z, v[k].w += b.w;
      }
    }
  }
#pragma unroll
  for (int k = 0; k < VPT; ++k) {
    const int j = threadIdx.x + k * blockDim.x;
    if constexpr (kAdd) {
      if (j < n4) xr[j] = v[k];
    }
    ss += v[k].x * v[k].x + v[k].y * v[k].y + v[k].z * v[k].z + v[k].w * v[k].w;
  }
  ss = block_sum(ss);  // also orders every read of a row before any write of y (y may be a)
  const float inv = rsqrtf(ss / width + eps);
#pragma unroll
  for (int k = 0; k < VPT; ++k) {
    const int j = threadIdx.x + k * blockDim.x;  // groups of 8 lanes are all in or all out (n4 % 8 == 0)
    float4 o;
    o.x = v[k].x * inv * wv[k].x;
    o.y = v[k].y * inv * wv[k].y;
    o.z = v[k].z * inv * wv[k].z;
    o.w = v[k].w * inv * wv[k].w;
    float amax = fmaxf(fmaxf(fabsf(o.x), fabsf(o.y)), fmaxf(fabsf(o.z), fabsf(o.w)));
#pragma unroll
    for (int m = 1; m < 8; m <<= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, m));
    const float d = __fdiv_rn(amax, 127.0f);
    const float qs = amax > 0.0f ? __fdiv_rn(127.0f, amax) : 0.0f;
    const int q0 = __float2int_rn(__fmul_rn(o.x, qs)), q1 = __float2int_rn(__fmul_rn(o.y, qs)),
              q2 = __float2int_rn(__fmul_rn(o.z, qs)), q3 = __float2int_rn(__fmul_rn(o.w, qs));
    int sum = q0 + q1 + q2 + q3;
#pragma unroll
    for (int m = 1; m < 8; m <<= 1) sum += __shfl_xor_sync(0xffffffffu, sum, m);
    if (j < n4) {
      reinterpret_cast<float4*>(y + row * width)[j] = o;
      const int64_t e = row * width + 4 * int64_t(j);  // first element of this float4
      reinterpret_cast<uint32_t*>(q + e)[0] =
          (uint32_t(uint8_t(q0))) | (uint32_t(uint8_t(q1)) << 8) | (uint32_t(uint8_t(q2)) << 16) | (uint32_t(uint8_t(q3)) << 24);
      if (j % 8 == 0) {
        ds[e / 16] = d;
        ds[e / 16 + 1] = __fmul_rn(d, float(sum));
      }
    }
  }
}

int norm_threads(int width) { return width >= 2048 ? 512 : width >= 512 ? 256 : 128; }

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// Launches the vectorized norm when the row fits (width % 32 == 0, <= 32768, 16-byte aligned
// buffers), else the general one.
template <bool kAdd>
void launch_norm_quant(float* x, const float* a, const float* w, float eps, int64_t n_rows, int width, float* y,
                       ActQ8 yq, cudaStream_t stream) {
  const int n4 = width / 4;
  const bool vec = width % 32 == 0 && width <= 32768 && aligned16(x) && aligned16(w) && aligned16(y) &&
                   (!kAdd || aligned16(a)) && aligned16(yq.q);
  if (!vec) {
    launch_pdl(rms_norm_quant_kernel<kAdd>, dim3(unsigned(n_rows)), dim3(norm_threads(width)), 0, stream, x, a, w,
               eps, width, y, yq.q, yq.ds);
    return;
  }
  const int vpt = n4 <= 1024 ? 1 : n4 <= 2048 ? 2 : n4 <= 4096 ? 4 : 8;
  const int threads = (ceil_div(n4, vpt) + kWarp - 1) / kWarp * kWarp;
  const dim3 grid{unsigned(n_rows)}, block{unsigned(threads)};
  switch (vpt) {
    case 1: launch_pdl(rms_norm_quant_v4_kernel<kAdd, 1>, grid, block, 0, stream, x, a, w, eps, width, y, yq.q, yq.ds); break;
    case 2: launch_pdl(rms_norm_quant_v4_kernel<kAdd, 2>, grid, block, 0, stream, x, a, w, eps, width, y, yq.q, yq.ds); break;
    case 4: launch_pdl(rms_norm_quant_v4_kernel<kAdd, 4>, grid, block, 0, stream, x, a, w, eps, width, y, yq.q, yq.ds); break;
    default: launch_pdl(rms_norm_quant_v4_kernel<kAdd, 8>, grid, block, 0, stream, x, a, w, eps, width, y, yq.q, yq.ds); break;
  }
}

__global__ void silu_mul_quant_kernel(const float* g, const float* __restrict__ u, int64_t n_blocks, float* out,
                                      int8_t* __restrict__ q, float* __restrict__ ds) {
  pdl_wait();
  pdl_trigger();
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
  launch_pdl(quantize_act_kernel, dim3(ceil_div(n_blocks * kWarp, kThreads)), dim3(kThreads), 0, stream, x, n_blocks,
             out.q, out.ds);
}

void rms_norm_quant(const float* x, const float* weight, float eps, int64_t n_rows, int width, float* y, ActQ8 yq,
                    cudaStream_t stream) {
  if (n_rows == 0) return;
  // x is only read (kAdd false): the cast lets both variants share one kernel.
  launch_norm_quant<false>(const_cast<float*>(x), nullptr, weight, eps, n_rows, width, y, yq, stream);
}

void add_rms_norm_quant(float* x, const float* a, const float* weight, float eps, int64_t n_rows, int width,
                        float* y, ActQ8 yq, cudaStream_t stream) {
  if (n_rows == 0) return;
  launch_norm_quant<true>(x, a, weight, eps, n_rows, width, y, yq, stream);
}

void silu_mul_quant(const float* gate, const float* up, int64_t n, float* out, ActQ8 outq, cudaStream_t stream) {
  const int64_t n_blocks = n / 32;
  if (n_blocks == 0) return;
  launch_pdl(silu_mul_quant_kernel, dim3(ceil_div(n_blocks * kWarp, kThreads)), dim3(kThreads), 0, stream, gate, up,
             n_blocks, out, outq.q, outq.ds);
}

}  // namespace pensieve::cuda
