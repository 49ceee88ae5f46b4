// Per-type scalar row functions behind the traits table (quant/traits.cpp). Internal to quant/:
// callers use quant_traits() / dequantize_row() / quantize_row() from quant/quant.h.
// Every function takes n elements, n a multiple of the type's block size, and matches
// quant.h's DequantizeRowFn / QuantizeRowFn signatures so it can sit in the table directly.
#pragma once

#include <cstdint>

namespace pensieve::quant_rows {

// Plain float types (quant_float.cpp).
void f32_to_float(const void* src, float* dst, int64_t n);
void f32_from_float(const float* src, void* dst, int64_t n);
void f16_to_float(const void* src, float* dst, int64_t n);
void f16_from_float(const float* src, void* dst, int64_t n);
void bf16_to_float(const void* src, float* dst, int64_t n);
void bf16_from_float(const float* src, void* dst, int64_t n);

// 32-element block formats (quant_legacy.cpp). Q8_0/Q8_1 quantizers are the activation
// quantizers of quant/q8_ref.cpp (quantize_row_q8_0_ref / q8_1_ref in quant.h).
void q4_0_to_float(const void* src, float* dst, int64_t n);
void q4_0_from_float(const float* src, void* dst, int64_t n);
void q4_1_to_float(const void* src, float* dst, int64_t n);
void q4_1_from_float(const float* src, void* dst, int64_t n);
void q5_0_to_float(const void* src, float* dst, int64_t n);
void q5_0_from_float(const float* src, void* dst, int64_t n);
void q5_1_to_float(const void* src, float* dst, int64_t n);
void q5_1_from_float(const float* src, void* dst, int64_t n);
void q8_0_to_float(const void* src, float* dst, int64_t n);
void q8_1_to_float(const void* src, float* dst, int64_t n);

// 256-element super-block k-quants (quant_k.cpp); Q8_K is quantized by q8_ref.cpp.
void q2_K_to_float(const void* src, float* dst, int64_t n);
void q2_K_from_float(const float* src, void* dst, int64_t n);
void q3_K_to_float(const void* src, float* dst, int64_t n);
void q3_K_from_float(const float* src, void* dst, int64_t n);
void q4_K_to_float(const void* src, float* dst, int64_t n);
void q4_K_from_float(const float* src, void* dst, int64_t n);
void q5_K_to_float(const void* src, float* dst, int64_t n);
void q5_K_from_float(const float* src, void* dst, int64_t n);
void q6_K_to_float(const void* src, float* dst, int64_t n);
void q6_K_from_float(const float* src, void* dst, int64_t n);
void q8_K_to_float(const void* src, float* dst, int64_t n);

}  // namespace pensieve::quant_rows
