// Helpers shared by the JSON Schema converter's files (json_schema*.cpp); not an interface.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "grammar/json_schema.h"

namespace pensieve::grammar::schema_detail {

constexpr int64_t kMaxLength = 10000;  // minLength / maxLength / minItems / maxItems beyond this: an error

inline Error bad(const std::string& where, const std::string& msg) {
  return make_error(ErrorKind::invalid_request, (where.empty() ? std::string("schema") : where) + ": " + msg);
}

// A non-negative integer keyword (minItems, maxLength, ...), `dflt` when absent.
inline Result<int64_t> count_of(const nlohmann::json& s, const char* key, const std::string& where, int64_t dflt) {
  if (!s.contains(key)) return dflt;
  const nlohmann::json& v = s[key];
  if (!v.is_number() || v.get<double>() < 0 || std::floor(v.get<double>()) != v.get<double>())
    return bad(where, std::string(key) + " must be a non-negative integer");
  if (v.get<double>() > kMaxLength) return bad(where, std::string(key) + " above " + std::to_string(kMaxLength) + " is not supported");
  return static_cast<int64_t>(v.get<double>());
}

// `x{min,max}` with max < 0 for unbounded.
inline std::string repeat(const std::string& x, int64_t min, int64_t max) {
  if (max < 0) return min == 0 ? x + "*" : min == 1 ? x + "+" : x + "{" + std::to_string(min) + ",}";
  if (min == max) return min == 0 ? "\"\"" : min == 1 ? x : x + "{" + std::to_string(min) + "}";
  return x + "{" + std::to_string(min) + "," + std::to_string(max) + "}";
}

// Alternatives as one GBNF group.
inline std::string alternatives(const std::vector<std::string>& alts) {
  if (alts.size() == 1) return alts[0];
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

// Alternatives of literal strings (GBNF), shared prefixes merged ("ab" | "ac" -> "a" ("b" | "c")):
// a long enum then runs as one stack per step instead of one per value.
std::string literal_alternatives(std::vector<std::string> texts);

}  // namespace pensieve::grammar::schema_detail
