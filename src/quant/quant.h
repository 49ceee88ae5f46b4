// Reference (scalar) quantization and dequantization for every supported type, and the
// traits table that describes each type. Bit-exact with ggml's reference implementations.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "gguf/types.h"
#include "quant/blocks.h"

namespace pensieve {

using DequantizeRowFn = void (*)(const void* src, float* dst, int64_t n);
using QuantizeRowFn = void (*)(const float* src, void* dst, int64_t n);

struct QuantTraits {
  GgmlType type = GgmlType::F32;
  int block_size = 0;
  int type_size = 0;
  DequantizeRowFn to_float = nullptr;    // nullptr when unsupported
  QuantizeRowFn from_float = nullptr;    // reference quantizer; nullptr when unsupported
  GgmlType vec_dot_type = GgmlType::F32; // activation type its integer dot product uses
};

// Traits for `type`; to_float == nullptr for types pensieve cannot compute with.
const QuantTraits& quant_traits(GgmlType type);
bool can_dequantize(GgmlType type);
bool can_quantize(GgmlType type);

// n must be a multiple of the type's block size.
void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n);
void quantize_row(GgmlType type, const float* src, void* dst, int64_t n);

// Activation quantizers used by the integer dot products (implemented in quant/q8_ref.cpp).
void quantize_row_q8_0_ref(const float* src, void* dst, int64_t n);
void quantize_row_q8_1_ref(const float* src, void* dst, int64_t n);
void quantize_row_q8_K_ref(const float* src, void* dst, int64_t n);

// The element of largest magnitude with its sign (the first one on ties), and that magnitude in
// *amax: ggml's quantizers take their scale's sign from it, so every quantizer here uses this one.
inline float signed_absmax(const float* x, int64_t n, float* amax = nullptr) {
  float max = 0.0f, mag = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > mag) {
      mag = ax;
      max = x[i];
    }
  }
  if (amax) *amax = mag;
  return max;
}

}  // namespace pensieve
