// Activations quantized to 8 bits for the integer mat-vec (matvec_q8.cuh): blocks of 32 values
// q = round(x * 127 / amax) with {d = amax / 127, d * sum(q)}, the format of q8::quantize_block_ref
// (vecdot_q8.cuh), bit for bit. Besides the plain quantizer, the two ops whose output feeds a
// mat-vec in a decode step (rms_norm, silu*mul) can emit the quantized copy as they write their
// output, which saves a launch and a re-read per mat-vec input.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace pensieve::cuda {

// Device buffers of a quantized activation batch of n values (n % 32 == 0, rows of n_cols
// values laid end to end: a row of width % 32 == 0 starts at a block boundary).
struct ActQ8 {
  int8_t* q = nullptr;  // n values
  float* ds = nullptr;  // n / 32 pairs {d, d * sum(q)}
};

// out = quantize(x[0, n)); n % 32 == 0.
void quantize_act(const float* x, int64_t n, ActQ8 out, cudaStream_t stream);
// rms_norm (elementwise.cuh) that also writes quantize(y); width % 32 == 0; y may equal x.
void rms_norm_quant(const float* x, const float* weight, float eps, int64_t n_rows, int width, float* y, ActQ8 yq,
                    cudaStream_t stream);
// x += a, then rms_norm_quant of the sum (the residual add fused into the next norm); x keeps
// the sum. y may equal x; a must not overlap x or y.
void add_rms_norm_quant(float* x, const float* a, const float* weight, float eps, int64_t n_rows, int width,
                        float* y, ActQ8 yq, cudaStream_t stream);
// silu_mul (elementwise.cuh) that also writes quantize(out); n % 32 == 0; out may equal gate.
void silu_mul_quant(const float* gate, const float* up, int64_t n, float* out, ActQ8 outq, cudaStream_t stream);

}  // namespace pensieve::cuda
