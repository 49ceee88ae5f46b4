#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <unordered_map>

namespace pensieve::engine {

static uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

Rng::Rng(uint64_t seed) {
  for (uint64_t& s : s_) s = splitmix64(seed);
}

uint64_t Rng::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

token_id argmax(std::span<const float> logits) {
  token_id best = 0;
  for (size_t i = 1; i < logits.size(); ++i)
    if (logits[i] > logits[best]) best = static_cast<token_id>(i);
  return best;
}

static uint64_t random_seed() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

Sampler::Sampler(const SamplingParams& params)
    : p_(params), seed_(params.seed ? *params.seed : random_seed()), rng_(seed_) {}

bool Sampler::plain_argmax() const {
  const bool repeat = p_.repeat_penalty != 1.0f && p_.repeat_penalty > 0;
  const bool freq = p_.frequency_penalty != 0.0f || p_.presence_penalty != 0.0f;
  return p_.temperature <= 0 && ((!repeat && !freq) || p_.repeat_last_n == 0);
}

void Sampler::apply_penalties(std::span<float> logits, std::span<const token_id> history) {
  const bool repeat = p_.repeat_penalty != 1.0f && p_.repeat_penalty > 0;
  const bool freq = p_.frequency_penalty != 0.0f || p_.presence_penalty != 0.0f;
  if ((!repeat && !freq) || p_.repeat_last_n == 0 || history.empty()) return;
  const size_t n = p_.repeat_last_n < 0 ? history.size() : std::min<size_t>(history.size(), p_.repeat_last_n);
  std::unordered_map<token_id, int> counts;
  for (token_id t : history.subspan(history.size() - n))
    if (t >= 0 && static_cast<size_t>(t) < logits.size()) ++counts[t];
  for (const auto& [t, c] : counts) {
    float& l = logits[t];
    if (repeat) l = l > 0 ? l / p_.repeat_penalty : l * p_.repeat_penalty;  // CTRL-style, as llama.cpp
    l -= c * p_.frequency_penalty + p_.presence_penalty;                     // OpenAI-style
  }
}

token_id Sampler::sample(std::span<float> logits, std::span<const token_id> history) {
  apply_penalties(logits, history);
  if (p_.temperature <= 0) return argmax(logits);

  cand_.clear();
  cand_.reserve(logits.size());
  for (size_t i = 0; i < logits.size(); ++i)
    if (std::isfinite(logits[i])) cand_.emplace_back(logits[i], static_cast<token_id>(i));
  if (cand_.empty()) return argmax(logits);
  // Sorted by logit, descending; ties by id so the order never depends on the sort algorithm.
  auto by_logit = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
  size_t k = cand_.size();
  if (p_.top_k > 0 && static_cast<size_t>(p_.top_k) < k) {
    k = p_.top_k;
    std::partial_sort(cand_.begin(), cand_.begin() + k, cand_.end(), by_logit);
    cand_.resize(k);
  } else {
    std::sort(cand_.begin(), cand_.end(), by_logit);
  }

  // Softmax with temperature, in double for a stable cumulative sum.
  const double max = cand_[0].first;
  std::vector<double> prob(cand_.size());
  double sum = 0;
  for (size_t i = 0; i < cand_.size(); ++i) sum += prob[i] = std::exp((cand_[i].first - max) / p_.temperature);
  for (double& q : prob) q /= sum;

  size_t keep = cand_.size();
  if (p_.top_p < 1.0f) {  // the smallest prefix whose mass reaches top_p
    double cum = 0;
    for (size_t i = 0; i < keep; ++i) {
      cum += prob[i];
      if (cum >= p_.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  if (p_.min_p > 0) {  // drop tokens less likely than min_p times the best
    const double floor = prob[0] * p_.min_p;
    size_t i = 1;
    while (i < keep && prob[i] >= floor) ++i;
    keep = i;
  }
  double mass = 0;
  for (size_t i = 0; i < keep; ++i) mass += prob[i];
  const double r = rng_.uniform() * mass;
  double cum = 0;
  for (size_t i = 0; i < keep; ++i) {
    cum += prob[i];
    if (r < cum) return cand_[i].second;
  }
  return cand_[keep - 1].second;
}

}  // namespace pensieve::engine
