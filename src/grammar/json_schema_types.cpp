// The structured parts of the schema conversion: objects (properties, required, maps, property
// counts, dependentRequired) and arrays (items, tuples, item counts, uniqueItems).
#include <algorithm>

#include "grammar/json_schema_internal.h"

namespace pensieve::grammar {

using nlohmann::json;
using namespace schema_detail;

namespace {

// Slots written in order, each one or skipped (required ones never), comma-separated, with
// between min and max of them written (max < 0: no limit). Rule (i, c): slots i.. remain and
// c are written (c counts up to the largest bound that matters). Empty: no way to meet the
// bounds.
std::string counted_sequence(GbnfBuilder& b, const std::string& hint, const std::vector<std::string>& slots,
                             const std::vector<bool>& required, int64_t min, int64_t max) {
  const int64_t n = static_cast<int64_t>(slots.size());
  const int64_t cap = std::min<int64_t>(n, std::max<int64_t>({1, min, max}));
  std::vector<int64_t> req_after(n + 1, 0);  // required slots in i..
  for (int64_t i = n; i-- > 0;) req_after[i] = req_after[i + 1] + (required[i] ? 1 : 0);
  // feasible(i, c): the rest can end within the bounds (c is exact below cap).
  auto feasible = [&](int64_t i, int64_t c) {
    return c + (n - i) >= min && (max < 0 || c + req_after[i] <= max);
  };
  // names[i][c], built from the end.
  std::vector<std::vector<std::string>> names(n + 1, std::vector<std::string>(cap + 1));
  for (int64_t c = 0; c <= cap; ++c) names[n][c] = c >= min ? "\"\"" : "";
  for (int64_t i = n; i-- > 0;) {
    for (int64_t c = 0; c <= cap; ++c) {
      if (!feasible(i, c)) continue;
      std::vector<std::string> alts;
      const int64_t c1 = std::min(c + 1, cap);
      if ((max < 0 || c < max) && !names[i + 1][c1].empty())
        alts.push_back((c > 0 ? "\",\" " : "") + slots[i] + " " + names[i + 1][c1]);
      if (!required[i] && !names[i + 1][c].empty()) alts.push_back(names[i + 1][c]);
      if (!alts.empty()) names[i][c] = b.add(hint, alternatives(alts));
    }
  }
  return names[0][0];
}

// The values an item schema lists (enum / const, boolean, null), each once, when it constrains
// nothing else; empty otherwise.
std::vector<json> listed_items(const json& s) {
  if (!s.is_object()) return {};
  std::vector<json> vals;
  for (const auto& [k, v] : s.items())
    if (k != "enum" && k != "const" && k != "type" && k != "title" && k != "description" && k != "default") return {};
  if (s.contains("const")) vals.push_back(s["const"]);
  else if (s.contains("enum") && s["enum"].is_array()) vals.assign(s["enum"].begin(), s["enum"].end());
  else if (s.value("type", json()) == "boolean") vals = {false, true};
  else if (s.value("type", json()) == "null") vals = {nullptr};
  std::vector<json> out;
  for (const auto& v : vals) {
    if (s.contains("type") && s["type"].is_string()) {  // an enum's values of another type are left out
      const std::string t = s["type"];
      const bool ok = t == "string" ? v.is_string() : t == "integer" ? v.is_number_integer() : t == "number" ? v.is_number()
                    : t == "boolean" ? v.is_boolean() : t == "null" ? v.is_null() : t == "object" ? v.is_object() : v.is_array();
      if (!ok) continue;
    }
    if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  }
  return out;
}

}  // namespace

Result<std::string> SchemaConverter::object_rule(const json& s, const std::string& where, int depth) {
  const json props = s.contains("properties") ? s["properties"] : json::object();
  if (!props.is_object()) return bad(where, "properties must be an object");
  std::vector<std::string> required;
  auto require = [&](const std::string& r) {
    if (std::find(required.begin(), required.end(), r) == required.end()) required.push_back(r);
  };
  if (s.contains("required")) {
    if (!s["required"].is_array()) return bad(where, "required must be an array of names");
    for (const auto& r : s["required"]) {
      if (!r.is_string()) return bad(where, "required must be an array of names");
      require(r);
    }
  }
  const json extra = s.contains("additionalProperties") ? s["additionalProperties"] : json(true);
  if (!extra.is_boolean() && !extra.is_object()) return bad(where, "additionalProperties must be a boolean or a schema");
  const bool closed = allows_nothing(extra);

  auto min_props = count_of(s, "minProperties", where, 0);
  if (!min_props.ok()) return min_props.error();
  auto max_props = count_of(s, "maxProperties", where, -1);
  if (!max_props.ok()) return max_props.error();

  // Declared properties in order (those whose schema allows nothing are never written), then
  // required ones that are not declared (values of additionalProperties).
  std::vector<std::pair<std::string, json>> list;
  for (const auto& [k, v] : props.items()) {
    if (!allows_nothing(v)) list.emplace_back(k, v);
    else if (std::find(required.begin(), required.end(), k) != required.end())
      return bad(where, "'" + k + "' is required but its schema allows nothing");
  }
  auto listed = [&](const std::string& k) {
    return std::any_of(list.begin(), list.end(), [&](const auto& p) { return p.first == k; });
  };
  // dependentRequired (draft 7: dependencies with arrays): a written property brings its
  // dependents, so they are required whenever it may be written; one whose dependents cannot
  // be written is left out.
  for (const char* key : {"dependentRequired", "dependencies"}) {
    if (!s.contains(key)) continue;
    if (!s[key].is_object()) return bad(where, std::string(key) + " must be an object");
    for (const auto& [trigger, deps] : s[key].items()) {
      if (!deps.is_array()) return bad(where, std::string(key) + "." + trigger + " must be an array of names");
      if (!listed(trigger) && std::find(required.begin(), required.end(), trigger) == required.end()) continue;
      bool writable = true;
      for (const auto& d : deps) writable = writable && d.is_string() && (listed(d) || !closed);
      if (writable) {
        for (const auto& d : deps) require(d);
      } else if (std::find(required.begin(), required.end(), trigger) == required.end()) {
        std::erase_if(list, [&](const auto& p) { return p.first == trigger; });
      } else {
        return bad(where, std::string(key) + ": '" + trigger + "' is required but its dependents cannot be written");
      }
    }
  }
  for (const auto& r : required)
    if (!listed(r)) {
      if (closed) return bad(where, "'" + r + "' is required but additionalProperties is false");
      list.emplace_back(r, extra.is_object() ? extra : json(true));
    }

  if (list.empty()) {
    if (closed || *max_props == 0) {
      if (*min_props > 0) return bad(where, "minProperties cannot be met: no property may be written");
      return b_.add(prefix_ + "empty-object", "\"{}\"");
    }
    if ((extra.is_boolean() || extra.empty()) && !s.contains("propertyNames") && *min_props == 0 && *max_props < 0)
      return b_.primitive("object");
    // A map: any keys, values of one schema. A repeated key is fine (both values validate) but
    // counts once, so more than one property cannot be promised.
    if (*min_props > 1) return bad(where, "minProperties above 1 on a map (no declared properties) is not supported for constrained output");
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
    const std::string more = repeat("( \",\" " + kv + " )", 0, *max_props < 0 ? -1 : *max_props - 1);
    const std::string body = kv + " " + more;
    return b_.add(prefix_ + "map", "\"{\" " + (*min_props == 0 ? "( " + body + " )?" : body) + " \"}\"");
  }

  std::vector<std::string> kvs;
  std::vector<bool> req;
  for (const auto& [name, schema] : list) {
    auto value = convert_inner(schema, where + ".properties." + name, depth + 1);
    if (!value.ok()) return value.error();
    kvs.push_back(gbnf_literal(json(name).dump(-1, ' ', false, json::error_handler_t::replace) + ":") + " " + *value);
    req.push_back(std::find(required.begin(), required.end(), name) != required.end());
  }
  // Only declared (and required) properties are written: minProperties / maxProperties count them.
  const std::string body = counted_sequence(b_, prefix_ + "obj", kvs, req, *min_props, *max_props);
  if (body.empty()) return bad(where, "minProperties / maxProperties cannot be met with the properties that may be written");
  return b_.add(prefix_ + "object", "\"{\" " + body + " \"}\"");
}

Result<std::string> SchemaConverter::array_rule(const json& s, const std::string& where, int depth) {
  auto min = count_of(s, "minItems", where, 0);
  if (!min.ok()) return min.error();
  auto max = count_of(s, "maxItems", where, -1);
  if (!max.ok()) return max.error();
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
    if (s.contains("additionalItems")) rest = s["additionalItems"];
  } else if (s.contains("items")) {
    rest = s["items"];
  }
  const bool rest_allowed = !allows_nothing(rest);
  int64_t cap = *max < 0 ? INT64_MAX : *max;

  // uniqueItems: items that list their values (an enum...) are written as a subset in the
  // listed order, so none repeats; other items at most once (one item is always unique).
  if (s.contains("uniqueItems") && (!s["uniqueItems"].is_boolean() || s["uniqueItems"].get<bool>())) {
    const std::vector<json> values = prefix.empty() ? listed_items(resolve(rest)) : std::vector<json>{};
    if (!values.empty() && values.size() <= 64) {
      if (*min > static_cast<int64_t>(values.size())) return bad(where, "uniqueItems: minItems is more than the distinct values the items allow");
      std::vector<std::string> lits;
      for (const auto& v : values) lits.push_back(gbnf_literal(v.dump(-1, ' ', false, json::error_handler_t::replace)));
      const std::string body = counted_sequence(b_, prefix_ + "set", lits, std::vector<bool>(lits.size(), false), *min, *max);
      return b_.add(prefix_ + "array", "\"[\" " + body + " \"]\"");
    }
    if (*min > 1)
      return bad(where, "the keyword 'uniqueItems' with minItems above 1 is not supported for constrained output unless the items are an enum");
    cap = std::min<int64_t>(cap, 1);
  }

  std::vector<std::string> prefix_rules;
  for (size_t i = 0; i < prefix.size(); ++i) {
    auto r = convert_inner(prefix[i], where + ".prefixItems[" + std::to_string(i) + "]", depth + 1);
    if (!r.ok()) return r.error();
    prefix_rules.push_back(*r);
  }
  std::string item;
  if (rest_allowed && cap > static_cast<int64_t>(prefix.size())) {
    auto r = convert_inner(rest, where + ".items", depth + 1);
    if (!r.ok()) return r.error();
    item = *r;
  }
  if (prefix.empty()) {
    if (cap == 0 || item.empty()) {
      if (*min > 0) return bad(where, "minItems cannot be met: no item may be written");
      return b_.add(prefix_ + "empty-array", "\"[]\"");
    }
    const std::string more = repeat("( \",\" " + item + " )", std::max<int64_t>(0, *min - 1), cap == INT64_MAX ? -1 : cap - 1);
    std::string body = item + " " + more;
    if (*min == 0) body = "( " + body + " )?";
    return b_.add(prefix_ + "array", "\"[\" " + body + " \"]\"");
  }
  // Tuple: the first k prefix items (k >= min), then more items when allowed.
  const int64_t np = static_cast<int64_t>(prefix.size());
  std::string tail = "\"\"";  // what may follow all prefix items
  if (!item.empty()) {
    tail = repeat("( \",\" " + item + " )", std::max<int64_t>(0, *min - np), cap == INT64_MAX ? -1 : cap - np);
  } else if (*min > std::min(np, cap)) {
    return bad(where, "minItems is more than the tuple allows");
  }
  // chain[k]: items k.. of the prefix, each optional once at least min are written.
  std::string next = tail;
  for (int64_t k = std::min(np, cap); k-- > 0;) {
    std::string body = (k == 0 ? "" : "\",\" ") + prefix_rules[k] + " " + next;
    if (k + 1 > *min) body = "( " + body + " )?";
    next = b_.add(prefix_ + "tuple", body);
  }
  return b_.add(prefix_ + "array", "\"[\" " + next + " \"]\"");
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
