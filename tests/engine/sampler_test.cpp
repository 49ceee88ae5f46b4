// Sampler: greedy, seeded reproducibility, distribution sanity (frequencies follow the
// softmax), top-k / top-p / min-p truncation, penalties; stop strings across token boundaries.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "engine/sampler.h"
#include "engine/stop_strings.h"

namespace pensieve::engine {
namespace {

// Logits whose softmax (temperature 1) is exactly `probs`.
std::vector<float> logits_for(const std::vector<double>& probs) {
  std::vector<float> l;
  for (double p : probs) l.push_back(static_cast<float>(std::log(p)));
  return l;
}

std::map<token_id, double> frequencies(const SamplingParams& sp, const std::vector<float>& logits, int n) {
  Sampler s(sp);
  std::map<token_id, double> f;
  for (int i = 0; i < n; ++i) {
    std::vector<float> l = logits;
    f[s.sample(l, {})] += 1.0 / n;
  }
  return f;
}

SamplingParams plain(uint64_t seed) {
  SamplingParams sp;
  sp.temperature = 1;
  sp.top_k = 0;
  sp.top_p = 1;
  sp.min_p = 0;
  sp.seed = seed;
  return sp;
}

TEST(Sampler, GreedyPicksArgmaxWithPenaltiesApplied) {
  SamplingParams sp;
  sp.temperature = 0;
  Sampler s(sp);
  std::vector<float> l = {0.1f, 2.0f, 1.9f, -1};
  EXPECT_EQ(s.sample(l, {}), 1);
  sp.repeat_penalty = 1.2f;  // 2.0 / 1.2 < 1.9: the repeated token loses
  Sampler s2(sp);
  std::vector<float> l2 = {0.1f, 2.0f, 1.9f, -1};
  const std::vector<token_id> history = {1};
  EXPECT_EQ(s2.sample(l2, history), 2);
}

TEST(Sampler, FrequenciesFollowSoftmax) {
  const std::vector<double> p = {0.5, 0.25, 0.15, 0.1};
  const auto f = frequencies(plain(7), logits_for(p), 40000);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(f.count(i) ? f.at(i) : 0, p[i], 0.01) << i;
}

TEST(Sampler, TemperatureSharpensAndFlattens) {
  const auto logits = logits_for({0.6, 0.4});
  SamplingParams cold = plain(1), hot = plain(1);
  cold.temperature = 0.25f;  // p ∝ p^4: 0.6^4 / (0.6^4 + 0.4^4) = 0.835
  hot.temperature = 4.0f;    // p ∝ p^0.25: 0.525
  EXPECT_NEAR(frequencies(cold, logits, 40000)[0], 0.835, 0.01);
  EXPECT_NEAR(frequencies(hot, logits, 40000)[0], 0.525, 0.01);
}

TEST(Sampler, TopKTopPMinPTruncate) {
  const auto logits = logits_for({0.5, 0.3, 0.15, 0.05});
  SamplingParams k = plain(3);
  k.top_k = 2;  // renormalized: 0.625 / 0.375
  auto f = frequencies(k, logits, 20000);
  EXPECT_EQ(f.size(), 2u);
  EXPECT_NEAR(f[0], 0.625, 0.015);
  SamplingParams p = plain(4);
  p.top_p = 0.7f;  // 0.5 + 0.3 reaches 0.7
  f = frequencies(p, logits, 20000);
  EXPECT_EQ(f.size(), 2u);
  SamplingParams m = plain(5);
  m.min_p = 0.2f;  // keeps p >= 0.1
  f = frequencies(m, logits, 20000);
  EXPECT_EQ(f.size(), 3u);
  EXPECT_NEAR(f[2], 0.15 / 0.95, 0.015);
}

TEST(Sampler, SameSeedSameTokens) {
  const auto logits = logits_for({0.3, 0.3, 0.2, 0.1, 0.1});
  auto run = [&](uint64_t seed) {
    Sampler s(plain(seed));
    std::vector<token_id> out;
    for (int i = 0; i < 64; ++i) {
      std::vector<float> l = logits;
      out.push_back(s.sample(l, out));
    }
    return out;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
}

TEST(Sampler, FrequencyAndPresencePenalties) {
  SamplingParams sp;
  sp.temperature = 0;
  sp.frequency_penalty = 0.5f;
  sp.presence_penalty = 0.25f;
  Sampler s(sp);
  std::vector<float> l = {3.0f, 2.0f, 1.0f};
  const std::vector<token_id> history = {0, 0, 1};
  s.sample(l, history);
  EXPECT_FLOAT_EQ(l[0], 3.0f - 2 * 0.5f - 0.25f);
  EXPECT_FLOAT_EQ(l[1], 2.0f - 0.5f - 0.25f);
  EXPECT_FLOAT_EQ(l[2], 1.0f);
  SamplingParams rp;
  rp.temperature = 0;
  rp.repeat_penalty = 2.0f;
  rp.repeat_last_n = 1;  // only the last token counts
  Sampler r(rp);
  std::vector<float> l2 = {-1.0f, 4.0f, 1.0f};
  const std::vector<token_id> h2 = {1, 0};
  r.sample(l2, h2);
  EXPECT_FLOAT_EQ(l2[0], -2.0f);  // negative logits are multiplied
  EXPECT_FLOAT_EQ(l2[1], 4.0f);   // outside the window
}

TEST(StopMatcher, StopSpanningPiecesIsNeverEmitted) {
  StopMatcher m({"</answer>", "STOP"});
  std::string out;
  for (const char* piece : {"The result", " is 4</", "ans", "wer> and more"}) out += m.push(piece);
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.matched(), "</answer>");
  EXPECT_EQ(out, "The result is 4");
  EXPECT_EQ(m.push("later"), "");
}

TEST(StopMatcher, HeldPrefixIsReleasedWhenItDiverges) {
  StopMatcher m({"STOP"});
  EXPECT_EQ(m.push("abc ST"), "abc ");
  EXPECT_EQ(m.push("O"), "");
  EXPECT_EQ(m.push("RM"), "STORM");
  EXPECT_EQ(m.push("ST"), "");
  EXPECT_EQ(m.flush(), "ST");
  EXPECT_FALSE(m.stopped());
}

TEST(StopMatcher, EarliestStopWinsAndNoStopsPassThrough) {
  StopMatcher m({"bc", "abcd"});
  EXPECT_EQ(m.push("xabcde"), "x");  // "abcd" starts first
  EXPECT_EQ(m.matched(), "abcd");
  StopMatcher none({});
  EXPECT_EQ(none.push("anything"), "anything");
}

}  // namespace
}  // namespace pensieve::engine
