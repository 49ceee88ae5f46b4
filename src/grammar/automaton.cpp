#include "grammar/automaton.h"

#include <algorithm>

namespace pensieve::grammar {

namespace {
constexpr uint32_t kFar = UINT32_MAX / 4;
}

Automaton::Automaton(std::shared_ptr<const Grammar> g) : g_(std::move(g)) {
  node_pos_ = {0, 0, 0};  // kRoot, kBottom, kBeyond
  node_parent_ = {0, 0, 0};
  node_dist_ = {0, 0, 0};
  set_off_ = {0, 0};  // state 0: the empty set
  flags_ = {0};
  dist_ = {kFar};
  set_ids_.emplace(std::string(), kDead);
  singleton_ = {0, 0, 0};
  tkeys_.assign(1 << 12, 0);
  tvals_.assign(1 << 12, 0);
  std::vector<uint32_t> start;
  for (uint32_t alt : g_->rule_alts[g_->root]) expand(alt, kRoot, start);
  initial_ = intern(start);
}

uint32_t Automaton::node(uint32_t pos, uint32_t parent) {
  const uint64_t key = (uint64_t(pos) << 32) | parent;
  auto [it, fresh] = node_ids_.emplace(key, static_cast<uint32_t>(node_pos_.size()));
  if (fresh) {
    node_pos_.push_back(pos);
    node_parent_.push_back(parent);
    node_dist_.push_back(std::min<uint64_t>(kFar, uint64_t(g_->min_len_from[pos]) + node_dist_[parent]));
    singleton_.push_back(0);
  }
  return it->second;
}

void Automaton::expand(uint32_t pos, uint32_t parent, std::vector<uint32_t>& out) {
  // Returns to callers and the last alternative of a call loop here instead of recursing, so a
  // deep stack of frames that end at once (or a long chain of calls) costs no native stack.
  for (;;) {
    const Element& e = g_->elems[pos];
    if (e.kind == ElemKind::bytes) {
      out.push_back(node(pos, parent));
      return;
    }
    // Several paths can reach the same (position, parent): expand it once per step.
    const uint64_t key = (uint64_t(pos) << 32) | parent;
    if (seen_.size() < 64) {  // the usual case: a few entries, a linear scan
      if (std::find(seen_.begin(), seen_.end(), key) != seen_.end()) return;
      seen_.push_back(key);
      if (seen_.size() == 64) seen_set_.insert(seen_.begin(), seen_.end());
    } else if (!seen_set_.insert(key).second) {
      return;
    }
    if (e.kind == ElemKind::end) {
      if (parent == kRoot || parent == kBottom) {
        out.push_back(parent);
        return;
      }
      pos = node_pos_[parent];
      parent = node_parent_[parent];
      continue;
    }
    // A call: continue at pos + 1 afterwards, unless that is the end of this alternative (then
    // the callee returns straight to our caller: no frame, so repetition keeps a flat stack).
    const uint32_t ret = g_->elems[pos + 1].kind == ElemKind::end ? parent : node(pos + 1, parent);
    const auto& alts = g_->rule_alts[e.value];
    for (size_t a = 0; a + 1 < alts.size(); ++a) expand(alts[a], ret, out);
    pos = alts.back();
    parent = ret;
  }
}

StateId Automaton::intern(std::vector<uint32_t>& nodes) {
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  std::string key(reinterpret_cast<const char*>(nodes.data()), nodes.size() * sizeof(uint32_t));
  auto [it, fresh] = set_ids_.emplace(std::move(key), static_cast<StateId>(flags_.size()));
  if (!fresh) return it->second;
  uint8_t f = 0;
  uint32_t d = kFar;
  for (uint32_t n : nodes) {
    f |= n == kRoot ? kHasRoot : n == kBottom ? kHasBottom : n == kBeyond ? kHasBeyond : kHasLive;
    d = std::min(d, node_dist_[n]);
  }
  set_data_.insert(set_data_.end(), nodes.begin(), nodes.end());
  set_off_.push_back(static_cast<uint32_t>(set_data_.size()));
  flags_.push_back(f);
  dist_.push_back(d);
  return it->second;
}

const ByteSet& Automaton::viable_bytes(StateId s) {
  if (viable_.size() <= s) {
    viable_.resize(flags_.size());
    viable_done_.resize(flags_.size(), 0);
  }
  if (!viable_done_[s]) {
    ByteSet b;
    for (uint32_t k = set_off_[s]; k < set_off_[s + 1]; ++k) {
      const uint32_t n = set_data_[k];
      if (n == kRoot) continue;
      if (n == kBottom || n == kBeyond) {
        for (auto& w : b.w) w = ~uint64_t(0);
        break;
      }
      const ByteSet& e = g_->sets[g_->elems[node_pos_[n]].value];
      for (int i = 0; i < 4; ++i) b.w[i] |= e.w[i];
    }
    viable_[s] = b;
    viable_done_[s] = 1;
  }
  return viable_[s];
}

StateId Automaton::singleton(uint32_t n) {
  if (singleton_[n] != 0) return singleton_[n];
  std::vector<uint32_t> one{n};
  const StateId s = intern(one);
  singleton_[n] = s;
  return s;
}

StateId Automaton::return_state(uint32_t n) {
  const uint32_t gp = node_parent_[node_parent_[n]];
  auto it = return_states_.find(gp);
  if (it != return_states_.end()) return it->second;
  std::vector<uint32_t> out;
  if (gp == kRoot || gp == kBottom) {
    out.push_back(gp);
  } else {
    seen_.clear();
    seen_set_.clear();
    expand(node_pos_[gp], node_parent_[gp], out);
  }
  const StateId s = intern(out);
  return_states_.emplace(gp, s);
  return s;
}

StateId Automaton::local_state(uint32_t pos, uint32_t parent_pos, bool rooted) {
  if (rooted) return singleton(node(pos, kRoot));
  if (parent_pos == kNoPos) return singleton(node(pos, kBottom));
  return singleton(node(pos, node(parent_pos, kBottom)));
}

StateId Automaton::advance(StateId s, uint8_t byte) {
  if (s == kDead) return kDead;
  // The first kDenseRows states to be left get a full row of 256 transitions (the hot ones:
  // inside strings, numbers...); the rest go through the hash table.
  uint32_t row = s < dense_of_.size() ? dense_of_[s] : 0;
  if (row) {
    const StateId v = dense_[(row - 1) * 256 + byte];
    if (v != kUnknown) return v;
  }
  const uint64_t key = ((uint64_t(s) << 8) | byte) + 1;
  size_t mask = tkeys_.size() - 1;
  if (!row) {
    size_t h = (key * 0x9E3779B97F4A7C15ull) >> 20;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      if (tkeys_[i] == key) return tvals_[i];
      if (tkeys_[i] == 0) break;
    }
  }
  // Not seen yet: step every stack of the set over the byte.
  scratch_.clear();
  seen_.clear();
  seen_set_.clear();
  for (uint32_t k = set_off_[s]; k < set_off_[s + 1]; ++k) {
    const uint32_t n = set_data_[k];
    if (n == kRoot) continue;
    if (n == kBottom || n == kBeyond) {
      scratch_.push_back(kBeyond);  // bytes past the local floor: only the real stack knows
      continue;
    }
    const uint32_t pos = node_pos_[n];
    if (g_->sets[g_->elems[pos].value].has(byte)) expand(pos + 1, node_parent_[n], scratch_);
  }
  std::vector<uint32_t> next;
  next.swap(scratch_);
  const StateId out = intern(next);
  next.swap(scratch_);
  if (!row && dense_.size() < kDenseRows * 256) {
    if (dense_of_.size() <= s) dense_of_.resize(flags_.size(), 0);
    // A state that has a row keeps all its transitions there; move the ones hashed so far.
    row = dense_of_[s] = static_cast<uint32_t>(dense_.size() / 256 + 1);
    dense_.resize(dense_.size() + 256, kUnknown);
    for (int b = 0; b < 256; ++b) {
      const uint64_t k = ((uint64_t(s) << 8) | b) + 1;
      for (size_t i = ((k * 0x9E3779B97F4A7C15ull) >> 20) & mask;; i = (i + 1) & mask) {
        if (tkeys_[i] == k) {
          dense_[(row - 1) * 256 + b] = tvals_[i];
          break;
        }
        if (tkeys_[i] == 0) break;
      }
    }
  }
  if (row) {
    dense_[(row - 1) * 256 + byte] = out;
    return out;
  }
  if ((tcount_ + 1) * 2 > tkeys_.size()) {  // grow and rehash
    std::vector<uint64_t> keys(tkeys_.size() * 2, 0);
    std::vector<StateId> vals(keys.size(), 0);
    mask = keys.size() - 1;
    for (size_t i = 0; i < tkeys_.size(); ++i) {
      if (tkeys_[i] == 0) continue;
      size_t j = ((tkeys_[i] * 0x9E3779B97F4A7C15ull) >> 20) & mask;
      while (keys[j] != 0) j = (j + 1) & mask;
      keys[j] = tkeys_[i];
      vals[j] = tvals_[i];
    }
    tkeys_.swap(keys);
    tvals_.swap(vals);
  }
  size_t i = ((key * 0x9E3779B97F4A7C15ull) >> 20) & mask;
  while (tkeys_[i] != 0) i = (i + 1) & mask;
  tkeys_[i] = key;
  tvals_[i] = out;
  ++tcount_;
  return out;
}

StateId Automaton::advance(StateId s, std::string_view bytes) {
  for (unsigned char b : bytes) {
    if (s == kDead) break;
    s = advance(s, b);
  }
  return s;
}

}  // namespace pensieve::grammar
