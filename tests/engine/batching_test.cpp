// The batching engine on real models: a request's greedy tokens are the same alone or among
// many, whatever the prefill chunking and whatever part of its prompt came from the prefix
// cache; preemption, cancellation under load and per-request sampling keep their results.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <latch>
#include <thread>

#include "engine/inference.h"
#include "engine_test_util.h"
#include "model_files.h"
#include "test_util.h"

namespace pensieve::engine {
namespace {

using pensieve::testing::fixtures_dir;

std::string stories() { return fixtures_dir() + "/models/stories260K.gguf"; }

// tiny-llama from gen_model.py quantized to Q8_0: the integer kernels (decode tiles and GEMM).
std::string tiny_q8() {
  const std::string f32 = testing::gen_model("tiny-llama", "f32");
  return f32.empty() ? "" : testing::quantized(f32, "Q8_0");
}

std::unique_ptr<InferenceBackend> load(const std::string& path, int parallel, int ubatch = 512, int threads = 2,
                                       int64_t kv_budget_mb = 0, int n_ctx = 512) {
  LoadOptions lo;
  lo.model_path = path;
  lo.threads = threads;
  lo.n_ctx = n_ctx;
  lo.n_parallel = parallel;
  lo.n_ubatch = ubatch;
  lo.kv_budget_mb = kv_budget_mb;
  return load_backend(lo);
}

GenerateOptions greedy(int n) {
  GenerateOptions g = greedy_options(n);
  g.ignore_eos = true;  // random-weight models may end at once
  return g;
}

// 16 distinct prompts of different lengths (so sequences are at different positions).
std::vector<std::vector<token_id>> prompts(int n_vocab_used) {
  std::vector<std::vector<token_id>> out;
  for (int i = 0; i < 16; ++i) {
    std::vector<token_id> p = {1};
    for (int j = 0; j < 3 + 5 * i; ++j) p.push_back(2 + (i * 131 + j * 17) % (n_vocab_used - 2));
    out.push_back(p);
  }
  return out;
}

// Runs every prompt at once from its own thread (released together); returns the generated
// tokens per prompt.
std::vector<std::vector<token_id>> run_concurrently(InferenceBackend& be, const std::vector<std::vector<token_id>>& ps,
                                                     const GenerateOptions& g) {
  std::vector<std::vector<token_id>> got(ps.size());
  std::vector<std::thread> threads;
  std::latch start(static_cast<std::ptrdiff_t>(ps.size()));
  for (size_t i = 0; i < ps.size(); ++i)
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      auto r = be.infer(ps[i], g);
      EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
      if (r.ok()) got[i] = r->tokens;
    });
  for (auto& t : threads) t.join();
  return got;
}

void expect_crowd_equals_alone(const std::string& path, int n_vocab_used) {
  auto alone = load(path, 1), crowd = load(path, 16);
  ASSERT_TRUE(alone && crowd);
  const auto ps = prompts(n_vocab_used);
  std::vector<std::vector<token_id>> expected;
  for (const auto& p : ps) {
    auto r = alone->infer(p, greedy(24));
    ASSERT_TRUE(r.ok());
    expected.push_back(r->tokens);
  }
  const auto got = run_concurrently(*crowd, ps, greedy(24));
  for (size_t i = 0; i < ps.size(); ++i) EXPECT_EQ(got[i], expected[i]) << "prompt " << i;
  const EngineStats st = crowd->stats();
  // The crowd really ran together: some steps carried more than 8 sequences.
  int64_t big = 0;
  for (int b = 4; b < kBatchBuckets; ++b) big += st.batch_hist[b];
  EXPECT_GT(big, 0) << "no step held more than 8 sequences";
  EXPECT_EQ(st.running, 0);
  EXPECT_EQ(st.blocks_used, 0);  // every finished sequence freed its blocks
}

TEST(Batching, SixteenConcurrentRequestsMatchEachAloneF32) {
  PS_REQUIRE_FIXTURES();
  expect_crowd_equals_alone(stories(), 512);
}

TEST(Batching, SixteenConcurrentRequestsMatchEachAloneQ8) {
  PS_REQUIRE_FIXTURES();
  const std::string q8 = tiny_q8();
  ASSERT_FALSE(q8.empty()) << "could not make the tiny-llama Q8_0 model";
  expect_crowd_equals_alone(q8, 50000);
}

// Prefill chunking and prefix-cache hits change how a prompt's K/V is computed (chunks of 7
// or one pass; some blocks from another request); the tokens must not change.
TEST(Batching, GreedyOutputIndependentOfChunkingAndPrefixCache) {
  PS_REQUIRE_FIXTURES();
  for (const std::string& path : {stories(), tiny_q8()}) {
    ASSERT_FALSE(path.empty());
    auto whole = load(path, 1, 512), chunked = load(path, 1, 7), cached = load(path, 2, 512);
    ASSERT_TRUE(whole && chunked && cached);
    std::vector<token_id> prompt = {1};
    for (int j = 0; j < 70; ++j) prompt.push_back(2 + (j * 37) % 400);
    auto a = whole->infer(prompt, greedy(30));
    auto b = chunked->infer(prompt, greedy(30));
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->tokens, b->tokens) << path;
    // Warm `cached` with a request sharing the first 40 tokens, then run the prompt: its first
    // 32 tokens (two whole blocks) come from the cache.
    std::vector<token_id> other(prompt.begin(), prompt.begin() + 40);
    other.push_back(3);
    ASSERT_TRUE(cached->infer(other, greedy(5)).ok());
    auto c = cached->infer(prompt, greedy(30));
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->n_cached, 32) << path;
    EXPECT_EQ(c->tokens, a->tokens) << path;
    // The same prompt again (71 tokens): its whole blocks that leave at least 8 tokens to compute
    // (SchedulerOptions::min_prefill_part), so the rest runs on the same kernels as a fresh prompt.
    auto d = cached->infer(prompt, greedy(30));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->n_cached, 48) << path;
    EXPECT_EQ(d->tokens, a->tokens) << path;
  }
}

TEST(Batching, PreemptedSequencesRecomputeToTheSameTokens) {
  PS_REQUIRE_FIXTURES();
  auto alone = load(stories(), 1);
  // stories260K: 5 layers x 4 kv heads x 8 dims x 2 (K, V) x 2 bytes = 640 bytes per token;
  // a 1 MiB pool holds 1638 tokens, 102 blocks: 8 sequences of ~400 tokens (3200) cannot all fit,
  // even if some start late.
  auto tight = load(stories(), 8, 512, 2, /*kv_budget_mb=*/1);
  ASSERT_TRUE(alone && tight);
  std::vector<std::vector<token_id>> ps;
  for (int i = 0; i < 8; ++i) ps.push_back({1, static_cast<token_id>(10 + i), static_cast<token_id>(40 + 3 * i)});
  std::vector<std::vector<token_id>> expected;
  for (const auto& p : ps) {
    auto r = alone->infer(p, greedy(400));
    ASSERT_TRUE(r.ok());
    expected.push_back(r->tokens);
  }
  const auto got = run_concurrently(*tight, ps, greedy(400));
  for (size_t i = 0; i < ps.size(); ++i) EXPECT_EQ(got[i], expected[i]) << "prompt " << i;
  EXPECT_GT(tight->stats().preemptions, 0) << "the pool was never short: the test proves nothing";
}

TEST(Batching, PromptThatCanNeverFitIsRefused) {
  PS_REQUIRE_FIXTURES();
  auto tight = load(stories(), 2, 512, 1, /*kv_budget_mb=*/1, /*n_ctx=*/4096);
  ASSERT_TRUE(tight);
  std::vector<token_id> huge(2000, 5);
  huge[0] = 1;
  auto r = tight->infer(huge, greedy(4));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::invalid_request);
  EXPECT_NE(r.error().message.find("KV cache"), std::string::npos) << r.error().message;
}

TEST(Batching, CancellingSomeRequestsLeavesTheOthersIntact) {
  PS_REQUIRE_FIXTURES();
  auto alone = load(stories(), 1), crowd = load(stories(), 8);
  ASSERT_TRUE(alone && crowd);
  std::vector<std::vector<token_id>> ps;
  for (int i = 0; i < 8; ++i) ps.push_back({1, static_cast<token_id>(100 + 7 * i)});
  std::vector<std::vector<token_id>> expected(8);
  for (int i = 0; i < 8; i += 2) {
    auto r = alone->infer(ps[i], greedy(120));
    ASSERT_TRUE(r.ok());
    expected[i] = r->tokens;
  }
  std::vector<Result<Generation>> results(8, make_error(ErrorKind::internal, "not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      int seen = 0;
      // Odd requests hang up after 10 tokens, the way a client leaves.
      results[i] = crowd->stream(ps[i], greedy(120), [&](std::string_view, token_id) { return i % 2 == 0 || ++seen < 10; });
    });
  for (auto& t : threads) t.join();
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(results[i].ok()) << i;
    if (i % 2 == 0) {
      EXPECT_EQ(results[i]->tokens, expected[i]) << i;
      EXPECT_EQ(results[i]->finish, FinishReason::max_tokens);
    } else {
      EXPECT_EQ(results[i]->finish, FinishReason::cancelled);
      EXPECT_EQ(results[i]->n_generated, 10);
    }
  }
  EXPECT_EQ(crowd->stats().blocks_used, 0);
}

TEST(Batching, SeededSamplingInACrowdMatchesAlone) {
  PS_REQUIRE_FIXTURES();
  auto alone = load(stories(), 1), crowd = load(stories(), 4);
  ASSERT_TRUE(alone && crowd);
  std::vector<std::vector<token_id>> ps = {{1, 50}, {1, 60, 61}, {1, 70}, {1, 80, 81, 82}};
  std::vector<GenerateOptions> gs(4);
  for (int i = 0; i < 4; ++i) {
    gs[i].max_tokens = 40;
    gs[i].ignore_eos = true;
    gs[i].sampling.temperature = 0.5f + 0.25f * i;
    gs[i].sampling.seed = 1000 + i;
  }
  std::vector<std::vector<token_id>> expected;
  for (int i = 0; i < 4; ++i) expected.push_back(alone->infer(ps[i], gs[i])->tokens);
  std::vector<std::vector<token_id>> got(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&, i] { got[i] = crowd->infer(ps[i], gs[i])->tokens; });
  for (auto& t : threads) t.join();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(got[i], expected[i]) << i;
}

// Greedy and sampled requests sharing steps: the greedy rows take the device's argmax while the
// few sampled rows read their own logits row after the step (most rows sampled: one bulk copy);
// every request still gets what it gets alone.
TEST(Batching, GreedyAndSampledSharingStepsMatchAlone) {
  PS_REQUIRE_FIXTURES();
  auto alone = load(stories(), 1), crowd = load(stories(), 8);
  ASSERT_TRUE(alone && crowd);
  const int n = 8;
  std::vector<std::vector<token_id>> ps;
  std::vector<GenerateOptions> gs(n);
  for (int i = 0; i < n; ++i) {
    ps.push_back({1, 40 + 7 * i, 41 + 3 * i});
    gs[i].max_tokens = 24 + 4 * i;  // they leave at different steps: the mix changes as they go
    gs[i].ignore_eos = true;
    gs[i].sampling.temperature = i % 3 == 1 ? 0.8f : 0.0f;  // 3 of 8 sampled
    gs[i].sampling.seed = 500 + i;
  }
  std::vector<std::vector<token_id>> expected;
  for (int i = 0; i < n; ++i) expected.push_back(alone->infer(ps[i], gs[i])->tokens);
  std::vector<std::vector<token_id>> got(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) threads.emplace_back([&, i] { got[i] = crowd->infer(ps[i], gs[i])->tokens; });
  for (auto& t : threads) t.join();
  for (int i = 0; i < n; ++i) EXPECT_EQ(got[i], expected[i]) << i;
}

}  // namespace
}  // namespace pensieve::engine

namespace pensieve::engine {
namespace {

// The same check on the GPU (scripts/gpu-check.sh runs it there): with --batch-invariant, 16
// requests at once give each the tokens it gets alone; the default kernels (8-bit activations
// for single tokens, a split count that follows the step) are reported, not required, to match.
// Skips where there is no CUDA device.
TEST(BatchingCuda, SixteenConcurrentRequestsMatchEachAlone) {
  PS_REQUIRE_FIXTURES();
  for (const bool invariant : {true, false})
  for (const std::string& path : {stories(), tiny_q8()}) {
    Status st = ok_status();
    auto make = [&](int parallel) {
      auto be = std::make_unique<InferenceBackend>();
      LoadOptions lo;
      lo.model_path = path;
      lo.device = "cuda";
      lo.n_ctx = 512;
      lo.n_parallel = parallel;
      lo.quiet = true;
      lo.batch_invariant = invariant;
      st = be->load(lo);
      return st.ok() ? std::move(be) : nullptr;
    };
    ASSERT_FALSE(path.empty());
    auto alone = make(1);
    if (!alone && st.error().kind == ErrorKind::platform_unsupported) GTEST_SKIP() << "skipped: no CUDA device";
    ASSERT_TRUE(alone) << st.error().message;
    auto crowd = make(16);
    ASSERT_TRUE(crowd);
    const auto ps = prompts(path == stories() ? 512 : 50000);
    std::vector<std::vector<token_id>> expected;
    for (const auto& p : ps) expected.push_back(alone->infer(p, greedy(24))->tokens);
    const auto got = run_concurrently(*crowd, ps, greedy(24));
    int same = 0;
    for (size_t i = 0; i < ps.size(); ++i) same += got[i] == expected[i];
    std::printf("%s, %s kernels: %d of 16 requests identical alone and in the crowd\n", path.c_str(),
                invariant ? "batch-invariant" : "default", same);
    if (invariant) EXPECT_EQ(same, 16) << path;
  }
}

}  // namespace
}  // namespace pensieve::engine
