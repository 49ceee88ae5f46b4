// Whole-row dequantization on the device: weight rows to F16 (the prefill GEMM's operand),
// embedding lookup (get_rows on any type, to F32) and activation conversions.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "gguf/types.h"

namespace pensieve::cuda {

// Types whose rows this backend can dequantize (the Dq table in dequant.cuh).
bool dequant_supported(GgmlType type, int64_t n_cols);

// out[r][k] (F16 bits, row-major) = W[row0 + r][k] for r < n_rows.
bool dequant_rows_f16(GgmlType type, const void* w, int64_t n_cols, int64_t row0, int64_t n_rows, uint16_t* out,
                      cudaStream_t stream);
// out[i][k] (F32) = W[ids[i]][k] for i < n (ids on the device). Ids outside [0, n_table_rows)
// produce a row of zeros rather than an out-of-bounds read.
bool get_rows_f32(GgmlType type, const void* w, int64_t n_cols, int64_t n_table_rows, const int32_t* ids,
                  int64_t n, float* out, cudaStream_t stream);

// Activations -> 16-bit operands for cuBLAS.
void convert_f32_to_f16(const float* x, int64_t n, uint16_t* out, cudaStream_t stream);
void convert_f32_to_bf16(const float* x, int64_t n, uint16_t* out, cudaStream_t stream);

}  // namespace pensieve::cuda
