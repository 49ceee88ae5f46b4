// A real tokenizer's vocabulary as grammar::TokenVocab, the way the engine builds it
// (engine_grammar.cpp): each token's output bytes; control and end-of-generation tokens have
// none, and the EOG tokens are listed.
#pragma once

#include <memory>
#include <string>

#include "gguf/gguf.h"
#include "grammar/token_masks.h"
#include "text/tokenizer.h"

namespace pensieve::testing {

inline std::shared_ptr<const grammar::TokenVocab> load_token_vocab(const std::string& gguf_path) {
  auto f = GgufFile::open(gguf_path);
  if (!f.ok()) return nullptr;
  auto t = text::Tokenizer::from_gguf(**f);
  if (!t.ok()) return nullptr;
  const text::Tokenizer& tok = **t;
  std::vector<std::string> bytes(static_cast<size_t>(tok.n_vocab()));
  for (text::token_id i = 0; i < tok.n_vocab(); ++i)
    if (!tok.is_control(i) && !tok.is_eog(i)) bytes[i] = tok.token_to_piece(i, false);
  return std::make_shared<grammar::TokenVocab>(std::move(bytes), tok.eog_tokens());
}

}  // namespace pensieve::testing
