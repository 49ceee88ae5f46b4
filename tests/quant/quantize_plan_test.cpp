// The per-tensor type mixture follows llama.cpp's llama_tensor_get_type rules. Expected types
// here are worked out by hand from those rules (see the comments), not produced by the code.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "quant/quantize_plan.h"

namespace pensieve {
namespace {

using T = GgmlType;
using QT = QuantizeTarget;

struct FakeModel {
  std::vector<std::string> names;  // owns the strings the infos point at
  std::vector<GgufTensorInfo> infos;
  void add(const std::string& name, std::vector<uint64_t> ne, T type = T::F32) {
    names.push_back(name);
    GgufTensorInfo t;
    t.type = type;
    t.ne = std::move(ne);
    t.n_elements = 1;
    for (uint64_t d : t.ne) t.n_elements *= d;
    infos.push_back(std::move(t));
  }
  std::span<const GgufTensorInfo> tensors() {
    for (size_t i = 0; i < infos.size(); ++i) infos[i].name = names[i];
    return infos;
  }
};

// A llama-shaped model: n_layer blocks, width `embd`, FFN width `ff`.
FakeModel llama_model(int n_layer, uint64_t embd, uint64_t ff, bool tied = false, T type = T::F32) {
  FakeModel m;
  m.add("token_embd.weight", {embd, 1000}, type);
  for (int i = 0; i < n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    m.add(p + "attn_norm.weight", {embd});
    m.add(p + "attn_q.weight", {embd, embd}, type);
    m.add(p + "attn_k.weight", {embd, embd / 2}, type);
    m.add(p + "attn_v.weight", {embd, embd / 2}, type);
    m.add(p + "attn_q.bias", {embd});
    m.add(p + "attn_output.weight", {embd, embd}, type);
    m.add(p + "ffn_norm.weight", {embd});
    m.add(p + "ffn_gate.weight", {embd, ff}, type);
    m.add(p + "ffn_up.weight", {embd, ff}, type);
    m.add(p + "ffn_down.weight", {ff, embd}, type);
  }
  m.add("output_norm.weight", {embd});
  if (!tied) m.add("output.weight", {embd, 1000}, type);
  return m;
}

std::map<std::string, TensorPlan> plan_by_name(FakeModel& m, QT target, int n_layer) {
  auto tensors = m.tensors();
  const std::vector<TensorPlan> plan = plan_tensor_types(tensors, target, n_layer);
  EXPECT_EQ(plan.size(), tensors.size());
  std::map<std::string, TensorPlan> out;
  for (size_t i = 0; i < plan.size(); ++i) out[m.names[i]] = plan[i];
  return out;
}

std::string layer(int i, const char* what) { return "blk." + std::to_string(i) + "." + what; }

TEST(QuantizePlan, Q4_K_M_EightLayers) {
  FakeModel m = llama_model(8, 256, 512);
  auto p = plan_by_name(m, QT::Q4_K_M, 8);
  // use_more_bits(i, 8): i < 1 || i >= 7 || (i - 1) % 3 == 2  ->  layers 0, 3, 6, 7.
  const std::set<int> more = {0, 3, 6, 7};
  for (int i = 0; i < 8; ++i) {
    const T want = more.count(i) ? T::Q6_K : T::Q4_K;
    EXPECT_EQ(p[layer(i, "attn_v.weight")].type, want) << i;
    EXPECT_EQ(p[layer(i, "ffn_down.weight")].type, want) << i;
    EXPECT_EQ(p[layer(i, "attn_q.weight")].type, T::Q4_K);
    EXPECT_EQ(p[layer(i, "attn_k.weight")].type, T::Q4_K);
    EXPECT_EQ(p[layer(i, "attn_output.weight")].type, T::Q4_K);
    EXPECT_EQ(p[layer(i, "ffn_gate.weight")].type, T::Q4_K);
    EXPECT_EQ(p[layer(i, "ffn_up.weight")].type, T::Q4_K);
    EXPECT_FALSE(p[layer(i, "attn_norm.weight")].convert);
    EXPECT_EQ(p[layer(i, "attn_norm.weight")].type, T::F32);
    EXPECT_FALSE(p[layer(i, "attn_q.bias")].convert);
  }
  EXPECT_EQ(p["output.weight"].type, T::Q6_K);
  EXPECT_EQ(p["token_embd.weight"].type, T::Q4_K);  // llama.cpp keeps the base type here
  EXPECT_TRUE(p["token_embd.weight"].convert);
  EXPECT_FALSE(p["output.weight"].fallback);
}

TEST(QuantizePlan, Q5_K_M_ThirtyTwoLayersAndTiedEmbeddings) {
  FakeModel m = llama_model(32, 256, 512, /*tied=*/true);
  auto p = plan_by_name(m, QT::Q5_K_M, 32);
  // n/8 = 4, 7n/8 = 28: layers 0-3, 28-31, and (i - 4) % 3 == 2: 6, 9, 12, ..., 27.
  for (int i = 0; i < 32; ++i) {
    const bool more = i < 4 || i >= 28 || (i - 4) % 3 == 2;
    EXPECT_EQ(p[layer(i, "ffn_down.weight")].type, more ? T::Q6_K : T::Q5_K) << i;
    EXPECT_EQ(p[layer(i, "attn_v.weight")].type, more ? T::Q6_K : T::Q5_K) << i;
  }
  EXPECT_EQ(p[layer(6, "ffn_down.weight")].type, T::Q6_K);
  EXPECT_EQ(p[layer(7, "ffn_down.weight")].type, T::Q5_K);
  // No output.weight: the tied token embedding is the output projection and gets Q6_K.
  EXPECT_EQ(p["token_embd.weight"].type, T::Q6_K);
}

TEST(QuantizePlan, PlainTargets) {
  FakeModel m = llama_model(4, 256, 512);
  auto q8 = plan_by_name(m, QT::Q8_0, 4);
  EXPECT_EQ(q8["output.weight"].type, T::Q8_0);  // Q8_0 keeps Q8_0 for the output
  EXPECT_EQ(q8[layer(0, "attn_v.weight")].type, T::Q8_0);
  EXPECT_EQ(q8[layer(3, "ffn_down.weight")].type, T::Q8_0);
  auto q4 = plan_by_name(m, QT::Q4_0, 4);
  EXPECT_EQ(q4["output.weight"].type, T::Q6_K);  // as llama-quantize: the output gets Q6_K
  EXPECT_EQ(q4["token_embd.weight"].type, T::Q4_0);
  EXPECT_EQ(q4[layer(0, "attn_v.weight")].type, T::Q4_0);
  auto q6 = plan_by_name(m, QT::Q6_K, 4);
  for (auto& [name, plan] : q6) {
    if (name.find("norm") == std::string::npos && name.find("bias") == std::string::npos) {
      EXPECT_EQ(plan.type, T::Q6_K) << name;
    }
  }
  auto f16 = plan_by_name(m, QT::F16, 4);
  EXPECT_EQ(f16["output.weight"].type, T::F16);
  EXPECT_EQ(f16[layer(1, "ffn_up.weight")].type, T::F16);
  EXPECT_EQ(f16[layer(1, "ffn_norm.weight")].type, T::F32);
  auto bf16 = plan_by_name(m, QT::BF16, 4);
  EXPECT_EQ(bf16[layer(2, "attn_v.weight")].type, T::BF16);
}

// Rows that do not fit 256-element super-blocks fall back like llama.cpp: Q4_K -> Q5_0,
// Q5_K -> Q5_1, Q6_K -> Q8_0, the output to Q8_0; rows not a multiple of 32 -> F16.
TEST(QuantizePlan, FallbacksForNarrowRows) {
  FakeModel m = llama_model(2, 64, 96);
  auto p = plan_by_name(m, QT::Q4_K_M, 2);
  // n_layer 2: use_more_bits(0, 2) = false, use_more_bits(1, 2) = (1 >= 1) = true.
  EXPECT_EQ(p[layer(0, "attn_v.weight")].type, T::Q5_0);
  EXPECT_EQ(p[layer(1, "attn_v.weight")].type, T::Q8_0);
  EXPECT_EQ(p[layer(0, "ffn_down.weight")].type, T::Q5_0);  // ne0 = 96
  EXPECT_EQ(p[layer(1, "ffn_down.weight")].type, T::Q8_0);
  EXPECT_EQ(p[layer(0, "attn_q.weight")].type, T::Q5_0);
  EXPECT_TRUE(p[layer(0, "attn_q.weight")].fallback);
  EXPECT_EQ(p["output.weight"].type, T::Q8_0);
  EXPECT_EQ(p["token_embd.weight"].type, T::Q5_0);
  auto p5 = plan_by_name(m, QT::Q5_K_M, 2);
  EXPECT_EQ(p5[layer(0, "attn_q.weight")].type, T::Q5_1);
  auto p6 = plan_by_name(m, QT::Q6_K, 2);
  EXPECT_EQ(p6[layer(0, "attn_q.weight")].type, T::Q8_0);

  FakeModel odd = llama_model(1, 40, 72);  // 40 is not a multiple of 32
  auto po = plan_by_name(odd, QT::Q4_K_M, 1);
  EXPECT_EQ(po[layer(0, "attn_q.weight")].type, T::F16);
  EXPECT_EQ(po[layer(0, "ffn_down.weight")].type, T::F16);  // 72 % 32 != 0
  EXPECT_EQ(po["output.weight"].type, T::F16);
  auto po8 = plan_by_name(odd, QT::Q8_0, 1);
  EXPECT_EQ(po8[layer(0, "attn_q.weight")].type, T::F16);
}

TEST(QuantizePlan, SourceAlreadyInTargetTypeIsCopied) {
  FakeModel m = llama_model(1, 8, 16, false, T::F16);  // like llama-2-tiny-random
  auto p = plan_by_name(m, QT::Q4_K_M, 1);
  EXPECT_EQ(p[layer(0, "attn_q.weight")].type, T::F16);
  EXPECT_FALSE(p[layer(0, "attn_q.weight")].convert);
  FakeModel q = llama_model(1, 256, 256, false, T::Q8_0);
  auto pq = plan_by_name(q, QT::Q8_0, 1);
  EXPECT_FALSE(pq[layer(0, "ffn_up.weight")].convert);
  auto pq4 = plan_by_name(q, QT::Q4_0, 1);
  EXPECT_TRUE(pq4[layer(0, "ffn_up.weight")].convert);
}

TEST(QuantizePlan, WhichTensorsAreQuantized) {
  const uint64_t mat[] = {64, 64}, vec[] = {64}, col[] = {64, 1}, cube[] = {64, 64, 4};
  EXPECT_TRUE(is_quantizable_tensor("blk.0.attn_q.weight", mat));
  EXPECT_TRUE(is_quantizable_tensor("blk.0.ffn_down_exps.weight", cube));
  EXPECT_FALSE(is_quantizable_tensor("blk.0.attn_norm.weight", vec));
  EXPECT_FALSE(is_quantizable_tensor("blk.0.attn_q_norm.weight", mat));
  EXPECT_FALSE(is_quantizable_tensor("blk.0.attn_q.bias", mat));
  EXPECT_FALSE(is_quantizable_tensor("blk.0.some.weight", col));  // 1-D in ggml terms
  EXPECT_FALSE(is_quantizable_tensor("blk.0.ffn_gate_inp.weight", mat));
  EXPECT_FALSE(is_quantizable_tensor("position_embd.weight", mat));
}

TEST(QuantizeTarget, NamesAndFileTypes) {
  EXPECT_EQ(parse_quantize_target("Q4_K_M"), QT::Q4_K_M);
  EXPECT_EQ(parse_quantize_target("q4_k_m"), QT::Q4_K_M);
  EXPECT_EQ(parse_quantize_target("q8_0"), QT::Q8_0);
  EXPECT_EQ(parse_quantize_target("bf16"), QT::BF16);
  EXPECT_EQ(parse_quantize_target("Q6_k"), QT::Q6_K);
  EXPECT_FALSE(parse_quantize_target("Q4_K").has_value());
  EXPECT_FALSE(parse_quantize_target("").has_value());
  EXPECT_FALSE(parse_quantize_target("Q4_K_M ").has_value());
  // llama.cpp's enum llama_ftype.
  EXPECT_EQ(quantize_target_file_type(QT::F32), 0u);
  EXPECT_EQ(quantize_target_file_type(QT::F16), 1u);
  EXPECT_EQ(quantize_target_file_type(QT::Q4_0), 2u);
  EXPECT_EQ(quantize_target_file_type(QT::Q8_0), 7u);
  EXPECT_EQ(quantize_target_file_type(QT::Q4_K_M), 15u);
  EXPECT_EQ(quantize_target_file_type(QT::Q5_K_M), 17u);
  EXPECT_EQ(quantize_target_file_type(QT::Q6_K), 18u);
  EXPECT_EQ(quantize_target_file_type(QT::BF16), 32u);
  for (int i = 0; i < static_cast<int>(QT::kSentinel); ++i) {
    const auto t = static_cast<QT>(i);
    EXPECT_EQ(parse_quantize_target(quantize_target_name(t)), t);
  }
}

}  // namespace
}  // namespace pensieve

namespace pensieve {
namespace {

using T = GgmlType;
using QT = QuantizeTarget;

// The 2-6 bit k-quant mixes on 32 layers, written out from llama.cpp's llama_tensor_get_type
// rules (dense llama, no importance matrix) by hand, not taken from the planner.
TEST(QuantizePlan, LowBitKQuantMixesThirtyTwoLayers) {
  const int n = 32;
  struct Layer {
    T attn_v, ffn_down, attn_output, other;
  };
  struct Case {
    QT target;
    int n_gqa;
    std::function<Layer(int)> want;
  };
  const std::vector<Case> cases = {
      // Q2_K: attn_v Q3_K (Q4_K with 4+ query heads per KV head), ffn_down and attn_output Q3_K
      {QT::Q2_K, 1, [](int) { return Layer{T::Q3_K, T::Q3_K, T::Q3_K, T::Q2_K}; }},
      {QT::Q2_K, 4, [](int) { return Layer{T::Q4_K, T::Q3_K, T::Q3_K, T::Q2_K}; }},
      {QT::Q3_K_S, 1, [](int) { return Layer{T::Q3_K, T::Q3_K, T::Q3_K, T::Q3_K}; }},
      // Q3_K_M: attn_v Q5_K in the first two layers then Q4_K; ffn_down Q5_K below n/16 then Q4_K
      {QT::Q3_K_M, 1, [](int i) { return Layer{i < 2 ? T::Q5_K : T::Q4_K, i < 2 ? T::Q5_K : T::Q4_K, T::Q4_K, T::Q3_K}; }},
      {QT::Q3_K_L, 1, [](int) { return Layer{T::Q5_K, T::Q5_K, T::Q5_K, T::Q3_K}; }},
      // Q4_K_S: attn_v Q5_K in the first four layers, ffn_down below n/8
      {QT::Q4_K_S, 1, [](int i) { return Layer{i < 4 ? T::Q5_K : T::Q4_K, i < 4 ? T::Q5_K : T::Q4_K, T::Q4_K, T::Q4_K}; }},
      {QT::Q5_K_S, 1, [](int) { return Layer{T::Q5_K, T::Q5_K, T::Q5_K, T::Q5_K}; }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(quantize_target_name(c.target)) + " n_gqa " + std::to_string(c.n_gqa));
    FakeModel m = llama_model(n, 256, 512);
    const std::vector<TensorPlan> plan = plan_tensor_types(m.tensors(), c.target, n, c.n_gqa);
    std::map<std::string, TensorPlan> p;
    for (size_t i = 0; i < plan.size(); ++i) p[m.names[i]] = plan[i];
    for (int i = 0; i < n; ++i) {
      const Layer want = c.want(i);
      EXPECT_EQ(p[layer(i, "attn_v.weight")].type, want.attn_v) << i;
      EXPECT_EQ(p[layer(i, "ffn_down.weight")].type, want.ffn_down) << i;
      EXPECT_EQ(p[layer(i, "attn_output.weight")].type, want.attn_output) << i;
      for (const char* t : {"attn_q.weight", "attn_k.weight", "ffn_gate.weight", "ffn_up.weight"})
        EXPECT_EQ(p[layer(i, t)].type, want.other) << i << " " << t;
      EXPECT_EQ(p[layer(i, "attn_norm.weight")].convert, false);
    }
    EXPECT_EQ(p["output.weight"].type, T::Q6_K);
    EXPECT_EQ(p["token_embd.weight"].type, quantize_target_base_type(c.target));
  }
  // narrow rows: Q2_K/Q3_K fall back to Q4_0 (llama.cpp's IQ4_NL, which pensieve does not write)
  FakeModel narrow = llama_model(2, 64, 128);
  for (const TensorPlan& t : plan_tensor_types(narrow.tensors(), QT::Q3_K_S, 2))
    if (t.convert) EXPECT_TRUE(t.type == T::Q4_0 || t.type == T::Q8_0) << ggml_type_name(t.type);
}

TEST(QuantizeTarget, LowBitNamesAndFileTypes) {
  const std::pair<const char*, uint32_t> names[] = {{"Q2_K", 10},   {"Q3_K_S", 11}, {"q3_k_m", 12},
                                                    {"Q3_K_L", 13}, {"q4_k_s", 14}, {"Q5_K_S", 16}};
  for (const auto& [name, ft] : names) {
    auto t = parse_quantize_target(name);
    ASSERT_TRUE(t.has_value()) << name;
    EXPECT_EQ(quantize_target_file_type(*t), ft) << name;
  }
  EXPECT_NE(std::string(quantize_target_list()).find("Q3_K_M"), std::string::npos);
}

TEST(QuantizePlan, QuantizedModelsAreRecognised) {
  FakeModel f16 = llama_model(2, 256, 512, false, T::F16);
  EXPECT_FALSE(is_quantized_model(f16.tensors()));
  FakeModel q = llama_model(2, 256, 512, false, T::Q8_0);
  EXPECT_TRUE(is_quantized_model(q.tensors()));
}

}  // namespace
}  // namespace pensieve
