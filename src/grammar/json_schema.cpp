#include "grammar/json_schema_internal.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <set>

namespace pensieve::grammar {

using nlohmann::json;
using namespace schema_detail;

namespace {

constexpr int kMaxDepth = 64;

// Keywords that never change which documents are valid.
const std::set<std::string>& annotations() {
  static const std::set<std::string> k = {"description", "title", "default", "examples", "example", "$schema", "$id",
                                          "$comment", "deprecated", "readOnly", "writeOnly", "contentEncoding",
                                          "contentMediaType", "$defs", "definitions", "strict", "markdownDescription",
                                          "$anchor", "$vocabulary", "discriminator", "xml", "externalDocs"};
  return k;
}

// Validation keywords of JSON Schema (2020-12 and earlier drafts) that are not enforced here.
// Validators ignore keywords outside the vocabulary, so those are ignored here too; these
// would be enforced by a validator, so a schema using them is an error rather than loosened.
const std::set<std::string>& unenforced() {
  static const std::set<std::string> k = {"if", "then", "else", "contains", "minContains", "maxContains",
                                          "patternProperties", "dependentSchemas", "unevaluatedProperties",
                                          "unevaluatedItems", "$dynamicRef", "$recursiveRef", "contentSchema"};
  return k;
}

std::string digits_class(char lo, char hi) { return lo == hi ? std::string("\"") + lo + "\"" : std::string("[") + lo + "-" + hi + "]"; }

// Same-length digit strings lo..hi (leading zeros allowed: these are tails).
std::string same_len(const std::string& lo, const std::string& hi) {
  const size_t n = lo.size();
  if (n == 0) return "\"\"";
  if (lo == hi) return "\"" + lo + "\"";
  const std::string rest = n > 1 ? " [0-9]{" + std::to_string(n - 1) + "}" : "";
  if (lo.find_first_not_of('0', 1) == std::string::npos && hi.find_first_not_of('9', 1) == std::string::npos)
    return digits_class(lo[0], hi[0]) + rest;
  if (lo[0] == hi[0]) return std::string("\"") + lo[0] + "\" " + same_len(lo.substr(1), hi.substr(1));
  std::vector<std::string> alts;
  alts.push_back(std::string("\"") + lo[0] + "\" " + same_len(lo.substr(1), std::string(n - 1, '9')));
  if (lo[0] + 1 <= hi[0] - 1) alts.push_back(digits_class(char(lo[0] + 1), char(hi[0] - 1)) + rest);
  alts.push_back(std::string("\"") + hi[0] + "\" " + same_len(std::string(n - 1, '0'), hi.substr(1)));
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

std::string uint_range(uint64_t a, uint64_t b) {
  std::vector<std::string> alts;
  const std::string sa = std::to_string(a), sb = std::to_string(b);
  for (size_t len = sa.size(); len <= sb.size(); ++len) {
    std::string lo = len == sa.size() ? sa : "1" + std::string(len - 1, '0');
    std::string hi = len == sb.size() ? sb : std::string(len, '9');
    alts.push_back(same_len(lo, hi));
  }
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

std::string json_text(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

bool type_matches(const json& v, const std::string& t) {
  if (t == "string") return v.is_string();
  if (t == "integer") return v.is_number_integer() || (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
  if (t == "number") return v.is_number();
  if (t == "boolean") return v.is_boolean();
  if (t == "null") return v.is_null();
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  return false;
}

std::string type_of(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_object()) return "object";
  if (v.is_array()) return "array";
  if (v.is_string()) return "string";
  return type_matches(v, "integer") ? "integer" : "number";
}

// The JSON types a schema's documents can have; empty: could be anything.
std::set<std::string> possible_types(const json& s) {
  std::set<std::string> out;
  if (!s.is_object()) return out;
  if (s.contains("const")) return {type_of(s["const"])};
  if (s.contains("enum") && s["enum"].is_array()) {
    for (const auto& v : s["enum"]) out.insert(type_of(v));
    return out;
  }
  if (s.contains("type")) {
    if (s["type"].is_string()) out.insert(s["type"].get<std::string>());
    else if (s["type"].is_array())
      for (const auto& t : s["type"])
        if (t.is_string()) out.insert(t.get<std::string>());
    if (s.value("nullable", false)) out.insert("null");
    return out;
  }
  if (s.contains("properties") || s.contains("required") || s.contains("additionalProperties")) return {"object"};
  if (s.contains("items") || s.contains("prefixItems")) return {"array"};
  return out;
}

bool types_overlap(const std::set<std::string>& a, const std::set<std::string>& b) {
  if (a.empty() || b.empty()) return true;
  for (const auto& x : a)
    for (const auto& y : b)
      if (x == y || (x == "integer" && y == "number") || (x == "number" && y == "integer")) return true;
  return false;
}

// The values a schema allows when it lists them (const / enum); nullopt otherwise.
std::optional<std::vector<json>> listed_values(const json& s) {
  if (!s.is_object()) return std::nullopt;
  if (s.contains("const")) return std::vector<json>{s["const"]};
  if (s.contains("enum") && s["enum"].is_array()) return std::vector<json>(s["enum"].begin(), s["enum"].end());
  return std::nullopt;
}

bool disjoint_values(const json& a, const json& b) {
  auto va = listed_values(a), vb = listed_values(b);
  if (!va || !vb) return false;
  for (const auto& x : *va)
    for (const auto& y : *vb)
      if (x == y) return false;
  return true;
}

// Whether no document written for branch `i` (declared properties only) can match branch `j`.
bool excludes(const json& i, const json& j) {
  if (!i.is_object() || !j.is_object()) return false;
  if (!types_overlap(possible_types(i), possible_types(j))) return true;
  if (disjoint_values(i, j)) return true;
  const json pi = i.value("properties", json::object()), pj = j.value("properties", json::object());
  const bool i_closed_keys = pi.is_object() && !pi.empty();  // only these keys are ever written
  if (i_closed_keys && j.contains("required") && j["required"].is_array()) {
    std::set<std::string> written;
    for (const auto& [k, v] : pi.items()) written.insert(k);
    if (i.contains("required") && i["required"].is_array())
      for (const auto& r : i["required"])
        if (r.is_string()) written.insert(r.get<std::string>());
    for (const auto& r : j["required"]) {
      if (!r.is_string()) continue;
      if (!written.count(r.get<std::string>())) return true;  // j needs a key i never writes
      // Required by both, with values that cannot be equal (a discriminator).
      const bool i_requires = i.contains("required") && i["required"].is_array() &&
                              std::find(i["required"].begin(), i["required"].end(), r) != i["required"].end();
      if (i_requires && pi.contains(r.get<std::string>()) && pj.is_object() && pj.contains(r.get<std::string>()) &&
          disjoint_values(pi[r.get<std::string>()], pj[r.get<std::string>()]))
        return true;
    }
  }
  return false;
}

}  // namespace

// Alternatives of literal strings with shared prefixes merged ("ab" | "ac" -> "a" ("b" | "c")):
// a long enum then runs as one stack per step instead of one per value.
std::string schema_detail::literal_alternatives(std::vector<std::string> texts) {
  std::sort(texts.begin(), texts.end());
  texts.erase(std::unique(texts.begin(), texts.end()), texts.end());
  // texts[lo, hi) share their first `depth` bytes.
  std::function<std::string(size_t, size_t, size_t)> emit = [&](size_t lo, size_t hi, size_t depth) -> std::string {
    std::vector<std::string> alts;
    size_t i = lo;
    if (texts[i].size() == depth) {  // one of them ends here
      alts.push_back("\"\"");
      ++i;
    }
    while (i < hi) {
      size_t j = i + 1;
      while (j < hi && texts[j][depth] == texts[i][depth]) ++j;
      // The longest common prefix of texts[i, j) beyond depth.
      size_t end = depth + 1;
      while (end < texts[i].size() && std::all_of(texts.begin() + i, texts.begin() + j, [&](const std::string& t) {
               return t.size() > end && t[end] == texts[i][end];
             }))
        ++end;
      std::string lit = gbnf_literal(std::string_view(texts[i]).substr(depth, end - depth));
      alts.push_back(j - i == 1 && texts[i].size() == end ? lit : lit + " " + emit(i, j, end));
      i = j;
    }
    if (alts.size() == 1) return alts[0];
    std::string out = "(";
    for (size_t k = 0; k < alts.size(); ++k) out += (k ? " | " : "") + alts[k];
    return out + ")";
  };
  return emit(0, texts.size(), 0);
}

bool allows_nothing(const json& s) {
  if (s.is_boolean()) return !s.get<bool>();
  if (!s.is_object() || !s.contains("not")) return false;
  const json& n = s["not"];
  if (n.is_boolean()) return n.get<bool>();
  if (!n.is_object()) return false;
  return std::all_of(n.items().begin(), n.items().end(), [](const auto& kv) { return annotations().count(kv.key()) > 0; });
}

std::string integer_range_gbnf(int64_t lo, int64_t hi) {
  std::vector<std::string> alts;
  if (lo < 0) alts.push_back("\"-\" " + uint_range(static_cast<uint64_t>(std::max<int64_t>(1, -hi)), static_cast<uint64_t>(-lo)));
  if (hi >= 0) alts.push_back(uint_range(static_cast<uint64_t>(std::max<int64_t>(0, lo)), static_cast<uint64_t>(hi)));
  if (alts.size() == 1) return alts[0];
  return "(" + alts[0] + " | " + alts[1] + ")";
}

std::string gbnf_literal(std::string_view bytes) {
  static const char* hex = "0123456789ABCDEF";
  std::string out = "\"";
  for (unsigned char c : bytes) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// ---- GbnfBuilder ----

std::string GbnfBuilder::fresh(const std::string& hint) {
  std::string base;
  for (char c : hint) base += (std::isalnum(static_cast<unsigned char>(c)) || c == '-') ? c : '-';
  if (base.empty()) base = "r";
  if (base.size() > 40) base.resize(40);
  int& n = used_[base];
  return n++ == 0 ? base : base + "-" + std::to_string(n);
}

std::string GbnfBuilder::add(const std::string& hint, const std::string& body) {
  auto it = by_body_.find(body);
  if (it != by_body_.end()) return it->second;
  std::string name = fresh(hint);
  rules_.emplace_back(name, body);
  by_body_.emplace(body, name);
  return name;
}

std::string GbnfBuilder::reserve(const std::string& hint) { return fresh(hint); }

void GbnfBuilder::define(const std::string& name, const std::string& body) { rules_.emplace_back(name, body); }

std::string GbnfBuilder::primitive(const std::string& which) {
  // A string body: characters JSON need not escape, escapes (no lone surrogates: \uD800-\uDFFF
  // would not survive a strict JSON parser), then the closing quote.
  auto hex4 = [&] { return add("hex4", "[0-9a-cA-Ce-fE-F] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2}"); };
  auto esc = [&] { return add("jesc", "[\"\\\\/bfnrt] | \"u\" " + hex4()); };
  if (which == "char") return add("jchar", "[^\"\\\\\\x00-\\x1F] | \"\\\\\" " + esc());
  if (which == "string") {
    std::string body = add("jbody", "[^\"\\\\\\x00-\\x1F] jbody | \"\\\\\" " + esc() + " jbody | \"\\\"\"");
    return add("jstring", "\"\\\"\" " + body);
  }
  // At most 15 digits: a safe integer in JavaScript (and for format int64).
  if (which == "int") return add("jint", "\"0\" | [1-9] [0-9]{0,14}");
  if (which == "integer") return add("jinteger", "\"-\"? " + primitive("int"));
  if (which == "number")
    return add("jnumber", "\"-\"? " + primitive("int") + " (\".\" [0-9]{1,15})? ([eE] [-+]? [0-9]{1,2})?");
  if (which == "boolean") return add("jboolean", "\"true\" | \"false\"");
  if (which == "null") return add("jnull", "\"null\"");
  if (which == "value") {
    if (auto it = by_body_.find("@value"); it != by_body_.end()) return it->second;
    by_body_.emplace("@value", "jvalue");
    const std::string s = primitive("string");
    define("jvalue", "jobject | jarray | " + s + " | " + primitive("number") + " | \"true\" | \"false\" | \"null\"");
    define("jobject", "\"{\" ( " + s + " \":\" jvalue ( \",\" " + s + " \":\" jvalue )* )? \"}\"");
    define("jarray", "\"[\" ( jvalue ( \",\" jvalue )* )? \"]\"");
    used_["jvalue"] = used_["jobject"] = used_["jarray"] = 1;
    return "jvalue";
  }
  if (which == "object") {
    primitive("value");
    return "jobject";
  }
  PS_ASSERT(false, "unknown primitive");
  return "";
}

std::string GbnfBuilder::text() const {
  std::string out;
  for (const auto& [name, body] : rules_) out += name + " ::= " + body + "\n";
  return out;
}

// ---- SchemaConverter ----

SchemaConverter::SchemaConverter(GbnfBuilder& b, const json& doc, std::string prefix)
    : b_(b), doc_(doc), prefix_(std::move(prefix)) {}

Result<std::string> SchemaConverter::convert(const json& schema, const std::string& where) {
  return convert_inner(schema, where, 0);
}

json SchemaConverter::resolve(const json& s) const {
  if (!s.is_object() || !s.contains("$ref") || !s["$ref"].is_string()) return s;
  const std::string ref = s["$ref"];
  if (ref.empty() || ref[0] != '#') return s;
  try {
    return ref.size() > 1 ? doc_.at(json::json_pointer(ref.substr(1))) : doc_;
  } catch (const std::exception&) {
    return s;
  }
}

Result<std::string> SchemaConverter::ref_rule(const std::string& ref, const std::string& where, int depth) {
  if (auto it = refs_.find(ref); it != refs_.end()) return it->second;
  if (ref.empty() || ref[0] != '#') return bad(where, "$ref '" + ref + "': only references inside the schema (#...) are supported");
  const json* target = &doc_;
  if (ref.size() > 1) {
    try {
      target = &doc_.at(json::json_pointer(ref.substr(1)));
    } catch (const std::exception&) {
      return bad(where, "$ref '" + ref + "' does not resolve");
    }
  }
  // Named before its body is converted, so a recursive reference finds it.
  const std::string name = b_.reserve(prefix_ + "ref-" + ref.substr(ref.rfind('/') + 1));
  refs_[ref] = name;
  auto body = convert_inner(*target, where + " ($ref " + ref + ")", depth + 1);
  if (!body.ok()) return body.error();
  b_.define(name, *body);
  return name;
}

Result<std::string> SchemaConverter::convert_inner(const json& s, const std::string& where, int depth) {
  if (depth > kMaxDepth) return bad(where, "nested too deeply");
  if (s.is_boolean()) {
    if (s.get<bool>()) return b_.primitive("value");
    return bad(where, "the schema 'false' allows nothing");
  }
  if (!s.is_object()) return bad(where, "a schema must be an object or a boolean");
  std::vector<std::string> refused;
  for (const auto& [k, v] : s.items())
    if (unenforced().count(k) || (k == "not" && !allows_nothing(s)) ||
        (k == "dependencies" && v.is_object() && std::any_of(v.begin(), v.end(), [](const json& d) { return !d.is_array(); })))
      refused.push_back(k);
  if (!refused.empty()) {
    std::string list;
    for (const auto& k : refused) list += (list.empty() ? "'" : ", '") + k + "'";
    return bad(where, (refused.size() == 1 ? "the keyword " : "the keywords ") + list + (refused.size() == 1 ? " is" : " are") +
                          " not supported for constrained output");
  }
  if (allows_nothing(s)) return bad(where, "the schema allows nothing ('not' of everything)");

  const bool nullable = s.contains("nullable") && s["nullable"].is_boolean() && s["nullable"].get<bool>();
  auto with_null = [&](Result<std::string> r) -> Result<std::string> {
    if (!r.ok() || !nullable) return r;
    return b_.add(prefix_ + "nullable", *r + " | \"null\"");
  };
  if (s.contains("$ref")) {
    if (!s["$ref"].is_string()) return bad(where, "$ref must be a string");
    json rest = s;
    rest.erase("$ref");
    rest.erase("nullable");
    for (const auto& a : annotations()) rest.erase(a);
    if (rest.empty()) return with_null(ref_rule(s["$ref"].get<std::string>(), where, depth));
    // Keywords beside $ref apply too (2020-12): both, as allOf.
    json both = json{{"allOf", json::array({json{{"$ref", s["$ref"]}}, rest})}};
    if (nullable) both["nullable"] = true;
    return convert_inner(both, where, depth + 1);
  }

  if (s.contains("allOf")) {
    const json& all = s["allOf"];
    if (!all.is_array() || all.empty()) return bad(where, "allOf must be a non-empty array");
    json merged = s;
    merged.erase("allOf");
    for (size_t i = 0; i < all.size(); ++i) {
      json part = all[i];
      if (part.is_object() && part.contains("$ref") && part["$ref"].is_string()) {
        std::string ref = part["$ref"];
        if (ref.empty() || ref[0] != '#') return bad(where, "allOf: unsupported $ref");
        try {
          part = ref.size() > 1 ? doc_.at(json::json_pointer(ref.substr(1))) : doc_;
        } catch (const std::exception&) {
          return bad(where, "$ref '" + ref + "' does not resolve");
        }
      }
      if (!part.is_object()) return bad(where, "allOf entries must be schemas");
      for (const auto& [k, v] : part.items()) {
        if (annotations().count(k)) continue;
        if (k == "properties" && v.is_object()) {
          for (const auto& [pk, pv] : v.items()) {
            if (merged["properties"].contains(pk) && merged["properties"][pk] != pv)
              return bad(where, "allOf: property '" + pk + "' is declared differently in two branches");
            merged["properties"][pk] = pv;
          }
        } else if (k == "required" && v.is_array()) {
          for (const auto& r : v) merged["required"].push_back(r);
        } else if (!merged.contains(k) || merged[k] == v) {
          merged[k] = v;
        } else {
          return bad(where, "allOf: '" + k + "' in more than one branch is not supported");
        }
      }
    }
    return convert_inner(merged, where, depth + 1);
  }

  for (const char* key : {"anyOf", "oneOf"}) {
    if (!s.contains(key)) continue;
    const json& alts = s[key];
    if (!alts.is_array() || alts.empty()) return bad(where, std::string(key) + " must be a non-empty array");
    json siblings = s;
    siblings.erase(key);
    for (const auto& a : annotations()) siblings.erase(a);
    siblings.erase("nullable");
    std::vector<json> branches;
    for (size_t i = 0; i < alts.size(); ++i) {
      json branch = alts[i];
      if (!siblings.empty()) {  // the branch must satisfy its siblings too: merge them in
        if (!branch.is_object()) return bad(where, std::string(key) + " entries must be schemas");
        json m = siblings;
        for (const auto& [k, v] : branch.items()) {
          if (k == "required" && v.is_array() && m.contains("required")) {
            for (const auto& r : v) m["required"].push_back(r);
          } else if (k == "properties" && v.is_object() && m.contains("properties")) {
            for (const auto& [pk, pv] : v.items()) m["properties"][pk] = pv;
          } else if (!m.contains(k) || m[k] == v) {
            m[k] = v;
          } else {
            return bad(where, std::string(key) + ": '" + k + "' both beside and inside a branch is not supported");
          }
        }
        branch = std::move(m);
      }
      branches.push_back(std::move(branch));
    }
    // Branches that allow nothing (zod writes `{"not": {}}` for undefined) are left out.
    std::vector<size_t> live;
    for (size_t i = 0; i < branches.size(); ++i)
      if (!allows_nothing(resolve(branches[i]))) live.push_back(i);
    // oneOf: a document must match exactly one branch. Only the branches whose output provably
    // fails every other branch are written; none provably does: an error, as the grammar could
    // write a document that matches two.
    const bool one = std::string(key) == "oneOf";
    std::vector<size_t> keep;
    for (size_t i : live) {
      bool exclusive = true;
      for (size_t j : live)
        if (one && exclusive && i != j) exclusive = excludes(resolve(branches[i]), resolve(branches[j]));
      if (exclusive) keep.push_back(i);
    }
    if (keep.empty())
      return bad(where, live.empty() ? std::string(key) + ": no branch allows anything"
                                     : "oneOf: no branch can be shown to exclude the others (a document could match two)");
    // A branch that cannot be converted is left out when another can: the output still matches
    // one of the branches (for oneOf, the kept ones exclude all others).
    std::string body;
    std::optional<Error> first_error;
    for (size_t i : keep) {
      auto r = convert_inner(branches[i], where + "." + key + "[" + std::to_string(i) + "]", depth + 1);
      if (!r.ok()) {
        if (!first_error) first_error = r.error();
        continue;
      }
      body += (body.empty() ? "" : " | ") + *r;
    }
    if (body.empty()) return *first_error;
    return with_null(b_.add(prefix_ + key, body));
  }

  // Which types: the declared ones (or every type the keywords imply).
  std::vector<std::string> types;
  if (s.contains("type")) {
    const json& t = s["type"];
    if (t.is_string()) types.push_back(t);
    else if (t.is_array())
      for (const auto& x : t) {
        if (!x.is_string()) return bad(where, "type must be a string or an array of strings");
        types.push_back(x);
      }
    else return bad(where, "type must be a string or an array of strings");
    for (const auto& t2 : types)
      if (t2 != "string" && t2 != "number" && t2 != "integer" && t2 != "boolean" && t2 != "null" && t2 != "object" && t2 != "array")
        return bad(where, "unknown type '" + t2 + "'");
  }
  if (nullable && !types.empty()) types.push_back("null");

  if (s.contains("const") || s.contains("enum")) {
    std::vector<json> values;
    if (s.contains("const")) values.push_back(s["const"]);
    if (s.contains("enum")) {
      if (!s["enum"].is_array() || s["enum"].empty()) return bad(where, "enum must be a non-empty array");
      for (const auto& v : s["enum"])
        if (!s.contains("const") || v == s["const"]) values.push_back(v);
      if (s.contains("const")) values.erase(values.begin());
    }
    std::vector<std::string> texts;
    for (const auto& v : values) {
      bool ok = types.empty() || std::any_of(types.begin(), types.end(), [&](const std::string& t) { return type_matches(v, t); });
      if (v.is_string() && ok) {  // string constraints still apply to a listed string
        const size_t n = v.get<std::string>().size();
        if (s.contains("maxLength") && s["maxLength"].is_number() && n > s["maxLength"].get<double>()) ok = false;
      }
      if (ok) texts.push_back(json_text(v));
    }
    if (texts.empty()) return bad(where, "no value of enum/const fits the schema's other keywords");
    const std::string body = literal_alternatives(texts);
    return with_null(b_.add(prefix_ + "enum", body));
  }

  if (types.empty()) {  // no type: what the keywords imply, else any value
    if (s.contains("properties") || s.contains("required") || s.contains("additionalProperties")) types = {"object"};
    else if (s.contains("items") || s.contains("prefixItems") || s.contains("minItems") || s.contains("maxItems")) types = {"array"};
    else if (s.contains("pattern") || s.contains("format") || s.contains("minLength") || s.contains("maxLength")) types = {"string"};
    else if (s.contains("minimum") || s.contains("maximum") || s.contains("exclusiveMinimum") || s.contains("exclusiveMaximum")) types = {"number"};
    else return with_null(b_.primitive("value"));
    if (nullable) types.push_back("null");
  }
  std::string body;
  std::set<std::string> done;
  for (const auto& t : types) {
    if (!done.insert(t).second) continue;
    Result<std::string> r = std::string();
    if (t == "object") r = object_rule(s, where, depth);
    else if (t == "array") r = array_rule(s, where, depth);
    else if (t == "string") r = string_rule(s, where);
    else if (t == "integer") r = number_rule(s, where, true);
    else if (t == "number") r = number_rule(s, where, false);
    else if (t == "boolean") r = b_.primitive("boolean");
    else r = b_.primitive("null");
    if (!r.ok()) return r.error();
    body += (body.empty() ? "" : " | ") + *r;
  }
  return types.size() == 1 ? body : b_.add(prefix_ + "types", body);
}

}  // namespace pensieve::grammar
