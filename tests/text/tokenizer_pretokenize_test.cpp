// Pre-tokenizer splits (no vocabulary needed), and the test vectors whose vocab GGUF is not in
// the fixtures, checked as far as another vocabulary with the same BPE allows.
#include <filesystem>
#include <map>

#include "text/tok_pretokenize.h"
#include "tokenizer_fixture_util.h"

namespace pensieve::testing {
namespace {

using Pieces = std::vector<std::string>;

Pieces split(std::string_view pre, std::string_view text) {
  auto pt = text::PreTokenizer::create(pre);
  EXPECT_TRUE(pt.ok()) << pre;
  if (!pt.ok()) return {};
  return pt.value()->split(text);
}

TEST(PreTokenizer, Gpt2Basics) {
  EXPECT_EQ(split("gpt-2", "Hello world"), (Pieces{"Hello", " world"}));
  // \s+(?!\S): the last space of a run goes with the next word.
  EXPECT_EQ(split("gpt-2", "   Hello"), (Pieces{"  ", " Hello"}));
  EXPECT_EQ(split("gpt-2", "Hello   "), (Pieces{"Hello", "   "}));
  EXPECT_EQ(split("gpt-2", "I'm don't"), (Pieces{"I", "'m", " don", "'t"}));
  // Contractions are case-sensitive in GPT-2's regex.
  EXPECT_EQ(split("gpt-2", "I'M"), (Pieces{"I", "'", "M"}));
  EXPECT_EQ(split("gpt-2", "a1234 !!x"), (Pieces{"a", "1234", " !!", "x"}));
  EXPECT_EQ(split("gpt-2", "a\nb"), (Pieces{"a", "\n", "b"}));
  EXPECT_EQ(split("gpt-2", ""), Pieces{});
}

TEST(PreTokenizer, UnicodeCategories) {
  // Letters, numbers and punctuation outside ASCII: Cyrillic, CJK, Arabic-Indic digits, an
  // en dash (Pd) and a combining mark-free Khmer word.
  EXPECT_EQ(split("gpt-2", "Привет мир"), (Pieces{"Привет", " мир"}));
  EXPECT_EQ(split("gpt-2", "中文 ١٢٣ – x"), (Pieces{"中文", " ١٢٣", " –", " x"}));
  EXPECT_EQ(split("qwen2", "x١٢٣"), (Pieces{"x", "١", "٢", "٣"}));
  EXPECT_EQ(split("gpt-2", "Ελληνικά"), (Pieces{"Ελληνικά"}));
}

TEST(PreTokenizer, Llama3DigitsInThreesAndCaseInsensitiveContractions) {
  EXPECT_EQ(split("llama3", "333333333"), (Pieces{"333", "333", "333"}));
  EXPECT_EQ(split("llama3", "12345"), (Pieces{"123", "45"}));
  EXPECT_EQ(split("llama-bpe", "I'M HERE"), (Pieces{"I", "'M", " HERE"}));
  // A non-letter directly before letters joins them; newlines are grouped.
  EXPECT_EQ(split("llama3", "(hello)\n\nworld"), (Pieces{"(hello", ")\n\n", "world"}));
  EXPECT_EQ(split("llama3", "  \n  x"), (Pieces{"  \n", " ", " x"}));
}

TEST(PreTokenizer, Qwen2SingleDigits) {
  EXPECT_EQ(split("qwen2", "333"), (Pieces{"3", "3", "3"}));
  EXPECT_EQ(split("deepseek-r1-qwen", "v2.10"), (Pieces{"v", "2", ".", "1", "0"}));
}

TEST(PreTokenizer, StarcoderStyleDigitsFirst) {
  EXPECT_EQ(split("refact", "abc123 def"), (Pieces{"abc", "1", "2", "3", " def"}));
  EXPECT_EQ(split("command-r", "x 42"), (Pieces{"x", " ", "4", "2"}));
}

TEST(PreTokenizer, DeepseekLlm) {
  EXPECT_EQ(split("deepseek-llm", "Hello, world!\n3.14"), (Pieces{"Hello", ",", " world", "!", "\n", "3", ".", "14"}));
  // Kelvin sign and Greek with tonos are in the cased-letter class.
  EXPECT_EQ(split("deepseek-llm", "5\u212A ώ"), (Pieces{"5", "\u212A", " ώ"}));
  EXPECT_EQ(split("deepseek-llm", "你好世界abc"), (Pieces{"你好世界", "abc"}));
}

TEST(PreTokenizer, EveryKnownNameCompilesAndTiles) {
  const std::string text = "Hello, wörld! 1234567 I'm <sentinel:3> 你好 \t\n\n  x  ( ) 'S'";
  for (std::string_view name : text::PreTokenizer::known_names()) {
    auto pt = text::PreTokenizer::create(name);
    ASSERT_TRUE(pt.ok()) << name << ": " << pt.error().message;
    std::string joined;
    for (const std::string& p : pt.value()->split(text)) {
      EXPECT_FALSE(p.empty()) << name;
      joined += p;
    }
    EXPECT_EQ(joined, text) << name;
  }
}

TEST(PreTokenizer, UnknownNameIsAnError) {
  auto pt = text::PreTokenizer::create("no-such-pre");
  ASSERT_FALSE(pt.ok());
  EXPECT_NE(pt.error().message.find("no-such-pre"), std::string::npos);
}

TEST(PreTokenizer, InvalidUtf8IsKeptInPieces) {
  const std::string text = "ab\xFF\xFE cd\xC3";
  for (std::string_view name : {"gpt-2", "llama3", "qwen2", "deepseek-llm"}) {
    std::string joined;
    for (const std::string& p : split(name, text)) joined += p;
    EXPECT_EQ(joined, text) << name;
  }
}

// Vectors of a vocab we do not have, encoded with another vocab whose BPE produces the same
// segmentation under the given pre-tokenizer: then there must be a consistent one-to-one map
// between our ids and the expected ids. Checks the pre-tokenizer (piece boundaries) and BPE.
void expect_consistent_mapping(const std::string& vectors, const std::string& vocab, const std::string& pre) {
  const std::string gguf = tokenizer_dir() + "/ggml-vocab-" + vocab + ".gguf";
  // Called after PS_REQUIRE_FIXTURES: a missing vocabulary is a broken fixture, not a skip.
  ASSERT_TRUE(std::filesystem::exists(gguf)) << gguf << " is missing from the fixtures";
  const std::string base = tokenizer_dir() + "/ggml-vocab-" + vectors + ".gguf";
  const auto inputs = read_vocab_inputs(base + ".inp");
  const auto expected = read_vocab_outputs(base + ".out");
  ASSERT_EQ(inputs.size(), expected.size());
  LoadedTokenizer lt = load_tokenizer(gguf, pre);
  ASSERT_TRUE(lt.tok);
  std::map<int32_t, int32_t> ours_to_theirs, theirs_to_ours;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto got = lt.tok->encode(inputs[i], false, false);
    ASSERT_EQ(got.size(), expected[i].size()) << vectors << " case " << i << " '" << inputs[i] << "'\n expected:"
                                              << ids_to_string(expected[i]) << "\n got:     " << ids_to_string(got);
    for (size_t k = 0; k < got.size(); ++k) {
      auto [a, inserted_a] = ours_to_theirs.emplace(got[k], expected[i][k]);
      auto [b, inserted_b] = theirs_to_ours.emplace(expected[i][k], got[k]);
      EXPECT_EQ(a->second, expected[i][k]) << "case " << i << ": token '" << lt.tok->token_text(got[k]) << "'";
      EXPECT_EQ(b->second, got[k]) << "case " << i;
    }
  }
}

TEST(PreTokenizerVectors, RobertaBpeWithGpt2Vocab) {
  PS_REQUIRE_FIXTURES();
  // RoBERTa reuses GPT-2's byte-level BPE (same merges), with its ids renumbered.
  expect_consistent_mapping("roberta-bpe", "gpt-2", "roberta-bpe");
}

}  // namespace
}  // namespace pensieve::testing
namespace pensieve::testing {
namespace {

// Vectors whose vocab is absent and has no stand-in: BPE never merges across pieces, so every
// piece is at least one token. A pre-tokenizer that over-splits (e.g. single digits where Llama 3
// groups three) makes some case need more tokens than the expected ids have.
void expect_pieces_fit(const std::string& vectors, const std::string& pre) {
  const std::string base = tokenizer_dir() + "/ggml-vocab-" + vectors + ".gguf";
  const auto inputs = read_vocab_inputs(base + ".inp");
  const auto expected = read_vocab_outputs(base + ".out");
  ASSERT_EQ(inputs.size(), 46u);
  ASSERT_EQ(inputs.size(), expected.size());
  auto pt = text::PreTokenizer::create(pre);
  ASSERT_TRUE(pt.ok());
  size_t exact = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto pieces = pt.value()->split(inputs[i]);
    EXPECT_LE(pieces.size(), expected[i].size()) << vectors << " case " << i << " '" << inputs[i] << "'";
    exact += pieces.size() == expected[i].size();
  }
  // Most test strings are common words: one token per piece.
  EXPECT_GE(exact, inputs.size() / 2) << vectors;
}

TEST(PreTokenizerVectors, LlamaBpePiecesFit) {
  PS_REQUIRE_FIXTURES();
  expect_pieces_fit("llama-bpe", "llama-bpe");
}
TEST(PreTokenizerVectors, CommandRPiecesFit) {
  PS_REQUIRE_FIXTURES();
  expect_pieces_fit("command-r", "command-r");
}
TEST(PreTokenizerVectors, ChameleonPiecesFit) {
  PS_REQUIRE_FIXTURES();
  expect_pieces_fit("chameleon", "chameleon");
}
TEST(PreTokenizerVectors, Llama3DigitGroupsMatchExpectedCounts) {
  PS_REQUIRE_FIXTURES();
  // Cases 36..44 are "3" .. "333333333": Llama 3 has a token for every 1-3 digit group.
  const std::string base = tokenizer_dir() + "/ggml-vocab-llama-bpe.gguf";
  const auto inputs = read_vocab_inputs(base + ".inp");
  const auto expected = read_vocab_outputs(base + ".out");
  auto pt = text::PreTokenizer::create("llama-bpe");
  ASSERT_TRUE(pt.ok());
  int checked = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].empty() || inputs[i].find_first_not_of('3') != std::string::npos) continue;
    EXPECT_EQ(pt.value()->split(inputs[i]).size(), expected[i].size()) << "'" << inputs[i] << "'";
    ++checked;
  }
  EXPECT_EQ(checked, 9);
}

}  // namespace
}  // namespace pensieve::testing
