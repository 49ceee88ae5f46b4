// Host-side bookkeeping of the paged KV cache. The K/V storage itself lives in the Ops
// (device memory, [n_blocks][block_size][n_kv_heads][head_dim] per layer); this file decides
// which block holds which tokens of which sequence.
//
// BlockPool invariants:
//  * every block id in [0, n_blocks) is either on the free list (ref_count 0) or referenced by
//    ref_count > 0 block tables;
//  * allocate(): O(1) (pop the free list); retain()/release(): O(1); a block returns to the free
//    list exactly when its ref count drops to 0.
// A block with ref_count > 1 is shared (a common prefix of several sequences) and must not be
// written: a sequence that appends into a shared partial block copies it first (copy-on-write;
// not needed while the engine runs one sequence, which never shares).
//
// SequenceKv: the block table of one sequence. Token at position p lives in block
// table[p / block_size] at offset p % block_size; slot = block * block_size + offset.
// reserve(n) grows the table to hold n tokens: O(new blocks). truncate(n): O(freed blocks).
#pragma once

#include <cstdint>
#include <vector>

namespace pensieve::model {

class BlockPool {
 public:
  BlockPool(int n_blocks, int block_size);

  int block_size() const { return block_size_; }
  int n_blocks() const { return static_cast<int>(ref_counts_.size()); }
  int n_free() const { return static_cast<int>(free_.size()); }

  // A fresh block with ref count 1, or -1 when the pool is exhausted.
  int allocate();
  void retain(int block);
  void release(int block);
  int ref_count(int block) const { return ref_counts_[block]; }

 private:
  int block_size_;
  std::vector<int32_t> free_;  // stack of free block ids
  std::vector<int32_t> ref_counts_;
};

class SequenceKv {
 public:
  explicit SequenceKv(BlockPool& pool) : pool_(&pool) {}
  ~SequenceKv() { truncate(0); }
  SequenceKv(const SequenceKv&) = delete;
  SequenceKv& operator=(const SequenceKv&) = delete;

  int n_tokens() const { return n_tokens_; }  // positions 0..n_tokens-1 hold valid K/V
  const std::vector<int32_t>& block_table() const { return table_; }

  // Makes room for positions up to n_tokens - 1; false (nothing changed) when the pool is short.
  bool reserve(int n_tokens);
  // Marks positions [0, n) valid after the forward wrote them (n <= reserved capacity).
  void set_n_tokens(int n);
  // Keeps positions [0, n); releases blocks no longer needed.
  void truncate(int n);
  int64_t slot(int position) const;

 private:
  BlockPool* pool_;
  std::vector<int32_t> table_;
  int n_tokens_ = 0;
};

}  // namespace pensieve::model
