// The per-type parts of the schema conversion: objects, arrays, strings (formats, patterns,
// lengths) and numbers (ranges).
#include <cmath>
#include <map>

#include "grammar/json_schema.h"

namespace pensieve::grammar {

using nlohmann::json;

namespace {

constexpr int64_t kMaxAbs = 999999999999999;  // 15 digits: safe integers in JavaScript
constexpr int64_t kMaxLength = 10000;  // minLength / maxLength / minItems / maxItems beyond this: an error

Error bad(const std::string& where, const std::string& msg) {
  return make_error(ErrorKind::invalid_request, (where.empty() ? std::string("schema") : where) + ": " + msg);
}

Result<int64_t> count_of(const json& s, const char* key, const std::string& where, int64_t dflt) {
  if (!s.contains(key)) return dflt;
  const json& v = s[key];
  if (!v.is_number() || v.get<double>() < 0 || std::floor(v.get<double>()) != v.get<double>())
    return bad(where, std::string(key) + " must be a non-negative integer");
  if (v.get<double>() > kMaxLength) return bad(where, std::string(key) + " above " + std::to_string(kMaxLength) + " is not supported");
  return static_cast<int64_t>(v.get<double>());
}

// `x{min,max}` with max < 0 for unbounded.
std::string repeat(const std::string& x, int64_t min, int64_t max) {
  if (max < 0) return min == 0 ? x + "*" : min == 1 ? x + "+" : x + "{" + std::to_string(min) + ",}";
  if (min == max) return min == 0 ? "\"\"" : min == 1 ? x : x + "{" + std::to_string(min) + "}";
  return x + "{" + std::to_string(min) + "," + std::to_string(max) + "}";
}

}  // namespace

Result<std::string> SchemaConverter::object_rule(const json& s, const std::string& where, int depth) {
  const json props = s.contains("properties") ? s["properties"] : json::object();
  if (!props.is_object()) return bad(where, "properties must be an object");
  std::vector<std::string> required;
  if (s.contains("required")) {
    if (!s["required"].is_array()) return bad(where, "required must be an array of names");
    for (const auto& r : s["required"]) {
      if (!r.is_string()) return bad(where, "required must be an array of names");
      if (std::find(required.begin(), required.end(), r.get<std::string>()) == required.end()) required.push_back(r);
    }
  }
  const json extra = s.contains("additionalProperties") ? s["additionalProperties"] : json(true);
  if (!extra.is_boolean() && !extra.is_object()) return bad(where, "additionalProperties must be a boolean or a schema");

  // minProperties / maxProperties only where they already hold: at most the declared ones are
  // written, at least the required ones.
  auto min_props = count_of(s, "minProperties", where, 0);
  if (!min_props.ok()) return min_props.error();
  auto max_props = count_of(s, "maxProperties", where, -1);
  if (!max_props.ok()) return max_props.error();

  // Declared properties in order, then required ones that are not declared (any value).
  std::vector<std::pair<std::string, json>> list;
  for (const auto& [k, v] : props.items()) list.emplace_back(k, v);
  for (const auto& r : required)
    if (!props.contains(r)) {
      if (extra.is_boolean() && !extra.get<bool>()) return bad(where, "'" + r + "' is required but additionalProperties is false");
      list.emplace_back(r, extra.is_object() ? extra : json(true));
    }

  const bool is_map = list.empty() && !(extra.is_boolean() && !extra.get<bool>());
  if (*min_props > static_cast<int64_t>(required.size()) || (*max_props >= 0 && (is_map || *max_props < static_cast<int64_t>(list.size()))))
    return bad(where, "minProperties / maxProperties beyond the required / declared properties are not supported for constrained output");

  if (list.empty()) {
    if (extra.is_boolean() && !extra.get<bool>()) return b_.add(prefix_ + "empty-object", "\"{}\"");
    if ((extra.is_boolean() || extra.empty()) && !s.contains("propertyNames")) return b_.primitive("object");
    // A map: any keys, values of one schema (a repeated key is fine: both values validate).
    auto value = convert_inner(extra.is_boolean() ? json::object() : extra, where + ".additionalProperties", depth + 1);
    if (!value.ok()) return value.error();
    // Keys: any string, or the strings propertyNames allows.
    std::string key = b_.primitive("string");
    if (s.contains("propertyNames")) {
      json names = s["propertyNames"];
      if (names.is_object()) names["type"] = "string";
      auto k = convert_inner(names, where + ".propertyNames", depth + 1);
      if (!k.ok()) return k.error();
      key = *k;
    }
    const std::string kv = b_.add(prefix_ + "kv", key + " \":\" " + *value);
    return b_.add(prefix_ + "map", "\"{\" ( " + kv + " ( \",\" " + kv + " )* )? \"}\"");
  }

  // after[i] (a property already written) and first[i] (none yet) for the properties i...
  const size_t n = list.size();
  std::vector<std::string> kvs(n);
  std::vector<bool> req(n);
  for (size_t i = 0; i < n; ++i) {
    auto value = convert_inner(list[i].second, where + ".properties." + list[i].first, depth + 1);
    if (!value.ok()) return value.error();
    const std::string key = json(list[i].first).dump(-1, ' ', false, json::error_handler_t::replace) + ":";
    kvs[i] = gbnf_literal(key) + " " + *value;
    req[i] = std::find(required.begin(), required.end(), list[i].first) != required.end();
  }
  std::string after_next = "\"\"", first_next = "\"\"";  // for i = n
  for (size_t i = n; i-- > 0;) {
    std::string after, first;
    if (req[i]) {
      after = "\",\" " + kvs[i] + " " + after_next;
      first = kvs[i] + " " + after_next;
    } else {
      after = "\",\" " + kvs[i] + " " + after_next + " | " + after_next;
      first = kvs[i] + " " + after_next + " | " + first_next;
    }
    after_next = b_.add(prefix_ + "obj-after", after);
    first_next = b_.add(prefix_ + "obj-first", first);
  }
  return b_.add(prefix_ + "object", "\"{\" " + first_next + " \"}\"");
}

Result<std::string> SchemaConverter::array_rule(const json& s, const std::string& where, int depth) {
  auto min = count_of(s, "minItems", where, 0);
  if (!min.ok()) return min.error();
  auto max = count_of(s, "maxItems", where, -1);
  if (!max.ok()) return max.error();
  // uniqueItems: false constrains nothing, and neither does true with at most one item.
  if (s.contains("uniqueItems") && !(s["uniqueItems"].is_boolean() && (!s["uniqueItems"].get<bool>() || (*max >= 0 && *max <= 1))))
    return bad(where, "the keyword 'uniqueItems' is not supported for constrained output (only false, or with maxItems <= 1)");
  if (*max >= 0 && *max < *min) return bad(where, "maxItems is below minItems");
  // Tuples: prefixItems (2020-12) or items as an array (draft 7); then items / additionalItems.
  std::vector<json> prefix;
  json rest = json(true);
  if (s.contains("prefixItems")) {
    if (!s["prefixItems"].is_array()) return bad(where, "prefixItems must be an array");
    for (const auto& x : s["prefixItems"]) prefix.push_back(x);
    if (s.contains("items")) rest = s["items"];
  } else if (s.contains("items") && s["items"].is_array()) {
    for (const auto& x : s["items"]) prefix.push_back(x);
  } else if (s.contains("items")) {
    rest = s["items"];
  }
  std::vector<std::string> prefix_rules;
  for (size_t i = 0; i < prefix.size(); ++i) {
    auto r = convert_inner(prefix[i], where + ".prefixItems[" + std::to_string(i) + "]", depth + 1);
    if (!r.ok()) return r.error();
    prefix_rules.push_back(*r);
  }
  const bool rest_allowed = !(rest.is_boolean() && !rest.get<bool>());
  std::string item;
  if (rest_allowed) {
    auto r = convert_inner(rest, where + ".items", depth + 1);
    if (!r.ok()) return r.error();
    item = *r;
  }
  if (prefix.empty()) {
    if (*max == 0) return b_.add(prefix_ + "empty-array", "\"[]\"");
    const std::string more = repeat("( \",\" " + item + " )", std::max<int64_t>(0, *min - 1), *max < 0 ? -1 : *max - 1);
    std::string body = item + " " + more;
    if (*min == 0) body = "( " + body + " )?";
    return b_.add(prefix_ + "array", "\"[\" " + body + " \"]\"");
  }
  // Tuple: the first k prefix items (k >= min), then more items when allowed.
  const int64_t np = static_cast<int64_t>(prefix.size());
  const int64_t cap = *max < 0 ? INT64_MAX : *max;
  std::string tail = "\"\"";  // what may follow all prefix items
  if (rest_allowed && cap > np) {
    const int64_t extra_min = std::max<int64_t>(0, *min - np);
    tail = repeat("( \",\" " + item + " )", extra_min, *max < 0 ? -1 : cap - np);
  } else if (*min > np) {
    return bad(where, "minItems is more than the tuple allows");
  }
  // chain[k]: items k.. of the prefix, each optional once at least min are written.
  std::string next = tail;
  for (int64_t k = std::min(np, cap); k-- > 0;) {
    std::string body = (k == 0 ? "" : "\",\" ") + prefix_rules[k] + " " + next;
    if (k + 1 > *min) body = "( " + body + " )?";
    if (k >= cap) body = "\"\"";
    next = b_.add(prefix_ + "tuple", body);
  }
  return b_.add(prefix_ + "array", "\"[\" " + next + " \"]\"");
}

Result<std::string> SchemaConverter::string_rule(const json& s, const std::string& where) {
  const bool has_len = s.contains("minLength") || s.contains("maxLength");
  if (s.contains("format")) {
    if (!s["format"].is_string()) return bad(where, "format must be a string");
    const std::string f = s["format"];
    if (s.contains("pattern")) return bad(where, "format together with pattern is not supported");
    if (has_len) {
      // Formats whose strings have bounded lengths may carry length limits that they meet anyway.
      static const std::map<std::string, std::pair<int64_t, int64_t>> kLengths = {
          {"date", {10, 10}}, {"time", {9, 21}}, {"iso-time", {9, 21}}, {"date-time", {20, 32}},
          {"iso-date-time", {20, 32}}, {"uuid", {36, 36}}, {"ipv4", {7, 15}}, {"ipv6", {15, 39}},
          {"duration", {3, 6}}, {"hostname", {1, 51}}};
      auto min = count_of(s, "minLength", where, 0);
      if (!min.ok()) return min.error();
      auto max = count_of(s, "maxLength", where, -1);
      if (!max.ok()) return max.error();
      auto it = kLengths.find(f);
      if (it == kLengths.end() || *min > it->second.first || (*max >= 0 && *max < it->second.second))
        return bad(where, "format '" + f + "' together with minLength/maxLength it does not always meet is not supported");
    }
    const std::string d2 = "[0-9]{2}";
    // Days that exist in every year: 29 and 30 except in February, 31 in the long months.
    const std::string date = "[0-9]{4} \"-\" ( \"02-\" ( \"0\" [1-9] | \"1\" [0-9] | \"2\" [0-8] ) | ( \"0\" [13-9] | \"1\" [0-2] ) \"-\" ( \"0\" [1-9] | [12] [0-9] | \"30\" ) | ( \"0\" [13578] | \"1\" [02] ) \"-31\" )";
    const std::string time = "( [01] [0-9] | \"2\" [0-3] ) \":\" [0-5] [0-9] \":\" [0-5] [0-9] ( \".\" [0-9]{1,6} )? ( \"Z\" | [+-] ( [01] [0-9] | \"2\" [0-3] ) \":\" [0-5] [0-9] )";
    const std::string hex = "[0-9a-f]";
    std::string body;
    if (f == "date") body = date;
    else if (f == "time" || f == "iso-time") body = time;
    else if (f == "date-time" || f == "iso-date-time") body = date + " \"T\" " + time;
    else if (f == "uuid") body = hex + "{8} \"-\" " + hex + "{4} \"-\" " + hex + "{4} \"-\" " + hex + "{4} \"-\" " + hex + "{12}";
    else if (f == "email")
      body = "[a-zA-Z0-9_+-]+ ( \".\" [a-zA-Z0-9_+-]+ )* \"@\" ( [a-zA-Z0-9] ( [a-zA-Z0-9-]* [a-zA-Z0-9] )? \".\" )+ [a-zA-Z] [a-zA-Z0-9]+";
    else if (f == "ipv4") {
      const std::string octet = "( \"25\" [0-5] | \"2\" [0-4] [0-9] | \"1\" [0-9] [0-9] | [1-9]? [0-9] )";
      body = octet + " \".\" " + octet + " \".\" " + octet + " \".\" " + octet;
    } else if (f == "uri")
      body = "\"http\" \"s\"? \"://\" [a-z0-9] [a-z0-9-]* ( \".\" [a-z0-9] [a-z0-9-]* )* ( \"/\" [a-zA-Z0-9._~-]* )*";
    else if (f == "hostname") {
      // Labels of at most 12 characters, at most 4 of them: well inside the 63 / 253 limits.
      const std::string label = "[a-z0-9] ( [a-z0-9-]{0,10} [a-z0-9] )?";
      body = label + " ( \".\" " + label + " ){0,3}";
    } else if (f == "ipv6") {
      body = "[0-9a-f]{1,4} ( \":\" [0-9a-f]{1,4} ){7}";
    } else if (f == "url") {
      body = "\"http\" \"s\"? \"://\" [a-z0-9]+ ( \".\" [a-z0-9]+ )* \".\" [a-z]{2,6} ( \"/\" [a-zA-Z0-9._~-]* )*";
    } else if (f == "uri-reference" || f == "iri-reference") {
      body = "[a-zA-Z0-9._~-]+ ( \"/\" [a-zA-Z0-9._~-]+ )*";
    } else if (f == "iri") {
      body = "\"http\" \"s\"? \"://\" [a-z0-9] [a-z0-9-]* ( \".\" [a-z0-9] [a-z0-9-]* )* ( \"/\" [a-zA-Z0-9._~-]* )*";
    } else if (f == "duration") {
      body = "\"P\" ( [0-9]{1,3} \"D\" | [0-9]{1,3} \"W\" | \"T\" [0-9]{1,3} [HMS] )";
    } else if (f == "json-pointer") {
      body = "( \"/\" [a-zA-Z0-9_]* )*";
    } else if (f == "relative-json-pointer") {
      body = "( \"0\" | [1-9] [0-9]{0,3} ) ( \"/\" [a-zA-Z0-9_]* )*";
    } else if (f == "byte") {
      body = "( [A-Za-z0-9+/]{4} )*";
    } else if (f == "uri-template" || f == "regex") {
      body = "[a-zA-Z0-9_]*";
    } else if (f == "password" || f == "binary" || f == "int32" || f == "int64" || f == "float" || f == "double") {
      return b_.primitive("string");  // no constraint on a string (the numeric ones apply to numbers)
    } else return bad(where, "the string format '" + f + "' is not supported for constrained output");
    return b_.add(prefix_ + "format-" + f, "\"\\\"\" " + body + " \"\\\"\"");
  }
  if (s.contains("pattern")) {
    if (!s["pattern"].is_string()) return bad(where, "pattern must be a string");
    if (has_len) return bad(where, "pattern together with minLength/maxLength is not supported");
    auto body = regex_to_gbnf(s["pattern"].get<std::string>(), b_);
    if (!body.ok()) return bad(where, "pattern: " + body.error().message);
    return b_.add(prefix_ + "pattern", "\"\\\"\" " + *body + " \"\\\"\"");
  }
  if (!has_len) return b_.primitive("string");
  auto min = count_of(s, "minLength", where, 0);
  if (!min.ok()) return min.error();
  auto max = count_of(s, "maxLength", where, -1);
  if (!max.ok()) return max.error();
  if (*max >= 0 && *max < *min) return bad(where, "maxLength is below minLength");
  return b_.add(prefix_ + "string", "\"\\\"\" " + repeat(b_.primitive("char"), *min, *max) + " \"\\\"\"");
}

Result<std::string> SchemaConverter::number_rule(const json& s, const std::string& where, bool integer) {
  // Bounds as a closed integer range for the integer part.
  double lo = -INFINITY, hi = INFINITY;
  bool lo_excl = false, hi_excl = false;
  for (const char* k : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}) {
    if (!s.contains(k)) continue;
    const json& v = s[k];
    const std::string key = k;
    if (v.is_boolean() && (key == "exclusiveMinimum" || key == "exclusiveMaximum")) {  // draft 4
      (key == "exclusiveMinimum" ? lo_excl : hi_excl) = v.get<bool>();
      continue;
    }
    if (!v.is_number()) return bad(where, key + " must be a number");
    const double d = v.get<double>();
    if (key == "minimum" && d > lo) lo = d;
    if (key == "maximum" && d < hi) hi = d;
    if (key == "exclusiveMinimum" && d >= lo) lo = d, lo_excl = true;
    if (key == "exclusiveMaximum" && d <= hi) hi = d, hi_excl = true;
  }
  // format int32 / int64 bound the value (ajv checks them); float / double do not.
  if (s.contains("format") && s["format"].is_string()) {
    const std::string f = s["format"];
    if (f == "int32") lo = std::max(lo, -2147483648.0), hi = std::min(hi, 2147483647.0);
    else if (f != "int64" && f != "float" && f != "double")
      return bad(where, "the number format '" + f + "' is not supported for constrained output");
  }
  if (std::isinf(lo) && std::isinf(hi)) return b_.primitive(integer ? "integer" : "number");
  auto clamp = [](double d) { return std::max<double>(-kMaxAbs, std::min<double>(kMaxAbs, d)); };
  double ilo = std::ceil(clamp(lo)), ihi = std::floor(clamp(hi));
  if (lo_excl && ilo == lo) ilo += 1;
  if (hi_excl && ihi == hi) ihi -= 1;
  std::vector<std::string> alts;
  if (ilo <= ihi) alts.push_back(integer_range_gbnf(static_cast<int64_t>(ilo), static_cast<int64_t>(ihi)));
  if (!integer) {
    // i.f with a fraction that is not all zeros lies strictly between i and i + 1.
    const std::string frac = "\".\" [0-9]{0,5} [1-9]";
    // i.f: needs i >= lo and i + 1 <= hi.
    const double plo = std::max(0.0, std::ceil(clamp(lo))), phi = std::floor(clamp(hi)) - 1;
    if (plo <= phi) alts.push_back(integer_range_gbnf(static_cast<int64_t>(plo), static_cast<int64_t>(phi)) + " " + frac);
    // -i.f: needs -(i + 1) >= lo and -i <= hi.
    const double nlo = std::max(0.0, std::ceil(clamp(-hi))), nhi = std::isinf(lo) ? kMaxAbs : std::floor(clamp(-lo)) - 1;
    if (nlo <= nhi) alts.push_back("\"-\" " + integer_range_gbnf(static_cast<int64_t>(nlo), static_cast<int64_t>(nhi)) + " " + frac);
  }
  if (alts.empty()) return bad(where, "no " + std::string(integer ? "integer" : "number") + " lies between the bounds");
  std::string body;
  for (size_t i = 0; i < alts.size(); ++i) body += (i ? " | " : "") + alts[i];
  return b_.add(prefix_ + (integer ? "int-range" : "num-range"), body);
}

Result<std::string> json_schema_to_gbnf(const json& schema) {
  GbnfBuilder b;
  SchemaConverter c(b, schema, "");
  auto root = c.convert(schema, "schema");
  if (!root.ok()) return root.error();
  return "root ::= " + *root + "\n" + b.text();
}

Result<std::shared_ptr<const Grammar>> compile_json_schema(const json& schema) {
  auto text = json_schema_to_gbnf(schema);
  if (!text.ok()) return text.error();
  auto g = parse_gbnf(*text);
  if (!g.ok()) return make_error(ErrorKind::invalid_request, "schema: " + g.error().message);
  return g;
}

}  // namespace pensieve::grammar
