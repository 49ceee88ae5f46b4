// jinja2's builtin filters and tests (the ones chat templates use), plus Hugging Face's tojson.
// Filters that jinja2 implements as generators (map, select, reject, selectattr, rejectattr,
// unique, items, batch, reverse of a list) return generator values, so `| tojson` or `| length`
// on them fails exactly as it does in Python.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "text/jinja_render.h"
#include "text/jinja_strings.h"

namespace pensieve::text::jinja {

namespace {

using FilterFn = Value (*)(Renderer&, const Value&, CallArgs&);
using TestFn = bool (*)(Renderer&, const Value&, CallArgs&);

bool arg_bool(const CallArgs& a, size_t pos, std::string_view name, bool dflt) {
  const Value* v = a.get(pos, name);
  return v ? truthy(*v) : dflt;
}
int64_t arg_int(const CallArgs& a, size_t pos, std::string_view name, int64_t dflt) {
  const Value* v = a.get(pos, name);
  if (!v || v->is_none()) return dflt;
  if (!v->is_number()) fail("TypeError: '" + std::string(name) + "' must be a number, not " + type_name(*v));
  return v->type == Value::Type::Float ? int64_t(v->f) : v->as_int();
}
const Value* arg_opt(const CallArgs& a, size_t pos, std::string_view name) {
  const Value* v = a.get(pos, name);
  return v && !v->is_none() ? v : nullptr;
}
std::string soft_str(const Value& v) { return to_str(v); }

Value generator(ValueList items) {
  Value g = Value::new_generator();
  g.list->items = std::move(items);
  return g;
}
Value list_of(ValueList items) {
  Value l = Value::new_list();
  l.list->items = std::move(items);
  return l;
}
Value pair(Value a, Value b) {
  Value t = Value::new_tuple();
  t.list->items = {std::move(a), std::move(b)};
  return t;
}

// jinja2's make_attrgetter: "a.b.0" walks items/attributes, integers as indexes.
Value attribute_of(const Value& item, const std::string& path) {
  Value cur = item;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    cur = numeric && part.size() < 18 ? get_item(cur, Value::integer(std::stoll(part))) : get_item(cur, Value::string(part));
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

// Sort key: lower-cased strings unless case_sensitive (jinja2's ignore_case).
Value sort_key(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value::string(str::lower(v.s));
  return v;
}

size_t length_of(const Value& v) {
  switch (v.type) {
    case Value::Type::Undefined: return 0;
    case Value::Type::String: return utf8_length(v.s);
    case Value::Type::List:
      if (v.list->kind == ListData::Kind::Generator) fail("TypeError: object of type 'generator' has no len()");
      return v.list->items.size();
    case Value::Type::Dict: return v.dict->items.size();
    default: fail("TypeError: object of type '" + type_name(v) + "' has no len()");
  }
}

Value f_length(Renderer&, const Value& v, CallArgs&) { return Value::integer(int64_t(length_of(v))); }

Value f_default(Renderer&, const Value& v, CallArgs& a) {
  bool boolean = arg_bool(a, 1, "boolean", false);
  if (v.is_undefined() || (boolean && !truthy(v))) {
    const Value* d = a.get(0, "default_value");
    return d ? *d : Value::string("");
  }
  return v;
}

Value f_trim(Renderer&, const Value& v, CallArgs& a) {
  const Value* chars = arg_opt(a, 0, "chars");
  std::string cs = chars ? soft_str(*chars) : std::string();
  return Value::string(str::strip(soft_str(v), true, true, chars ? &cs : nullptr));
}
Value f_upper(Renderer&, const Value& v, CallArgs&) { return Value::string(str::upper(soft_str(v))); }
Value f_lower(Renderer&, const Value& v, CallArgs&) { return Value::string(str::lower(soft_str(v))); }
Value f_title(Renderer&, const Value& v, CallArgs&) { return Value::string(str::jinja_title(soft_str(v))); }
Value f_capitalize(Renderer&, const Value& v, CallArgs&) { return Value::string(str::capitalize(soft_str(v))); }
Value f_string(Renderer&, const Value& v, CallArgs&) { return v.is_string() ? v : Value::string(soft_str(v)); }
Value f_safe(Renderer&, const Value& v, CallArgs&) { return Value::string(soft_str(v), true); }

Value f_first(Renderer&, const Value& v, CallArgs&) {
  ValueList items = iterate(v);
  return items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
}
Value f_last(Renderer&, const Value& v, CallArgs&) {
  if (v.is_list() && v.list->kind == ListData::Kind::Generator) fail("TypeError: 'generator' object is not reversible");
  ValueList items = iterate(v);
  return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
}

Value f_join(Renderer&, const Value& v, CallArgs& a) {
  const Value* sep = a.get(0, "d");
  const Value* attr = arg_opt(a, 1, "attribute");
  std::string s = sep ? soft_str(*sep) : std::string();
  std::string out;
  bool first = true;
  for (const Value& item : iterate(v)) {
    if (!first) out += s;
    first = false;
    append_str(out, attr ? attribute_of(item, soft_str(*attr)) : item);
  }
  return Value::string(std::move(out));
}

Value f_tojson(Renderer&, const Value& v, CallArgs& a) {
  JsonOptions o;
  o.ensure_ascii = arg_bool(a, 0, "ensure_ascii", false);
  if (const Value* ind = arg_opt(a, 1, "indent")) {
    if (!ind->is_int()) fail("TypeError: tojson indent must be an integer");
    o.indent = int(std::clamp<int64_t>(ind->as_int(), 0, 64));
    o.item_sep = ",";
  }
  if (const Value* seps = arg_opt(a, 2, "separators")) {
    if (!seps->is_list() || seps->list->items.size() != 2) fail("TypeError: tojson separators must be a pair of strings");
    o.item_sep = soft_str(seps->list->items[0]);
    o.key_sep = soft_str(seps->list->items[1]);
  }
  o.sort_keys = arg_bool(a, 3, "sort_keys", false);
  return Value::string(to_json(v, o));
}

Value f_list(Renderer&, const Value& v, CallArgs&) { return list_of(iterate(v)); }

Value f_items(Renderer&, const Value& v, CallArgs&) {
  if (v.is_undefined()) return generator({});
  if (!v.is_dict()) fail("TypeError: Can only get item pairs from a mapping.");
  ValueList out;
  for (const auto& [k, val] : v.dict->items) out.push_back(pair(k, val));
  return generator(std::move(out));
}

Value f_dictsort(Renderer&, const Value& v, CallArgs& a) {
  if (!v.is_dict()) fail("TypeError: dictsort needs a mapping");
  bool cs = arg_bool(a, 0, "case_sensitive", false);
  const Value* by = arg_opt(a, 1, "by");
  bool by_value = by && soft_str(*by) == "value";
  if (by && !by_value && soft_str(*by) != "key") fail("FilterArgumentError: You can only sort by either \"key\" or \"value\"");
  bool rev = arg_bool(a, 2, "reverse", false);
  ValueList items;
  for (const auto& [k, val] : v.dict->items) items.push_back(pair(k, val));
  std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
    const Value& kx = x.list->items[by_value ? 1 : 0];
    const Value& ky = y.list->items[by_value ? 1 : 0];
    int c = compare(sort_key(kx, cs), sort_key(ky, cs));
    return rev ? c > 0 : c < 0;
  });
  return list_of(std::move(items));
}

Value f_sort(Renderer&, const Value& v, CallArgs& a) {
  bool rev = arg_bool(a, 0, "reverse", false);
  bool cs = arg_bool(a, 1, "case_sensitive", false);
  const Value* attr = arg_opt(a, 2, "attribute");
  ValueList items = iterate(v);
  std::vector<std::pair<Value, size_t>> keys;
  for (size_t k = 0; k < items.size(); ++k)
    keys.emplace_back(sort_key(attr ? attribute_of(items[k], soft_str(*attr)) : items[k], cs), k);
  std::stable_sort(keys.begin(), keys.end(), [&](const auto& x, const auto& y) {
    int c = compare(x.first, y.first);
    return rev ? c > 0 : c < 0;
  });
  ValueList out;
  for (const auto& [key, k] : keys) out.push_back(items[k]);
  return list_of(std::move(out));
}

Value f_unique(Renderer&, const Value& v, CallArgs& a) {
  bool cs = arg_bool(a, 0, "case_sensitive", false);
  const Value* attr = arg_opt(a, 1, "attribute");
  ValueList seen, out;
  for (const Value& item : iterate(v)) {
    Value key = sort_key(attr ? attribute_of(item, soft_str(*attr)) : item, cs);
    if (std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, key); })) continue;
    seen.push_back(key);
    out.push_back(item);
  }
  return generator(std::move(out));
}

Value f_reverse(Renderer&, const Value& v, CallArgs&) {
  if (v.is_string()) {
    auto cs = utf8_chars(v.s);
    std::string out;
    for (size_t k = cs.size(); k-- > 0;) out += cs[k];
    return Value::string(std::move(out));
  }
  ValueList items = iterate(v);
  std::reverse(items.begin(), items.end());
  bool was_generator = v.is_list() && v.list->kind == ListData::Kind::Generator;
  return was_generator ? list_of(std::move(items)) : generator(std::move(items));  // reversed() is an iterator
}

Value f_replace(Renderer&, const Value& v, CallArgs& a) {
  const Value* from = a.get(0, "old");
  const Value* to = a.get(1, "new");
  if (!from || !to) fail("TypeError: replace needs 'old' and 'new'");
  return Value::string(str::replace(soft_str(v), soft_str(*from), soft_str(*to), arg_int(a, 2, "count", -1)));
}

Value f_split(Renderer&, const Value& v, CallArgs& a) {
  const Value* sep = arg_opt(a, 0, "sep");
  std::string s = sep ? soft_str(*sep) : std::string();
  ValueList out;
  for (auto& part : str::split(soft_str(v), sep ? &s : nullptr, arg_int(a, 1, "maxsplit", -1)))
    out.push_back(Value::string(std::move(part)));
  return list_of(std::move(out));
}

Value f_indent(Renderer&, const Value& v, CallArgs& a) {
  const Value* w = a.get(0, "width");
  std::string pad = w && w->is_string() ? w->s : std::string(size_t(std::clamp<int64_t>(arg_int(a, 0, "width", 4), 0, 1024)), ' ');
  bool first = arg_bool(a, 1, "first", false);
  bool blank = arg_bool(a, 2, "blank", false);
  std::vector<std::string> lines = str::splitlines(soft_str(v) + "\n");
  std::string rv;
  for (size_t k = 0; k < lines.size(); ++k) {
    if (k > 0) rv += '\n';
    if (k > 0 && (blank || !lines[k].empty())) rv += pad;
    rv += lines[k];
  }
  if (first) rv = pad + rv;
  return Value::string(std::move(rv));
}

Value f_center(Renderer&, const Value& v, CallArgs& a) {
  std::string s = soft_str(v);
  int64_t width = std::min<int64_t>(arg_int(a, 0, "width", 80), 1 << 20);
  int64_t n = int64_t(utf8_length(s));
  if (width <= n) return Value::string(s);
  int64_t pad = width - n, left = pad / 2 + (pad & width & 1);
  return Value::string(std::string(size_t(left), ' ') + s + std::string(size_t(pad - left), ' '));
}

Value f_wordcount(Renderer&, const Value& v, CallArgs&) {
  std::string s = soft_str(v);
  int64_t n = 0;
  bool in_word = false;
  for (unsigned char c : s) {
    bool w = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
    if (w && !in_word) ++n;
    in_word = w;
  }
  return Value::integer(n);
}

Value f_abs(Renderer&, const Value& v, CallArgs&) {
  if (v.type == Value::Type::Float) return Value::number(std::fabs(v.f));
  if (v.is_int()) return v.as_int() < 0 ? negate(v) : Value::integer(v.as_int());
  fail("TypeError: bad operand type for abs(): '" + type_name(v) + "'");
}

Value f_round(Renderer&, const Value& v, CallArgs& a) {
  if (!v.is_number()) fail("TypeError: round needs a number, not " + type_name(v));
  int64_t precision = std::clamp<int64_t>(arg_int(a, 0, "precision", 0), -300, 300);
  const Value* m = arg_opt(a, 1, "method");
  std::string method = m ? soft_str(*m) : "common";
  double scale = std::pow(10.0, double(precision)), x = v.as_double() * scale;
  double r;
  if (method == "common") {
    r = std::nearbyint(x);  // Python's round(): half to even
  } else if (method == "ceil") {
    r = std::ceil(x);
  } else if (method == "floor") {
    r = std::floor(x);
  } else {
    fail("FilterArgumentError: method must be common, ceil or floor");
  }
  return Value::number(r / scale);
}

bool parse_float(std::string s, double& out) {
  s = str::strip(s, true, true, nullptr);
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && s.find_first_of("xXpP") == std::string::npos;
}

Value f_int(Renderer&, const Value& v, CallArgs& a) {
  const Value* d = a.get(0, "default");
  Value dflt = d ? *d : Value::integer(0);
  int base = int(arg_int(a, 1, "base", 10));
  if (v.is_int()) return Value::integer(v.as_int());
  if (v.type == Value::Type::Float)
    return std::isfinite(v.f) && std::fabs(v.f) < 9.2e18 ? Value::integer(int64_t(v.f)) : dflt;
  if (!v.is_string()) return dflt;
  std::string s = str::strip(v.s, true, true, nullptr);
  if (base >= 2 && base <= 36 && !s.empty()) {
    char* end = nullptr;
    errno = 0;
    long long x = std::strtoll(s.c_str(), &end, base);
    if (end == s.c_str() + s.size() && errno == 0) return Value::integer(x);
  }
  double f;
  if (parse_float(s, f) && std::isfinite(f) && std::fabs(f) < 9.2e18) return Value::integer(int64_t(f));
  return dflt;
}

Value f_float(Renderer&, const Value& v, CallArgs& a) {
  const Value* d = a.get(0, "default");
  if (v.is_number()) return Value::number(v.as_double());
  double f;
  if (v.is_string() && parse_float(v.s, f)) return Value::number(f);
  return d ? *d : Value::number(0.0);
}

Value f_attr(Renderer&, const Value& v, CallArgs& a) {
  const Value* n = a.get(0, "name");
  if (!n) fail("TypeError: attr needs a name");
  return get_attr(v, soft_str(*n));
}

Value f_sum(Renderer& r, const Value& v, CallArgs& a) {
  const Value* attr = arg_opt(a, 0, "attribute");
  const Value* start = a.get(1, "start");
  Value total = start ? *start : Value::integer(0);
  for (const Value& item : iterate(v)) total = binary_op("+", total, attr ? attribute_of(item, soft_str(*attr)) : item, r.limits());
  return total;
}

Value min_max(const Value& v, CallArgs& a, bool want_max) {
  bool cs = arg_bool(a, 0, "case_sensitive", false);
  const Value* attr = arg_opt(a, 1, "attribute");
  ValueList items = iterate(v);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  size_t best = 0;
  Value best_key = sort_key(attr ? attribute_of(items[0], soft_str(*attr)) : items[0], cs);
  for (size_t k = 1; k < items.size(); ++k) {
    Value key = sort_key(attr ? attribute_of(items[k], soft_str(*attr)) : items[k], cs);
    int c = compare(key, best_key);
    if (want_max ? c > 0 : c < 0) best = k, best_key = key;
  }
  return items[best];
}
Value f_max(Renderer&, const Value& v, CallArgs& a) { return min_max(v, a, true); }
Value f_min(Renderer&, const Value& v, CallArgs& a) { return min_max(v, a, false); }

Value f_batch(Renderer&, const Value& v, CallArgs& a) {
  int64_t n = arg_int(a, 0, "linecount", 1);
  if (n <= 0) fail("ValueError: batch size must be positive");
  const Value* fill = arg_opt(a, 1, "fill_with");
  ValueList out, cur;
  for (const Value& item : iterate(v)) {
    cur.push_back(item);
    if (int64_t(cur.size()) == n) out.push_back(list_of(std::exchange(cur, {})));
  }
  if (!cur.empty()) {
    if (fill)
      while (int64_t(cur.size()) < n) cur.push_back(*fill);
    out.push_back(list_of(std::move(cur)));
  }
  return generator(std::move(out));
}

// select/reject/selectattr/rejectattr: `positional_from` is where the test name sits in args.
Value select_impl(Renderer& r, const Value& v, CallArgs& a, bool by_attr, bool keep) {
  size_t test_pos = by_attr ? 1 : 0;
  std::string attr;
  if (by_attr) {
    if (a.positional.empty()) fail("TypeError: selectattr/rejectattr need an attribute name");
    attr = soft_str(a.positional[0]);
  }
  bool has_test = a.positional.size() > test_pos;
  std::string test = has_test ? soft_str(a.positional[test_pos]) : std::string();
  CallArgs test_args;
  for (size_t k = test_pos + 1; k < a.positional.size(); ++k) test_args.positional.push_back(a.positional[k]);
  test_args.keyword = a.keyword;
  ValueList out;
  if (!truthy(v)) return generator({});  // jinja2 guards with `if value:` (None selects nothing)
  for (const Value& item : iterate(v)) {
    Value subject = by_attr ? attribute_of(item, attr) : item;
    bool ok = has_test ? apply_test(r, test, subject, test_args) : truthy(subject);
    if (ok == keep) out.push_back(item);
  }
  return generator(std::move(out));
}
Value f_select(Renderer& r, const Value& v, CallArgs& a) { return select_impl(r, v, a, false, true); }
Value f_reject(Renderer& r, const Value& v, CallArgs& a) { return select_impl(r, v, a, false, false); }
Value f_selectattr(Renderer& r, const Value& v, CallArgs& a) { return select_impl(r, v, a, true, true); }
Value f_rejectattr(Renderer& r, const Value& v, CallArgs& a) { return select_impl(r, v, a, true, false); }

Value f_map(Renderer& r, const Value& v, CallArgs& a) {
  ValueList out;
  if (!truthy(v)) return generator({});  // jinja2 guards with `if value:`
  if (const Value* attr = a.kw("attribute")) {
    const Value* dflt = a.kw("default");
    for (const Value& item : iterate(v)) {
      Value x = attribute_of(item, soft_str(*attr));
      out.push_back(x.is_undefined() && dflt ? *dflt : x);
    }
    return generator(std::move(out));
  }
  if (a.positional.empty()) fail("TypeError: map needs a filter name or attribute=");
  std::string filter = soft_str(a.positional[0]);
  CallArgs rest;
  rest.positional.assign(a.positional.begin() + 1, a.positional.end());
  rest.keyword = a.keyword;
  for (const Value& item : iterate(v)) {
    CallArgs copy = rest;
    out.push_back(apply_filter(r, filter, item, copy));
  }
  return generator(std::move(out));
}

const std::unordered_map<std::string_view, FilterFn>& filters() {
  static const std::unordered_map<std::string_view, FilterFn> table = {
      {"abs", f_abs},           {"attr", f_attr},         {"batch", f_batch},       {"capitalize", f_capitalize},
      {"center", f_center},     {"count", f_length},      {"d", f_default},         {"default", f_default},
      {"dictsort", f_dictsort}, {"first", f_first},       {"float", f_float},       {"indent", f_indent},
      {"int", f_int},           {"items", f_items},       {"join", f_join},         {"last", f_last},
      {"length", f_length},     {"list", f_list},         {"lower", f_lower},       {"map", f_map},
      {"max", f_max},           {"min", f_min},           {"reject", f_reject},     {"rejectattr", f_rejectattr},
      {"replace", f_replace},   {"reverse", f_reverse},   {"round", f_round},       {"safe", f_safe},
      {"select", f_select},     {"selectattr", f_selectattr}, {"sort", f_sort},     {"split", f_split},
      {"string", f_string},     {"sum", f_sum},           {"title", f_title},       {"tojson", f_tojson},
      {"trim", f_trim},         {"unique", f_unique},     {"upper", f_upper},       {"wordcount", f_wordcount},
  };
  return table;
}

// ---- tests ----

const Value& test_arg(const CallArgs& a, std::string_view test) {
  if (a.positional.empty() && a.keyword.empty()) fail("TypeError: test '" + std::string(test) + "' needs an argument");
  return a.positional.empty() ? a.keyword[0].second : a.positional[0];
}
bool is_generator(const Value& v) { return v.is_list() && v.list->kind == ListData::Kind::Generator; }
bool is_odd(const Value& v) {
  if (v.is_undefined()) fail("UndefinedError: " + v.s);
  if (v.type == Value::Type::Float) return std::fmod(std::fabs(v.f), 2.0) == 1.0;
  if (!v.is_int()) fail("TypeError: unsupported operand type(s) for %: '" + type_name(v) + "' and 'int'");
  return (v.as_int() & 1) != 0;
}
bool compare_test(const Value& v, const CallArgs& a, std::string_view name, bool (*pred)(int)) {
  return pred(compare(v, test_arg(a, name)));
}

bool t_defined(Renderer&, const Value& v, CallArgs&) { return !v.is_undefined(); }
bool t_undefined(Renderer&, const Value& v, CallArgs&) { return v.is_undefined(); }
bool t_none(Renderer&, const Value& v, CallArgs&) { return v.is_none(); }
bool t_boolean(Renderer&, const Value& v, CallArgs&) { return v.type == Value::Type::Bool; }
bool t_true(Renderer&, const Value& v, CallArgs&) { return v.type == Value::Type::Bool && v.b; }
bool t_false(Renderer&, const Value& v, CallArgs&) { return v.type == Value::Type::Bool && !v.b; }
bool t_integer(Renderer&, const Value& v, CallArgs&) { return v.type == Value::Type::Int; }
bool t_float(Renderer&, const Value& v, CallArgs&) { return v.type == Value::Type::Float; }
bool t_number(Renderer&, const Value& v, CallArgs&) { return v.is_number(); }
bool t_string(Renderer&, const Value& v, CallArgs&) { return v.is_string(); }
bool t_mapping(Renderer&, const Value& v, CallArgs&) { return v.is_dict(); }
bool t_iterable(Renderer&, const Value& v, CallArgs&) {
  return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
}
bool t_sequence(Renderer&, const Value& v, CallArgs&) {
  return v.is_undefined() || v.is_string() || v.is_dict() || (v.is_list() && !is_generator(v));
}
bool t_callable(Renderer&, const Value& v, CallArgs&) { return v.type == Value::Type::Function; }
bool t_odd(Renderer&, const Value& v, CallArgs&) { return is_odd(v); }
bool t_even(Renderer&, const Value& v, CallArgs&) {
  if (v.type == Value::Type::Float) return std::fmod(std::fabs(v.f), 2.0) == 0.0;
  return !is_odd(v);
}
bool t_divisibleby(Renderer&, const Value& v, CallArgs& a) {
  const Value& n = test_arg(a, "divisibleby");
  if (!v.is_number() || !n.is_number()) fail("TypeError: divisibleby needs numbers");
  if (v.type == Value::Type::Float || n.type == Value::Type::Float) {
    if (n.as_double() == 0) fail("ZeroDivisionError: float modulo");
    return std::fmod(v.as_double(), n.as_double()) == 0;
  }
  if (n.as_int() == 0) fail("ZeroDivisionError: integer division or modulo by zero");
  if (n.as_int() == -1) return true;
  return v.as_int() % n.as_int() == 0;
}
bool t_eq(Renderer&, const Value& v, CallArgs& a) { return equals(v, test_arg(a, "eq")); }
bool t_ne(Renderer&, const Value& v, CallArgs& a) { return !equals(v, test_arg(a, "ne")); }
bool t_lt(Renderer&, const Value& v, CallArgs& a) { return compare_test(v, a, "lt", [](int c) { return c < 0; }); }
bool t_le(Renderer&, const Value& v, CallArgs& a) { return compare_test(v, a, "le", [](int c) { return c <= 0; }); }
bool t_gt(Renderer&, const Value& v, CallArgs& a) { return compare_test(v, a, "gt", [](int c) { return c > 0; }); }
bool t_ge(Renderer&, const Value& v, CallArgs& a) { return compare_test(v, a, "ge", [](int c) { return c >= 0; }); }
bool t_in(Renderer&, const Value& v, CallArgs& a) { return contains(test_arg(a, "in"), v); }
bool t_sameas(Renderer&, const Value& v, CallArgs& a) {
  const Value& o = test_arg(a, "sameas");
  if (v.type != o.type) return false;
  switch (v.type) {
    case Value::Type::List: return v.list == o.list;
    case Value::Type::Dict:
    case Value::Type::Namespace: return v.dict == o.dict;
    case Value::Type::Function: return v.fn == o.fn;
    default: return equals(v, o);  // singletons and small values compare by value in CPython too
  }
}
bool t_lower(Renderer&, const Value& v, CallArgs&) { return v.is_string() && str::lower(v.s) == v.s && str::upper(v.s) != v.s; }
bool t_upper(Renderer&, const Value& v, CallArgs&) { return v.is_string() && str::upper(v.s) == v.s && str::lower(v.s) != v.s; }
bool t_escaped(Renderer&, const Value& v, CallArgs&) { return v.is_string() && v.safe; }

const std::unordered_map<std::string_view, TestFn>& tests() {
  static const std::unordered_map<std::string_view, TestFn> table = {
      {"defined", t_defined},   {"undefined", t_undefined}, {"none", t_none},         {"boolean", t_boolean},
      {"true", t_true},         {"false", t_false},         {"integer", t_integer},   {"float", t_float},
      {"number", t_number},     {"string", t_string},       {"mapping", t_mapping},   {"iterable", t_iterable},
      {"sequence", t_sequence}, {"callable", t_callable},   {"odd", t_odd},           {"even", t_even},
      {"divisibleby", t_divisibleby}, {"eq", t_eq},         {"equalto", t_eq},        {"==", t_eq},
      {"ne", t_ne},             {"!=", t_ne},               {"lt", t_lt},             {"lessthan", t_lt},
      {"<", t_lt},              {"le", t_le},               {"<=", t_le},             {"gt", t_gt},
      {"greaterthan", t_gt},    {">", t_gt},                {"ge", t_ge},             {">=", t_ge},
      {"in", t_in},             {"sameas", t_sameas},       {"lower", t_lower},       {"upper", t_upper},
      {"escaped", t_escaped},
  };
  return table;
}

}  // namespace

bool filter_exists(std::string_view name) { return filters().count(name) > 0; }
bool test_exists(std::string_view name) { return tests().count(name) > 0; }

Value apply_filter(Renderer& r, std::string_view name, const Value& v, CallArgs& args) {
  auto it = filters().find(name);
  if (it == filters().end()) fail("TemplateAssertionError: no filter named '" + std::string(name) + "'");
  r.count_step();
  return it->second(r, v, args);
}

bool apply_test(Renderer& r, std::string_view name, const Value& v, CallArgs& args) {
  auto it = tests().find(name);
  if (it == tests().end()) fail("TemplateAssertionError: no test named '" + std::string(name) + "'");
  return it->second(r, v, args);
}

}  // namespace pensieve::text::jinja
