// Host-side bookkeeping of the paged KV cache. The K/V storage itself lives in the Ops
// (device memory, [n_blocks][block_size][n_kv_heads][head_dim] per layer); this file decides
// which block holds which tokens of which sequence, and which full blocks are kept for reuse.
//
// BlockPool: every block id in [0, n_blocks) is in exactly one of three states:
//  * in use: ref_count > 0 block tables hold it;
//  * cached: ref_count 0, but it holds the K/V of a full block whose content key was published
//    (prefix cache); it sits in an LRU list and can be taken back (retain) or evicted;
//  * free: ref_count 0, no content.
// allocate() takes a free block, else evicts the least recently released cached one: O(1).
// Shared blocks (ref_count > 1) are always full and never written again: sequences share whole
// blocks only, so copy-on-write is never needed (a partial last block is recomputed).
//
// A content key names a full block by its tokens and everything before them (a hash chain:
// key_i = hash(key_{i-1}, tokens of block i), engine/prefix_cache.h). The pool stores the
// parent key and the tokens beside each published key and checks both on lookup, so a hash
// collision can only ever cost a cache miss.
//
// SequenceKv: the block table of one sequence. Token at position p lives in block
// table[p / block_size] at offset p % block_size; slot = block * block_size + offset.
// reserve(n) grows the table to hold n tokens: O(new blocks). truncate(n): O(freed blocks).
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

namespace pensieve::model {

class BlockPool {
 public:
  BlockPool(int n_blocks, int block_size);

  int block_size() const { return block_size_; }
  int n_blocks() const { return static_cast<int>(ref_counts_.size()); }
  // Blocks allocate() can hand out: free plus cached (evictable).
  int n_available() const { return static_cast<int>(free_.size()) + n_cached_; }
  int n_cached() const { return n_cached_; }
  int n_used() const { return n_blocks() - n_available(); }
  int64_t evictions() const { return evictions_; }

  // A block with ref count 1 (a free one, else the least recently used cached one, whose
  // content is forgotten), or -1 when every block is in use.
  int allocate();
  // One more reference; a cached block comes back into use with its content.
  void retain(int block);
  // One reference less; at 0 the block is cached when it has a content key, else freed.
  void release(int block);
  int ref_count(int block) const { return ref_counts_[block]; }

  // The block published under `key` whose parent key and tokens match, or -1.
  int find(uint64_t key, uint64_t parent, std::span<const int32_t> tokens) const;
  // Records that `block` (in use, full) holds the content `tokens` after the prefix `parent`.
  // A key already present keeps its block (the duplicate stays unpublished).
  void publish(int block, uint64_t key, uint64_t parent, std::span<const int32_t> tokens);

 private:
  static constexpr int32_t kNone = -1;
  void lru_push(int block);
  void lru_remove(int block);
  void forget(int block);  // drops the block's key

  int block_size_;
  std::vector<int32_t> free_;  // stack of free block ids
  std::vector<int32_t> ref_counts_;
  // Prefix cache: key -> block, and per block its key, parent key and tokens.
  std::unordered_map<uint64_t, int32_t> by_key_;
  std::vector<uint64_t> key_, parent_;
  std::vector<uint8_t> has_key_;
  std::vector<int32_t> tokens_;  // [n_blocks][block_size]
  // LRU of cached blocks: a doubly linked list through prev_/next_ (head = oldest).
  std::vector<int32_t> prev_, next_;
  int32_t lru_head_ = kNone, lru_tail_ = kNone;
  int n_cached_ = 0;
  int64_t evictions_ = 0;
};

class SequenceKv {
 public:
  explicit SequenceKv(BlockPool& pool) : pool_(&pool) {}
  ~SequenceKv() { truncate(0); }
  SequenceKv(const SequenceKv&) = delete;
  SequenceKv& operator=(const SequenceKv&) = delete;

  int n_tokens() const { return n_tokens_; }  // positions 0..n_tokens-1 hold valid K/V
  const std::vector<int32_t>& block_table() const { return table_; }
  BlockPool& pool() const { return *pool_; }

  // Makes room for positions up to n_tokens - 1; false (nothing changed) when the pool is short.
  bool reserve(int n_tokens);
  // Appends a full block the caller has already retained (a shared prefix block); the sequence
  // must end on a block boundary. Its tokens count as valid.
  void adopt(int block);
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
