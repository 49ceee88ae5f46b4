// Special tokens, BOS/EOS, EOG, the streaming detokenizer and invalid input, on real vocabularies.
#include "text/tok_vocab.h"
#include "text/unicode.h"
#include "tokenizer_fixture_util.h"

namespace pensieve::testing {
namespace {

using text::token_id;
using Ids = std::vector<token_id>;

LoadedTokenizer vocab(const std::string& name) {
  return load_tokenizer(tokenizer_dir() + "/ggml-vocab-" + name + ".gguf");
}

Ids concat(Ids a, const Ids& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(TokenizerSpecial, Qwen2ChatMarkersParsedOnlyWhenAsked) {
  PS_REQUIRE_FIXTURES();
  auto lt = vocab("qwen2");
  ASSERT_TRUE(lt.tok);
  const std::string chat = "<|im_start|>user\nHi<|im_end|>";
  // Published with the fixture: llama.cpp gives these ids with parse_special on.
  EXPECT_EQ(lt.tok->encode(chat, false, true), (Ids{151644, 872, 198, 13048, 151645}));
  const Ids plain = lt.tok->encode(chat, false, false);
  for (token_id id : plain) EXPECT_FALSE(lt.tok->is_control(id)) << id;
  EXPECT_EQ(lt.tok->decode(plain), chat);
  // Qwen2 adds no BOS even with add_special.
  EXPECT_FALSE(lt.tok->add_bos());
  EXPECT_EQ(lt.tok->encode("Hi", true, false), lt.tok->encode("Hi", false, false));
  EXPECT_EQ(lt.tok->eos(), 151645);
}

TEST(TokenizerSpecial, Qwen2EndOfGeneration) {
  PS_REQUIRE_FIXTURES();
  auto lt = vocab("qwen2");
  ASSERT_TRUE(lt.tok);
  EXPECT_TRUE(lt.tok->is_eog(151645));  // <|im_end|>
  EXPECT_TRUE(lt.tok->is_eog(151643));  // <|endoftext|>
  EXPECT_FALSE(lt.tok->is_eog(151644));  // <|im_start|>
  EXPECT_FALSE(lt.tok->is_eog(872));
  EXPECT_FALSE(lt.tok->is_eog(-1));
  EXPECT_EQ(lt.tok->eog_tokens(), (Ids{151643, 151645}));
  // Special pieces are only printed when asked.
  EXPECT_EQ(lt.tok->token_to_piece(151645, false), "");
  EXPECT_EQ(lt.tok->token_to_piece(151645, true), "<|im_end|>");
  EXPECT_EQ(lt.tok->decode(Ids{151644, 872}, true), "<|im_start|>user");
}

TEST(TokenizerSpecial, SpmBosAndSpacePrefix) {
  PS_REQUIRE_FIXTURES();
  auto lt = vocab("llama-spm");
  ASSERT_TRUE(lt.tok);
  EXPECT_EQ(lt.tok->bos(), 1);
  EXPECT_EQ(lt.tok->eos(), 2);
  EXPECT_TRUE(lt.tok->add_bos());
  EXPECT_FALSE(lt.tok->add_eos());
  EXPECT_TRUE(lt.tok->add_space_prefix());
  const Ids hello = lt.tok->encode("Hello", false, false);
  EXPECT_EQ(lt.tok->encode("Hello", true, false), concat({1}, hello));
  EXPECT_EQ(lt.tok->encode("", true, false), (Ids{1}));
  EXPECT_EQ(lt.tok->encode("", false, false), Ids{});
  // A special token resets the space prefix, like the start of the text.
  EXPECT_EQ(lt.tok->encode("<s>Hello", false, true), concat({1}, hello));
  EXPECT_EQ(lt.tok->encode("Hello<s>Hello", false, true), concat(concat(hello, {1}), hello));
  // Not parsed: "<s>" is plain text.
  const Ids plain = lt.tok->encode("<s>", false, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 1), 0);
  // decode drops the prefix space only at the start; BOS is skipped over when not printed.
  EXPECT_EQ(lt.tok->decode(concat({1}, hello)), "Hello");
  EXPECT_EQ(lt.tok->decode(concat({1}, hello), true), "<s> Hello");
  EXPECT_EQ(lt.tok->decode(hello, false, /*strip_leading_space=*/false), " Hello");
  EXPECT_EQ(lt.tok->eog_tokens(), (Ids{2}));
}

TEST(TokenizerSpecial, UserDefinedTokensAlwaysMatch) {
  PS_REQUIRE_FIXTURES();
  auto lt = vocab("mpt");
  ASSERT_TRUE(lt.tok);
  auto* v = dynamic_cast<const text::VocabTokenizer*>(lt.tok.get());
  ASSERT_NE(v, nullptr);
  const std::string spaces(24, ' ');
  const token_id id = v->find_token(spaces);
  ASSERT_GE(id, 0);
  ASSERT_EQ(v->token_type(id), text::TokenType::user_defined);
  const Ids got = lt.tok->encode("a" + spaces + "b", false, false);
  EXPECT_NE(std::find(got.begin(), got.end(), id), got.end());
  EXPECT_EQ(lt.tok->decode(got), "a" + spaces + "b");
  // Control tokens are not matched without parse_special.
  const Ids eot = lt.tok->encode("<|endoftext|>", false, false);
  EXPECT_EQ(std::find(eot.begin(), eot.end(), 0), eot.end());
  EXPECT_EQ(lt.tok->encode("<|endoftext|>", false, true), (Ids{0}));
}

TEST(TokenizerSpecial, LongestSpecialTokenWins) {
  PS_REQUIRE_FIXTURES();
  auto lt = vocab("mpt");
  ASSERT_TRUE(lt.tok);
  auto* v = dynamic_cast<const text::VocabTokenizer*>(lt.tok.get());
  // 30 spaces: the 24-space token first, then the 6-space one.
  const Ids got = lt.tok->encode(std::string(30, ' '), false, false);
  EXPECT_EQ(got, (Ids{v->find_token(std::string(24, ' ')), v->find_token(std::string(6, ' '))}));
}

TEST(TokenizerSpecial, Phi3SpecialTokensEatFollowingWhitespace) {
  PS_REQUIRE_FIXTURES();
  auto lt = vocab("phi-3");
  ASSERT_TRUE(lt.tok);
  EXPECT_EQ(lt.tok->encode("<|user|>\nHi<|end|>\n", false, true), lt.tok->encode("<|user|>Hi<|end|>", false, true));
  // <s> keeps it.
  EXPECT_NE(lt.tok->encode("<s>\nHi", false, true), lt.tok->encode("<s>Hi", false, true));
  EXPECT_TRUE(lt.tok->is_eog(32007));  // <|end|>
  EXPECT_TRUE(lt.tok->is_eog(32000));  // <|endoftext|> (its EOS)
}

TEST(TokenizerSpecial, BertAddsClsAndSep) {
  PS_REQUIRE_FIXTURES();
  auto lt = vocab("bert-bge");
  ASSERT_TRUE(lt.tok);
  const Ids plain = lt.tok->encode("Hello world", false, false);
  EXPECT_EQ(lt.tok->encode("Hello world", true, false), concat(concat({101}, plain), {102}));
  EXPECT_EQ(lt.tok->decode(plain), " hello world");
  // Invalid UTF-8 decodes to U+FFFD, which BERT's cleaner drops.
  EXPECT_EQ(lt.tok->encode("wor\xFFld", false, false), lt.tok->encode("world", false, false));
  // An unknown word becomes [UNK] as a whole.
  EXPECT_EQ(lt.tok->encode("\xF0\x9F\xA6\x99", false, false), (Ids{100}));
}

TEST(TokenizerSpecial, InvalidUtf8RoundTripsThroughByteFallback) {
  PS_REQUIRE_FIXTURES();
  const std::string bad = "ok \xFF\xFE mid\xC3( \xE2\x82 end\xF0\x9F\xA6";
  // (Not deepseek-llm: its vocab has no byte-level token for bytes that never occur in UTF-8,
  // such as 0xFF; user-defined tokens spelling those characters ("ÿ") stand in and decode as text.
  // Nor mpt: GPT-NeoX has no token at all for 0xFE/0xFF, which become <unk>.)
  for (const char* name : {"llama-spm", "qwen2", "gpt-2"}) {
    auto lt = vocab(name);
    ASSERT_TRUE(lt.tok);
    const Ids ids = lt.tok->encode(bad, false, false);
    EXPECT_FALSE(ids.empty()) << name;
    EXPECT_EQ(lt.tok->decode(ids), bad) << name;
  }
}

TEST(StreamDecoder, HoldsBackSplitCharacters) {
  PS_REQUIRE_FIXTURES();
  auto lt = vocab("llama-spm");
  ASSERT_TRUE(lt.tok);
  // The llama is not in the Llama 2 vocab: "▁" then four byte-fallback tokens.
  const Ids ids = lt.tok->encode("\xF0\x9F\xA6\x99", false, false);
  ASSERT_EQ(ids.size(), 5u);
  text::StreamDecoder sd(*lt.tok);
  EXPECT_EQ(sd.push(ids[0]), "");  // the prefix space, dropped like decode() does
  EXPECT_EQ(sd.push(ids[1]), "");
  EXPECT_EQ(sd.push(ids[2]), "");
  EXPECT_EQ(sd.push(ids[3]), "");
  EXPECT_EQ(sd.push(ids[4]), "\xF0\x9F\xA6\x99");
  EXPECT_EQ(sd.flush(), "");
}

TEST(StreamDecoder, ChunksAreValidUtf8AndConcatenateToDecode) {
  PS_REQUIRE_FIXTURES();
  const std::string text = " Привет, 世界! 🦙🦙 Cửa Việt ស្វាគមន៍ 👨‍👩‍👧";
  for (const char* name : {"llama-spm", "qwen2", "gpt-2"}) {
    auto lt = vocab(name);
    ASSERT_TRUE(lt.tok);
    const Ids ids = lt.tok->encode(text, false, false);
    text::StreamDecoder sd(*lt.tok);
    std::string all;
    for (token_id id : ids) {
      const std::string chunk = sd.push(id);
      EXPECT_EQ(text::unicode::sanitize_utf8(chunk), chunk) << name;
      all += chunk;
    }
    all += sd.flush();
    EXPECT_EQ(all, lt.tok->decode(ids)) << name;
    EXPECT_EQ(all, text) << name;
  }
}

TEST(StreamDecoder, InvalidAndUnfinishedBytesBecomeReplacementChars) {
  PS_REQUIRE_FIXTURES();
  auto lt = vocab("llama-spm");
  ASSERT_TRUE(lt.tok);
  auto* v = dynamic_cast<const text::VocabTokenizer*>(lt.tok.get());
  const token_id xF0 = v->find_token("<0xF0>"), x9F = v->find_token("<0x9F>"), xFF = v->find_token("<0xFF>");
  const token_id a = v->find_token("a");
  ASSERT_GE(xF0, 0);
  ASSERT_GE(a, 0);
  text::StreamDecoder sd(*lt.tok, false, false);
  EXPECT_EQ(sd.push(xFF), "\xEF\xBF\xBD");  // can never start a character
  EXPECT_EQ(sd.push(xF0), "");
  EXPECT_EQ(sd.push(x9F), "");
  EXPECT_EQ(sd.flush(), "\xEF\xBF\xBD");  // an unfinished sequence at the end
  EXPECT_EQ(sd.push(xF0), "");
  EXPECT_EQ(sd.push(a), "\xEF\xBF\xBD" "a");  // interrupted by ASCII
  EXPECT_EQ(sd.flush(), "");
}

TEST(StreamDecoder, SpecialTokensOnlyWhenAsked) {
  PS_REQUIRE_FIXTURES();
  auto lt = vocab("qwen2");
  ASSERT_TRUE(lt.tok);
  text::StreamDecoder quiet(*lt.tok);
  EXPECT_EQ(quiet.push(151645), "");
  text::StreamDecoder loud(*lt.tok, true);
  EXPECT_EQ(loud.push(151645), "<|im_end|>");
}

}  // namespace
}  // namespace pensieve::testing
