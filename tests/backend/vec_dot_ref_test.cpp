// The reference dot products and activation quantizers against plain float math.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backend/cpu/vec_dot.h"
#include "quant/quant.h"

namespace pensieve::cpu {
namespace {

const GgmlType kQuantTypes[] = {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                                GgmlType::Q8_0, GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K,
                                GgmlType::Q5_K, GgmlType::Q6_K};

std::vector<float> random_floats(int64_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& f : v) f = dist(rng);
  return v;
}

std::vector<uint8_t> quantize(GgmlType type, const std::vector<float>& x) {
  std::vector<uint8_t> out(ggml_row_size(type, x.size()));
  quantize_row(type, x.data(), out.data(), static_cast<int64_t>(x.size()));
  return out;
}

std::vector<float> dequantize(GgmlType type, const void* data, int64_t n) {
  std::vector<float> out(n);
  dequantize_row(type, data, out.data(), n);
  return out;
}

TEST(Q8Quantizers, Q8_0RoundTripsWithinHalfAStep) {
  const auto x = random_floats(32 * 9, 1);
  const auto q = quantize(GgmlType::Q8_0, x);
  const auto* blocks = reinterpret_cast<const block_q8_0*>(q.data());
  for (int b = 0; b < 9; ++b) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::fmax(amax, std::fabs(x[b * 32 + j]));
    const float d = fp16_to_fp32(blocks[b].d);
    EXPECT_NEAR(d, amax / 127.0f, amax / 127.0f * 1e-3f);
    for (int j = 0; j < 32; ++j) {
      EXPECT_LE(std::abs(blocks[b].qs[j]), 127);
      EXPECT_NEAR(blocks[b].qs[j] * d, x[b * 32 + j], 0.5f * d + amax * 2e-3f);
    }
  }
}

TEST(Q8Quantizers, Q8_1StoresScaledSum) {
  const auto x = random_floats(32 * 5, 2);
  std::vector<block_q8_1> q(5);
  quantize_row_q8_1_ref(x.data(), q.data(), 32 * 5);
  for (int b = 0; b < 5; ++b) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::fmax(amax, std::fabs(x[b * 32 + j]));
    int sum = 0;
    for (int j = 0; j < 32; ++j) sum += q[b].qs[j];
    // ggml stores s from the unrounded scale amax / 127.
    EXPECT_EQ(q[b].s, fp32_to_fp16(static_cast<float>(sum) * (amax / 127.0f)));
  }
}

TEST(Q8Quantizers, Q8_KBlockSumsAndRange) {
  auto x = random_floats(256 * 3, 3);
  x[700] = -9.0f;  // the largest magnitude is negative: the scale takes its sign
  std::vector<block_q8_K> q(3);
  quantize_row_q8_K_ref(x.data(), q.data(), 256 * 3);
  for (int b = 0; b < 3; ++b) {
    for (int g = 0; g < 16; ++g) {
      int sum = 0;
      for (int j = 0; j < 16; ++j) sum += q[b].qs[g * 16 + j];
      EXPECT_EQ(q[b].bsums[g], sum);
    }
    for (int j = 0; j < 256; ++j) EXPECT_NEAR(q[b].qs[j] * q[b].d, x[b * 256 + j], std::fabs(q[b].d) * 0.5001f);
  }
  EXPECT_EQ(q[2].qs[700 - 512], -127 * (q[2].d < 0 ? -1 : 1));
  std::vector<float> zeros(256, 0.0f);
  quantize_row_q8_K_ref(zeros.data(), q.data(), 256);
  EXPECT_EQ(q[0].d, 0.0f);
  EXPECT_EQ(q[0].bsums[3], 0);
}

// The decoded k-quant form (used by the reference dots and the kernels) must describe the
// same numbers as the quant module's dequantizer.
TEST(KQuantDecode, MatchesDequantizeRow) {
  const GgmlType types[] = {GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};
  for (GgmlType type : types) {
    const auto x = random_floats(256 * 4, 4);
    const auto q = quantize(type, x);
    const auto ref = dequantize(type, q.data(), 256 * 4);
    const size_t bs = ggml_type_info(type).type_size;
    for (int b = 0; b < 4; ++b) {
      KQuantDecoded dec;
      decode_kquant_block(type, q.data() + b * bs, &dec);
      for (int i = 0; i < 256; ++i) {
        const float v = dec.d * dec.scale[i / 16] * dec.q[i] - dec.dmin * dec.min[i / 16];
        ASSERT_NEAR(v, ref[b * 256 + i], 1e-5f * (1.0f + std::fabs(ref[b * 256 + i])))
            << ggml_type_name(type) << " block " << b << " element " << i;
      }
    }
  }
}

// vec_dot_ref(w, quantized x) equals the float dot of the dequantized operands (the integer
// path is exact; only float rounding of the per-block scales differs).
TEST(VecDotRef, EqualsDotOfDequantizedOperands) {
  for (GgmlType type : kQuantTypes) {
    const int64_t n = 256 * 3;
    const auto w = quantize(type, random_floats(n, 5));
    const auto x = random_floats(n, 6);
    const GgmlType act = vec_dot_act_type(type);
    std::vector<uint8_t> xq(ggml_row_size(act, n));
    quantize_act_ref(act, x.data(), xq.data(), n);
    const auto wf = dequantize(type, w.data(), n);
    const auto xf = dequantize(act, xq.data(), n);
    double dot = 0, mag = 0;
    for (int64_t i = 0; i < n; ++i) {
      dot += static_cast<double>(wf[i]) * xf[i];
      mag += std::fabs(static_cast<double>(wf[i]) * xf[i]);
    }
    const float got = vec_dot_ref_fn(type)(n, w.data(), xq.data());
    // Q8_1's stored sum is fp16-rounded (as in ggml): allow that on the min term.
    const double tol = mag * (act == GgmlType::Q8_1 ? 2e-3 : 2e-6);
    EXPECT_NEAR(got, dot, tol) << ggml_type_name(type);
  }
}

// llama.cpp tests/test-quantize-fns.cpp: quantize synthetic data 0.1 + 2 cos(i + offset),
// dot it with the vec-dot-quantized second vector and compare with the float dot; the error
// per element must stay under MAX_DOT_PRODUCT_ERROR = 0.02 (MAX_DOT_PRODUCT_ERROR_LOWBIT =
// 0.04 for Q2_K).
TEST(VecDotRef, QuantizedDotErrorWithinLlamaCppBudget) {
  const int64_t n = 32 * 128;
  std::vector<float> a(n), b(n);
  for (int64_t i = 0; i < n; ++i) {
    a[i] = 0.1f + 2.0f * std::cos(static_cast<float>(i) + 0.0f);
    b[i] = 0.1f + 2.0f * std::cos(static_cast<float>(i) + 1.0f);
  }
  double ref = 0;
  for (int64_t i = 0; i < n; ++i) ref += static_cast<double>(a[i]) * b[i];
  const GgmlType all[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0,
                          GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                          GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K,
                          GgmlType::Q6_K};
  for (GgmlType type : all) {
    const auto w = quantize(type, a);
    const GgmlType act = vec_dot_act_type(type);
    std::vector<uint8_t> xq(act == GgmlType::F32 ? n * 4 : ggml_row_size(act, n));
    quantize_act_ref(act, b.data(), xq.data(), n);
    const float got = vec_dot_ref_fn(type)(n, w.data(), xq.data());
    const double budget = type == GgmlType::Q2_K ? 0.04 : 0.02;
    EXPECT_LT(std::fabs(got - ref) / n, budget) << ggml_type_name(type);
  }
}

TEST(VecDotRef, UnsupportedTypesHaveNoDot) {
  EXPECT_EQ(vec_dot_ref_fn(GgmlType::IQ2_XXS), nullptr);
  EXPECT_EQ(vec_dot_ref_fn(GgmlType::Q8_K), nullptr);
  EXPECT_EQ(vec_dot_act_type(GgmlType::F16), GgmlType::F32);
  EXPECT_EQ(vec_dot_act_type(GgmlType::Q5_1), GgmlType::Q8_1);
}

}  // namespace
}  // namespace pensieve::cpu
