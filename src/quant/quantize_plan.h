// Which type each tensor of a model gets when the model is quantized to a target
// ("Q4_K_M", "Q8_0", ...): llama.cpp's rules (llama-quant.cpp, llama_tensor_get_type) for the
// targets pensieve writes, so our files have the same type mixture as llama-quantize's.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "gguf/gguf.h"
#include "gguf/types.h"

namespace pensieve {

enum class QuantizeTarget {
  F32,
  F16,
  BF16,
  Q4_0,
  Q4_1,
  Q5_0,
  Q5_1,
  Q8_0,
  Q4_K_M,
  Q5_K_M,
  Q6_K,
  Q2_K,
  Q3_K_S,
  Q3_K_M,
  Q3_K_L,
  Q4_K_S,
  Q5_K_S,
  kSentinel,
};

// "Q4_K_M", "q4_k_m", "f16", ... ; nullopt for anything else.
std::optional<QuantizeTarget> parse_quantize_target(std::string_view name);
std::string_view quantize_target_name(QuantizeTarget target);  // canonical spelling, e.g. "Q4_K_M"
// Comma-separated list of every accepted name, for usage messages.
std::string_view quantize_target_list();
// The general.file_type value (llama.cpp's enum llama_ftype) written for the target.
uint32_t quantize_target_file_type(QuantizeTarget target);
// The type most weight matrices get.
GgmlType quantize_target_base_type(QuantizeTarget target);

struct TensorPlan {
  GgmlType type = GgmlType::F32;  // output type
  bool convert = false;           // false: the bytes are copied unchanged
  bool fallback = false;          // the preferred type did not fit the row length
};

// Whether llama.cpp would quantize this tensor at all: 2-D+ weights, except norms and the
// few small tensors it leaves alone. Others are copied in their source type.
bool is_quantizable_tensor(std::string_view name, std::span<const uint64_t> ne);

// One entry per tensor, in order. `n_layer` is the model's block count (ffn_down's layer
// index runs over it; pass 0 to count the ffn_down tensors instead). `n_gqa` (query heads per KV
// head) picks Q2_K's attn_v type, as in llama.cpp.
std::vector<TensorPlan> plan_tensor_types(std::span<const GgufTensorInfo> tensors, QuantizeTarget target,
                                          int n_layer, int n_gqa = 1);

// Whether a model's weights are already quantized (a quantizable tensor in a type other than
// F32/F16/BF16): re-quantizing it compounds the errors.
bool is_quantized_model(std::span<const GgufTensorInfo> tensors);

}  // namespace pensieve
