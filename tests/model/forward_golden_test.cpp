// End-to-end forward passes against published / independently derived expected outputs:
// stories260K (llama2.c goldens) and the HF-transformers reference models (llama, qwen2, qwen3).
#include <cmath>

#include "model_test_util.h"

namespace pensieve::testing {
namespace {

std::string golden(const std::string& f) { return fixtures_dir() + "/golden/" + f; }
std::string reference(const std::string& f) { return fixtures_dir() + "/reference/" + f; }
std::string stories() { return fixtures_dir() + "/models/stories260K.gguf"; }

// "-n N": N forward passes from BOS at position 0, each emitting the argmax.
void expect_stories_greedy(int steps, const std::string& ids_file) {
  auto lm = load_for_test(stories());
  ASSERT_TRUE(lm);
  const std::vector<int32_t> expected = parse_ids(read_lines(golden(ids_file)).at(0));
  ASSERT_EQ(static_cast<int>(expected.size()), steps);
  const std::vector<int32_t> got = greedy(*lm, {1}, steps);
  EXPECT_EQ(got, expected);
}

TEST(StoriesGolden, Greedy200) {
  PS_REQUIRE_FIXTURES();
  expect_stories_greedy(200, "stories260K.greedy.200.ids");
}

TEST(StoriesGolden, Greedy256) {
  PS_REQUIRE_FIXTURES();
  expect_stories_greedy(256, "stories260K.greedy.256.ids");
}

TEST(StoriesGolden, PromptZoo) {
  PS_REQUIRE_FIXTURES();
  const auto lines = read_lines(golden("stories260K.prompt-Zoo.60.ids"));
  ASSERT_EQ(lines.size(), 2u);
  const std::vector<int32_t> prompt = parse_ids(lines[0]), expected = parse_ids(lines[1]);
  ASSERT_EQ(prompt, (std::vector<int32_t>{1, 410, 469, 347}));
  auto lm = load_for_test(stories());
  ASSERT_TRUE(lm);
  // 60 passes in all: the prompt's 4 positions, then 56 single-token steps.
  EXPECT_EQ(greedy(*lm, prompt, 60 - 4 + 1), expected);
}

TEST(StoriesGolden, LogitsFirst8Positions) {
  PS_REQUIRE_FIXTURES();
  const auto rows = read_logits(golden("stories260K.logits.pos0-7.txt"));
  ASSERT_EQ(rows.size(), 8u);
  auto lm = load_for_test(stories());
  ASSERT_TRUE(lm);
  // Token by token through the KV cache, as run.c does.
  for (const LogitsRow& r : rows) {
    const std::vector<float> logits = lm->run({r.input});
    ASSERT_EQ(logits.size(), r.logits.size());
    float max_diff = 0;
    for (size_t i = 0; i < logits.size(); ++i) max_diff = std::max(max_diff, std::fabs(logits[i] - r.logits[i]));
    EXPECT_LT(max_diff, 1e-4f) << "position " << r.pos;
    EXPECT_EQ(argmax(logits.data(), lm->n_vocab()), r.argmax) << "position " << r.pos;
  }
}

class ReferenceModel : public ::testing::TestWithParam<std::string> {};

TEST_P(ReferenceModel, LogitsAllPositionsF32Cache) {
  PS_REQUIRE_FIXTURES();
  const auto rows = read_logits(reference(GetParam() + ".logits.txt"));
  ASSERT_EQ(rows.size(), 24u);
  std::vector<int32_t> ids;
  for (const auto& r : rows) ids.push_back(r.input);
  auto lm = load_for_test(reference(GetParam() + ".gguf"), backend::KvType::f32);
  ASSERT_TRUE(lm);
  const std::vector<float> logits = lm->run(ids, /*all=*/true);
  const int nv = lm->n_vocab();
  for (size_t p = 0; p < rows.size(); ++p) {
    float max_diff = 0;
    for (int i = 0; i < nv; ++i) max_diff = std::max(max_diff, std::fabs(logits[p * nv + i] - rows[p].logits[i]));
    EXPECT_LT(max_diff, 1e-4f) << GetParam() << " position " << p;
    EXPECT_EQ(argmax(logits.data() + p * nv, nv), rows[p].argmax) << GetParam() << " position " << p;
  }
}

void expect_reference_greedy(const std::string& name, backend::KvType kv, int threads) {
  const auto lines = read_lines(reference(name + ".greedy.txt"));
  ASSERT_EQ(lines.size(), 2u);
  const std::vector<int32_t> prompt = parse_ids(lines[0]), expected = parse_ids(lines[1]);
  ASSERT_EQ(expected.size(), 48u);
  auto lm = load_for_test(reference(name + ".gguf"), kv, threads);
  ASSERT_TRUE(lm);
  EXPECT_EQ(greedy(*lm, prompt, 48), expected) << name;
}

TEST_P(ReferenceModel, GreedyF32Cache) {
  PS_REQUIRE_FIXTURES();
  expect_reference_greedy(GetParam(), backend::KvType::f32, 1);
}

TEST_P(ReferenceModel, GreedyF16Cache) {
  PS_REQUIRE_FIXTURES();
  expect_reference_greedy(GetParam(), backend::KvType::f16, 2);
}

// A teacher-forced batch (one step of 24 tokens) and token-by-token steps through the cache
// compute the same logits: the paged cache and the causal mask agree.
TEST_P(ReferenceModel, BatchEqualsIncremental) {
  PS_REQUIRE_FIXTURES();
  const auto rows = read_logits(reference(GetParam() + ".logits.txt"));
  std::vector<int32_t> ids;
  for (const auto& r : rows) ids.push_back(r.input);
  auto batch = load_for_test(reference(GetParam() + ".gguf"));
  auto step = load_for_test(reference(GetParam() + ".gguf"));
  ASSERT_TRUE(batch && step);
  const std::vector<float> all = batch->run(ids, true);
  const int nv = batch->n_vocab();
  for (size_t p = 0; p < ids.size(); ++p) {
    const std::vector<float> one = step->run({ids[p]});
    for (int i = 0; i < nv; ++i) ASSERT_NEAR(one[i], all[p * nv + i], 1e-5f) << "position " << p;
  }
}

INSTANTIATE_TEST_SUITE_P(Families, ReferenceModel, ::testing::Values("ref-llama", "ref-qwen2", "ref-qwen3"));

}  // namespace
}  // namespace pensieve::testing
