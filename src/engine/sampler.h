// Token sampling: penalties (repetition / frequency / presence over the last repeat_last_n
// tokens), then greedy (temperature <= 0) or top-k -> temperature softmax -> top-p -> min-p ->
// a draw from a seeded generator. Same seed + settings + logits => same token, on any machine
// and thread count (the generator and the draw are our own code, not std:: distributions).
//
// A Sampler is per generation (it holds the RNG state); not thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/inference.h"

namespace pensieve::engine {

// SplitMix64-seeded xoshiro256**: small, fast, and fully specified.
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next();
  double uniform();  // [0, 1), 53 bits

 private:
  uint64_t s_[4];
};

class Sampler {
 public:
  // Unset seed: a random one (from std::random_device).
  explicit Sampler(const SamplingParams& params);

  // Picks the next token. `logits` (n_vocab floats) is modified (penalties, filtering);
  // `history` is the sequence so far (prompt + generated), for the penalties.
  token_id sample(std::span<float> logits, std::span<const token_id> history);

  uint64_t seed() const { return seed_; }
  // Whether sample() is a plain argmax of the logits (greedy, no penalty active): then the
  // argmax can be taken where the logits are (model::Context::decode_greedy).
  bool plain_argmax() const;

 private:
  void apply_penalties(std::span<float> logits, std::span<const token_id> history);

  SamplingParams p_;
  uint64_t seed_;
  Rng rng_;
  std::vector<std::pair<float, token_id>> cand_;  // reused between calls
};

// Index of the largest logit (the lowest index among equals).
token_id argmax(std::span<const float> logits);

}  // namespace pensieve::engine
