// JSON Schema -> GBNF (then grammar.h): the JSON texts a schema allows, written compactly (no
// whitespace between tokens). The keywords and how each is enforced are listed in the README
// ("Structured output"). Annotations and keywords outside the JSON Schema vocabulary are ignored
// (validators ignore them too); a vocabulary keyword that cannot be enforced is an error naming
// it and where it is: a schema is never loosened silently.
//
// The grammar allows a subset of what the schema allows where the full set is not a context-
// free language or not worth it (declared properties only, in declared order; multipleOf as a
// list of multiples; uniqueItems as an ordered subset of an enum...): every output validates,
// not every valid document can be produced.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "grammar/grammar.h"

namespace pensieve::grammar {

// Collects GBNF rules; identical bodies share one rule (so identical sub-schemas share
// automaton positions and token tables).
class GbnfBuilder {
 public:
  std::string add(const std::string& hint, const std::string& body);
  std::string reserve(const std::string& hint);  // a name whose body comes later (recursion)
  void define(const std::string& name, const std::string& body);
  std::string primitive(const std::string& which);  // "string", "number", "integer", "value", ...
  std::string text() const;

 private:
  std::string fresh(const std::string& hint);
  std::vector<std::pair<std::string, std::string>> rules_;  // in definition order
  std::map<std::string, std::string> by_body_;
  std::map<std::string, int> used_;
};

// A GBNF string literal matching exactly these bytes.
std::string gbnf_literal(std::string_view bytes);

class SchemaConverter {
 public:
  // `doc`: the document $refs resolve against (usually the schema itself).
  SchemaConverter(GbnfBuilder& b, const nlohmann::json& doc, std::string prefix);
  // The name of a rule matching the JSON texts `schema` allows.
  Result<std::string> convert(const nlohmann::json& schema, const std::string& where);

 private:
  Result<std::string> convert_inner(const nlohmann::json& schema, const std::string& where, int depth);
  Result<std::string> object_rule(const nlohmann::json& s, const std::string& where, int depth);
  Result<std::string> array_rule(const nlohmann::json& s, const std::string& where, int depth);
  Result<std::string> string_rule(const nlohmann::json& s, const std::string& where);
  Result<std::string> number_rule(const nlohmann::json& s, const std::string& where, bool integer);
  Result<std::string> ref_rule(const std::string& ref, const std::string& where, int depth);
  nlohmann::json resolve(const nlohmann::json& s) const;  // one $ref level, for oneOf's checks

  GbnfBuilder& b_;
  const nlohmann::json& doc_;
  std::string prefix_;
  std::map<std::string, std::string> refs_;  // $ref -> rule name
};

// A regex (the ECMA-262 subset JSON Schema patterns use: literals, escapes, . [classes] \d \w \s,
// groups, |, * + ? {m,n}, ^ $) as a GBNF expression over JSON string *content* (characters that
// JSON must escape come out escaped). Unanchored ends allow any characters there. With length
// limits (max_len < 0: none), matches are narrowed to fit them: top-level quantifiers repeat
// more for min_len, unbounded ones are capped for max_len; an error when that cannot work.
Result<std::string> regex_to_gbnf(std::string_view pattern, GbnfBuilder& b, int64_t min_len = 0, int64_t max_len = -1);

// `false`, or a schema with `not: {}` / `not: true`: no document validates.
bool allows_nothing(const nlohmann::json& s);

// A whole schema as GBNF with `root`.
Result<std::string> json_schema_to_gbnf(const nlohmann::json& schema);
Result<std::shared_ptr<const Grammar>> compile_json_schema(const nlohmann::json& schema);

// GBNF of an integer in [lo, hi] (decimal, no leading zeros; |values| < 10^18).
std::string integer_range_gbnf(int64_t lo, int64_t hi);

}  // namespace pensieve::grammar
