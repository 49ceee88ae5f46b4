// Token masks over a real 152k-token vocabulary (Qwen2's) checked against brute force: at
// every step of random constrained walks, the mask must allow exactly the tokens whose bytes
// the grammar can take from there, and the end-of-generation tokens exactly where it accepts.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "grammar/json_schema.h"
#include "grammar_vocab.h"
#include "test_util.h"

namespace pensieve::grammar {
namespace {

std::shared_ptr<const TokenVocab> qwen2_vocab() {
  static std::shared_ptr<const TokenVocab> v =
      testing::load_token_vocab(std::string(PENSIEVE_SHARED_DIR) + "/fixtures/tokenizer/ggml-vocab-qwen2.gguf");
  return v;
}

// Walks `steps` tokens, each drawn uniformly from the allowed ones (what a random-weight model
// at a high temperature does), checking every mask; returns the text produced.
std::string walk_and_check(const std::shared_ptr<const Grammar>& g, uint64_t seed, int steps, bool* finished) {
  auto vocab = qwen2_vocab();
  auto tg = std::make_shared<TokenGrammar>(g, vocab);
  Matcher m(tg);
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> mask(vocab->n_words);
  std::string out;
  *finished = false;
  for (int step = 0; step < steps; ++step) {
    m.fill_mask(mask.data());
    std::vector<token_id> allowed;
    for (token_id t = 0; t < vocab->n_vocab; ++t) {
      const bool in_mask = (mask[t >> 6] >> (t & 63)) & 1;
      const bool is_eog = std::find(vocab->eog.begin(), vocab->eog.end(), t) != vocab->eog.end();
      const bool expect = is_eog ? m.accepting() : tg->advance(m.state(), t) != kDead;
      EXPECT_EQ(in_mask, expect) << "token " << t << " '" << vocab->bytes[t] << "' after '" << out << "'";
      if (in_mask != expect) return out;
      if (in_mask && !is_eog) allowed.push_back(t);
    }
    if (m.complete() || allowed.empty()) {
      *finished = true;
      return out;
    }
    const token_id t = allowed[rng() % allowed.size()];
    EXPECT_TRUE(m.accept(t));
    out += vocab->bytes[t];
  }
  return out;
}

TEST(TokenMasks, MatchBruteForceOnJsonSchemas) {
  if (!qwen2_vocab()) GTEST_FAIL() << "the qwen2 vocabulary fixture is missing";
  const char* schemas[] = {
      R"({"type":"object","properties":{"name":{"type":"string","maxLength":12},"n":{"type":"integer","minimum":-5,"maximum":300},
          "kind":{"enum":["alpha","beta","gamma \"q\""]},"tags":{"type":"array","items":{"type":"string"},"maxItems":3}},
          "required":["name","n","kind"]})",
      R"({"type":"array","items":{"anyOf":[{"type":"number"},{"type":"boolean"},{"type":"null"}]},"minItems":1,"maxItems":6})",
      R"({"type":"object","properties":{"when":{"type":"string","format":"date-time"},"id":{"type":"string","format":"uuid"},
          "code":{"type":"string","pattern":"^[A-Z]{3}-[0-9]+$"}},"required":["when","id","code"]})",
  };
  for (const char* text : schemas) {
    auto g = compile_json_schema(nlohmann::json::parse(text));
    ASSERT_TRUE(g.ok()) << g.error().message;
    for (uint64_t seed = 1; seed <= 2; ++seed) {
      bool finished = false;
      std::string out = walk_and_check(*g, seed, 40, &finished);
      if (finished) {  // a finished walk is a complete document
        auto doc = nlohmann::json::parse(out, nullptr, false);
        EXPECT_FALSE(doc.is_discarded()) << out;
      }
    }
  }
}

TEST(TokenMasks, MatchBruteForceOnGbnfWithUnicodeAndRecursion) {
  if (!qwen2_vocab()) GTEST_FAIL() << "the qwen2 vocabulary fixture is missing";
  auto g = parse_gbnf(R"g(root ::= "<" item ("," item)* ">"
item ::= [α-ωa-z]+ | "(" root ")" | [0-9]{1,3})g");
  ASSERT_TRUE(g.ok()) << g.error().message;
  bool finished = false;
  walk_and_check(*g, 7, 30, &finished);
}

TEST(TokenMasks, EndOfGenerationOnlyWhereAccepting) {
  auto vocab = qwen2_vocab();
  if (!vocab) GTEST_FAIL() << "the qwen2 vocabulary fixture is missing";
  ASSERT_FALSE(vocab->eog.empty());
  auto g = parse_gbnf(R"(root ::= "yes" "!"?)");
  ASSERT_TRUE(g.ok());
  Matcher m(std::make_shared<TokenGrammar>(*g, vocab));
  std::vector<uint64_t> mask(vocab->n_words);
  auto eog_allowed = [&] {
    m.fill_mask(mask.data());
    return (mask[vocab->eog[0] >> 6] >> (vocab->eog[0] & 63)) & 1;
  };
  EXPECT_FALSE(eog_allowed());
  EXPECT_TRUE(m.accept_bytes("yes"));
  EXPECT_TRUE(eog_allowed());
  EXPECT_FALSE(m.complete());
  EXPECT_TRUE(m.accept_bytes("!"));
  EXPECT_TRUE(m.complete());
  EXPECT_EQ(m.distance(), 0u);
}

// The per-state table of distances after each allowed token (the budget check's) equals
// distance_after token by token, on the first call and from the cache.
TEST(TokenMasks, DistancesAfterEveryTokenMatchOneByOne) {
  auto vocab = qwen2_vocab();
  if (!vocab) GTEST_FAIL() << "the qwen2 vocabulary fixture is missing";
  auto g = compile_json_schema(nlohmann::json::parse(
      R"({"type":"object","properties":{"title":{"type":"string"},"n":{"type":"integer"}},"required":["title","n"]})"));
  ASSERT_TRUE(g.ok());
  auto tg = std::make_shared<TokenGrammar>(*g, vocab);
  Matcher m(tg);
  std::vector<uint64_t> mask(vocab->n_words);
  for (const char* bytes : {"", "{\"n\":12,\"title\":\"ab", "c"}) {  // keys come sorted
    ASSERT_TRUE(m.accept_bytes(bytes)) << bytes;
    m.fill_mask(mask.data());
    for (int pass = 0; pass < 2; ++pass) {
      auto d = tg->distances_after(m.state(), mask.data());
      ASSERT_EQ(d->size(), static_cast<size_t>(vocab->n_vocab));
      size_t finite = 0;
      for (token_id t = 0; t < vocab->n_vocab; ++t) {
        const bool in_mask = (mask[t >> 6] >> (t & 63)) & 1;
        const uint32_t want = in_mask && !vocab->bytes[t].empty() ? m.distance_after(t) : UINT32_MAX;
        ASSERT_EQ((*d)[t], want) << "token " << t << " '" << vocab->bytes[t] << "' after '" << bytes << "'";
        finite += want != UINT32_MAX;
      }
      EXPECT_GT(finite, 0u);
    }
  }
}

TEST(TokenMasks, ClaudeCodeToolSchemasAllConvert) {
  std::ifstream in(std::string(PENSIEVE_SOURCE_DIR) + "/tests/grammar/claude_code_tools.json");
  ASSERT_TRUE(in.good());
  auto tools = nlohmann::json::parse(in);
  ASSERT_GE(tools.size(), 20u);
  for (const auto& t : tools) {
    auto g = compile_json_schema(t["input_schema"]);
    EXPECT_TRUE(g.ok()) << t["name"] << ": " << (g.ok() ? "" : g.error().message);
  }
}

}  // namespace
}  // namespace pensieve::grammar
