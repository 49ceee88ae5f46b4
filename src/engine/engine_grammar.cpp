// Constrained decoding inside the engine thread: binding grammars to the model's vocabulary,
// masking a sequence's logits before sampling, keeping the output finishable within the
// token budget, and lazy grammars that start at a trigger string.
#include <algorithm>
#include <cmath>

#include "engine/backend_state.h"

namespace pensieve::engine {

namespace {

constexpr size_t kGrammarCache = 16;

}  // namespace

std::shared_ptr<grammar::TokenGrammar> InferenceBackend::Impl::token_grammar(const std::shared_ptr<const grammar::Grammar>& g) {
  if (!grammar_vocab) {
    // Each token's bytes as it appears in the output; control tokens have none (never allowed
    // by a grammar), the end-of-generation tokens are allowed where the grammar accepts.
    const int32_t n = tokenizer->n_vocab();
    std::vector<std::string> bytes(static_cast<size_t>(n));
    for (token_id t = 0; t < n; ++t)
      if (!tokenizer->is_control(t) && !tokenizer->is_eog(t)) bytes[t] = tokenizer->token_to_piece(t, /*special=*/false);
    grammar_vocab = std::make_shared<grammar::TokenVocab>(std::move(bytes), tokenizer->eog_tokens());
  }
  for (size_t i = 0; i < grammars.size(); ++i) {
    if (grammars[i].first != g) continue;
    auto hit = grammars[i];
    grammars.erase(grammars.begin() + static_cast<long>(i));
    grammars.push_back(hit);
    return hit.second;
  }
  if (grammars.size() >= kGrammarCache) grammars.erase(grammars.begin());
  grammars.emplace_back(g, std::make_shared<grammar::TokenGrammar>(g, grammar_vocab));
  return grammars.back().second;
}

bool InferenceBackend::Impl::fill_token_mask(Sequence& s, uint64_t* words) {
  grammar::Matcher& m = *s.matcher;
  const grammar::TokenVocab& v = m.grammar().vocab();
  m.fill_mask(words);
  if (s.options.ignore_eos)
    for (token_id t : v.eog) words[t >> 6] &= ~(uint64_t(1) << (t & 63));
  for (size_t w = 0; w < v.n_words; ++w)
    if (words[w] != 0) return true;
  return false;
}

// The budget: tokens left after the next one. A token that leaves more bytes to write than that
// (at worst one byte per token) could make the output impossible to finish.
int64_t InferenceBackend::Impl::token_budget(const Sequence& s) const {
  const int64_t generated = static_cast<int64_t>(s.gen.tokens.size()) + 1;
  int64_t budget = static_cast<int64_t>(context->options().n_ctx) - static_cast<int64_t>(s.tokens.size()) - 1;
  if (s.options.max_tokens > 0) budget = std::min<int64_t>(budget, s.options.max_tokens - generated);
  return budget;
}

bool InferenceBackend::Impl::fits_budget(Sequence& s, token_id tok) {
  if (tokenizer->is_eog(tok)) return true;  // only allowed where the grammar accepts
  return static_cast<int64_t>(s.matcher->distance_after(tok)) <= token_budget(s);
}

Result<token_id> InferenceBackend::Impl::sample_constrained(Sequence& s, std::span<float> row, token_id unfit) {
  grammar::Matcher& m = *s.matcher;
  const grammar::TokenVocab& v = m.grammar().vocab();
  mask_words.resize(v.n_words);
  const bool any = fill_token_mask(s, mask_words.data());
  const size_t n = std::min<size_t>(row.size(), static_cast<size_t>(v.n_vocab));
  for (size_t w = 0; w < v.n_words; ++w) {
    const uint64_t bits = mask_words[w];
    if (bits == ~uint64_t(0)) continue;
    const size_t end = std::min(n, (w + 1) * 64);
    for (size_t t = w * 64; t < end; ++t)
      if (!((bits >> (t & 63)) & 1)) row[t] = -INFINITY;
  }
  for (size_t t = n; t < row.size(); ++t) row[t] = -INFINITY;  // embedding rows past the vocabulary
  if (!any) return make_error(ErrorKind::invalid_request, "the grammar allows no token of this model's vocabulary here");

  // A token that does not fit the budget: only the tokens that keep the output finishable are
  // left in, and the draw is made again.
  if (unfit < 0) {
    const token_id tok = s.sampler.sample(row, s.tokens);
    if (fits_budget(s, tok)) return tok;
  }
  const int64_t budget = token_budget(s);
  // Two passes over the state's distance table (cached per state: near the end of the budget the
  // same in-string state comes back step after step). The end-of-generation tokens (distance 0,
  // allowed only where the grammar accepts) have no bytes, so no entry: they are kept aside.
  const auto after = m.grammar().distances_after(m.state(), mask_words.data());
  std::vector<std::pair<token_id, float>> eog;
  for (token_id t : v.eog)
    if (static_cast<size_t>(t) < n && row[t] != -INFINITY) eog.emplace_back(t, row[t]);
  uint32_t best = eog.empty() ? UINT32_MAX : 0;
  for (size_t t = 0; t < n; ++t)
    if (row[t] != -INFINITY) best = std::min(best, (*after)[t]);
  // Nothing fits: the ones that come closest to the end.
  const int64_t limit = std::max<int64_t>(budget, best);
  for (size_t t = 0; t < n; ++t)
    if (row[t] != -INFINITY && static_cast<int64_t>((*after)[t]) > limit) row[t] = -INFINITY;
  for (auto [t, logit] : eog) row[t] = logit;
  return s.sampler.sample(row, s.tokens);
}

void InferenceBackend::Impl::mask_bad_triggers(Sequence& s, std::span<float> row) {
  grammar::TokenGrammar& tg = s.matcher->grammar();
  const auto& triggers = s.options.grammar_triggers;
  const grammar::TokenVocab& v = tg.vocab();
  for (token_id t : tg.tokens_containing(triggers)) {
    if (static_cast<size_t>(t) >= row.size() || row[t] == -INFINITY) continue;
    const std::string text = s.trigger_tail + v.bytes[t];
    size_t at = std::string::npos;
    for (const std::string& trig : triggers) at = std::min(at, text.find(trig));
    if (at == std::string::npos) continue;
    if (tg.advance_bytes(tg.initial(), std::string_view(text).substr(at)) == grammar::kDead) row[t] = -INFINITY;
  }
}

bool InferenceBackend::Impl::advance_grammar(Sequence& s, token_id tok) {
  grammar::Matcher& m = *s.matcher;
  const auto& triggers = s.options.grammar_triggers;
  if (s.grammar_active) {
    if (!m.accept(tok)) {  // cannot happen with the mask applied; stay safe regardless
      s.grammar_active = false;
      return triggers.empty();
    }
    if (!m.complete()) return false;
    if (triggers.empty()) return true;
    s.grammar_active = false;  // lazy: free again until the next trigger
    s.trigger_tail.clear();
    return false;
  }
  if (triggers.empty()) return false;
  s.trigger_tail += m.grammar().vocab().bytes[tok];
  size_t at = std::string::npos, longest = 0;
  for (const std::string& t : triggers) {
    longest = std::max(longest, t.size());
    at = std::min(at, s.trigger_tail.find(t));
  }
  if (at == std::string::npos) {
    if (s.trigger_tail.size() > longest) s.trigger_tail.erase(0, s.trigger_tail.size() - longest);
    return false;
  }
  m.reset();
  s.grammar_active = m.accept_bytes(std::string_view(s.trigger_tail).substr(at));
  s.trigger_tail.clear();
  if (s.grammar_active && m.complete()) s.grammar_active = false;
  return false;
}

}  // namespace pensieve::engine
