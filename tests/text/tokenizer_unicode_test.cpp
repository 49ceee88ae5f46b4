// The Unicode helpers under the tokenizers, and concurrent use of one Tokenizer.
#include <atomic>
#include <set>
#include <thread>

#include "text/unicode.h"
#include "tokenizer_fixture_util.h"

namespace pensieve::testing {
namespace {

namespace uc = text::unicode;

TEST(Unicode, DecodeUtf8) {
  uint32_t cpt = 0;
  bool valid = false;
  EXPECT_EQ(uc::decode_utf8("A", 0, cpt, valid), 1u);
  EXPECT_TRUE(valid);
  EXPECT_EQ(cpt, 0x41u);
  EXPECT_EQ(uc::decode_utf8("\xE2\x96\x81", 0, cpt, valid), 3u);
  EXPECT_EQ(cpt, 0x2581u);
  EXPECT_EQ(uc::decode_utf8("\xF0\x9F\xA6\x99", 0, cpt, valid), 4u);
  EXPECT_EQ(cpt, 0x1F999u);
  // Overlong, surrogate, stray continuation, truncated: U+FFFD, consuming the maximal subpart.
  EXPECT_EQ(uc::decode_utf8("\xC0\x80", 0, cpt, valid), 1u);
  EXPECT_FALSE(valid);
  EXPECT_EQ(uc::decode_utf8("\xED\xA0\x80", 0, cpt, valid), 1u);
  EXPECT_FALSE(valid);
  EXPECT_EQ(uc::decode_utf8("\x80", 0, cpt, valid), 1u);
  EXPECT_FALSE(valid);
  EXPECT_EQ(uc::decode_utf8("\xF0\x9F\xA6", 0, cpt, valid), 3u);
  EXPECT_FALSE(valid);
  EXPECT_EQ(cpt, uc::kReplacementChar);
}

TEST(Unicode, IncompleteTail) {
  EXPECT_EQ(uc::incomplete_utf8_tail(""), 0u);
  EXPECT_EQ(uc::incomplete_utf8_tail("abc"), 0u);
  EXPECT_EQ(uc::incomplete_utf8_tail("a\xF0"), 1u);
  EXPECT_EQ(uc::incomplete_utf8_tail("a\xF0\x9F"), 2u);
  EXPECT_EQ(uc::incomplete_utf8_tail("a\xF0\x9F\xA6"), 3u);
  EXPECT_EQ(uc::incomplete_utf8_tail("a\xF0\x9F\xA6\x99"), 0u);  // complete
  EXPECT_EQ(uc::incomplete_utf8_tail("a\xFF"), 0u);              // can never complete
  EXPECT_EQ(uc::incomplete_utf8_tail("a\xE0\x80"), 0u);          // overlong: invalid already
  EXPECT_EQ(uc::incomplete_utf8_tail("\x80\x80\x80"), 0u);
}

TEST(Unicode, SanitizeAndEncode) {
  EXPECT_EQ(uc::sanitize_utf8("ok"), "ok");
  EXPECT_EQ(uc::sanitize_utf8("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(uc::sanitize_utf8("\xF0\x9F\xA6"), "\xEF\xBF\xBD");  // one U+FFFD per maximal subpart
  EXPECT_EQ(uc::to_utf8(0x1F999), "\xF0\x9F\xA6\x99");
  EXPECT_EQ(uc::to_utf8(0x110000), "\xEF\xBF\xBD");
}

TEST(Unicode, CategoriesCoverAllOfUnicode) {
  EXPECT_TRUE(uc::is_letter('a'));
  EXPECT_TRUE(uc::is_letter(0x0416));   // Ж
  EXPECT_TRUE(uc::is_letter(0x4E2D));   // 中
  EXPECT_TRUE(uc::is_letter(0x1780));   // Khmer KA
  EXPECT_TRUE(uc::is_letter(0x2F800));  // CJK compatibility ideograph, plane 2
  EXPECT_TRUE(uc::is_number(0x0663));   // Arabic-Indic three
  EXPECT_TRUE(uc::is_number(0x00BD));   // ½ (No)
  EXPECT_TRUE(uc::is_number(0x2164));   // Roman numeral five (Nl)
  EXPECT_TRUE(uc::is_punctuation(0x2013));
  EXPECT_TRUE(uc::is_punctuation(0x3002));
  EXPECT_TRUE(uc::is_symbol('$'));
  EXPECT_TRUE(uc::is_symbol(0x1F999));  // 🦙 (So)
  EXPECT_TRUE(uc::is_mark(0x0301));
  EXPECT_TRUE(uc::is_control(0x200D));  // ZWJ (Cf)
  EXPECT_STREQ(uc::category_name(0x0378), "Cn");  // unassigned
  EXPECT_STREQ(uc::category_name(0x10FFFD), "Co");
  EXPECT_TRUE(uc::is_whitespace(0x3000));
  EXPECT_TRUE(uc::is_whitespace('\n'));
  EXPECT_FALSE(uc::is_whitespace(0x200B));  // zero width space is not White_Space
}

TEST(Unicode, CaseAndAccents) {
  EXPECT_EQ(uc::to_lower('Q'), uint32_t('q'));
  EXPECT_EQ(uc::to_lower(0x0416), 0x0436u);  // Ж -> ж
  EXPECT_EQ(uc::to_lower(0x0391), 0x03B1u);  // Α -> α
  EXPECT_EQ(uc::nfd_base(0x00FC), uint32_t('u'));  // ü
  EXPECT_EQ(uc::nfd_base(0x1EC7), uint32_t('e'));  // ệ (two marks)
  EXPECT_EQ(uc::nfd_base(0xAC00), 0xAC00u);        // Hangul syllables stay whole
}

TEST(Unicode, Gpt2ByteMapIsABijection) {
  std::set<uint32_t> seen;
  for (int b = 0; b < 256; ++b) {
    const uint32_t cpt = uc::byte_to_cpt(static_cast<uint8_t>(b));
    EXPECT_TRUE(seen.insert(cpt).second);
    EXPECT_EQ(uc::cpt_to_byte(cpt), b);
    EXPECT_EQ(uc::byte_to_utf8(static_cast<uint8_t>(b)), uc::to_utf8(cpt));
  }
  EXPECT_EQ(uc::byte_to_cpt(' '), 0x120u);  // Ġ
  EXPECT_EQ(uc::byte_to_cpt('\n'), 0x10Au);  // Ċ
  EXPECT_EQ(uc::byte_to_cpt('A'), uint32_t('A'));
  EXPECT_EQ(uc::cpt_to_byte(0x2581), -1);
}

TEST(TokenizerThreads, ConcurrentEncodeMatchesSerial) {
  PS_REQUIRE_FIXTURES();
  auto lt = load_tokenizer(tokenizer_dir() + "/ggml-vocab-qwen2.gguf");
  ASSERT_TRUE(lt.tok);
  const auto inputs = read_vocab_inputs(tokenizer_dir() + "/ggml-vocab-qwen2.gguf.inp");
  std::vector<std::vector<int32_t>> serial;
  for (const auto& s : inputs) serial.push_back(lt.tok->encode(s, false, true));
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 20; ++rep) {
        for (size_t i = (t + rep) % inputs.size(), n = 0; n < inputs.size(); ++n, i = (i + 1) % inputs.size()) {
          if (lt.tok->encode(inputs[i], false, true) != serial[i]) ++mismatches;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(TokenizerLoad, BadVocabularyIsAnError) {
  PS_REQUIRE_FIXTURES();
  // A model GGUF whose tokenizer keys are fine loads; one without tokenizer.ggml.model does not.
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  const std::string path = ::testing::TempDir() + "/no_tokenizer.gguf";
  ASSERT_TRUE(w.write(path).ok());
  auto f = GgufFile::open(path);
  ASSERT_TRUE(f.ok());
  auto t = text::Tokenizer::from_gguf(**f);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("tokenizer.ggml.model"), std::string::npos);

  GgufWriter w2;
  w2.set_string("tokenizer.ggml.model", "gpt2");
  w2.set_string("tokenizer.ggml.pre", "made-up-pre");
  w2.set_string_array("tokenizer.ggml.tokens", {"a", "b", "ab"});
  w2.set_string_array("tokenizer.ggml.merges", {"a b"});
  const std::string path2 = ::testing::TempDir() + "/bad_pre.gguf";
  ASSERT_TRUE(w2.write(path2).ok());
  auto f2 = GgufFile::open(path2);
  ASSERT_TRUE(f2.ok());
  auto t2 = text::Tokenizer::from_gguf(**f2);
  ASSERT_FALSE(t2.ok());
  EXPECT_NE(t2.error().message.find("made-up-pre"), std::string::npos);

  // Scores of the wrong length.
  GgufWriter w3;
  w3.set_string("tokenizer.ggml.model", "llama");
  w3.set_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a"});
  w3.set_f32_array("tokenizer.ggml.scores", {0.0f, 0.0f});
  const std::string path3 = ::testing::TempDir() + "/bad_scores.gguf";
  ASSERT_TRUE(w3.write(path3).ok());
  auto f3 = GgufFile::open(path3);
  ASSERT_TRUE(f3.ok());
  auto t3 = text::Tokenizer::from_gguf(**f3);
  ASSERT_FALSE(t3.ok());
  EXPECT_NE(t3.error().message.find("scores"), std::string::npos);
}

TEST(TokenizerLoad, TinyHandMadeBpeVocab) {
  // A minimal byte-level vocabulary: merges apply in rank order, not in text order.
  GgufWriter w;
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", "gpt-2");
  w.set_string_array("tokenizer.ggml.tokens", {"a", "b", "c", "bc", "ab", "abc"});
  w.set_string_array("tokenizer.ggml.merges", {"b c", "a b", "a bc"});
  const std::string path = ::testing::TempDir() + "/tiny_bpe.gguf";
  ASSERT_TRUE(w.write(path).ok());
  auto f = GgufFile::open(path);
  ASSERT_TRUE(f.ok());
  auto t = text::Tokenizer::from_gguf(**f);
  ASSERT_TRUE(t.ok()) << t.error().message;
  // "b c" has the best rank, then "a bc" -> abc; "ab" never forms.
  EXPECT_EQ((*t)->encode("abc", false, false), (std::vector<int32_t>{5}));
  EXPECT_EQ((*t)->encode("ab", false, false), (std::vector<int32_t>{4}));
  EXPECT_EQ((*t)->encode("cab", false, false), (std::vector<int32_t>{2, 4}));
  EXPECT_EQ((*t)->decode(std::vector<int32_t>{2, 4}), "cab");
  EXPECT_FALSE((*t)->add_bos());
  EXPECT_EQ((*t)->bos(), -1);
}

}  // namespace
}  // namespace pensieve::testing
