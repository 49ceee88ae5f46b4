// Device side of the 8-bit activation format (act_quant.cuh): the quantizer of one 32-value block
// held one value per lane, shared by every kernel that writes a mat-vec input as it produces it
// (rms_norm, silu*mul, attention). nvcc only.
#pragma once

#include "backend/cuda/common.cuh"

namespace pensieve::cuda {

// Quantizes one 32-value block held one value per lane of a warp (all 32 lanes take part).
// IEEE-rounded division and multiplication (the build uses fast math) so that the host
// reference (q8::quantize_block_ref) gives the same bits.
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

}  // namespace pensieve::cuda
