// Unicode helpers the tokenizers need: UTF-8 decoding that tolerates invalid input, general
// categories for all of Unicode, simple lower-casing, accent stripping (NFD base), and the GPT-2
// byte <-> printable code point mapping used by byte-level BPE vocabularies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pensieve::text::unicode {

inline constexpr uint32_t kReplacementChar = 0xFFFD;

// Length of the UTF-8 sequence a lead byte announces, the way llama.cpp splits text into symbols:
// ASCII and stray continuation bytes count 1, 0xC0-0xDF 2, 0xE0-0xEF 3, 0xF0-0xFF 4.
inline size_t utf8_len_from_lead(uint8_t byte) {
  static constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[byte >> 4];
}

// Decodes one code point at text[pos]. Returns its byte length (>= 1) and sets `cpt`. An invalid,
// overlong, surrogate or truncated sequence consumes one byte and decodes to U+FFFD, with
// `valid` set to false.
size_t decode_utf8(std::string_view text, size_t pos, uint32_t& cpt, bool& valid);

// How many bytes at the end of `text` are the start of a valid but still incomplete sequence
// (0 when text ends on a complete character or on bytes that can never become valid).
size_t incomplete_utf8_tail(std::string_view text);

// Appends the UTF-8 encoding of `cpt` (code points above U+10FFFF become U+FFFD).
void append_utf8(std::string& out, uint32_t cpt);
std::string to_utf8(uint32_t cpt);

// Replaces every invalid byte sequence with U+FFFD (one per maximal invalid subpart).
std::string sanitize_utf8(std::string_view text);

// General category index (unicode_data::Category); Cn (0) for unassigned code points.
uint8_t category(uint32_t cpt);
const char* category_name(uint32_t cpt);

bool is_letter(uint32_t cpt);       // L*
bool is_number(uint32_t cpt);       // N*
bool is_punctuation(uint32_t cpt);  // P*
bool is_symbol(uint32_t cpt);       // S*
bool is_mark(uint32_t cpt);         // M*
bool is_control(uint32_t cpt);      // Cc, Cf (what BERT's cleaner drops besides whitespace)
bool is_whitespace(uint32_t cpt);   // the Unicode White_Space property

uint32_t to_lower(uint32_t cpt);
// First code point of the canonical decomposition ("é" -> "e"); cpt itself when there is none.
uint32_t nfd_base(uint32_t cpt);

// GPT-2 byte-level mapping: every byte maps to a printable code point (' ' -> U+0120 'Ġ').
uint32_t byte_to_cpt(uint8_t byte);
// Inverse of byte_to_cpt; returns -1 for code points outside the mapping.
int cpt_to_byte(uint32_t cpt);
// UTF-8 of byte_to_cpt(byte), precomputed (1 or 2 bytes).
std::string_view byte_to_utf8(uint8_t byte);

}  // namespace pensieve::text::unicode
