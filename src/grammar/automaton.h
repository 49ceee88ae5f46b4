// The byte-level pushdown automaton of a Grammar, determinized lazily.
//
// A stack is a chain of interned nodes (position, parent): the top's position is the byte set
// to match next, the others are where to continue when the rule above them ends. Calls in tail
// position reuse the caller's frame, so `x*` runs in constant stack depth. A state is the
// interned, sorted set of stacks the input so far can be in (the grammar may be ambiguous);
// state transitions on each byte are memoized, so a state seen before costs one table lookup.
//
// Pseudo-nodes end the chains: kRoot (the whole grammar has matched) and kBottom, the floor of
// a *local* stack started at a position without knowing all of its callers (token_masks.cpp
// classifies tokens per position that way). A path that returns past the floor becomes kBottom
// (nothing consumed since: fine in any context) and, at the next byte, kBeyond (bytes consumed
// past the floor: only the real stack can say).
//
// Not thread-safe: TokenGrammar guards it with a mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "grammar/grammar.h"

namespace pensieve::grammar {

using StateId = uint32_t;
inline constexpr StateId kDead = 0;  // the empty set: no way to go on
inline constexpr uint32_t kRoot = 0, kBottom = 1, kBeyond = 2;

class Automaton {
 public:
  explicit Automaton(std::shared_ptr<const Grammar> g);

  StateId initial() const { return initial_; }
  // {(pos, floor)} where floor is kRoot (rooted: exact), or (parent_pos, kBottom), or kBottom
  // when parent_pos is kNoPos. pos must be a byte-set position.
  static constexpr uint32_t kNoPos = UINT32_MAX;
  StateId local_state(uint32_t pos, uint32_t parent_pos, bool rooted);
  StateId singleton(uint32_t node);   // {node}
  // Where a real stack goes when the frame below its top (`node`'s parent) ends: the state of
  // returning into the grandparent frame ({kRoot} when there is none).
  StateId return_state(uint32_t node);

  StateId advance(StateId s, uint8_t byte);
  StateId advance(StateId s, std::string_view bytes);  // stops early at kDead

  bool accepting(StateId s) const { return flags_[s] & kHasRoot; }  // the input so far is a match
  bool complete(StateId s) const { return accepting(s) && set_size(s) == 1; }  // ... and nothing may follow
  bool has_live(StateId s) const { return flags_[s] & kHasLive; }   // a real stack is left
  bool has_bottom(StateId s) const { return flags_[s] & kHasBottom; }
  bool has_beyond(StateId s) const { return flags_[s] & kHasBeyond; }
  bool only_beyond(StateId s) const { return flags_[s] == kHasBeyond; }  // just {kBeyond}
  // Fewest bytes from s to an accepted string (0 when accepting).
  uint32_t distance(StateId s) const { return dist_[s]; }
  // The bytes that do not kill s (all of them past a local floor), computed once per state:
  // lets a caller skip the transitions that would only lead to kDead.
  const ByteSet& viable_bytes(StateId s);

  std::span<const uint32_t> nodes(StateId s) const {
    return {set_data_.data() + set_off_[s], set_off_[s + 1] - set_off_[s]};
  }
  uint32_t node_pos(uint32_t node) const { return node_pos_[node]; }
  uint32_t node_parent(uint32_t node) const { return node_parent_[node]; }
  const Grammar& grammar() const { return *g_; }
  size_t n_states() const { return set_off_.size() - 1; }
  size_t n_nodes() const { return node_pos_.size(); }

 private:
  static constexpr uint8_t kHasRoot = 1, kHasBottom = 2, kHasLive = 4, kHasBeyond = 8;
  size_t set_size(StateId s) const { return set_off_[s + 1] - set_off_[s]; }
  uint32_t node(uint32_t pos, uint32_t parent);
  void expand(uint32_t pos, uint32_t parent, std::vector<uint32_t>& out);
  StateId intern(std::vector<uint32_t>& nodes);  // sorts and dedups

  std::shared_ptr<const Grammar> g_;
  // Nodes: position and parent; their distance to the end of the grammar.
  std::vector<uint32_t> node_pos_, node_parent_, node_dist_;
  std::unordered_map<uint64_t, uint32_t> node_ids_;
  // States: sets of nodes, flat.
  std::vector<uint32_t> set_data_;
  std::vector<uint32_t> set_off_;
  std::vector<uint8_t> flags_;
  std::vector<uint32_t> dist_;
  std::unordered_map<std::string, StateId> set_ids_;
  std::vector<StateId> singleton_;  // per node, 0 when not made yet
  std::unordered_map<uint32_t, StateId> return_states_;  // by grandparent node
  std::vector<ByteSet> viable_;      // per state
  std::vector<uint8_t> viable_done_;
  // Memoized transitions, open addressing: key (state << 8 | byte) + 1, 0 = empty.
  static constexpr uint32_t kDenseRows = 4096;
  static constexpr StateId kUnknown = UINT32_MAX;
  std::vector<uint32_t> dense_of_;  // per state: row + 1, 0 = none
  std::vector<StateId> dense_;      // rows of 256
  std::vector<uint64_t> tkeys_;
  std::vector<StateId> tvals_;
  size_t tcount_ = 0;
  StateId initial_ = kDead;
  std::vector<uint64_t> seen_;  // expand(): (pos, parent) pairs done in this step
  std::unordered_set<uint64_t> seen_set_;  // ... once there are many
  std::vector<uint32_t> scratch_;
};

}  // namespace pensieve::grammar
