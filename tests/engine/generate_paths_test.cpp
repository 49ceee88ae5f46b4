// Generation paths no other test reaches, through the public InferenceBackend API only (it stays
// stable while the scheduler behind it changes): prefill split over many chunks and prefix reuse
// after a mid-sequence divergence, both against llama2.c's published greedy story; EOS stopping;
// a vocabulary larger than the embedding matrix; a callback that throws.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "engine/inference.h"
#include "engine_test_util.h"
#include "gguf/gguf.h"
#include "gguf/keys.h"
#include "test_util.h"

namespace pensieve::engine {
namespace {

namespace fs = std::filesystem;
using pensieve::testing::fixtures_dir;

std::string stories() { return fixtures_dir() + "/models/stories260K.gguf"; }

// The 200 token ids llama2.c's run.c emits greedily from BOS with stories260K (derived golden,
// tied to the published text of llama2.c's test_all.py: ../shared/fixtures/golden/README.md).
std::vector<token_id> golden_ids() {
  std::ifstream in(fixtures_dir() + "/golden/stories260K.greedy.200.ids");
  std::vector<token_id> ids{std::istream_iterator<token_id>(in), std::istream_iterator<token_id>()};
  EXPECT_EQ(ids.size(), 200u);
  return ids;
}

// BOS followed by the first n golden ids: its greedy continuation is golden ids n, n+1, ...
std::vector<token_id> golden_prompt(size_t n) {
  const auto ids = golden_ids();
  std::vector<token_id> p{1};
  p.insert(p.end(), ids.begin(), ids.begin() + static_cast<long>(n));
  return p;
}

std::vector<token_id> golden_continuation(size_t from, size_t count) {
  const auto ids = golden_ids();
  return {ids.begin() + static_cast<long>(from), ids.begin() + static_cast<long>(from + count)};
}

std::unique_ptr<InferenceBackend> load(const std::string& path, int n_ubatch = 512, int n_ctx = 512) {
  LoadOptions lo;
  lo.model_path = path;
  lo.threads = 1;
  lo.n_ctx = n_ctx;
  lo.kv_type = "f32";  // the golden ids are float32 results
  lo.n_ubatch = n_ubatch;
  return load_backend(lo);
}

GenerateOptions greedy(int n) { return greedy_options(n); }

// A temp folder per test process, removed at exit.
struct TempDir {
  fs::path path = fs::temp_directory_path() / ("pensieve-generate-paths-" + std::to_string(getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};
const fs::path& temp_dir() {
  static TempDir d;
  return d.path;
}

// A 120-token prompt prefilled in chunks of 1, 7 and 64 tokens, and in one chunk: the same
// golden continuation every time (each chunk boundary must carry the KV and positions over).
TEST(GeneratePaths, MultiChunkPrefillMatchesTheGolden) {
  PS_REQUIRE_FIXTURES();
  const std::vector<token_id> prompt = golden_prompt(120);
  const std::vector<token_id> expected = golden_continuation(120, 40);
  for (int ubatch : {1, 7, 64, 512}) {
    auto be = load(stories(), ubatch);
    ASSERT_TRUE(be);
    auto g = be->infer(prompt, greedy(40));
    ASSERT_TRUE(g.ok()) << g.error().message;
    EXPECT_EQ(g->n_prompt, 121);
    EXPECT_EQ(g->n_cached, 0);
    EXPECT_EQ(g->tokens, expected) << "prefill chunk of " << ubatch << " tokens";
  }
}

// The prefix cache holds a prompt that diverges from the next one after 61 tokens: the next
// request reuses the whole 16-token blocks of those 61 (48) and recomputes the rest, giving the
// golden continuation (a fresh backend gives the same).
TEST(GeneratePaths, PrefixReuseAfterAMidSequenceDivergence) {
  PS_REQUIRE_FIXTURES();
  auto warm = load(stories(), 16);
  ASSERT_TRUE(warm);
  std::vector<token_id> first = golden_prompt(60);
  for (token_id t : {300, 301, 302, 303, 304, 305, 306, 307, 308, 309, 310, 311}) first.push_back(t);
  auto a = warm->infer(first, greedy(10));
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_NE(first[61], golden_prompt(61)[61]);  // the prompts really diverge at position 61

  const std::vector<token_id> second = golden_prompt(100);
  auto b = warm->infer(second, greedy(30));
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->n_cached, 48);
  EXPECT_EQ(b->tokens, golden_continuation(100, 30));

  auto fresh = load(stories(), 16);
  ASSERT_TRUE(fresh);
  auto c = fresh->infer(second, greedy(30));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->n_cached, 0);
  EXPECT_EQ(c->tokens, b->tokens);

  // A prompt that is a strict prefix of a cached sequence (50 tokens) reuses its whole blocks but
  // the one holding its last token (with 16-token steps the scheduler's minimum prompt part of 8
  // does not apply: it needs steps of 32 tokens or more).
  auto d = warm->infer(golden_prompt(50), greedy(20));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->n_cached, 48);
  EXPECT_EQ(d->tokens, golden_continuation(50, 20));
}

// tests/clients/make_ending_model.py rewrites a random model so that EOS's logit is ln(4) above
// every other token's at every position: greedy decoding must stop at once, with reason eos.
TEST(GeneratePaths, EosStopsTheGeneration) {
  PS_REQUIRE_FIXTURES();
  const fs::path random = temp_dir() / "tiny-qwen2.gguf", ending = temp_dir() / "tiny-qwen2-ending.gguf";
  const std::string gen = "/usr/bin/python3 " + pensieve::testing::shared_dir() +
                          "/tools/gen_model.py --shape tiny-qwen2 --quiet --out " + random.string();
  if (std::system((gen + " >/dev/null 2>&1").c_str()) != 0)
    PS_SKIP_OR_FAIL("gen_model.py failed: python3-numpy missing? (scripts/setup.sh installs it)");
  const std::string make = "/usr/bin/python3 " + pensieve::testing::source_dir() + "/tests/clients/make_ending_model.py " +
                           random.string() + " " + ending.string();
  ASSERT_EQ(std::system(make.c_str()), 0);
  auto be = load(ending.string());
  ASSERT_TRUE(be);
  const token_id eos = be->tokenizer().eos();
  ASSERT_GE(eos, 0);
  std::string streamed;
  auto g = be->stream(be->tokenize("Hello there"), greedy(50), [&](std::string_view t, token_id) {
    streamed += t;
    return true;
  });
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(g->finish, FinishReason::eos);
  EXPECT_EQ(g->text, "");
  EXPECT_EQ(streamed, "");
  // EOS ends the generation and is not part of it (neither a token of the output nor counted).
  EXPECT_EQ(g->n_generated, 0);
  EXPECT_TRUE(g->tokens.empty());
  // ignore_eos (benchmarks) generates through it.
  GenerateOptions through = greedy(5);
  through.ignore_eos = true;
  auto h = be->infer(be->tokenize("Hello there"), through);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->finish, FinishReason::max_tokens);
  EXPECT_EQ(h->n_generated, 5);
}

// stories260K with 3 extra tokens in its vocabulary but the same 512-row embedding matrix: a
// token id past the matrix would read out of bounds, so the load is refused, naming both sizes.
TEST(GeneratePaths, VocabularyLargerThanTheEmbeddingsIsRefused) {
  PS_REQUIRE_FIXTURES();
  auto src = GgufFile::open(stories());
  ASSERT_TRUE(src.ok());
  GgufWriter w;
  for (const GgufKV& kv : (*src)->metadata()) {
    if (kv.key == keys::kTokenizerTokens || kv.key == keys::kTokenizerScores || kv.key == keys::kTokenizerTokenType)
      continue;
    w.set_value(std::string(kv.key), kv.value);
  }
  std::vector<std::string> tokens;
  for (const GgufValue& v : (*src)->find(keys::kTokenizerTokens)->arr) tokens.emplace_back(v.str);
  ASSERT_EQ(tokens.size(), 512u);
  std::vector<float> scores(tokens.size() + 3, 0.0f);
  std::vector<int32_t> types(tokens.size() + 3, 1);
  if (const GgufValue* s = (*src)->find(keys::kTokenizerScores))
    for (size_t i = 0; i < s->arr.size(); ++i) scores[i] = static_cast<float>(*s->arr[i].as_double());
  if (const GgufValue* t = (*src)->find(keys::kTokenizerTokenType))
    for (size_t i = 0; i < t->arr.size(); ++i) types[i] = static_cast<int32_t>(*t->arr[i].as_int());
  for (const char* extra : {"<extra_0>", "<extra_1>", "<extra_2>"}) tokens.emplace_back(extra);
  w.set_string_array(std::string(keys::kTokenizerTokens), tokens);
  w.set_f32_array(std::string(keys::kTokenizerScores), scores);
  w.set_i32_array(std::string(keys::kTokenizerTokenType), types);
  for (const GgufTensorInfo& t : (*src)->tensors())
    w.add_tensor(std::string(t.name), t.type, std::vector<uint64_t>(t.ne.begin(), t.ne.end()),
                 std::span<const uint8_t>(t.data, t.n_bytes));
  const std::string path = (temp_dir() / "stories-big-vocab.gguf").string();
  ASSERT_TRUE(w.write(path).ok());

  InferenceBackend be;
  LoadOptions lo;
  lo.model_path = path;
  lo.quiet = true;
  const Status st = be.load(lo);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::model_load_failed);
  EXPECT_EQ(st.error().message, path + ": the vocabulary has 515 tokens but the embeddings only 512");
  EXPECT_FALSE(be.loaded());
}

// An exception thrown by the caller's token callback comes back to the caller, and the backend
// stays usable: the next generation gives the golden text.
TEST(GeneratePaths, ACallbackThatThrowsLeavesTheBackendUsable) {
  PS_REQUIRE_FIXTURES();
  auto be = load(stories());
  ASSERT_TRUE(be);
  int calls = 0;
  EXPECT_THROW(
      {
        auto r = be->stream(golden_prompt(10), greedy(400), [&](std::string_view, token_id) -> bool {
          if (++calls == 3) throw std::runtime_error("sink failed");
          return true;
        });
        (void)r;
      },
      std::runtime_error);
  EXPECT_EQ(calls, 3);
  auto g = be->infer(golden_prompt(10), greedy(30));
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(g->tokens, golden_continuation(10, 30));
  // The abandoned 400-token request was stopped, not left generating for nobody.
  EXPECT_EQ(be->stats().running, 0);
  EXPECT_EQ(be->stats().blocks_used, 0);
}

}  // namespace
}  // namespace pensieve::engine
