// Constrained-decoding speed: grammar compilation and per-token mask computation over real
// vocabularies (bench/RESULTS.md "Constrained decoding"). Random walks stand in for a random-
// weight model at temperature 1: each step draws uniformly among the tokens the mask allows.
//
// usage: grammar_bench SHARED_DIR SOURCE_DIR [walks=20] [steps=200] [VOCAB.gguf...]
// The extra vocab GGUFs run after the fixtures' qwen2, deepseek-llm and llama-spm, e.g. the Llama 3
// vocabulary: node tests/clients/llama3_vocab.mjs build/tokenizer-llama3/ggml-vocab-llama-bpe.gguf
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "grammar/json_schema.h"
#include "grammar/token_masks.h"
#include "text/tokenizer.h"

using namespace pensieve;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

double us_since(Clock::time_point t) { return std::chrono::duration<double, std::micro>(Clock::now() - t).count(); }

std::shared_ptr<const grammar::TokenVocab> load_vocab(const std::string& path) {
  auto f = GgufFile::open(path);
  if (!f.ok()) return nullptr;
  auto t = text::Tokenizer::from_gguf(**f);
  if (!t.ok()) return nullptr;
  const text::Tokenizer& tok = **t;
  std::vector<std::string> bytes(static_cast<size_t>(tok.n_vocab()));
  for (text::token_id i = 0; i < tok.n_vocab(); ++i)
    if (!tok.is_control(i) && !tok.is_eog(i)) bytes[i] = tok.token_to_piece(i, false);
  return std::make_shared<grammar::TokenVocab>(std::move(bytes), tok.eog_tokens());
}

// The forced-call grammar the server builds for a tool set (structured_output.cpp, Hermes).
std::string tools_gbnf(const json& tools) {
  grammar::GbnfBuilder b;
  std::string calls;
  for (size_t i = 0; i < tools.size(); ++i) {
    grammar::SchemaConverter c(b, tools[i]["input_schema"], "t" + std::to_string(i) + "-");
    auto args = c.convert(tools[i]["input_schema"], "tool");
    if (!args.ok()) {
      std::fprintf(stderr, "tool %zu: %s\n", i, args.error().message.c_str());
      std::exit(1);
    }
    calls += (calls.empty() ? "" : " | ") +
             grammar::gbnf_literal("{\"name\": " + tools[i]["name"].dump() + ", \"arguments\": ") + " " + *args + " \"}\"";
  }
  return "root ::= \"<tool_call>\" \"\\n\"? ( " + calls + " ) \"\\n\"? \"</tool_call>\"\n" + b.text();
}

struct Case {
  std::string name;
  std::string gbnf;
};

void walk(const Case& c, const std::shared_ptr<grammar::TokenGrammar>& tg, const std::shared_ptr<const grammar::TokenVocab>& vocab,
          int walks, int steps, const char* label) {
  if (!label) return;
  const auto before = tg->stats();
  std::vector<uint64_t> mask(vocab->n_words);
  std::vector<double> times;
  double advance_us = 0;  // distance_after (the engine's budget check) + accept, per token
  std::mt19937_64 rng(12345);
  int finished = 0;
  for (int w = 0; w < walks; ++w) {
    grammar::Matcher m(tg);
    for (int s = 0; s < steps; ++s) {
      const auto t0 = Clock::now();
      m.fill_mask(mask.data());
      times.push_back(us_since(t0));
      // Uniform among the allowed tokens, by rejection over the mask's set bits.
      std::vector<grammar::token_id> allowed;
      for (size_t wd = 0; wd < mask.size(); ++wd)
        for (uint64_t bits = mask[wd]; bits; bits &= bits - 1) {
          const grammar::token_id t = static_cast<grammar::token_id>(wd * 64 + __builtin_ctzll(bits));
          if (!vocab->bytes[t].empty()) allowed.push_back(t);
        }
      if (allowed.empty() || m.complete()) {
        ++finished;
        break;
      }
      const grammar::token_id pick = allowed[rng() % allowed.size()];
      const auto t1 = Clock::now();
      (void)m.distance_after(pick);
      m.accept(pick);
      advance_us += us_since(t1);
    }
  }
  std::vector<double> sorted = times;
  std::sort(sorted.begin(), sorted.end());
  double sum = 0;
  for (double t : times) sum += t;
  auto st = tg->stats();
  st.tables -= before.tables, st.table_ms -= before.table_ms, st.mask_misses -= before.mask_misses;
  st.miss_ms -= before.miss_ms, st.mask_hits -= before.mask_hits;
  std::printf("  %-18s %s tokens %5zu  mean %6.1f us  p50 %5.1f  p99 %7.1f  max %8.1f | tables %4zu (%6.1f ms), misses %4zu (%6.1f ms incl. tables), hits %5zu, finished %d/%d, distance+accept %.1f us\n",
              c.name.c_str(), label, times.size(), sum / times.size(), sorted[sorted.size() / 2], sorted[sorted.size() * 99 / 100],
              sorted.back(), st.tables, st.table_ms, st.mask_misses, st.miss_ms, st.mask_hits, finished, walks, advance_us / times.size());
}

void run_case(const Case& c, const std::shared_ptr<const grammar::TokenVocab>& vocab, int walks, int steps) {
  auto g = grammar::parse_gbnf(c.gbnf);
  if (!g.ok()) {
    std::fprintf(stderr, "%s: %s\n", c.name.c_str(), g.error().message.c_str());
    std::exit(1);
  }
  // cold: a fresh grammar-vocabulary binding (every table built on first use, counted in);
  // warm: the same walks again on it, as for a later request with the same schema.
  auto tg = std::make_shared<grammar::TokenGrammar>(*g, vocab);
  walk(c, tg, vocab, walks, steps, "cold");
  walk(c, std::make_shared<grammar::TokenGrammar>(*g, vocab), vocab, 0, 0, nullptr);
  walk(c, tg, vocab, walks, steps, "warm");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: grammar_bench SHARED_DIR SOURCE_DIR [walks=20] [steps=200] [VOCAB.gguf...]\n");
    return 2;
  }
  const std::string shared = argv[1], source = argv[2];
  const int walks = argc > 3 ? std::atoi(argv[3]) : 20, steps = argc > 4 ? std::atoi(argv[4]) : 200;
  std::ifstream in(source + "/tests/grammar/claude_code_tools.json");
  const json tools = json::parse(in);

  // Compilation of the Claude Code tool set (schema -> GBNF -> automaton), cold each time.
  double best = 1e30, total = 0;
  const int reps = 20;
  std::string cc;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = Clock::now();
    cc = tools_gbnf(tools);
    auto g = grammar::parse_gbnf(cc);
    const double us = us_since(t0);
    if (!g.ok()) return 1;
    best = std::min(best, us);
    total += us;
  }
  std::printf("compile: Claude Code's %zu tool schemas -> %zu bytes of GBNF -> automaton: mean %.2f ms, best %.2f ms\n",
              tools.size(), cc.size(), total / reps / 1000, best / 1000);

  std::vector<Case> cases;
  cases.push_back({"claude-code-tools", cc});
  json nested = json::parse(R"({"type":"object","properties":{"user":{"type":"object","properties":{
      "name":{"type":"string"},"age":{"type":"integer","minimum":0,"maximum":150},"email":{"type":"string","format":"email"},
      "address":{"type":"object","properties":{"street":{"type":"string"},"zip":{"type":"string","pattern":"^[0-9]{5}$"},
      "geo":{"type":"object","properties":{"lat":{"type":"number"},"lon":{"type":"number"}},"required":["lat","lon"]}},
      "required":["street","zip"]}},"required":["name","age","address"]},
      "orders":{"type":"array","items":{"type":"object","properties":{"id":{"type":"string","format":"uuid"},
      "items":{"type":"array","items":{"type":"object","properties":{"sku":{"type":"string"},"qty":{"type":"integer","minimum":1}},
      "required":["sku","qty"]}},"placed":{"type":"string","format":"date-time"}},"required":["id","items"]}}},
      "required":["user","orders"]})");
  cases.push_back({"nested-objects", *grammar::json_schema_to_gbnf(nested)});
  json big_enum = {{"type", "object"}, {"properties", {{"city", {{"enum", json::array()}}}, {"n", {{"type", "integer"}}}}}, {"required", {"city", "n"}}};
  for (int i = 0; i < 1000; ++i) big_enum["properties"]["city"]["enum"].push_back("city_" + std::to_string(i * 7919 % 100000));
  cases.push_back({"long-enum-1000", *grammar::json_schema_to_gbnf(big_enum)});
  cases.push_back({"json-object", *grammar::json_schema_to_gbnf(json{{"type", "object"}})});
  cases.push_back({"strings-maxLength", *grammar::json_schema_to_gbnf(json::parse(
      R"({"type":"array","items":{"type":"string","minLength":1,"maxLength":100},"maxItems":3})"))});

  std::vector<std::string> paths;
  for (const char* name : {"qwen2", "deepseek-llm", "llama-spm"})
    paths.push_back(shared + "/fixtures/tokenizer/ggml-vocab-" + name + ".gguf");
  for (int i = 5; i < argc; ++i) paths.push_back(argv[i]);
  for (const std::string& path : paths) {
    std::string name = path.substr(path.find_last_of('/') + 1);  // ggml-vocab-NAME.gguf -> NAME
    if (name.starts_with("ggml-vocab-")) name = name.substr(11);
    if (name.ends_with(".gguf")) name.resize(name.size() - 5);
    const auto t0 = Clock::now();
    auto vocab = load_vocab(path);
    if (!vocab) {
      std::fprintf(stderr, "cannot load %s\n", path.c_str());
      return 1;
    }
    std::printf("vocab %s: %d tokens (%zu with bytes), loaded+sorted in %.0f ms; %d walks x up to %d tokens\n", name.c_str(),
                vocab->n_vocab, vocab->sorted.size(), us_since(t0) / 1000, walks, steps);
    for (const Case& c : cases) run_case(c, vocab, walks, steps);
  }
  return 0;
}
