#include "grammar/token_masks.h"

#include <algorithm>
#include <chrono>
#include <cstring>

namespace pensieve::grammar {

namespace {

constexpr size_t kMaxTables = 20000;

void set_bit(uint64_t* m, token_id t) { m[t >> 6] |= uint64_t(1) << (t & 63); }

size_t common_prefix(const std::string& a, const std::string& b) {
  size_t n = std::min(a.size(), b.size()), i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

}  // namespace

TokenVocab::TokenVocab(std::vector<std::string> token_bytes, std::vector<token_id> eog_tokens)
    : n_vocab(static_cast<int32_t>(token_bytes.size())),
      n_words((token_bytes.size() + 63) / 64),
      bytes(std::move(token_bytes)),
      eog(std::move(eog_tokens)) {
  for (token_id t = 0; t < n_vocab; ++t)
    if (!bytes[t].empty()) sorted.push_back(t);
  std::sort(sorted.begin(), sorted.end(), [&](token_id a, token_id b) { return bytes[a] < bytes[b] || (bytes[a] == bytes[b] && a < b); });
  lcp.resize(sorted.size(), 0);
  for (size_t i = 0; i < sorted.size(); ++i) {
    max_len = std::max(max_len, bytes[sorted[i]].size());
    if (i > 0) lcp[i] = static_cast<uint16_t>(std::min<size_t>(65535, common_prefix(bytes[sorted[i - 1]], bytes[sorted[i]])));
  }
  std::erase_if(eog, [&](token_id t) { return t < 0 || t >= n_vocab; });
  // The trie, from the sorted order: path[d] is the node of the current token's first d bytes.
  trie.emplace_back();
  trie[0].sub_hi = static_cast<uint32_t>(sorted.size());
  std::vector<uint32_t> path{0};
  std::vector<uint32_t> last_child{0};  // per path depth: the newest child, to link siblings
  for (size_t i = 0; i < sorted.size(); ++i) {
    const std::string& b = bytes[sorted[i]];
    const size_t keep = i == 0 ? 0 : std::min<size_t>(lcp[i], b.size());
    path.resize(keep + 1);
    last_child.resize(keep + 1);
    for (size_t d = keep; d < b.size(); ++d) {
      const uint32_t id = static_cast<uint32_t>(trie.size());
      TrieNode n;
      n.byte = static_cast<uint8_t>(b[d]);
      n.sub_lo = n.own_hi = static_cast<uint32_t>(i);
      trie.push_back(n);
      const uint32_t parent = path[d];
      if (last_child[d] == 0) trie[parent].first_child = id;
      else trie[last_child[d]].next_sibling = id;
      last_child[d] = id;
      path.push_back(id);
      last_child.push_back(0);
    }
    trie[path.back()].own_hi = static_cast<uint32_t>(i + 1);
    for (uint32_t n : path) trie[n].sub_hi = static_cast<uint32_t>(i + 1);
  }
}

TokenGrammar::TokenGrammar(std::shared_ptr<const Grammar> g, std::shared_ptr<const TokenVocab> vocab)
    : g_(std::move(g)), vocab_(std::move(vocab)), a_(g_) {}

StateId TokenGrammar::initial() { return a_.initial(); }

const TokenGrammar::PositionTable& TokenGrammar::table(uint32_t node) {
  // The top's position and the position its rule returns to (or: the stack ends there).
  const uint32_t pos = a_.node_pos(node), parent = a_.node_parent(node);
  const bool rooted = parent == kRoot;
  const uint32_t parent_pos = rooted ? Automaton::kNoPos : a_.node_pos(parent);
  const uint64_t key = (uint64_t(pos) << 32) | (rooted ? 0xFFFFFFFEu : parent_pos);
  auto& slot = tables_[key];
  if (slot) return *slot;
  slot = std::make_unique<PositionTable>();
  PositionTable& t = *slot;
  const auto t0 = std::chrono::steady_clock::now();
  const TokenVocab& v = *vocab_;
  // Depth-first over the trie, one transition per node; a dead prefix drops its whole subtree,
  // and one that is only past the frames makes its whole subtree uncertain without walking it.
  // Along the current path, the depths where a path left the frames exactly (kBottom).
  struct Entry {
    uint32_t node;
    StateId parent_state;
    uint16_t depth;    // of the node's byte, 1-based
    uint32_t n_cross;  // crossings on the path above the node
  };
  std::vector<Entry> stack;
  std::vector<uint16_t> path_cross;
  const StateId start = a_.local_state(pos, parent_pos, rooted);
  if (v.trie[0].first_child) stack.push_back({v.trie[0].first_child, start, 1, 0});
  auto add_uncertain = [&](uint32_t lo, uint32_t hi) {
    for (uint32_t k = lo; k < hi; ++k) {
      t.uncertain.push_back(v.sorted[k]);
      t.crossings.insert(t.crossings.end(), path_cross.begin(), path_cross.end());
      t.cross_begin.push_back(static_cast<uint32_t>(t.crossings.size()));
    }
  };
  while (!stack.empty()) {
    const Entry e = stack.back();
    stack.pop_back();
    path_cross.resize(e.n_cross);
    const TokenVocab::TrieNode* np = &v.trie[e.node];
    // Siblings whose byte cannot follow are skipped without a transition.
    const ByteSet& viable = a_.viable_bytes(e.parent_state);
    while (!viable.has(np->byte) && np->next_sibling) np = &v.trie[np->next_sibling];
    const TokenVocab::TrieNode& n = *np;
    if (!viable.has(n.byte)) continue;
    if (n.next_sibling) stack.push_back({n.next_sibling, e.parent_state, e.depth, e.n_cross});
    const StateId s = a_.advance(e.parent_state, n.byte);
    if (s == kDead) continue;
    if (a_.only_beyond(s)) {
      add_uncertain(n.sub_lo, n.sub_hi);
      continue;
    }
    if (n.own_hi > n.sub_lo) {
      if (a_.has_live(s) || a_.has_bottom(s) || a_.accepting(s)) {
        for (uint32_t k = n.sub_lo; k < n.own_hi; ++k) t.accepted.push_back(v.sorted[k]);
      } else if (a_.has_beyond(s)) {
        add_uncertain(n.sub_lo, n.own_hi);
      }
    }
    if (a_.has_bottom(s)) path_cross.push_back(e.depth);
    if (n.first_child && e.depth < 65535)
      stack.push_back({n.first_child, s, static_cast<uint16_t>(e.depth + 1), static_cast<uint32_t>(path_cross.size())});
  }
  if (t.accepted.size() > static_cast<size_t>(v.n_vocab) / 32) {  // dense is smaller and faster to merge
    t.accepted_bits.assign(v.n_words, 0);
    for (token_id id : t.accepted) set_bit(t.accepted_bits.data(), id);
    t.accepted.clear();
    t.accepted.shrink_to_fit();
  }
  ++stats_.tables;
  stats_.table_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return t;
}

void TokenGrammar::compute_mask(StateId s, uint64_t* mask) {
  const TokenVocab& v = *vocab_;
  std::memset(mask, 0, v.n_words * sizeof(uint64_t));
  const auto span = a_.nodes(s);
  const std::vector<uint32_t> nodes(span.begin(), span.end());  // the automaton grows below
  for (uint32_t n : nodes) {
    if (n == kRoot) {
      for (token_id t : v.eog) set_bit(mask, t);
      continue;
    }
    const PositionTable& t = table(n);
    if (!t.accepted_bits.empty()) {
      for (size_t w = 0; w < v.n_words; ++w) mask[w] |= t.accepted_bits[w];
    } else {
      for (token_id id : t.accepted) set_bit(mask, id);
    }
    // The uncertain ones: the bytes after a crossing, from where the real stack goes there.
    if (t.uncertain.empty()) continue;
    const StateId after = a_.return_state(n);
    const ByteSet first = a_.viable_bytes(after);  // most suffixes die on their first byte
    std::unordered_map<std::string_view, bool> suffix_ok;
    for (size_t i = 0; i < t.uncertain.size(); ++i) {
      const token_id id = t.uncertain[i];
      const std::string_view b = v.bytes[id];
      for (uint32_t c = t.cross_begin[i]; c < t.cross_begin[i + 1]; ++c) {
        const std::string_view rest = b.substr(t.crossings[c]);
        if (!first.has(static_cast<uint8_t>(rest[0]))) continue;
        auto [it, fresh] = suffix_ok.emplace(rest, false);
        if (fresh) it->second = a_.advance(after, rest) != kDead;
        if (it->second) {
          set_bit(mask, id);
          break;
        }
      }
    }
  }
}

void TokenGrammar::fill_mask(StateId s, uint64_t* mask) {
  std::lock_guard<std::mutex> lock(mu_);
  const size_t words = vocab_->n_words;
  auto it = mask_cache_.find(s);
  if (it != mask_cache_.end()) {
    ++stats_.mask_hits;
    std::memcpy(mask, it->second.data(), words * sizeof(uint64_t));
    return;
  }
  ++stats_.mask_misses;
  // Bounded memory: about 8 MiB of cached masks and a bounded number of position tables per
  // grammar, then start over (nothing outside this call holds on to either).
  const size_t max_entries = std::max<size_t>(16, (8u << 20) / (words * sizeof(uint64_t)));
  if (mask_cache_.size() >= max_entries) mask_cache_.clear();
  if (tables_.size() >= kMaxTables) tables_.clear();
  std::vector<uint64_t> m(words);
  const auto t0 = std::chrono::steady_clock::now();
  compute_mask(s, m.data());
  stats_.miss_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::memcpy(mask, m.data(), words * sizeof(uint64_t));
  mask_cache_.emplace(s, std::move(m));
}

StateId TokenGrammar::advance(StateId s, token_id t) {
  std::lock_guard<std::mutex> lock(mu_);
  if (t < 0 || t >= vocab_->n_vocab || vocab_->bytes[t].empty()) return kDead;
  return a_.advance(s, vocab_->bytes[t]);
}

StateId TokenGrammar::advance_bytes(StateId s, std::string_view bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  return a_.advance(s, bytes);
}

bool TokenGrammar::accepting(StateId s) {
  std::lock_guard<std::mutex> lock(mu_);
  return a_.accepting(s);
}

bool TokenGrammar::complete(StateId s) {
  std::lock_guard<std::mutex> lock(mu_);
  return a_.complete(s);
}

uint32_t TokenGrammar::distance(StateId s) {
  std::lock_guard<std::mutex> lock(mu_);
  return a_.distance(s);
}

std::shared_ptr<const std::vector<uint32_t>> TokenGrammar::distances_after(StateId s, const uint64_t* mask) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = distance_cache_.find(s); it != distance_cache_.end()) return it->second;
  constexpr size_t kMaxDistanceStates = 32;  // a vocabulary's worth of uint32 each
  if (distance_cache_.size() >= kMaxDistanceStates) distance_cache_.clear();
  auto d = std::make_shared<std::vector<uint32_t>>(static_cast<size_t>(vocab_->n_vocab), UINT32_MAX);
  for (size_t w = 0; w < vocab_->n_words; ++w)
    for (uint64_t bits = mask[w]; bits != 0; bits &= bits - 1) {
      const token_id t = static_cast<token_id>(w * 64 + __builtin_ctzll(bits));
      if (t >= vocab_->n_vocab || vocab_->bytes[t].empty()) continue;
      const StateId next = a_.advance(s, vocab_->bytes[t]);
      if (next != kDead) (*d)[t] = a_.distance(next);
    }
  distance_cache_.emplace(s, d);
  return d;
}

const std::vector<token_id>& TokenGrammar::tokens_containing(const std::vector<std::string>& triggers) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string key;
  for (const auto& t : triggers) key += t + '\0';
  auto [it, fresh] = trigger_tokens_.emplace(key, std::vector<token_id>());
  if (fresh)
    for (token_id t = 0; t < vocab_->n_vocab; ++t)
      for (const auto& trig : triggers)
        if (!trig.empty() && vocab_->bytes[t].find(trig) != std::string::npos) {
          it->second.push_back(t);
          break;
        }
  return it->second;
}

TokenGrammar::Stats TokenGrammar::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s = stats_;
  s.states = a_.n_states();
  s.cached_masks = mask_cache_.size();
  return s;
}

bool Matcher::accept(token_id t) {
  const StateId next = g_->advance(state_, t);
  if (next == kDead) return false;
  state_ = next;
  return true;
}

bool Matcher::accept_bytes(std::string_view bytes) {
  const StateId next = g_->advance_bytes(state_, bytes);
  if (next == kDead) return false;
  state_ = next;
  return true;
}

uint32_t Matcher::distance_after(token_id t) {
  const StateId next = g_->advance(state_, t);
  return next == kDead ? UINT32_MAX : g_->distance(next);
}

}  // namespace pensieve::grammar
