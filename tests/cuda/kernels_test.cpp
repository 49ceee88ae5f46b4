// CUDA kernels against references: mat-vec and GEMM on every weight type against
// dequantize_row + a double-precision dot, embedding lookup against dequantize_row, and the
// other ops (rms_norm, rope, silu*mul, add, attention over the paged cache, output rows,
// argmax) against the CPU Ops on the same inputs (NMSE, as ggml's test-backend-ops does).
#include <cuda_runtime_api.h>

#include <numeric>

#include "backend/cuda/matvec_q8.cuh"
#include "backend/cuda/vecdot_q8.cuh"
#include "cuda_test_util.h"
#include "quant/quant.h"

namespace pensieve::testing {
namespace {

using backend::Weight;

const GgmlType kTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q4_1,
                           GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q2_K, GgmlType::Q3_K,
                           GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};

std::vector<float> ref_matmul(const QuantMatrix& m, const std::vector<float>& x, int n_tokens,
                              const std::vector<float>* bias) {
  std::vector<float> y(size_t(n_tokens * m.n_rows));
  for (int t = 0; t < n_tokens; ++t)
    for (int64_t r = 0; r < m.n_rows; ++r) {
      double acc = bias ? (*bias)[size_t(r)] : 0.0;
      for (int64_t k = 0; k < m.n_cols; ++k) acc += double(m.deq[size_t(r * m.n_cols + k)]) * x[size_t(t * m.n_cols + k)];
      y[size_t(t * m.n_rows + r)] = float(acc);
    }
  return y;
}

class CudaMatmul : public ::testing::TestWithParam<GgmlType> {};

TEST_P(CudaMatmul, MatvecAndGemmMatchReference) {
  PS_REQUIRE_CUDA();
  const GgmlType type = GetParam();
  cuda::CudaOpsOptions o;
  o.mma_min_tokens = 0;  // the mat-vec and GEMM paths (matmul_mma_test.cpp covers the other)
  auto ops = make_cuda_ops(o);
  ASSERT_TRUE(ops);
  const int64_t n_cols = 512, n_rows = 67;  // odd rows: the last warp has one row
  const QuantMatrix m = make_matrix(type, n_cols, n_rows, 10 + uint32_t(type));
  auto w = ops->bind_weight(m.host(), "w");
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_TRUE(ops->context().weights().contains(m.bytes.data()));
  const std::vector<float> bias_host = random_floats(size_t(n_rows), 99);
  auto bias = ops->bind_weight(Weight{GgmlType::F32, bias_host.data(), n_rows, 1}, "b");
  ASSERT_TRUE(bias.ok());
  for (int n_tokens : {1, 3, 5, 16, 40}) {
    const std::vector<float> x = random_floats(size_t(n_tokens * n_cols), 1000 + n_tokens);
    float* dx = upload_activation(*ops, x);
    float* dy = ops->alloc(n_tokens * n_rows);
    for (bool with_bias : {false, true}) {
      ops->matmul(*w, dx, n_tokens, dy, with_bias ? &*bias : nullptr);
      const std::vector<float> got = read_back(*ops, dy, size_t(n_tokens * n_rows));
      const std::vector<float> ref = ref_matmul(m, x, n_tokens, with_bias ? &bias_host : nullptr);
      // Mat-vec (<= 8 tokens) computes in F32 on the exact dequantized values, or, for the
      // integer types, exactly on the 8-bit rounded activations; the GEMM path rounds
      // activations (and dequantized weights) to 16 bits.
      const bool gemm = n_tokens > 8;
      const bool int8 = !gemm && cuda::matvec_q8_supported(type, n_cols);
      const double bound = !gemm ? (int8 ? 1e-4 : 1e-10)
                                 : (type == GgmlType::F32 ? 1e-10 : type == GgmlType::BF16 ? 3e-5 : 3e-6);
      EXPECT_LT(nmse(got, ref), bound) << ggml_type_name(type) << " tokens " << n_tokens << " bias " << with_bias;
      if (int8) {
        const std::vector<float> ref8 = ref_matmul(m, quantized_acts(x), n_tokens, with_bias ? &bias_host : nullptr);
        EXPECT_LT(nmse(got, ref8), 1e-10) << ggml_type_name(type) << " tokens " << n_tokens << " (8-bit activations)";
      }
    }
  }
  EXPECT_TRUE(ops->status().ok()) << ops->status().error().message;
}

TEST_P(CudaMatmul, EmbeddingRowsMatchDequantize) {
  PS_REQUIRE_CUDA();
  const GgmlType type = GetParam();
  auto ops = make_cuda_ops();
  ASSERT_TRUE(ops);
  ASSERT_TRUE(ops->init(8).ok());
  const int64_t n_cols = 256, n_rows = 50;
  const QuantMatrix m = make_matrix(type, n_cols, n_rows, 20 + uint32_t(type));
  auto w = ops->bind_weight(m.host(), "tok_embd");
  ASSERT_TRUE(w.ok());
  const std::vector<int32_t> tokens = {3, 49, 0, 17, 3}, pos = {0, 1, 2, 3, 4}, seq = {0, 0, 0, 0, 0},
                             slots = {0, 1, 2, 3, 4}, lens = {5}, out_rows = {4};
  backend::StepInputs in{tokens, pos, seq, slots, {}, 0, lens, out_rows};
  float* out = ops->alloc(int64_t(tokens.size()) * n_cols);
  ops->begin_step(in);
  ops->embed(*w, out);
  const std::vector<float> got = read_back(*ops, out, tokens.size() * size_t(n_cols));
  for (size_t t = 0; t < tokens.size(); ++t)
    for (int64_t k = 0; k < n_cols; ++k)
      ASSERT_FLOAT_EQ(got[t * n_cols + k], m.deq[size_t(tokens[t] * n_cols + k)])
          << ggml_type_name(type) << " token " << t << " col " << k;
}

INSTANTIATE_TEST_SUITE_P(AllTypes, CudaMatmul, ::testing::ValuesIn(kTypes),
                         [](const auto& info) { return std::string(ggml_type_name(info.param)); });

// The integer mat-vec on decode-sized rows (several warps per row, several loads per lane) and,
// with it switched off, the float mat-vec on the same weights.
TEST(CudaMatmul, IntegerMatvecWideRows) {
  PS_REQUIRE_CUDA();
  // Both through the mat-vec kernels this test checks: 4 and 7 tokens would otherwise take the
  // tensor-core matmul (on by default for 2+ tokens since the batching work).
  cuda::CudaOpsOptions matvec;
  matvec.mma_min_tokens = 0;
  cuda::CudaOpsOptions no_int8 = matvec;
  no_int8.int8_matvec = false;
  auto ops = make_cuda_ops(matvec);
  auto ops_f = make_cuda_ops(no_int8);
  ASSERT_TRUE(ops && ops_f);
  const int64_t n_rows = 37;
  std::vector<QuantMatrix> keep;  // weights are keyed by host address: keep every matrix alive
  keep.reserve(12);
  for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q5_0, GgmlType::Q4_K, GgmlType::Q6_K}) {
    for (int64_t n_cols : {int64_t(896), int64_t(4608), int64_t(14336)}) {
      if (!cuda::matvec_q8_supported(type, n_cols)) continue;
      keep.push_back(make_matrix(type, n_cols, n_rows, uint32_t(n_cols) + uint32_t(type)));
      const QuantMatrix& m = keep.back();
      auto w = ops->bind_weight(m.host(), "w");
      auto wf = ops_f->bind_weight(m.host(), "w");
      ASSERT_TRUE(w.ok() && wf.ok());
      for (int n_tokens : {1, 4, 7}) {
        std::vector<float> x = random_floats(size_t(n_tokens * n_cols), 7 + n_tokens);
        for (size_t i = 0; i < x.size(); i += 61) x[i] *= 30.0f;  // outliers, as real activations have
        float* dy = ops->alloc(n_tokens * n_rows);
        ops->matmul(*w, upload_activation(*ops, x), n_tokens, dy);
        const auto got = read_back(*ops, dy, size_t(n_tokens * n_rows));
        EXPECT_LT(nmse(got, ref_matmul(m, quantized_acts(x), n_tokens, nullptr)), 1e-10)
            << ggml_type_name(type) << " n_cols " << n_cols << " tokens " << n_tokens;
        // 8-bit activations with outliers: ggml's test-backend-ops budget for quantized mat-mul.
        EXPECT_LT(nmse(got, ref_matmul(m, x, n_tokens, nullptr)), 5e-4) << ggml_type_name(type);
        float* dyf = ops_f->alloc(n_tokens * n_rows);
        ops_f->matmul(*wf, upload_activation(*ops_f, x), n_tokens, dyf);
        EXPECT_LT(nmse(read_back(*ops_f, dyf, size_t(n_tokens * n_rows)), ref_matmul(m, x, n_tokens, nullptr)), 1e-10)
            << ggml_type_name(type) << " float mat-vec";
      }
    }
  }
  EXPECT_TRUE(ops->status().ok());
  EXPECT_TRUE(ops_f->status().ok());
}

TEST(CudaMatmul, FloatWeightsOfOddWidth) {
  PS_REQUIRE_CUDA();
  auto ops = make_cuda_ops();
  ASSERT_TRUE(ops);
  // Both matrices stay alive: weights are keyed by their host address.
  const QuantMatrix mats[2] = {make_matrix(GgmlType::F32, 72, 9, 5), make_matrix(GgmlType::F16, 72, 9, 5)};
  for (const QuantMatrix& m : mats) {  // width not a multiple of 32
    const GgmlType type = m.type;
    auto w = ops->bind_weight(m.host(), "w");
    ASSERT_TRUE(w.ok());
    for (int n_tokens : {1, 2, 12}) {
      const std::vector<float> x = random_floats(size_t(72 * n_tokens), 6);
      float* dx = upload_activation(*ops, x);
      float* dy = ops->alloc(9 * n_tokens);
      ops->matmul(*w, dx, n_tokens, dy);
      EXPECT_LT(nmse(read_back(*ops, dy, size_t(9 * n_tokens)), ref_matmul(m, x, n_tokens, nullptr)),
                type == GgmlType::F32 ? 1e-10 : 3e-6);
    }
  }
}

TEST(CudaMatmul, UnsupportedTypeIsALoadError) {
  PS_REQUIRE_CUDA();
  auto ops = make_cuda_ops();
  ASSERT_TRUE(ops);
  std::vector<uint8_t> bytes(ggml_row_size(GgmlType::IQ2_XXS, 256) * 4);
  auto w = ops->bind_weight(Weight{GgmlType::IQ2_XXS, bytes.data(), 256, 4}, "blk.0.attn_q.weight");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().kind, ErrorKind::model_load_failed);
  EXPECT_NE(w.error().message.find("blk.0.attn_q.weight"), std::string::npos);
}

}  // namespace
}  // namespace pensieve::testing

namespace pensieve::testing {
namespace {

// A decode-step slice with the integer mat-vec: rms_norm and silu_mul hand their output to the
// next mat-vecs already quantized, three mat-vecs on one input (gate, up, and one with a bias)
// run as one launch, and a write to a mat-vec's input
// between two mat-vecs is seen by the second. Replayed steps (CUDA graphs) give the same bits.
TEST(CudaDecodeStep, FusedQuantizationMatchesItsOutput) {
  PS_REQUIRE_CUDA();
  cuda::CudaOpsOptions options;
  options.mma_min_tokens = 0;  // the 3-token matmuls through the mat-vec path (by default: the tensor-core kernel)
  auto ops = make_cuda_ops(options);
  ASSERT_TRUE(ops);
  ASSERT_TRUE(ops->init(8).ok());
  const int n = 3, width = 896, n_ff = 1024;
  const QuantMatrix wg = make_matrix(GgmlType::Q8_0, width, n_ff, 1), wu = make_matrix(GgmlType::Q8_0, width, n_ff, 2),
                    wq = make_matrix(GgmlType::Q8_0, width, 256, 6),
                    wd = make_matrix(GgmlType::Q4_K, n_ff, width, 3);
  const std::vector<float> norm_w = random_floats(width, 4), bias = random_floats(256, 7);
  auto g_w = ops->bind_weight(wg.host(), "gate"), u_w = ops->bind_weight(wu.host(), "up"),
       d_w = ops->bind_weight(wd.host(), "down"), q_w = ops->bind_weight(wq.host(), "q"),
       b_w = ops->bind_weight(Weight{GgmlType::F32, bias.data(), 256, 1}, "b"), n_w = ops->bind_weight(Weight{GgmlType::F32, norm_w.data(), width, 1}, "n");
  ASSERT_TRUE(g_w.ok() && u_w.ok() && d_w.ok() && q_w.ok() && b_w.ok() && n_w.ok());
  const std::vector<float> x = random_floats(size_t(n * width), 5, 2.0f);
  float* dx = upload_activation(*ops, x);
  float *xn = ops->alloc(n * width), *g = ops->alloc(n * n_ff), *u = ops->alloc(n * n_ff), *h = ops->alloc(n * n_ff),
        *o = ops->alloc(n * width), *g2 = ops->alloc(n * n_ff), *q = ops->alloc(n * 256);
  const std::vector<int32_t> tokens = {0, 1, 2}, pos = {0, 1, 2}, seq = {0, 0, 0}, lens = {3}, out_rows = {2};
  const backend::StepInputs in{tokens, pos, seq, pos, {}, 0, lens, out_rows};

  std::vector<std::vector<float>> first;
  for (int rep = 0; rep < 4; ++rep) {  // direct, captured, replayed, replayed
    ops->begin_step(in);
    ops->rms_norm(dx, *n_w, 1e-6f, n, width, xn);
    ops->matmul(*g_w, xn, n, g);
    ops->matmul(*u_w, xn, n, u);
    ops->matmul(*q_w, xn, n, q, &*b_w);
    ops->silu_mul(g, u, int64_t(n) * n_ff, h);
    ops->matmul(*d_w, h, n, o);
    std::vector<std::vector<float>> got = {read_back(*ops, xn, size_t(n * width)), read_back(*ops, g, size_t(n * n_ff)),
                                           read_back(*ops, u, size_t(n * n_ff)), read_back(*ops, h, size_t(n * n_ff)),
                                           read_back(*ops, o, size_t(n * width)), read_back(*ops, q, size_t(n * 256))};
    if (rep == 0) {
      const std::vector<float> xq = quantized_acts(got[0]), hq = quantized_acts(got[3]);
      EXPECT_LT(nmse(got[1], ref_matmul(wg, xq, n, nullptr)), 1e-10);
      EXPECT_LT(nmse(got[2], ref_matmul(wu, xq, n, nullptr)), 1e-10);
      EXPECT_LT(nmse(got[4], ref_matmul(wd, hq, n, nullptr)), 1e-10);
      EXPECT_LT(nmse(got[5], ref_matmul(wq, xq, n, &bias)), 1e-10);
      first = got;
    } else {
      for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], first[i]) << "rep " << rep << " output " << i;
    }
  }
  EXPECT_GE(ops->graph_stats().replayed, 2);

  // The input of a mat-vec changes between two mat-vecs: the second re-quantizes it.
  ops->begin_step(in);
  ops->matmul(*g_w, xn, n, g);
  ops->add(xn, o, int64_t(n) * width);
  ops->matmul(*g_w, xn, n, g2);
  const std::vector<float> xn2 = read_back(*ops, xn, size_t(n * width));
  EXPECT_LT(nmse(read_back(*ops, g2, size_t(n * n_ff)), ref_matmul(wg, quantized_acts(xn2), n, nullptr)), 1e-10);
  EXPECT_TRUE(ops->status().ok()) << ops->status().error().message;
}

}  // namespace
}  // namespace pensieve::testing
