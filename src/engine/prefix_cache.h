// The prefix cache's hash chain over the paged KV cache (host only, no device). A full block is
// named by a key computed from its tokens and the key of the block before it, so equal keys
// mean equal prefixes; the BlockPool keeps published blocks after their sequences end (LRU)
// and finds them by key. Two requests with the same long system prompt share those blocks.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/kv_cache.h"

namespace pensieve::engine {

// The key of a block holding `tokens` after the prefix whose last block key is `parent`
// (0 for the first block).
uint64_t block_key(uint64_t parent, std::span<const int32_t> tokens);

// For an empty `kv`: adopts (retains) the cached blocks holding the longest prefix of `tokens`,
// leaving at least `min_compute` (>= 1) tokens to compute (the last one's logits are needed).
// Returns the tokens adopted; `keys` gets the adopted blocks' keys.
int match_prefix(model::BlockPool& pool, std::span<const int32_t> tokens, model::SequenceKv& kv,
                 std::vector<uint64_t>& keys, int min_compute = 1);

// The same, continuing a sequence whose computed tokens are exactly its matched or published
// whole blocks (kv.n_tokens() == keys.size() * block size): adopts the cached blocks that follow,
// e.g. those another request with the same prompt computed meanwhile. Returns the tokens adopted.
int extend_prefix(model::BlockPool& pool, std::span<const int32_t> tokens, model::SequenceKv& kv,
                  std::vector<uint64_t>& keys, int min_compute = 1);

// Publishes the full blocks of `kv` past keys.size() (their tokens are tokens[0, kv.n_tokens()))
// so that later requests can find them; extends `keys`.
void publish_blocks(model::BlockPool& pool, std::span<const int32_t> tokens, const model::SequenceKv& kv,
                    std::vector<uint64_t>& keys);

}  // namespace pensieve::engine
