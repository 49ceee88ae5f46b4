#include "model/kv_cache.h"

#include "util/status.h"

namespace pensieve::model {

BlockPool::BlockPool(int n_blocks, int block_size) : block_size_(block_size), ref_counts_(n_blocks, 0) {
  PS_ASSERT(n_blocks > 0 && block_size > 0);
  free_.reserve(n_blocks);
  // Low ids on top of the stack: a short sequence touches the start of the pool only.
  for (int b = n_blocks - 1; b >= 0; --b) free_.push_back(b);
}

int BlockPool::allocate() {
  if (free_.empty()) return -1;
  const int b = free_.back();
  free_.pop_back();
  ref_counts_[b] = 1;
  return b;
}

void BlockPool::retain(int block) {
  PS_ASSERT(block >= 0 && block < n_blocks() && ref_counts_[block] > 0, "retain of a free block");
  ++ref_counts_[block];
}

void BlockPool::release(int block) {
  PS_ASSERT(block >= 0 && block < n_blocks() && ref_counts_[block] > 0, "release of a free block");
  if (--ref_counts_[block] == 0) free_.push_back(block);
}

bool SequenceKv::reserve(int n_tokens) {
  const int bs = pool_->block_size();
  const size_t needed = static_cast<size_t>((n_tokens + bs - 1) / bs);
  if (needed <= table_.size()) return true;
  if (static_cast<size_t>(pool_->n_free()) < needed - table_.size()) return false;
  while (table_.size() < needed) table_.push_back(pool_->allocate());
  return true;
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
