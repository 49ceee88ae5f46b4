// SentencePiece-style tokenizer ("llama" vocabularies), compatible with llama.cpp's SPM path:
// spaces become U+2581 (plus one in front of the text when add_space_prefix), the text is split
// into characters, and the adjacent pair whose concatenation is the highest-scoring token is
// merged until no pair forms a token. Characters that are no token fall back to <0xXX> byte
// tokens, or to <unk> when the vocabulary has no byte tokens.
//
// Speed: llama.cpp merges over the whole text at once. When no token has a U+2581 after some
// other character (true of real SentencePiece vocabularies, whose pieces only start with spaces),
// no merge can cross the start of a space run, so the text is cut there into words that are
// merged independently (same result) and memoized within the call.
#include <algorithm>
#include <cstdio>
#include <queue>
#include <unordered_map>

#include "text/tok_vocab.h"
#include "text/unicode.h"

namespace pensieve::text {

namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581, SentencePiece's space

struct Symbol {
  uint32_t start;
  uint32_t len;  // 0 once merged into its left neighbour
  int32_t prev;
  int32_t next;
};

struct Bigram {
  float score;
  int32_t left;
  int32_t right;
  uint32_t size;
};

// Highest score first; among equal scores the leftmost pair.
struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

class SpmTokenizer final : public VocabTokenizer {
 protected:
  Status finish_load(const GgufFile& file) override {
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof(name), "<0x%02X>", b);
      token_id id = find_token(name);
      if (id < 0) id = find_token(std::string(1, static_cast<char>(b)));
      byte_tokens_[b] = id;
    }
    words_are_independent_ = true;
    for (const std::string& t : tokens_) {
      for (size_t p = t.find(kSpaceMark, 1); p != std::string::npos; p = t.find(kSpaceMark, p + 1)) {
        if (p < kSpaceMark.size() || t.compare(p - kSpaceMark.size(), kSpaceMark.size(), kSpaceMark) != 0) {
          words_are_independent_ = false;
          break;
        }
      }
      if (!words_are_independent_) break;
    }
    return ok_status();
  }

  std::string decode_normal_token(std::string_view text) const override {
    std::string out;
    out.reserve(text.size());
    size_t pos = 0, hit;
    while ((hit = text.find(kSpaceMark, pos)) != std::string_view::npos) {
      out.append(text.substr(pos, hit - pos));
      out += ' ';
      pos = hit + kSpaceMark.size();
    }
    out.append(text.substr(pos));
    return out;
  }

  void encode_text(std::string_view text, bool after_special, std::vector<token_id>& out) const override {
    std::string s;
    s.reserve(text.size() + text.size() / 2 + 3);
    if (add_space_prefix_ && after_special) s += kSpaceMark;
    for (char c : text) {
      if (c == ' ') {
        s += kSpaceMark;
      } else {
        s += c;
      }
    }
    if (!words_are_independent_) {
      merge(s, out);
      return;
    }
    // Words start where a space run starts; each one is merged on its own.
    std::unordered_map<std::string_view, std::pair<uint32_t, uint32_t>> memo;
    std::vector<token_id> memo_ids;
    const std::string_view sv = s;
    size_t begin = 0;
    while (begin < sv.size()) {
      size_t run_end = begin;  // past the word's leading space run
      while (sv.substr(run_end).starts_with(kSpaceMark)) run_end += kSpaceMark.size();
      size_t end = sv.find(kSpaceMark, std::max(run_end, begin + 1));
      if (end == std::string_view::npos) end = sv.size();
      const std::string_view word = sv.substr(begin, end - begin);
      begin = end;
      if (word.size() <= kMemoMaxWord) {
        if (auto it = memo.find(word); it != memo.end()) {
          out.insert(out.end(), memo_ids.begin() + it->second.first,
                     memo_ids.begin() + it->second.first + it->second.second);
          continue;
        }
      }
      const size_t before = out.size();
      merge(word, out);
      if (word.size() <= kMemoMaxWord) {
        memo.emplace(word, std::make_pair(static_cast<uint32_t>(memo_ids.size()), static_cast<uint32_t>(out.size() - before)));
        memo_ids.insert(memo_ids.end(), out.begin() + before, out.end());
      }
    }
  }

 private:
  static constexpr size_t kMemoMaxWord = 64;

  void try_add_bigram(std::string_view s, const std::vector<Symbol>& syms, int32_t left, int32_t right,
                      std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder>& queue) const {
    if (left < 0 || right < 0) return;
    const uint32_t size = syms[left].len + syms[right].len;
    const token_id id = find_token(s.substr(syms[left].start, size));
    if (id < 0) return;
    queue.push({scores_[id], left, right, size});
  }

  void merge(std::string_view s, std::vector<token_id>& out) const {
    std::vector<Symbol> syms;
    syms.reserve(s.size());
    for (size_t pos = 0; pos < s.size();) {
      uint32_t cpt = 0;
      bool valid = false;
      const size_t len = unicode::decode_utf8(s, pos, cpt, valid);
      const auto idx = static_cast<int32_t>(syms.size());
      syms.push_back({static_cast<uint32_t>(pos), static_cast<uint32_t>(len), idx - 1, idx + 1});
      pos += len;
    }
    if (syms.empty()) return;
    syms.back().next = -1;

    std::vector<Bigram> storage;
    storage.reserve(syms.size());
    std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue(BigramOrder{}, std::move(storage));
    for (int32_t i = 1; i < static_cast<int32_t>(syms.size()); ++i) try_add_bigram(s, syms, i - 1, i, queue);

    while (!queue.empty()) {
      const Bigram b = queue.top();
      queue.pop();
      Symbol& l = syms[b.left];
      Symbol& r = syms[b.right];
      if (l.len == 0 || r.len == 0 || l.len + r.len != b.size) continue;  // stale
      l.len += r.len;
      r.len = 0;
      l.next = r.next;
      if (r.next >= 0) syms[r.next].prev = b.left;
      try_add_bigram(s, syms, l.prev, b.left, queue);
      try_add_bigram(s, syms, b.left, l.next, queue);
    }

    for (int32_t i = 0; i != -1; i = syms[i].next) {
      const std::string_view piece = s.substr(syms[i].start, syms[i].len);
      const token_id id = find_token(piece);
      if (id >= 0) {
        out.push_back(id);
        continue;
      }
      for (unsigned char c : piece) {
        const token_id b = byte_tokens_[c] >= 0 ? byte_tokens_[c] : unk_;
        if (b >= 0) out.push_back(b);
      }
    }
  }

  token_id byte_tokens_[256] = {};
  bool words_are_independent_ = false;
};

}  // namespace

Result<std::shared_ptr<const Tokenizer>> make_spm_tokenizer(const GgufFile& file) {
  auto tok = std::make_shared<SpmTokenizer>();
  PS_TRY(tok->load_vocab(file, VocabType::spm, ""));
  return std::shared_ptr<const Tokenizer>(std::move(tok));
}

}  // namespace pensieve::text
