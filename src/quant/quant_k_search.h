// Scale searches shared by the k-quant quantizers (quant_k.cpp). Each picks a block scale (and
// for the asymmetric formats a min) that minimises a weighted squared or absolute error, the
// same searches as ggml's reference k-quantizers (make_qx_quants / make_q3_quants /
// make_qkx2_quants), so the files we write are the ones llama-quantize writes.
#pragma once

#include <cmath>
#include <cstdint>

namespace pensieve::ksearch {

// Round to nearest, ties to even (what ggml's float-magic nearest_int does for |x| < 2^22).
inline int nearest_int(float x) { return static_cast<int>(std::lrintf(x)); }

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
