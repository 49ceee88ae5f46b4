#include "engine/prefix_cache.h"

#include <algorithm>

namespace pensieve::engine {
namespace {

uint64_t mix(uint64_t x) {  // SplitMix64's finalizer: every input bit moves every output bit
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t block_key(uint64_t parent, std::span<const int32_t> tokens) {
  uint64_t h = mix(parent ^ 0x9e3779b97f4a7c15ULL);
  for (int32_t t : tokens) h = mix(h ^ static_cast<uint32_t>(t));
  return h == 0 ? 1 : h;  // 0 is the parent of the first block
}

int extend_prefix(model::BlockPool& pool, std::span<const int32_t> tokens, model::SequenceKv& kv,
                  std::vector<uint64_t>& keys, int min_compute) {
  const int bs = pool.block_size();
  if (kv.n_tokens() != static_cast<int>(keys.size()) * bs) return 0;  // mid-block: nothing to adopt
  const int n_blocks = std::max(0, static_cast<int>(tokens.size()) - std::max(min_compute, 1)) / bs;
  const size_t before = keys.size();
  uint64_t parent = keys.empty() ? 0 : keys.back();
  for (int i = static_cast<int>(keys.size()); i < n_blocks; ++i) {
    const auto part = tokens.subspan(static_cast<size_t>(i) * bs, bs);
    const uint64_t key = block_key(parent, part);
    const int block = pool.find(key, parent, part);
    if (block < 0) break;
    pool.retain(block);
    kv.adopt(block);
    keys.push_back(key);
    parent = key;
  }
  return static_cast<int>(keys.size() - before) * bs;
}

int match_prefix(model::BlockPool& pool, std::span<const int32_t> tokens, model::SequenceKv& kv,
                 std::vector<uint64_t>& keys, int min_compute) {
  keys.clear();
  return extend_prefix(pool, tokens, kv, keys, min_compute);
}

void publish_blocks(model::BlockPool& pool, std::span<const int32_t> tokens, const model::SequenceKv& kv,
                    std::vector<uint64_t>& keys) {
  const int bs = pool.block_size();
  const size_t n_full = static_cast<size_t>(kv.n_tokens() / bs);
  for (size_t i = keys.size(); i < n_full; ++i) {
    const uint64_t parent = i == 0 ? 0 : keys[i - 1];
    const auto part = tokens.subspan(i * bs, bs);
    const uint64_t key = block_key(parent, part);
    pool.publish(kv.block_table()[i], key, parent, part);
    keys.push_back(key);
  }
}

}  // namespace pensieve::engine
