// Context::hidden_states: the last hidden state (after the final norm) of every token, the input
// of embeddings. It equals the normed row the logits path feeds the vocabulary projection, and
// packing several sequences into one step does not change a sequence's rows.
#include <gtest/gtest.h>

#include "model/model_test_util.h"

namespace pensieve::testing {
namespace {

std::string ref(const std::string& name) { return fixtures_dir() + "/reference/" + name + ".gguf"; }

std::vector<float> hidden_alone(LoadedModel& lm, const std::vector<int32_t>& tokens) {
  model::SequenceKv kv(lm.ctx->pool());
  const model::SeqStep part{&kv, tokens, 1};
  std::vector<float> rows(tokens.size() * lm.model->hp.n_embd);
  Status st = lm.ctx->hidden_states(std::span<const model::SeqStep>(&part, 1), rows.data());
  EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message);
  return rows;
}

class HiddenStates : public ::testing::TestWithParam<std::string> {};

TEST_P(HiddenStates, LastRowIsTheNormedStateTheLogitsComeFrom) {
  PS_REQUIRE_FIXTURES();
  auto lm = load_for_test(ref(GetParam()));
  ASSERT_TRUE(lm);
  const std::vector<int32_t> tokens = {1, 15, 300, 42, 7, 99, 5};
  const int n_embd = lm->model->hp.n_embd;
  const std::vector<float> rows = hidden_alone(*lm, tokens);
  std::vector<float> normed;
  model::Observer obs = [&](std::string_view name, int, const float* data, int64_t n_rows, int width) {
    if (name == "result_norm") normed.assign(data, data + n_rows * width);
  };
  std::vector<float> logits(lm->n_vocab());
  ASSERT_TRUE(lm->ctx->decode(*lm->seq, tokens, false, logits.data(), &obs).ok());
  ASSERT_EQ(normed.size(), static_cast<size_t>(n_embd));
  for (int d = 0; d < n_embd; ++d) EXPECT_FLOAT_EQ(rows[(tokens.size() - 1) * n_embd + d], normed[d]) << d;
}

TEST_P(HiddenStates, PackingSequencesIntoOneStepChangesNoRow) {
  PS_REQUIRE_FIXTURES();
  auto lm = load_for_test(ref(GetParam()));
  ASSERT_TRUE(lm);
  const int n_embd = lm->model->hp.n_embd;
  const std::vector<std::vector<int32_t>> inputs = {{1, 2, 3, 4, 5}, {9, 8}, {100, 200, 300, 400, 50, 60, 70, 80, 90}};
  std::vector<std::unique_ptr<model::SequenceKv>> kvs;
  std::vector<model::SeqStep> parts;
  size_t total = 0;
  for (const auto& in : inputs) {
    kvs.push_back(std::make_unique<model::SequenceKv>(lm->ctx->pool()));
    parts.push_back(model::SeqStep{kvs.back().get(), in, 1});
    total += in.size();
  }
  std::vector<float> packed(total * n_embd);
  Status st = lm->ctx->hidden_states(parts, packed.data());
  ASSERT_TRUE(st.ok()) << st.error().message;
  size_t row = 0;
  for (const auto& in : inputs) {
    const std::vector<float> alone = hidden_alone(*lm, in);
    for (size_t i = 0; i < alone.size(); ++i) ASSERT_NEAR(packed[row * n_embd + i], alone[i], 1e-5f) << i;
    row += in.size();
  }
}

INSTANTIATE_TEST_SUITE_P(Families, HiddenStates, ::testing::Values("ref-llama", "ref-qwen2", "ref-qwen3"));

}  // namespace
}  // namespace pensieve::testing
