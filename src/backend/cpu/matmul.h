// CPU matrix products against weights of any supported GGUF type.
// The hot path of both prefill and decode. Activations are F32; for integer dot products
// they are quantized on the fly to the weight type's vec-dot type (Q8_0 / Q8_1 / Q8_K) as
// llama.cpp does. ISA-specific kernels are chosen once from cpuid (kernels_*.cpp per ISA).
#pragma once

#include <cstddef>
#include <cstdint>

#include "gguf/types.h"
#include "util/thread_pool.h"

namespace pensieve::cpu {

// A weight matrix as stored in GGUF: n_rows rows (output features, ggml ne[1]) of
// n_cols elements (input features, ggml ne[0]), each row ggml_row_size(type, n_cols) bytes.
struct WeightView {
  GgmlType type = GgmlType::F32;
  const void* data = nullptr;
  int64_t n_cols = 0;
  int64_t n_rows = 0;
};

bool matmul_supported(GgmlType type);

// y[t * n_rows + r] = sum_k W[r][k] * x[t * n_cols + k] for r < n_rows, t < n_tokens.
// Splits the work over `pool` (nullptr = calling thread only). x and y must not alias.
void matmul(const WeightView& w, const float* x, int64_t n_tokens, float* y, ThreadPool* pool);

// The same product computed by the scalar reference path (dequantize + float dot, or the
// reference integer vec-dot): what tests compare the optimized kernels against.
void matmul_ref(const WeightView& w, const float* x, int64_t n_tokens, float* y);

// Row `row` of W as floats (embedding lookup), n_cols values into dst.
void get_row(const WeightView& w, int64_t row, float* dst);

// Which kernel family is active ("avx512-vnni", "avx2", "scalar"), for logs and bench output.
const char* cpu_kernel_isa();

}  // namespace pensieve::cpu
