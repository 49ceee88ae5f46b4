// Embeddings on the GPU: the mean-pooled, L2-normalised last hidden states of the reference
// models agree with the CPU's within the tolerance the README states (max |difference| per
// component 1e-4, cosine similarity > 0.99999), alone and with inputs packed into one step.
#include <cmath>

#include "cuda_test_util.h"
#include "model/context.h"
#include "model/model_test_util.h"

namespace pensieve::testing {
namespace {

// Pooled, normalised vectors of `inputs`, all packed into one hidden-states step.
std::vector<std::vector<float>> embed(LoadedModel& lm, const std::vector<std::vector<int32_t>>& inputs) {
  const int n_embd = lm.model->hp.n_embd;
  std::vector<std::unique_ptr<model::SequenceKv>> kvs;
  std::vector<model::SeqStep> parts;
  size_t total = 0;
  for (const auto& in : inputs) {
    kvs.push_back(std::make_unique<model::SequenceKv>(lm.ctx->pool()));
    parts.push_back(model::SeqStep{kvs.back().get(), in, 1});
    total += in.size();
  }
  std::vector<float> rows(total * n_embd);
  Status st = lm.ctx->hidden_states(parts, rows.data());
  EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message);
  std::vector<std::vector<float>> out;
  size_t row = 0;
  for (const auto& in : inputs) {
    std::vector<double> sum(n_embd, 0.0);
    for (size_t t = 0; t < in.size(); ++t, ++row)
      for (int d = 0; d < n_embd; ++d) sum[d] += rows[row * n_embd + d];
    double norm = 0;
    for (double& x : sum) {
      x /= double(in.size());
      norm += x * x;
    }
    std::vector<float> v(n_embd);
    for (int d = 0; d < n_embd; ++d) v[d] = static_cast<float>(sum[d] / std::sqrt(norm));
    out.push_back(std::move(v));
  }
  return out;
}

class CudaEmbeddings : public ::testing::TestWithParam<std::string> {};

TEST_P(CudaEmbeddings, MatchTheCpuWithinTheStatedTolerance) {
  PS_REQUIRE_CUDA();
  PS_REQUIRE_FIXTURES();
  const std::string path = fixtures_dir() + "/reference/" + GetParam() + ".gguf";
  auto ops = cuda::CudaOps::create(0);
  ASSERT_TRUE(ops.ok()) << ops.error().message;
  auto gpu = load_with_ops(path, std::move(*ops), backend::KvType::f16);
  auto cpu = load_with_ops(path, cpu::make_cpu_ops(2), backend::KvType::f16);
  ASSERT_TRUE(cpu && gpu);
  const std::vector<std::vector<int32_t>> inputs = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {42}, {7, 70, 170, 17}};
  for (bool packed : {false, true}) {
    std::vector<std::vector<float>> a, b;
    if (packed) {
      a = embed(*cpu, inputs);
      b = embed(*gpu, inputs);
    } else {
      for (const auto& in : inputs) {
        a.push_back(embed(*cpu, {in})[0]);
        b.push_back(embed(*gpu, {in})[0]);
      }
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
      double dot = 0;
      for (size_t d = 0; d < a[i].size(); ++d) dot += double(a[i][d]) * b[i][d];
      EXPECT_LT(max_abs_diff(a[i], b[i]), 1e-4) << GetParam() << " input " << i << " packed " << packed;
      EXPECT_GT(dot, 0.99999) << GetParam() << " input " << i << " packed " << packed;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Families, CudaEmbeddings, ::testing::Values("ref-llama", "ref-qwen2", "ref-qwen3"));

}  // namespace
}  // namespace pensieve::testing
