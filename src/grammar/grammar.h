// A context-free grammar compiled for byte-level matching (constrained decoding; README "Structured output").
//
// GBNF text (llama.cpp's grammar syntax) is parsed into rules whose alternatives are flat
// sequences of elements: a set of bytes, a reference to another rule, and an end marker after
// each alternative. Unicode character classes become small rules over UTF-8 byte sequences and
// repetitions become helper rules, so a matcher (matcher.h) only ever compares single bytes.
// A Grammar is immutable once built and may be shared between threads and requests.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace pensieve::grammar {

// 256 bits: which bytes an element accepts.
struct ByteSet {
  uint64_t w[4] = {0, 0, 0, 0};
  bool has(uint8_t b) const { return (w[b >> 6] >> (b & 63)) & 1; }
  void add(uint8_t b) { w[b >> 6] |= uint64_t(1) << (b & 63); }
  void add_range(uint8_t lo, uint8_t hi) {
    for (int b = lo; b <= hi; ++b) add(static_cast<uint8_t>(b));
  }
  bool operator==(const ByteSet&) const = default;
};

enum class ElemKind : uint8_t { bytes, rule_ref, end };

struct Element {
  ElemKind kind = ElemKind::end;
  uint32_t value = 0;  // bytes: index into Grammar::sets; rule_ref: the rule
};

struct Grammar {
  std::vector<Element> elems;                   // every alternative, each followed by an `end`
  std::vector<ByteSet> sets;
  std::vector<std::vector<uint32_t>> rule_alts;  // rule -> start position of each alternative
  std::vector<std::string> rule_names;          // helper rules get generated names
  uint32_t root = 0;
  // Per position: the fewest bytes that finish the alternative from there (the element at the
  // position included). For budgeting: how far a matcher state is from an accepted string.
  std::vector<uint32_t> min_len_from;
};

// Parses GBNF: `name ::= alternatives` rules; "literals" and [classes] (ranges, ^negation) with
// \n \r \t \\ \" \[ \] \xHH \uHHHH \UHHHHHHHH escapes; `.` (any character); ( groups ); the
// postfixes * + ? {m} {m,} {m,n} {,n}; # comments. A rule ends where the next `name ::=` starts.
// Errors (undefined rules, left recursion, rules that can never finish, syntax) name the place.
Result<std::shared_ptr<const Grammar>> parse_gbnf(std::string_view text, std::string_view root = "root");

// Appends the UTF-8 byte-range sequences that together match exactly the code points lo..hi
// (surrogates excluded): each inner vector is one sequence of [lo, hi] byte ranges.
void utf8_sequences(uint32_t lo, uint32_t hi, std::vector<std::vector<std::pair<uint8_t, uint8_t>>>& out);

}  // namespace pensieve::grammar
