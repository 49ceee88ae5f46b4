// InferenceBackend::embed: mean-pooled, L2-normalised last hidden states. Batching inputs into
// shared steps, chunking a long input over several steps and running between generations do not
// change a vector.
#include <gtest/gtest.h>

#include <cmath>

#include "engine_test_util.h"
#include "test_util.h"

namespace pensieve::engine {
namespace {

using testing::fixtures_dir;

std::unique_ptr<InferenceBackend> backend(int n_ubatch = 512) {
  LoadOptions lo;
  lo.model_path = fixtures_dir() + "/reference/ref-qwen2.gguf";
  lo.device = "cpu";
  lo.threads = 1;
  lo.n_ctx = 512;
  lo.n_ubatch = n_ubatch;
  return load_backend(lo);
}

float max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

TEST(Embeddings, BatchedEqualsAloneAndUnitLength) {
  PS_REQUIRE_FIXTURES();
  auto be = backend();
  ASSERT_TRUE(be);
  const std::vector<std::vector<token_id>> inputs = {be->tokenize("the cat sat on the mat"), be->tokenize("pensieve"),
                                                     be->tokenize("local inference, one server, many models")};
  auto batch = be->embed(inputs);
  ASSERT_TRUE(batch.ok()) << batch.error().message;
  ASSERT_EQ(batch->size(), 3u);
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto alone = be->embed({inputs[i]});
    ASSERT_TRUE(alone.ok());
    ASSERT_EQ((*alone)[0].size(), static_cast<size_t>(be->n_embd()));
    EXPECT_LT(max_diff((*batch)[i], (*alone)[0]), 1e-6f) << i;
    double norm = 0;
    for (float x : (*batch)[i]) norm += double(x) * x;
    EXPECT_NEAR(std::sqrt(norm), 1.0, 1e-5);
  }
  EXPECT_GT(max_diff((*batch)[0], (*batch)[1]), 1e-3f);  // different texts, different vectors
}

TEST(Embeddings, ChunkedOverStepsEqualsOneStep) {
  PS_REQUIRE_FIXTURES();
  auto whole = backend(512), chunked = backend(16);  // 16 tokens per step: the input takes several
  ASSERT_TRUE(whole && chunked);
  std::string text;
  for (int i = 0; i < 20; ++i) text += "word" + std::to_string(i) + " ";
  const auto tokens = whole->tokenize(text);
  ASSERT_GT(tokens.size(), 40u);
  auto a = whole->embed({tokens}), b = chunked->embed({tokens});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_LT(max_diff((*a)[0], (*b)[0]), 1e-5f);
}

TEST(Embeddings, BetweenGenerationsAndBadInputs) {
  PS_REQUIRE_FIXTURES();
  auto be = backend();
  ASSERT_TRUE(be);
  const auto tokens = be->tokenize("hello there");
  auto before = be->embed({tokens});
  ASSERT_TRUE(before.ok());
  GenerateOptions g = greedy_options(8);
  auto gen = be->infer(be->tokenize("Once upon a time"), g);
  ASSERT_TRUE(gen.ok());
  auto after = be->embed({tokens});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*before)[0], (*after)[0]);
  EXPECT_EQ(be->embed({{}}).error().kind, ErrorKind::invalid_request);
  EXPECT_EQ(be->embed({std::vector<token_id>(600, 1)}).error().kind, ErrorKind::invalid_request);
  EXPECT_EQ(be->embed({{-1}}).error().kind, ErrorKind::invalid_request);
  EXPECT_TRUE(be->embed({}).ok());
}

}  // namespace
}  // namespace pensieve::engine
