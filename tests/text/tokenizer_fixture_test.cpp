// llama.cpp's test-tokenizer-0 vectors: every .inp/.out pair whose vocab GGUF is present must
// match exactly (no BOS/EOS, special text not parsed), plus the Llama 2 golden prompts with BOS.
#include <algorithm>
#include <filesystem>

#include "tokenizer_fixture_util.h"

namespace pensieve::testing {
namespace {

struct VocabCase {
  const char* vocab;     // ggml-vocab-<vocab>.gguf holds the vocabulary
  const char* vectors;   // ggml-vocab-<vectors>.gguf.{inp,out} hold the test strings and ids
  const char* pre;       // pre-tokenizer override ("" = the GGUF's own)
};

std::string case_name(const ::testing::TestParamInfo<VocabCase>& info) {
  std::string n = info.param.vectors;
  for (char& c : n) {
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return n;
}

class TokenizerVectors : public ::testing::TestWithParam<VocabCase> {};

TEST_P(TokenizerVectors, MatchesEveryCase) {
  PS_REQUIRE_FIXTURES();
  const VocabCase& vc = GetParam();
  const std::string gguf = tokenizer_dir() + "/ggml-vocab-" + vc.vocab + ".gguf";
  const std::string base = tokenizer_dir() + "/ggml-vocab-" + vc.vectors + ".gguf";
  // The fixtures folder is present (PS_REQUIRE_FIXTURES), so a missing vocabulary is a broken fixture.
  ASSERT_TRUE(std::filesystem::exists(gguf)) << gguf << " is missing from the fixtures";
  LoadedTokenizer lt = load_tokenizer(gguf, vc.pre);
  ASSERT_TRUE(lt.tok);
  EXPECT_EQ(count_vector_mismatches(*lt.tok, base, vc.vectors), 0);
}

TEST_P(TokenizerVectors, DecodeRoundTrips) {
  PS_REQUIRE_FIXTURES();
  const VocabCase& vc = GetParam();
  const std::string gguf = tokenizer_dir() + "/ggml-vocab-" + vc.vocab + ".gguf";
  // The fixtures folder is present (PS_REQUIRE_FIXTURES), so a missing vocabulary is a broken fixture.
  ASSERT_TRUE(std::filesystem::exists(gguf)) << gguf << " is missing from the fixtures";
  LoadedTokenizer lt = load_tokenizer(gguf, vc.pre);
  ASSERT_TRUE(lt.tok);
  const auto inputs = read_vocab_inputs(tokenizer_dir() + "/ggml-vocab-" + vc.vectors + ".gguf.inp");
  if (lt.tok->type() == text::VocabType::wpm) {
    // WordPiece lower-cases, strips accents and drops spaces, so decode(encode(x)) is x
    // normalised, not x: the round trip that holds is that encoding the decoded text again gives
    // the same ids, and that the decoded text is what llama.cpp's ids (the .out file) decode to.
    const auto expected = read_vocab_outputs(tokenizer_dir() + "/ggml-vocab-" + vc.vectors + ".gguf.out");
    ASSERT_EQ(inputs.size(), expected.size());
    int checked = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const auto ids = lt.tok->encode(inputs[i], false, false);
      const std::string decoded = lt.tok->decode(ids);
      EXPECT_EQ(decoded, lt.tok->decode(expected[i])) << "case " << i;
      const bool has_unk = std::any_of(ids.begin(), ids.end(), [&](auto id) { return lt.tok->token_text(id) == "[UNK]"; });
      if (ids.empty() || has_unk) continue;  // [UNK] decodes to nothing: that text is lost
      EXPECT_EQ(lt.tok->encode(decoded, false, false), ids) << "case " << i << " '" << inputs[i] << "' -> '" << decoded << "'";
      ++checked;
    }
    EXPECT_GT(checked, 30) << "too few cases without [UNK]";
    return;
  }
  expect_decode_round_trips(*lt.tok, inputs);
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, TokenizerVectors,
    ::testing::Values(VocabCase{"llama-spm", "llama-spm", ""}, VocabCase{"phi-3", "phi-3", ""},
                      VocabCase{"gpt-2", "gpt-2", ""}, VocabCase{"mpt", "mpt", ""},
                      VocabCase{"refact", "refact", ""}, VocabCase{"deepseek-llm", "deepseek-llm", ""},
                      VocabCase{"qwen2", "qwen2", ""}, VocabCase{"bert-bge", "bert-bge", ""},
                      // DeepSeek-R1-Distill-Qwen uses Qwen2's tokenizer: its vectors with the qwen2
                      // vocab and the deepseek-r1-qwen pre-tokenizer.
                      VocabCase{"qwen2", "deepseek-r1-qwen", "deepseek-r1-qwen"}),
    case_name);

// karpathy/llama2.c test.c prompts with Meta's Llama 2 ids, BOS included.
TEST(TokenizerGolden, Llama2PromptsWithBos) {
  PS_REQUIRE_FIXTURES();
  const std::string base = fixtures_dir() + "/golden/llama2c-tokenizer-bin.bos";
  const auto inputs = read_vocab_inputs(base + ".inp");
  const auto expected = read_vocab_outputs(base + ".out");
  ASSERT_EQ(inputs.size(), 5u);
  ASSERT_EQ(inputs.size(), expected.size());
  LoadedTokenizer lt = load_tokenizer(fixtures_dir() + "/models/llama-2-tiny-random.gguf");
  ASSERT_TRUE(lt.tok);
  EXPECT_EQ(lt.tok->bos(), 1);
  EXPECT_TRUE(lt.tok->add_bos());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto got = lt.tok->encode(inputs[i], /*add_special=*/true, /*parse_special=*/false);
    EXPECT_EQ(got, expected[i]) << "case " << i << " '" << inputs[i] << "'\n expected:" << ids_to_string(expected[i])
                                << "\n got:     " << ids_to_string(got);
    EXPECT_EQ(lt.tok->decode(got), inputs[i]) << "case " << i;
  }
}

}  // namespace
}  // namespace pensieve::testing
