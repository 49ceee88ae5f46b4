// The real Llama 3 vocabulary against llama.cpp's llama-bpe vectors (Meta-Llama-3-8B).
// llama.cpp's ggml-vocab-llama-bpe.gguf is too large for the fixtures, so the ctest
// tokenizer_llama3_vectors (tests/text/llama3_vocab_test.sh) writes it first with
// tests/clients/llama3_vocab.mjs (from the npm package llama3-tokenizer-js) and passes its path in
// PENSIEVE_LLAMA3_VOCAB. Test discovery leaves the GeneratedVocab suite out (CMakeLists.txt), so
// this runs only through that ctest.
#include <algorithm>
#include <cstdlib>

#include "tokenizer_fixture_util.h"

namespace pensieve::testing {
namespace {

TEST(GeneratedVocab, Llama3MatchesLlamaBpeVectors) {
  const char* path = std::getenv("PENSIEVE_LLAMA3_VOCAB");
  if (path == nullptr || *path == '\0') PS_SKIP_OR_FAIL("PENSIEVE_LLAMA3_VOCAB is not set (run the ctest tokenizer_llama3_vectors)");
  PS_REQUIRE_FIXTURES();
  LoadedTokenizer lt = load_tokenizer(path);
  ASSERT_TRUE(lt.tok);
  const text::Tokenizer& tok = *lt.tok;
  EXPECT_EQ(tok.n_vocab(), 128256);
  EXPECT_EQ(tok.pre_tokenizer(), "llama-bpe");
  EXPECT_EQ(tok.bos(), 128000);
  EXPECT_EQ(tok.eos(), 128001);
  EXPECT_TRUE(tok.add_bos());  // Llama 3 prompts start with <|begin_of_text|>
  for (text::token_id id : {128001, 128008, 128009}) {  // end_of_text, eom_id, eot_id
    EXPECT_TRUE(tok.is_eog(id)) << id;
  }
  EXPECT_FALSE(tok.is_eog(128000));

  const std::string base = tokenizer_dir() + "/ggml-vocab-llama-bpe.gguf";
  EXPECT_EQ(count_vector_mismatches(tok, base, "llama-bpe"), 0);
  expect_decode_round_trips(tok, read_vocab_inputs(base + ".inp"));

  // A Llama 3 chat turn with its header and end-of-turn tokens parsed as specials (ids as Meta's
  // tiktoken tokenizer gives them).
  const std::vector<text::token_id> turn = {128006, 882, 128007, 271, 13347, 128009};
  EXPECT_EQ(tok.encode("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", false, true), turn);
  EXPECT_EQ(tok.encode("Hello world", true, false), (std::vector<text::token_id>{128000, 9906, 1917}));
}

}  // namespace
}  // namespace pensieve::testing
