// InferenceBackend end to end on real models: golden text through tokenizer + detokenizer,
// seeds, prefix reuse, stop strings, context full, cancellation, concurrency, unload RSS.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/inference.h"
#include "engine_test_util.h"
#include "test_util.h"

namespace pensieve::engine {
namespace {

using pensieve::testing::fixtures_dir;

std::string stories() { return fixtures_dir() + "/models/stories260K.gguf"; }

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::unique_ptr<InferenceBackend> load(const std::string& path, int threads = 1, int n_ctx = 512,
                                       const std::string& kv = "f16") {
  LoadOptions lo;
  lo.model_path = path;
  lo.threads = threads;
  lo.n_ctx = n_ctx;
  lo.kv_type = kv;
  return load_backend(lo);
}

GenerateOptions greedy(int n) { return greedy_options(n); }

TEST(Inference, GoldenStoryText) {
  PS_REQUIRE_FIXTURES();
  auto be = load(stories(), 1, 512, "f32");
  ASSERT_TRUE(be);
  EXPECT_EQ(be->variant(), "llama F32");
  EXPECT_EQ(be->device(), "cpu");
  auto g = be->infer(std::vector<token_id>{1}, greedy(200));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->finish, FinishReason::max_tokens);
  EXPECT_EQ(g->n_generated, 200);
  std::string text = g->text;
  if (!text.empty() && text[0] == ' ') text.erase(0, 1);  // run.c drops the space after BOS
  EXPECT_EQ(text, read_file(fixtures_dir() + "/golden/stories260K.greedy.200.txt"));
}

TEST(Inference, PromptedZooThroughTokenizer) {
  PS_REQUIRE_FIXTURES();
  auto be = load(stories());
  ASSERT_TRUE(be);
  const auto prompt = be->tokenize("Zoo");
  ASSERT_EQ(prompt, (std::vector<token_id>{1, 410, 469, 347}));
  auto g = be->infer(prompt, greedy(57));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ("Zoo" + g->text, read_file(fixtures_dir() + "/golden/stories260K.prompt-Zoo.60.txt"));
}

TEST(Inference, SeededSamplingIsReproducibleAcrossThreadCounts) {
  PS_REQUIRE_FIXTURES();
  GenerateOptions g;
  g.max_tokens = 48;
  g.sampling.temperature = 1.0f;
  g.sampling.seed = 1234;
  auto a = load(stories(), 1), b = load(stories(), 2);
  ASSERT_TRUE(a && b);
  auto ra = a->infer("Once upon a time", g), rb = b->infer("Once upon a time", g);
  ASSERT_TRUE(ra.ok() && rb.ok());
  EXPECT_EQ(ra->tokens, rb->tokens);
  g.sampling.seed = 99;
  auto rc = a->infer("Once upon a time", g);
  ASSERT_TRUE(rc.ok());
  EXPECT_NE(ra->tokens, rc->tokens);
}

TEST(Inference, PrefixReuseGivesTheSameResult) {
  PS_REQUIRE_FIXTURES();
  auto warm = load(stories()), cold = load(stories());
  ASSERT_TRUE(warm && cold);
  auto first = warm->infer("Once upon a time, there was a little girl", greedy(20));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->n_cached, 0);
  // The next turn: the previous prompt + its output + more text.
  std::vector<token_id> next = warm->tokenize("Once upon a time, there was a little girl");
  next.insert(next.end(), first->tokens.begin(), first->tokens.end());
  const auto more = warm->tokenizer().encode(" She liked", false, false);
  next.insert(next.end(), more.begin(), more.end());
  auto reused = warm->infer(next, greedy(30));
  auto fresh = cold->infer(next, greedy(30));
  ASSERT_TRUE(reused.ok() && fresh.ok());
  // The prefix cache shares whole 16-token blocks: every whole block of what was fed before
  // (prompt + all generated tokens but the last) that leaves at least 8 prompt tokens to compute.
  const auto whole_blocks = [](int n) { return n / 16 * 16; };
  EXPECT_EQ(reused->n_cached, std::min(whole_blocks(first->n_prompt + first->n_generated - 1),
                                       whole_blocks(static_cast<int>(next.size()) - 8)));
  EXPECT_GT(reused->n_cached, 0);
  EXPECT_EQ(fresh->n_cached, 0);
  EXPECT_EQ(reused->tokens, fresh->tokens);
  // The pool keeps the whole blocks of that request's prompt and output (but its last token)
  // for the next request; its capacity is n_ctx x n_parallel (4 on a CPU); unload empties it.
  EXPECT_EQ(warm->kv_usage().tokens, whole_blocks(reused->n_prompt + reused->n_generated - 1));
  EXPECT_EQ(warm->kv_usage().capacity, 512 * 4);
  EXPECT_EQ(warm->n_parallel(), 4);
  // The same prompt again: its whole blocks that leave at least 8 tokens to compute.
  auto again = warm->infer(next, greedy(30));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->n_cached, whole_blocks(static_cast<int>(next.size()) - 8));
  EXPECT_EQ(again->tokens, fresh->tokens);
  warm->unload();
  EXPECT_EQ(warm->kv_usage().tokens, 0);
  EXPECT_EQ(warm->kv_usage().capacity, 0);
}

TEST(Inference, StopStringAcrossTokensIsHeldBack) {
  PS_REQUIRE_FIXTURES();
  auto be = load(stories());
  ASSERT_TRUE(be);
  auto full = be->infer(std::vector<token_id>{1}, greedy(60));
  ASSERT_TRUE(full.ok());
  // A stop string made of the ends of two neighbouring pieces, well inside the text.
  const std::string stop = full->text.substr(40, 7);
  std::string streamed;
  GenerateOptions g = greedy(60);
  g.stop = {stop};
  auto r = be->stream(std::vector<token_id>{1}, g, [&](std::string_view t, token_id) {
    streamed += t;
    return true;
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->finish, FinishReason::stop_string);
  EXPECT_EQ(r->stop_string, stop);
  EXPECT_EQ(r->text, full->text.substr(0, full->text.find(stop)));
  EXPECT_EQ(streamed, r->text);
}

TEST(Inference, ContextFullAndOversizedPrompt) {
  PS_REQUIRE_FIXTURES();
  auto be = load(stories(), 1, /*n_ctx=*/32);
  ASSERT_TRUE(be);
  auto g = be->infer(std::vector<token_id>{1, 403, 407}, greedy(-1));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->finish, FinishReason::context_full);
  EXPECT_EQ(g->n_prompt + g->n_generated, 33);  // 32 positions run; the last token is sampled, not run
  std::vector<token_id> long_prompt(40, 403);
  long_prompt[0] = 1;
  auto bad = be->infer(long_prompt, greedy(4));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::invalid_request);
  auto after = be->infer(std::vector<token_id>{1}, greedy(5));  // still usable
  EXPECT_TRUE(after.ok());
}

TEST(Inference, CallbackCancels) {
  PS_REQUIRE_FIXTURES();
  auto be = load(stories());
  ASSERT_TRUE(be);
  int calls = 0;
  auto r = be->stream(std::vector<token_id>{1}, greedy(100), [&](std::string_view, token_id) { return ++calls < 5; });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->finish, FinishReason::cancelled);
  EXPECT_EQ(r->n_generated, 5);
}

TEST(Inference, ManyThreadsAtOnce) {
  PS_REQUIRE_FIXTURES();
  auto be = load(stories(), 1);  // the concurrency under test is the callers', not the pool's
  ASSERT_TRUE(be);
  const std::vector<std::string> prompts = {"Once upon a time", "The cat", "Lily wanted", "One day"};
  std::vector<std::vector<token_id>> expected;
  for (const auto& p : prompts) expected.push_back(be->infer(p, greedy(40))->tokens);
  std::vector<std::vector<token_id>> got(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      auto r = be->infer(prompts[i % 4], greedy(40));
      if (r.ok()) got[i] = r->tokens;
    });
  for (auto& t : threads) t.join();
  for (int i = 0; i < 8; ++i) EXPECT_EQ(got[i], expected[i % 4]) << i;
}

TEST(Inference, ErrorsAreValues) {
  PS_REQUIRE_FIXTURES();
  InferenceBackend be;
  EXPECT_FALSE(be.infer(std::vector<token_id>{1}, greedy(1)).ok());  // nothing loaded
  LoadOptions lo;
  lo.model_path = "/nonexistent/model.gguf";
  EXPECT_EQ(be.load(lo).error().kind, ErrorKind::model_load_failed);
  lo.model_path = stories();
  lo.kv_type = "q4";
  EXPECT_EQ(be.load(lo).error().kind, ErrorKind::invalid_request);
  lo.kv_type = "f16";
  lo.device = "tpu";
  EXPECT_FALSE(be.load(lo).ok());
  lo.device = "cpu";
  ASSERT_TRUE(be.load(lo).ok());
  auto r = be.infer(std::vector<token_id>{1, 100000}, greedy(1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::invalid_request);
  EXPECT_FALSE(be.infer(std::vector<token_id>{}, greedy(1)).ok());
}

int64_t vm_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    int64_t kb;
    if (key == "VmRSS:" && in >> kb) return kb * 1024;
  }
  return 0;
}

TEST(Inference, UnloadReturnsMemory) {
  PS_REQUIRE_FIXTURES();
  const std::string path = std::filesystem::temp_directory_path() / "pensieve-engine-rss-tiny-llama.gguf";
  if (!std::filesystem::exists(path)) {
    const std::string cmd = "/usr/bin/python3 " + pensieve::testing::shared_dir() +
                            "/tools/gen_model.py --shape tiny-llama --dtype f32 --quiet --out " + path;
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  const int64_t before = vm_rss_bytes();
  auto be = load(path, 2, 2048);
  ASSERT_TRUE(be);
  ASSERT_TRUE(be->infer("hello world", greedy(4)).ok());  // touches every weight
  const int64_t loaded = vm_rss_bytes();
  EXPECT_GT(loaded - before, 40ll << 20);  // the 51 MB of F32 weights are resident
  be->unload();
  EXPECT_FALSE(be->loaded());
  const int64_t after = vm_rss_bytes();
  EXPECT_LT(after - before, 8ll << 20) << "before " << before << " loaded " << loaded << " after " << after;
}

}  // namespace
}  // namespace pensieve::engine
