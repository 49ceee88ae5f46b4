// `pensieve quantize` as a library function: read a GGUF model, convert every weight matrix
// to the target's type mixture (quantize_plan.h), copy all metadata, write a new GGUF file.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "gguf/types.h"
#include "quant/quantize_plan.h"
#include "util/status.h"

namespace pensieve {

// Reported after each tensor has been written.
struct QuantizeProgress {
  size_t index = 0;  // 0-based
  size_t count = 0;
  std::string_view name;
  GgmlType source_type = GgmlType::F32;
  GgmlType type = GgmlType::F32;  // as written
  uint64_t bytes = 0;             // bytes written for this tensor
  bool converted = false;         // false: copied unchanged
};
using QuantizeProgressFn = std::function<void(const QuantizeProgress&)>;

struct QuantizeSummary {
  uint64_t input_bytes = 0;   // file sizes
  uint64_t output_bytes = 0;
  uint64_t input_tensor_bytes = 0;  // tensor data only
  uint64_t output_tensor_bytes = 0;
  size_t n_tensors = 0;
  size_t n_converted = 0;
  size_t n_fallback = 0;  // tensors whose rows did not fit the preferred type
  double seconds = 0;
};

// Source tensors may be F32, F16, BF16 or any type with a dequantizer; quantized sources are
// dequantized first. Rows are converted by `n_threads` threads (<= 0: the physical cores).
// The output appears atomically (written to OUT.tmp, then renamed). `summary` may be null.
Status quantize_model(const std::string& in_path, const std::string& out_path, QuantizeTarget target,
                      int n_threads, const QuantizeProgressFn& progress = {}, QuantizeSummary* summary = nullptr);

}  // namespace pensieve
