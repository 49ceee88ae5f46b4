#include "quant/quantize_plan.h"

#include <array>
#include <cctype>
#include <string>

#include "gguf/keys.h"

namespace pensieve {
namespace {

using T = GgmlType;
using QT = QuantizeTarget;

struct TargetInfo {
  QT target;
  std::string_view name;
  uint32_t file_type;  // llama_ftype
  T base;
};

// llama_ftype values: ALL_F32 = 0, MOSTLY_F16 = 1, Q4_0 = 2, Q4_1 = 3, Q8_0 = 7, Q5_0 = 8,
// Q5_1 = 9, Q2_K = 10, Q3_K_S = 11, Q3_K_M = 12, Q3_K_L = 13, Q4_K_S = 14, Q4_K_M = 15,
// Q5_K_S = 16, Q5_K_M = 17, Q6_K = 18, BF16 = 32.
constexpr std::array<TargetInfo, static_cast<size_t>(QT::kSentinel)> kTargets = {{
    {QT::F32, "F32", 0, T::F32},
    {QT::F16, "F16", 1, T::F16},
    {QT::BF16, "BF16", 32, T::BF16},
    {QT::Q4_0, "Q4_0", 2, T::Q4_0},
    {QT::Q4_1, "Q4_1", 3, T::Q4_1},
    {QT::Q5_0, "Q5_0", 8, T::Q5_0},
    {QT::Q5_1, "Q5_1", 9, T::Q5_1},
    {QT::Q8_0, "Q8_0", 7, T::Q8_0},
    {QT::Q4_K_M, "Q4_K_M", 15, T::Q4_K},
    {QT::Q5_K_M, "Q5_K_M", 17, T::Q5_K},
    {QT::Q6_K, "Q6_K", 18, T::Q6_K},
    {QT::Q2_K, "Q2_K", 10, T::Q2_K},
    {QT::Q3_K_S, "Q3_K_S", 11, T::Q3_K},
    {QT::Q3_K_M, "Q3_K_M", 12, T::Q3_K},
    {QT::Q3_K_L, "Q3_K_L", 13, T::Q3_K},
    {QT::Q4_K_S, "Q4_K_S", 14, T::Q4_K},
    {QT::Q5_K_S, "Q5_K_S", 16, T::Q5_K},
}};

const TargetInfo& info(QT t) { return kTargets[static_cast<size_t>(t)]; }

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_float_type(T t) { return t == T::F32 || t == T::F16 || t == T::BF16; }
uint64_t block_of(T t) { return ggml_type_info(t).block_size; }

// ggml_n_dims: trailing dimensions of size 1 do not count.
int n_dims(std::span<const uint64_t> ne) {
  int n = 1;
  for (size_t i = 1; i < ne.size(); ++i) {
    if (ne[i] > 1) n = static_cast<int>(i) + 1;
  }
  return n;
}

// llama.cpp's use_more_bits: the first and last eighth of the layers, and every third layer
// in between, get more bits for the tensors that matter most (attn_v, ffn_down).
bool use_more_bits(int i_layer, int n_layers) {
  return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

// The type for a tensor whose row length does not fit the chosen type's block (llama.cpp's
// fallback family); F16 when even that does not fit. (llama.cpp sends Q2_K/Q3_K to IQ4_NL,
// which pensieve does not write; no target here produces them, Q4_0 is the stand-in.)
T fallback_type(T t, uint64_t ne0) {
  T f = T::F16;
  switch (t) {
    case T::Q2_K:
    case T::Q3_K: f = T::Q4_0; break;
    case T::Q4_K: f = T::Q5_0; break;
    case T::Q5_K: f = T::Q5_1; break;
    case T::Q6_K: f = T::Q8_0; break;
    default: break;  // 32-element formats have no smaller cousin: F16
  }
  return ne0 % block_of(f) == 0 ? f : T::F16;
}

struct MixtureState {
  int n_gqa = 1;
  bool has_output = false;
  int n_attn_v = 0, i_attn_v = 0;
  int n_ffn_down = 0, i_ffn_down = 0;
};

// llama_tensor_get_type for the targets we support (before the row-length check), for dense
// (non-MoE, non-Falcon) models: the _M/_L mixes and Q2_K spend more bits on attn_v, ffn_down,
// attn_output (and the fused attn_qkv), the tensors whose errors hurt most.
T mixture_type(std::string_view name, uint64_t ne0, QT target, MixtureState& st) {
  const T base = info(target).base;
  if (name == keys::kOutput || (!st.has_output && name == keys::kTokenEmbd)) {
    if (ne0 % block_of(base) != 0) return T::Q8_0;
    return base == T::Q8_0 ? T::Q8_0 : T::Q6_K;
  }
  if (name == keys::kTokenEmbd) return base;
  if (contains(name, "attn_v.weight")) {
    const int i = st.i_attn_v++;
    switch (target) {
      case QT::Q2_K: return st.n_gqa >= 4 ? T::Q4_K : T::Q3_K;
      case QT::Q3_K_M: return i < 2 ? T::Q5_K : T::Q4_K;
      case QT::Q3_K_L: return T::Q5_K;
      case QT::Q4_K_M:
      case QT::Q5_K_M: return use_more_bits(i, st.n_attn_v) ? T::Q6_K : base;
      case QT::Q4_K_S: return i < 4 ? T::Q5_K : base;
      default: return base;
    }
  }
  if (contains(name, "ffn_down")) {
    const int i = st.i_ffn_down++, n = st.n_ffn_down;
    switch (target) {
      case QT::Q2_K: return T::Q3_K;
      case QT::Q3_K_M: return i < n / 16 ? T::Q5_K : T::Q4_K;
      case QT::Q3_K_L: return T::Q5_K;
      case QT::Q4_K_M:
      case QT::Q5_K_M: return use_more_bits(i, n) ? T::Q6_K : base;
      case QT::Q4_K_S: return i < n / 8 ? T::Q5_K : base;
      default: return base;
    }
  }
  if (contains(name, "attn_output.weight")) {
    switch (target) {
      case QT::Q2_K: return T::Q3_K;
      case QT::Q3_K_M: return T::Q4_K;
      case QT::Q3_K_L: return T::Q5_K;
      default: return base;
    }
  }
  if (contains(name, "attn_qkv.weight")) {
    switch (target) {
      case QT::Q3_K_M:
      case QT::Q3_K_L: return T::Q4_K;
      case QT::Q4_K_M: return T::Q5_K;
      case QT::Q5_K_M: return T::Q6_K;
      default: return base;
    }
  }
  return base;
}

}  // namespace

std::optional<QuantizeTarget> parse_quantize_target(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const TargetInfo& t : kTargets) {
    if (upper == t.name) return t.target;
  }
  return std::nullopt;
}

std::string_view quantize_target_name(QuantizeTarget target) { return info(target).name; }
std::string_view quantize_target_list() {
  return "Q2_K, Q3_K_S, Q3_K_M, Q3_K_L, Q4_0, Q4_1, Q4_K_S, Q4_K_M, Q5_0, Q5_1, Q5_K_S, Q5_K_M, Q6_K, Q8_0, F16, "
         "BF16, F32";
}
uint32_t quantize_target_file_type(QuantizeTarget target) { return info(target).file_type; }
GgmlType quantize_target_base_type(QuantizeTarget target) { return info(target).base; }

bool is_quantizable_tensor(std::string_view name, std::span<const uint64_t> ne) {
  if (!ends_with(name, "weight") || ne.empty() || n_dims(ne) < 2) return false;
  // Norms, MoE router and position/type embeddings stay as they are (llama.cpp does the same).
  for (std::string_view skip : {"_norm.weight", "ffn_gate_inp.weight", "attn_rel_b.weight", "ssm_conv1d.weight"}) {
    if (contains(name, skip)) return false;
  }
  return name != "position_embd.weight" && name != "token_types.weight";
}

bool is_quantized_model(std::span<const GgufTensorInfo> tensors) {
  for (const GgufTensorInfo& t : tensors)
    if (is_quantizable_tensor(t.name, t.ne) && !is_float_type(t.type)) return true;
  return false;
}

std::vector<TensorPlan> plan_tensor_types(std::span<const GgufTensorInfo> tensors, QuantizeTarget target,
                                          int n_layer, int n_gqa) {
  MixtureState st;
  st.n_gqa = n_gqa;
  int ffn_down_tensors = 0;
  for (const GgufTensorInfo& t : tensors) {
    if (contains(t.name, "attn_v.weight") || contains(t.name, "attn_qkv.weight")) ++st.n_attn_v;
    if (t.name == keys::kOutput) st.has_output = true;
    if (contains(t.name, "ffn_down") && is_quantizable_tensor(t.name, t.ne)) ++ffn_down_tensors;
  }
  st.n_ffn_down = n_layer > 0 ? n_layer : ffn_down_tensors;

  const T base = info(target).base;
  std::vector<TensorPlan> plan;
  plan.reserve(tensors.size());
  for (const GgufTensorInfo& t : tensors) {
    TensorPlan p{t.type, false, false};
    if (is_quantizable_tensor(t.name, t.ne)) {
      T type = is_float_type(base) ? base : mixture_type(t.name, t.ne[0], target, st);
      if (t.ne[0] % block_of(type) != 0) {
        type = fallback_type(type, t.ne[0]);
        p.fallback = true;
      }
      p.type = type;
      p.convert = type != t.type;
    }
    plan.push_back(p);
  }
  return plan;
}

}  // namespace pensieve
