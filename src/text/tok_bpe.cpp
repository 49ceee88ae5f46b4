// Byte-level BPE ("gpt2" vocabularies): the pre-tokenizer cuts the text into pieces; each piece's
// bytes start as the single-byte tokens of the GPT-2 byte->code point mapping, and the adjacent
// pair with the lowest merge rank is merged until no ranked pair is left.
//
// Merges are kept as a flat hash table keyed by the (left id, right id) pair, so a merge step is
// one probe instead of building and hashing strings. Identical pieces repeat a lot in real
// prompts, so each encode() call memoizes the tokens of the pieces it has already seen.
#include <algorithm>
#include <unordered_map>

#include "gguf/keys.h"
#include "text/tok_pretokenize.h"
#include "text/tok_vocab.h"
#include "text/unicode.h"

namespace pensieve::text {

namespace {

// Open-addressing map (left id, right id) -> (rank, merged id); immutable after load.
class MergeTable {
 public:
  struct Merge {
    int32_t rank;
    token_id result;
  };

  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    slots_.assign(cap, Slot{kEmpty, {0, 0}});
    mask_ = cap - 1;
  }
  // Keeps the first (lowest-rank) merge of a pair.
  void insert(token_id left, token_id right, Merge m) {
    const uint64_t key = make_key(left, right);
    for (size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return;
      if (slots_[i].key == kEmpty) {
        slots_[i] = Slot{key, m};
        ++size_;
        return;
      }
    }
  }
  const Merge* find(token_id left, token_id right) const {
    const uint64_t key = make_key(left, right);
    for (size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return &slots_[i].merge;
      if (slots_[i].key == kEmpty) return nullptr;
    }
  }
  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmpty = ~0ull;
  struct Slot {
    uint64_t key;
    Merge merge;
  };
  static uint64_t make_key(token_id l, token_id r) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(l)) << 32) | static_cast<uint32_t>(r);
  }
  static uint64_t hash(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return k;
  }
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

struct Symbol {
  token_id id;  // -1: a byte with no token of its own (never merges)
  int32_t prev;
  int32_t next;
  bool alive;
};

struct Candidate {
  int32_t rank;
  int32_t left;
  int32_t right;
  token_id left_id;
  token_id right_id;
  token_id result;
};

// std heap functions build a max-heap: "greater" = lower rank, then leftmost.
struct CandidateOrder {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

class BpeTokenizer final : public VocabTokenizer {
 public:
  explicit BpeTokenizer(std::string_view pre_override) : pre_override_(pre_override) {}

 protected:
  Status finish_load(const GgufFile& file) override {
    auto pre = PreTokenizer::create(pre_);
    if (!pre.ok()) return make_error(ErrorKind::model_load_failed, file.path() + ": " + pre.error().message);
    pre_tokenizer_ = std::move(pre.value());
    ignore_merges_ = pre_ignores_merges(pre_);
    for (int b = 0; b < 256; ++b) byte_tokens_[b] = find_token(unicode::byte_to_utf8(static_cast<uint8_t>(b)));

    auto merges = file.get_string_array(keys::kTokenizerMerges);
    if (!merges) return make_error(ErrorKind::model_load_failed, file.path() + ": tokenizer.ggml.merges is missing");
    merges_.reserve(merges->size());
    std::string joined;
    for (size_t rank = 0; rank < merges->size(); ++rank) {
      const std::string_view m = (*merges)[rank];
      const size_t sp = m.size() > 1 ? m.find(' ', 1) : std::string_view::npos;
      if (sp == std::string_view::npos) continue;  // malformed: never applies
      const std::string_view left = m.substr(0, sp), right = m.substr(sp + 1);
      joined.assign(left).append(right);
      const token_id l = find_token(left), r = find_token(right), res = find_token(joined);
      if (l < 0 || r < 0 || res < 0) continue;  // a merge into a non-token could never be emitted
      merges_.insert(l, r, {static_cast<int32_t>(rank), res});
    }
    return ok_status();
  }

  std::string decode_normal_token(std::string_view text) const override {
    std::string out;
    out.reserve(text.size());
    for (size_t pos = 0; pos < text.size();) {
      uint32_t cpt = 0;
      bool valid = false;
      const size_t len = unicode::decode_utf8(text, pos, cpt, valid);
      const int byte = valid ? unicode::cpt_to_byte(cpt) : -1;
      if (byte >= 0) {
        out += static_cast<char>(byte);
      } else {
        out.append(text.substr(pos, len));
      }
      pos += len;
    }
    return out;
  }

  void encode_text(std::string_view text, bool after_special, std::vector<token_id>& out) const override {
    std::vector<TextSpan> spans;
    pre_tokenizer_->split(text, spans);
    // Memo of pieces already encoded in this call: piece -> [offset, count) in `memo_ids`.
    std::unordered_map<std::string_view, std::pair<uint32_t, uint32_t>> memo;
    std::vector<token_id> memo_ids;
    Scratch scratch;
    for (const TextSpan& sp : spans) {
      const std::string_view piece = text.substr(sp.offset, sp.length);
      if (piece.size() <= kMemoMaxPiece) {
        auto it = memo.find(piece);
        if (it != memo.end()) {
          out.insert(out.end(), memo_ids.begin() + it->second.first,
                     memo_ids.begin() + it->second.first + it->second.second);
          continue;
        }
      }
      const size_t before = out.size();
      encode_piece(piece, scratch, out);
      if (piece.size() <= kMemoMaxPiece) {
        memo.emplace(piece, std::make_pair(static_cast<uint32_t>(memo_ids.size()),
                                           static_cast<uint32_t>(out.size() - before)));
        memo_ids.insert(memo_ids.end(), out.begin() + before, out.end());
      }
    }
  }

 private:
  static constexpr size_t kMemoMaxPiece = 64;

  struct Scratch {
    std::vector<Symbol> syms;
    std::vector<Candidate> heap;
    std::string mapped;
  };

  static bool pre_ignores_merges(std::string_view pre) {
    // Pre-tokenizers whose Hugging Face BPE model has ignore_merges: a piece that is itself a
    // token is taken whole (llama.cpp does the same for these).
    return pre == "llama3" || pre == "llama-v3" || pre == "llama-bpe" || pre == "falcon3" || pre == "tekken";
  }

  void push_candidate(Scratch& s, int32_t left, int32_t right) const {
    if (left < 0 || right < 0) return;
    const token_id l = s.syms[left].id, r = s.syms[right].id;
    if (l < 0 || r < 0) return;
    const MergeTable::Merge* m = merges_.find(l, r);
    if (!m) return;
    s.heap.push_back({m->rank, left, right, l, r, m->result});
    std::push_heap(s.heap.begin(), s.heap.end(), CandidateOrder{});
  }

  void encode_piece(std::string_view piece, Scratch& s, std::vector<token_id>& out) const {
    if (ignore_merges_) {
      s.mapped.clear();
      for (unsigned char c : piece) s.mapped.append(unicode::byte_to_utf8(c));
      if (token_id id = find_token(s.mapped); id >= 0) {
        out.push_back(id);
        return;
      }
    }
    s.syms.clear();
    s.heap.clear();
    const auto n = static_cast<int32_t>(piece.size());
    for (int32_t i = 0; i < n; ++i) {
      s.syms.push_back({byte_tokens_[static_cast<unsigned char>(piece[i])], i - 1, i + 1 < n ? i + 1 : -1, true});
    }
    for (int32_t i = 1; i < n; ++i) push_candidate(s, i - 1, i);
    while (!s.heap.empty()) {
      std::pop_heap(s.heap.begin(), s.heap.end(), CandidateOrder{});
      const Candidate c = s.heap.back();
      s.heap.pop_back();
      Symbol& l = s.syms[c.left];
      Symbol& r = s.syms[c.right];
      if (!l.alive || !r.alive || l.id != c.left_id || r.id != c.right_id || l.next != c.right) continue;
      l.id = c.result;
      r.alive = false;
      l.next = r.next;
      if (r.next >= 0) s.syms[r.next].prev = c.left;
      push_candidate(s, l.prev, c.left);
      push_candidate(s, c.left, l.next);
    }
    for (int32_t i = 0; i != -1 && i < n; i = s.syms[i].next) {
      const token_id id = s.syms[i].id >= 0 ? s.syms[i].id : unk_;
      if (id >= 0) out.push_back(id);
    }
  }

  std::string pre_override_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  MergeTable merges_;
  token_id byte_tokens_[256] = {};
  bool ignore_merges_ = false;
};

}  // namespace

Result<std::shared_ptr<const Tokenizer>> make_bpe_tokenizer(const GgufFile& file, std::string_view pre_override) {
  auto tok = std::make_shared<BpeTokenizer>(pre_override);
  PS_TRY(tok->load_vocab(file, VocabType::bpe, pre_override));
  return std::shared_ptr<const Tokenizer>(std::move(tok));
}

}  // namespace pensieve::text
