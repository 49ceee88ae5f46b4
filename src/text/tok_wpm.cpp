// WordPiece ("bert" vocabularies) as Hugging Face's BertNormalizer + BertPreTokenizer + WordPiece
// do it, on llama.cpp's converted vocab (word-initial pieces carry a U+2581 prefix instead of
// continuation pieces carrying "##"):
//   - drop NUL, U+FFFD (also what invalid UTF-8 decodes to) and control characters;
//   - strip accents (first code point of the canonical decomposition; combining marks dropped)
//     and lower-case;
//   - split on whitespace; punctuation, ASCII symbols and CJK ideographs become one-char words;
//   - each word is matched greedily, longest piece first, from the left; a word with any
//     unmatchable rest (or longer than 100 characters) becomes [UNK].
#include <algorithm>

#include "text/tok_vocab.h"
#include "text/unicode.h"

namespace pensieve::text {

namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";
constexpr size_t kMaxWordChars = 100;  // Hugging Face's max_input_chars_per_word

bool is_cjk_ideograph(uint32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

struct Word {
  std::string text;
  size_t chars = 0;
};

std::vector<Word> split_words(std::string_view text) {
  std::vector<Word> words(1);
  auto finish = [&] {
    if (!words.back().text.empty()) words.emplace_back();
  };
  for (size_t pos = 0; pos < text.size();) {
    uint32_t cpt = 0;
    bool valid = false;
    pos += unicode::decode_utf8(text, pos, cpt, valid);
    if (unicode::is_whitespace(cpt)) {
      finish();
      continue;
    }
    if (cpt == 0 || cpt == unicode::kReplacementChar || unicode::is_control(cpt)) continue;
    cpt = unicode::nfd_base(cpt);
    if (unicode::category(cpt) == 6 /* Mn */) continue;  // accents left after decomposition
    cpt = unicode::to_lower(cpt);
    if (unicode::is_punctuation(cpt) || (cpt < 0x7F && unicode::is_symbol(cpt)) || is_cjk_ideograph(cpt)) {
      finish();
      unicode::append_utf8(words.back().text, cpt);
      words.back().chars = 1;
      words.emplace_back();
    } else {
      unicode::append_utf8(words.back().text, cpt);
      ++words.back().chars;
    }
  }
  if (words.back().text.empty()) words.pop_back();
  return words;
}

class WpmTokenizer final : public VocabTokenizer {
 protected:
  std::string decode_normal_token(std::string_view text) const override {
    std::string out(text);
    if (out.starts_with(kSpaceMark)) out.replace(0, kSpaceMark.size(), " ");
    return out;
  }

  void encode_text(std::string_view text, bool after_special, std::vector<token_id>& out) const override {
    for (const Word& w : split_words(text)) {
      const size_t before = out.size();
      if (w.chars <= kMaxWordChars && encode_word(std::string(kSpaceMark) + w.text, out)) continue;
      out.resize(before);
      if (unk_ >= 0) out.push_back(unk_);
    }
  }

 private:
  // Greedy longest-match-first; false when some rest of the word matches no piece.
  bool encode_word(const std::string& word, std::vector<token_id>& out) const {
    const std::string_view w = word;
    for (size_t i = 0; i < w.size();) {
      bool matched = false;
      for (size_t j = std::min(w.size(), i + max_token_len_); j > i; --j) {
        const token_id id = find_token(w.substr(i, j - i));
        if (id >= 0) {
          out.push_back(id);
          i = j;
          matched = true;
          break;
        }
      }
      if (!matched) return false;
    }
    return true;
  }
};

}  // namespace

Result<std::shared_ptr<const Tokenizer>> make_wpm_tokenizer(const GgufFile& file) {
  auto tok = std::make_shared<WpmTokenizer>();
  PS_TRY(tok->load_vocab(file, VocabType::wpm, ""));
  return std::shared_ptr<const Tokenizer>(std::move(tok));
}

}  // namespace pensieve::text
