// Constrained decoding through the engine with a random-weight model (gen_model.py tiny-qwen2):
// every sampler setting gives output the grammar accepts, generation ends when the grammar is
// complete, the token budget is respected, batched sequences keep their own grammar state, and
// a lazy grammar starts at its trigger.
#include <gtest/gtest.h>

#include <future>
#include <regex>
#include <thread>

#include "engine/inference.h"
#include "engine_test_util.h"
#include "grammar/json_schema.h"
#include "model_files.h"

namespace pensieve::engine {
namespace {

using nlohmann::json;

std::string tiny_model() {
  static const std::string path = testing::gen_model("tiny-qwen2", "f32");
  return path;
}

std::unique_ptr<InferenceBackend> backend(int n_parallel = 1) {
  LoadOptions lo;
  lo.model_path = tiny_model();
  lo.device = "cpu";
  lo.threads = 2;
  lo.n_ctx = 1024;
  lo.n_parallel = n_parallel;
  return load_backend(lo);
}

std::shared_ptr<const grammar::Grammar> schema_grammar(const char* schema) {
  auto g = grammar::compile_json_schema(json::parse(schema));
  EXPECT_TRUE(g.ok()) << (g.ok() ? "" : g.error().message);
  return g.ok() ? *g : nullptr;
}

constexpr const char* kSchema = R"({"type":"object","properties":{"id":{"type":"integer","minimum":1,"maximum":999},
    "tags":{"type":"array","items":{"enum":["x","y","z"]},"maxItems":4},"name":{"type":"string","maxLength":8},
    "ok":{"type":"boolean"}},"required":["id","name","ok"],"additionalProperties":false})";

void expect_valid(const std::string& text) {
  const json doc = json::parse(text, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << text;
  ASSERT_TRUE(doc.is_object()) << text;
  EXPECT_TRUE(doc["id"].is_number_integer() && doc["id"] >= 1 && doc["id"] <= 999) << text;
  EXPECT_TRUE(doc["ok"].is_boolean()) << text;
  ASSERT_TRUE(doc["name"].is_string()) << text;
  if (doc.contains("tags")) {
    EXPECT_LE(doc["tags"].size(), 4u) << text;
  }
  for (const auto& [k, v] : doc.items()) EXPECT_TRUE(k == "id" || k == "tags" || k == "name" || k == "ok") << text;
}

TEST(GrammarDecoding, EverySamplerSettingGivesValidJson) {
  auto be = backend();
  ASSERT_TRUE(be);
  auto g = schema_grammar(kSchema);
  ASSERT_TRUE(g);
  struct Setting {
    float temperature;
    int top_k;
    float top_p, min_p, repeat_penalty;
  } settings[] = {{0, 40, 0.95f, 0.05f, 1}, {1, 0, 1, 0, 1}, {1.5f, 40, 0.9f, 0.05f, 1.3f}, {0.7f, 5, 0.5f, 0.2f, 1}};
  for (const Setting& st : settings) {
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      GenerateOptions o;
      o.sampling.temperature = st.temperature;
      o.sampling.top_k = st.top_k;
      o.sampling.top_p = st.top_p;
      o.sampling.min_p = st.min_p;
      o.sampling.repeat_penalty = st.repeat_penalty;
      o.sampling.seed = seed;
      o.max_tokens = 300;
      o.grammar = g;
      auto r = be->infer("Write JSON:", o);
      ASSERT_TRUE(r.ok()) << r.error().message;
      EXPECT_EQ(r->finish, FinishReason::eos) << r->text;
      expect_valid(r->text);
    }
  }
}

TEST(GrammarDecoding, TheBudgetIsKeptSoTheOutputStillCompletes) {
  auto be = backend();
  ASSERT_TRUE(be);
  // Unbounded strings: a random model left alone rarely closes them.
  auto g = schema_grammar(R"({"type":"object","properties":{"a":{"type":"string"},"b":{"type":"array","items":{"type":"string"}}},"required":["a","b"]})");
  ASSERT_TRUE(g);
  for (int max_tokens : {12, 20, 40}) {
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      GenerateOptions o;
      o.sampling.temperature = 1;
      o.sampling.top_k = 0;
      o.sampling.top_p = 1;
      o.sampling.min_p = 0;
      o.sampling.seed = seed;
      o.max_tokens = max_tokens;
      o.grammar = g;
      auto r = be->infer("x", o);
      ASSERT_TRUE(r.ok());
      EXPECT_LE(r->n_generated, max_tokens);
      const json doc = json::parse(r->text, nullptr, false);
      EXPECT_FALSE(doc.is_discarded()) << max_tokens << ": " << r->text;
    }
  }
}

// Greedy decoding under a grammar takes its argmax where the logits are, over the grammar's
// token mask (Context::step's `masks`). The host path (logits read back, masked, sampled) must
// choose the same tokens: temperature 1 with top_k 1 takes it and keeps only the best allowed
// token. Including where the token budget forces a finishable choice (small max_tokens), and
// next to a sampled sequence in the same steps.
TEST(GrammarDecoding, GreedyMaskedArgmaxEqualsTheHostPath) {
  auto be = backend(4);
  ASSERT_TRUE(be);
  auto g = schema_grammar(R"({"type":"object","properties":{"a":{"type":"string"},"b":{"type":"array","items":{"type":"string"}}},"required":["a","b"]})");
  auto strict = schema_grammar(kSchema);
  ASSERT_TRUE(g && strict);
  for (const auto& grammar : {g, strict}) {
    for (int max_tokens : {10, 16, 30, 80}) {
      GenerateOptions o = greedy_options(max_tokens);
      o.grammar = grammar;
      auto alone = be->infer("x", o);
      ASSERT_TRUE(alone.ok()) << alone.error().message;
      // (10 tokens cannot always hold the strict schema's required keys: the budget then keeps
      // the output as close to finished as it can.)
      if (grammar == g || max_tokens >= 30) {
        EXPECT_FALSE(json::parse(alone->text, nullptr, false).is_discarded()) << max_tokens << ": " << alone->text;
      }
      GenerateOptions host = o;
      host.sampling.temperature = 1;
      host.sampling.top_k = 1;
      auto on_host = be->infer("x", host);
      ASSERT_TRUE(on_host.ok());
      EXPECT_EQ(on_host->text, alone->text) << "max_tokens " << max_tokens;
      // A sampled companion that outlasts it, sharing its steps.
      auto companion = std::async(std::launch::async, [&] {
        GenerateOptions c;
        c.sampling.temperature = 1;
        c.sampling.seed = 7;
        c.ignore_eos = true;
        c.max_tokens = 400;
        return be->infer("Once upon a time", c);
      });
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      auto crowded = be->infer("x", o);
      ASSERT_TRUE(crowded.ok());
      auto c = companion.get();
      ASSERT_TRUE(c.ok());
      EXPECT_EQ(c->n_generated, 400);
      EXPECT_EQ(crowded->text, alone->text) << "max_tokens " << max_tokens;
      EXPECT_EQ(crowded->n_generated, alone->n_generated);
    }
  }
}

TEST(GrammarDecoding, StopsWhenTheGrammarIsComplete) {
  auto be = backend();
  ASSERT_TRUE(be);
  auto g = grammar::parse_gbnf(R"(root ::= "yes" | "no")");
  ASSERT_TRUE(g.ok());
  GenerateOptions o = greedy_options(50);
  o.grammar = *g;
  auto r = be->infer("Answer:", o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->text == "yes" || r->text == "no") << r->text;
  EXPECT_EQ(r->finish, FinishReason::eos);
}

TEST(GrammarDecoding, BatchedSequencesKeepTheirOwnGrammar) {
  auto be = backend(4);
  ASSERT_TRUE(be);
  auto json_g = schema_grammar(kSchema);
  auto digits = grammar::parse_gbnf(R"(root ::= "#" [0-9]{5,9} "#")");
  ASSERT_TRUE(json_g && digits.ok());
  std::vector<std::future<Result<Generation>>> runs;
  for (int i = 0; i < 8; ++i) {
    runs.push_back(std::async(std::launch::async, [&, i] {
      GenerateOptions o;
      o.sampling.temperature = 1;
      o.sampling.seed = 100 + i;
      o.max_tokens = 200;
      o.grammar = i % 2 ? json_g : *digits;
      return be->infer("Go:", o);
    }));
  }
  for (int i = 0; i < 8; ++i) {
    auto r = runs[i].get();
    ASSERT_TRUE(r.ok()) << r.error().message;
    if (i % 2) expect_valid(r->text);
    else EXPECT_TRUE(std::regex_match(r->text, std::regex("#[0-9]{5,9}#"))) << r->text;
  }
}

TEST(GrammarDecoding, ALazyGrammarAppliesFromItsTrigger) {
  auto be = backend();
  ASSERT_TRUE(be);
  // Free text until an "e" appears; from it the output must read e[digits] once.
  auto g = grammar::parse_gbnf(R"(root ::= "e[" [0-9]{1,3} "]")");
  ASSERT_TRUE(g.ok());
  int triggered = 0;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    GenerateOptions o;
    o.sampling.temperature = 1;
    o.sampling.seed = seed;
    o.max_tokens = 60;
    o.grammar = *g;
    o.grammar_triggers = {"e"};
    auto r = be->infer("Some text:", o);
    ASSERT_TRUE(r.ok());
    const size_t at = r->text.find('e');
    if (at == std::string::npos) continue;
    ++triggered;
    const std::string rest = r->text.substr(at);
    std::smatch m;
    // The first "e" starts e[digits] (unless the budget ran out first).
    EXPECT_TRUE(std::regex_search(rest, m, std::regex("^e\\[[0-9]{1,3}\\]")) || r->finish == FinishReason::max_tokens) << r->text;
  }
  EXPECT_GT(triggered, 0);
}

TEST(GrammarDecoding, AnyByteTheVocabularyHasCanBeRequired) {
  auto be = backend();
  ASSERT_TRUE(be);
  // A NUL and a raw UTF-8 character: byte-level BPE has a token for every byte.
  auto g = grammar::parse_gbnf(R"(root ::= "\x00" "é")");
  ASSERT_TRUE(g.ok());
  GenerateOptions o = greedy_options(10);
  o.grammar = *g;
  auto r = be->infer("x", o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->text, std::string("\0\xc3\xa9", 3));
  EXPECT_EQ(r->finish, FinishReason::eos);
}

}  // namespace
}  // namespace pensieve::engine
