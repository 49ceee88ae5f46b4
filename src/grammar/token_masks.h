// Which tokens of a model's vocabulary a grammar allows next: per-step bitmasks over the whole
// vocabulary, and the per-sequence Matcher that the engine advances with each sampled token.
//
// Speed (XGrammar's idea, our own code): for every byte-set position of the grammar and the
// position its rule returns to, the tokens are classified once, walking the vocabulary in
// sorted order so that shared prefixes are stepped once, from a two-frame stack that knows
// nothing below:
//   accepted  - some path consumes the whole token within those frames: valid in any context;
//   rejected  - every path dies within them;
//   uncertain - a path goes on past them: only these are checked at run time, and only the
//               bytes after the point where they leave the frames, from the real stack's
//               state there (identical suffixes such as `",` are checked once).
// A state's mask is the union over its stacks, cached per state: JSON output revisits the
// same few states (inside a string, after a comma...) over and over, so most steps are a
// cache hit plus a copy. Position tables are built lazily, on first use, and kept.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "grammar/automaton.h"

namespace pensieve::grammar {

using token_id = int32_t;

// A vocabulary as the bytes each token adds to the text. Tokens with no bytes (control tokens)
// are never allowed by a grammar; the end-of-generation tokens are allowed where the grammar
// accepts.
struct TokenVocab {
  TokenVocab(std::vector<std::string> token_bytes, std::vector<token_id> eog_tokens);
  int32_t n_vocab = 0;
  size_t n_words = 0;  // 64-bit words of a mask
  std::vector<std::string> bytes;
  std::vector<token_id> eog;
  std::vector<token_id> sorted;  // tokens with bytes, by their bytes
  std::vector<uint16_t> lcp;     // bytes in common with the previous sorted token
  size_t max_len = 0;
  // The byte trie of the sorted tokens: a node is a prefix; its subtree's tokens are
  // sorted[sub_lo, sub_hi), of which [sub_lo, own_hi) are exactly the prefix. Children are
  // linked in byte order. Node 0 is the empty prefix.
  struct TrieNode {
    uint32_t first_child = 0, next_sibling = 0;  // 0: none
    uint32_t sub_lo = 0, own_hi = 0, sub_hi = 0;
    uint8_t byte = 0;
  };
  std::vector<TrieNode> trie;
};

// A grammar bound to a vocabulary: the automaton, position tables and mask cache that every
// sequence using this grammar shares. Thread-safe (one mutex; the engine thread is the
// normal user).
class TokenGrammar {
 public:
  TokenGrammar(std::shared_ptr<const Grammar> g, std::shared_ptr<const TokenVocab> vocab);

  StateId initial();
  // Writes the allowed tokens of `s` into mask[n_words] (bit t = token t allowed).
  void fill_mask(StateId s, uint64_t* mask);
  StateId advance(StateId s, token_id t);  // kDead when the token does not fit
  StateId advance_bytes(StateId s, std::string_view bytes);
  bool accepting(StateId s);
  bool complete(StateId s);
  uint32_t distance(StateId s);
  // For every token `mask` allows in `s`: the distance (bytes still needed to finish) after it;
  // UINT32_MAX for the rest. Cached per state: the budget check near the end of a token budget
  // asks this of the same few states step after step (inside a string, mostly).
  std::shared_ptr<const std::vector<uint32_t>> distances_after(StateId s, const uint64_t* mask);
  // The tokens whose bytes contain one of `triggers` (a lazy grammar's), computed once.
  const std::vector<token_id>& tokens_containing(const std::vector<std::string>& triggers);

  const TokenVocab& vocab() const { return *vocab_; }
  const Grammar& grammar() const { return *g_; }

  struct Stats {
    size_t tables = 0, states = 0, cached_masks = 0, mask_hits = 0, mask_misses = 0;
    double table_ms = 0, miss_ms = 0;  // building position tables; computing missed masks (tables included)
  };
  Stats stats();

 private:
  struct PositionTable {
    std::vector<token_id> accepted;     // sparse form
    std::vector<uint64_t> accepted_bits;  // dense form (when many are accepted)
    // The uncertain ones, and for each the offsets where a path left the two frames (exactly
    // there, nothing consumed yet): crossings[cross_begin[i], cross_begin[i + 1]).
    std::vector<token_id> uncertain;
    std::vector<uint32_t> cross_begin{0};
    std::vector<uint16_t> crossings;
  };
  const PositionTable& table(uint32_t node);  // for the top node of a real stack
  void compute_mask(StateId s, uint64_t* mask);

  std::mutex mu_;
  std::shared_ptr<const Grammar> g_;
  std::shared_ptr<const TokenVocab> vocab_;
  Automaton a_;
  std::unordered_map<uint64_t, std::unique_ptr<PositionTable>> tables_;  // (pos, parent pos)
  std::unordered_map<StateId, std::vector<uint64_t>> mask_cache_;
  std::unordered_map<StateId, std::shared_ptr<const std::vector<uint32_t>>> distance_cache_;
  std::unordered_map<std::string, std::vector<token_id>> trigger_tokens_;
  Stats stats_;
};

// One sequence's place in a grammar.
class Matcher {
 public:
  explicit Matcher(std::shared_ptr<TokenGrammar> g) : g_(std::move(g)), state_(g_->initial()) {}
  void fill_mask(uint64_t* mask) { g_->fill_mask(state_, mask); }
  bool accept(token_id t);  // false (and no change) when the grammar does not allow t
  bool accept_bytes(std::string_view bytes);
  bool accepting() { return g_->accepting(state_); }
  bool complete() { return g_->complete(state_); }  // accepting, and nothing more may follow
  uint32_t distance() { return g_->distance(state_); }
  uint32_t distance_after(token_id t);  // UINT32_MAX when t does not fit
  void reset() { state_ = g_->initial(); }
  TokenGrammar& grammar() { return *g_; }
  StateId state() const { return state_; }

 private:
  std::shared_ptr<TokenGrammar> g_;
  StateId state_;
};

}  // namespace pensieve::grammar
