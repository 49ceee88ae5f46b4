// Pre-tokenizers for byte-level BPE: the text is cut into pieces by a sequence of regexes (the
// Hugging Face `Split(..., behavior=Isolated)` pre-tokenizers that tokenizer.ggml.pre names), and
// BPE merges never cross a piece boundary.
//
// Each regex is applied to every piece the previous one produced; the matches and the text
// between matches both become pieces, so the pieces always tile the input. The regexes use
// Unicode properties (\p{L}, \p{N}, \p{P}, \s) and are run by PCRE2 in UTF + UCP mode (JIT
// compiled); invalid UTF-8 never matches and ends up in pieces of its own.
//
// A PreTokenizer is immutable after create(): split() is const and thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace pensieve::text {

struct TextSpan {
  size_t offset = 0;
  size_t length = 0;
};

class PreTokenizer {
 public:
  // `name` is a tokenizer.ggml.pre value ("" means llama.cpp's "default"). Unknown names fail
  // with invalid_request naming the value.
  static Result<std::unique_ptr<PreTokenizer>> create(std::string_view name);
  // Every name create() accepts.
  static std::vector<std::string_view> known_names();

  ~PreTokenizer();
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;

  // Appends the pieces of `text` to `out` (in order, covering all of text, none empty).
  void split(std::string_view text, std::vector<TextSpan>& out) const;
  std::vector<std::string> split(std::string_view text) const;  // convenience for tests/tools

  const std::string& name() const { return name_; }

 private:
  PreTokenizer() = default;
  struct Regex;
  std::string name_;
  std::vector<std::unique_ptr<Regex>> regexes_;
};

}  // namespace pensieve::text
