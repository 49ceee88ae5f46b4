// Scale searches shared by the k-quant quantizers (quant_k.cpp). Each picks a block scale (and
// for the asymmetric formats a min) that minimises a weighted squared or absolute error, the
// same searches as ggml's reference k-quantizers (make_qx_quants / make_q3_quants /
// make_qkx2_quants), so the files we write are the ones llama-quantize writes.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace pensieve::ksearch {

// Round to nearest, ties to even. Adding 1.5 * 2^23 leaves the rounded integer in the low
// mantissa bits (exact for |x| < 2^22); inlined, unlike a libm lrintf call, which matters in
// the scale searches. Larger magnitudes saturate: every caller clamps to a few levels anyway.
inline int nearest_int(float x) {
  constexpr float kLimit = 4194303.f;
  if (!(std::fabs(x) <= kLimit)) x = x > 0 ? kLimit : -kLimit;  // NaN -> -kLimit
  const float biased = x + 12582912.f;
  int32_t i;
  std::memcpy(&i, &biased, sizeof i);
  return (i & 0x007fffff) - 0x00400000;
}

// Symmetric levels in [-nmax, nmax): returns the scale; L[i] = level + nmax.
// Error weights are `weights` when given, else x^2. Tries 18 scales around nmax/max and keeps
// the least-squares best.
float symmetric_scale_search(int n, int nmax, const float* x, int8_t* L, const float* weights);

// Symmetric levels in [-nmax, nmax) with x^2 weights, refined by up to 5 rounds of per-element
// coordinate descent (Q3_K). Returns the scale; L[i] = level + nmax.
float symmetric_scale_refine(int n, int nmax, const float* x, int8_t* L);

// Asymmetric levels in [0, nmax]: x ~= scale * L - min_out, min_out >= 0. Tries nstep + 1
// scales (rmin + rdelta * k + nmax) / (max - min) and refits scale and min by weighted least
// squares; `use_mad` measures absolute instead of squared error. Laux is scratch of n bytes.
float asymmetric_scale_search(int n, int nmax, const float* x, const float* weights, uint8_t* L,
                              float* min_out, uint8_t* Laux, float rmin, float rdelta, int nstep,
                              bool use_mad);

}  // namespace pensieve::ksearch
