#include "model/kv_cache.h"

#include <algorithm>

#include "util/status.h"

namespace pensieve::model {

BlockPool::BlockPool(int n_blocks, int block_size)
    : block_size_(block_size),
      ref_counts_(n_blocks, 0),
      key_(n_blocks, 0),
      parent_(n_blocks, 0),
      has_key_(n_blocks, 0),
      tokens_(static_cast<size_t>(n_blocks) * block_size, 0),
      prev_(n_blocks, kNone),
      next_(n_blocks, kNone) {
  PS_ASSERT(n_blocks > 0 && block_size > 0);
  free_.reserve(n_blocks);
  // Low ids on top of the stack: a short sequence touches the start of the pool only.
  for (int b = n_blocks - 1; b >= 0; --b) free_.push_back(b);
}

void BlockPool::lru_push(int b) {
  prev_[b] = lru_tail_;
  next_[b] = kNone;
  if (lru_tail_ != kNone) next_[lru_tail_] = b;
  else lru_head_ = b;
  lru_tail_ = b;
  ++n_cached_;
}

void BlockPool::lru_remove(int b) {
  if (prev_[b] != kNone) next_[prev_[b]] = next_[b];
  else lru_head_ = next_[b];
  if (next_[b] != kNone) prev_[next_[b]] = prev_[b];
  else lru_tail_ = prev_[b];
  prev_[b] = next_[b] = kNone;
  --n_cached_;
}

void BlockPool::forget(int b) {
  if (!has_key_[b]) return;
  auto it = by_key_.find(key_[b]);
  if (it != by_key_.end() && it->second == b) by_key_.erase(it);
  has_key_[b] = 0;
}

int BlockPool::allocate() {
  int b;
  if (!free_.empty()) {
    b = free_.back();
    free_.pop_back();
  } else if (lru_head_ != kNone) {
    b = lru_head_;
    lru_remove(b);
    forget(b);
    ++evictions_;
  } else {
    return -1;
  }
  ref_counts_[b] = 1;
  return b;
}

void BlockPool::retain(int block) {
  PS_ASSERT(block >= 0 && block < n_blocks(), "retain of a bad block id");
  if (ref_counts_[block] == 0) {
    PS_ASSERT(has_key_[block], "retain of a free block");
    lru_remove(block);
  }
  ++ref_counts_[block];
}

void BlockPool::release(int block) {
  PS_ASSERT(block >= 0 && block < n_blocks() && ref_counts_[block] > 0, "release of a free block");
  if (--ref_counts_[block] > 0) return;
  if (has_key_[block]) lru_push(block);
  else free_.push_back(block);
}

int BlockPool::find(uint64_t key, uint64_t parent, std::span<const int32_t> tokens) const {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return -1;
  const int b = it->second;
  if (parent_[b] != parent || tokens.size() != static_cast<size_t>(block_size_) ||
      !std::equal(tokens.begin(), tokens.end(), tokens_.begin() + static_cast<size_t>(b) * block_size_))
    return -1;
  return b;
}

void BlockPool::publish(int block, uint64_t key, uint64_t parent, std::span<const int32_t> tokens) {
  PS_ASSERT(block >= 0 && block < n_blocks() && ref_counts_[block] > 0, "publish of a block not in use");
  PS_ASSERT(tokens.size() == static_cast<size_t>(block_size_), "publish of a partial block");
  if (has_key_[block] || by_key_.count(key)) return;
  by_key_.emplace(key, block);
  key_[block] = key;
  parent_[block] = parent;
  has_key_[block] = 1;
  std::copy(tokens.begin(), tokens.end(), tokens_.begin() + static_cast<size_t>(block) * block_size_);
}

bool SequenceKv::reserve(int n_tokens) {
  const int bs = pool_->block_size();
  const size_t needed = static_cast<size_t>((n_tokens + bs - 1) / bs);
  if (needed <= table_.size()) return true;
  if (static_cast<size_t>(pool_->n_available()) < needed - table_.size()) return false;
  while (table_.size() < needed) table_.push_back(pool_->allocate());
  return true;
}

void SequenceKv::adopt(int block) {
  const int bs = pool_->block_size();
  PS_ASSERT(static_cast<size_t>(n_tokens_) == table_.size() * bs, "adopt after a partial block");
  table_.push_back(block);
  n_tokens_ += bs;
}

void SequenceKv::set_n_tokens(int n) {
  PS_ASSERT(n >= 0 && static_cast<size_t>(n) <= table_.size() * pool_->block_size());
  n_tokens_ = n;
}

void SequenceKv::truncate(int n) {
  if (n < n_tokens_) n_tokens_ = n;
  const int bs = pool_->block_size();
  const size_t keep = static_cast<size_t>((n + bs - 1) / bs);
  while (table_.size() > keep) {
    pool_->release(table_.back());
    table_.pop_back();
  }
}

int64_t SequenceKv::slot(int position) const {
  const int bs = pool_->block_size();
  PS_ASSERT(position >= 0 && static_cast<size_t>(position / bs) < table_.size(), "position outside the sequence");
  return static_cast<int64_t>(table_[position / bs]) * bs + position % bs;
}

}  // namespace pensieve::model
