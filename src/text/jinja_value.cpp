#include "text/jinja_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace pensieve::text::jinja {

void fail(const std::string& message) { throw JinjaError(message); }

// Lists and dicts can be made to contain themselves (`x.append(x)`); recursive walks stop here
// instead of overflowing the stack.
namespace {
thread_local int walk_depth = 0;
struct DepthGuard {
  DepthGuard() {
    if (++walk_depth > 400) {
      walk_depth = 0;  // the throw unwinds every guard without decrementing past zero
      fail("RecursionError: maximum recursion depth exceeded (self-referencing value?)");
    }
  }
  ~DepthGuard() {
    if (walk_depth > 0) --walk_depth;
  }
};
}  // namespace

Value Value::new_list() {
  Value v = of_type(Type::List);
  v.list = std::make_shared<ListData>();
  return v;
}
Value Value::new_tuple() {
  Value v = new_list();
  v.list->kind = ListData::Kind::Tuple;
  return v;
}
Value Value::new_generator() {
  Value v = new_list();
  v.list->kind = ListData::Kind::Generator;
  return v;
}
Value Value::new_dict() {
  Value v = of_type(Type::Dict);
  v.dict = std::make_shared<DictData>();
  return v;
}
Value Value::new_namespace() {
  Value v = of_type(Type::Namespace);
  v.dict = std::make_shared<DictData>();
  return v;
}

const Value* DictData::find(const Value& key) const {
  if (key.is_string()) return find(std::string_view(key.s));
  for (const auto& [k, v] : items)
    if (equals(k, key)) return &v;
  return nullptr;
}

const Value* DictData::find(std::string_view key) const {
  for (const auto& [k, v] : items)
    if (k.type == Value::Type::String && k.s == key) return &v;
  return nullptr;
}

void DictData::set(Value key, Value value) {
  for (auto& [k, v] : items) {
    if (equals(k, key)) {
      v = std::move(value);
      return;
    }
  }
  items.emplace_back(std::move(key), std::move(value));
}

const Value* CallArgs::kw(std::string_view name) const {
  for (const auto& [k, v] : keyword)
    if (k == name) return &v;
  return nullptr;
}

const Value* CallArgs::get(size_t pos, std::string_view name) const {
  if (pos < positional.size()) return &positional[pos];
  return kw(name);
}

bool truthy(const Value& v) {
  switch (v.type) {
    case Value::Type::Undefined:
    case Value::Type::None: return false;
    case Value::Type::Bool: return v.b;
    case Value::Type::Int: return v.i != 0;
    case Value::Type::Float: return v.f != 0;
    case Value::Type::String: return !v.s.empty();
    case Value::Type::List:
      return v.list->kind == ListData::Kind::Generator || !v.list->items.empty();  // generators are always true
    case Value::Type::Dict: return !v.dict->items.empty();
    case Value::Type::Namespace:
    case Value::Type::Function: return true;
  }
  return false;
}

std::string type_name(const Value& v) {
  switch (v.type) {
    case Value::Type::Undefined: return "Undefined";
    case Value::Type::None: return "NoneType";
    case Value::Type::Bool: return "bool";
    case Value::Type::Int: return "int";
    case Value::Type::Float: return "float";
    case Value::Type::String: return "str";
    case Value::Type::List:
      return v.list->kind == ListData::Kind::Tuple ? "tuple" : v.list->kind == ListData::Kind::Generator ? "generator" : "list";
    case Value::Type::Dict: return "dict";
    case Value::Type::Namespace: return "Namespace";
    case Value::Type::Function: return "function";
  }
  return "object";
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string float_repr(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  if (x == 0) return std::signbit(x) ? "-0.0" : "0.0";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
  std::string sci(buf, r.ptr);  // e.g. "-1.2345e+02"
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  size_t e = sci.find('e');
  int exp10 = std::stoi(sci.substr(e + 1));
  std::string digits;
  for (size_t k = 0; k < e; ++k)
    if (sci[k] != '.') digits += sci[k];
  std::string out = neg ? "-" : "";
  int nd = int(digits.size());
  if (exp10 >= -4 && exp10 < 16) {
    if (exp10 < 0) {
      out += "0." + std::string(size_t(-exp10 - 1), '0') + digits;
    } else if (nd <= exp10 + 1) {
      out += digits + std::string(size_t(exp10 + 1 - nd), '0') + ".0";
    } else {
      out += digits.substr(0, size_t(exp10 + 1)) + "." + digits.substr(size_t(exp10 + 1));
    }
  } else {
    out += digits.substr(0, 1);
    if (nd > 1) out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp10 < 0 ? '-' : '+', std::abs(exp10));
    out += eb;
  }
  return out;
}

// Decodes one UTF-8 sequence at s[i]; invalid bytes decode as themselves (one byte).
static uint32_t decode_utf8(std::string_view s, size_t& i) {
  unsigned char c = s[i];
  int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  if (i + len > s.size()) len = 1;
  if (len == 1) {
    ++i;
    return c;
  }
  uint32_t cp = c & (0x7F >> len);
  for (int k = 1; k < len; ++k) {
    unsigned char cc = s[i + k];
    if ((cc & 0xC0) != 0x80) {
      ++i;
      return c;
    }
    cp = (cp << 6) | (cc & 0x3F);
  }
  i += size_t(len);
  return cp;
}

static void append_hex(std::string& out, const char* prefix, uint32_t cp, int width) {
  char b[16];
  std::snprintf(b, sizeof b, "%s%0*x", prefix, width, cp);
  out += b;
}

static void append_string_repr(std::string& out, std::string_view s) {
  bool has_single = s.find('\'') != std::string_view::npos;
  bool has_double = s.find('"') != std::string_view::npos;
  char q = has_single && !has_double ? '"' : '\'';
  out += q;
  for (size_t i = 0; i < s.size();) {
    size_t start = i;
    uint32_t cp = decode_utf8(s, i);
    if (cp == uint32_t(q) || cp == '\\') {
      out += '\\';
      out += char(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp < 0x20 || (cp >= 0x7F && cp <= 0xA0) || cp == 0xAD) {
      append_hex(out, "\\x", cp, 2);
    } else if (cp == 0x2028 || cp == 0x2029 || (cp >= 0x200B && cp <= 0x200F) || cp == 0xFEFF) {
      append_hex(out, "\\u", cp, 4);
    } else {
      out.append(s.substr(start, i - start));
    }
  }
  out += q;
}

static void append_repr(std::string& out, const Value& v);

static void append_list(std::string& out, const ListData& l) {
  bool tuple = l.kind == ListData::Kind::Tuple;
  out += tuple ? '(' : '[';
  for (size_t k = 0; k < l.items.size(); ++k) {
    if (k) out += ", ";
    append_repr(out, l.items[k]);
  }
  if (tuple && l.items.size() == 1) out += ',';
  out += tuple ? ')' : ']';
}

static void append_dict(std::string& out, const DictData& d) {
  out += '{';
  for (size_t k = 0; k < d.items.size(); ++k) {
    if (k) out += ", ";
    append_repr(out, d.items[k].first);
    out += ": ";
    append_repr(out, d.items[k].second);
  }
  out += '}';
}

void append_str(std::string& out, const Value& v) {
  DepthGuard guard;
  switch (v.type) {
    case Value::Type::Undefined: return;
    case Value::Type::None: out += "None"; return;
    case Value::Type::Bool: out += v.b ? "True" : "False"; return;
    case Value::Type::Int: out += std::to_string(v.i); return;
    case Value::Type::Float: out += float_repr(v.f); return;
    case Value::Type::String: out += v.s; return;
    case Value::Type::List:
      if (v.list->kind == ListData::Kind::Generator) {
        out += "<generator object>";
      } else {
        append_list(out, *v.list);
      }
      return;
    case Value::Type::Dict: append_dict(out, *v.dict); return;
    case Value::Type::Namespace:
      out += "<Namespace ";
      append_dict(out, *v.dict);
      out += ">";
      return;
    case Value::Type::Function: out += "<function " + v.fn->name + ">"; return;
  }
}

static void append_repr(std::string& out, const Value& v) {
  if (v.is_string()) {
    if (v.safe) out += "Markup(";
    append_string_repr(out, v.s);
    if (v.safe) out += ")";
  } else {
    append_str(out, v);
  }
}

std::string to_str(const Value& v) {
  if (v.is_string()) return v.s;
  std::string out;
  append_str(out, v);
  return out;
}

std::string to_repr(const Value& v) {
  std::string out;
  append_repr(out, v);
  return out;
}

bool equals(const Value& a, const Value& b) {
  DepthGuard guard;
  using T = Value::Type;
  if (a.is_number() && b.is_number()) {
    if (a.type == T::Float || b.type == T::Float) return a.as_double() == b.as_double();
    return a.as_int() == b.as_int();
  }
  if (a.type != b.type) return false;
  switch (a.type) {
    case T::Undefined:
    case T::None: return true;
    case T::String: return a.s == b.s;
    case T::List: {
      if (a.list == b.list) return true;
      if (a.list->kind != b.list->kind || a.list->kind == ListData::Kind::Generator) return false;
      const auto &x = a.list->items, &y = b.list->items;
      if (x.size() != y.size()) return false;
      for (size_t k = 0; k < x.size(); ++k)
        if (!equals(x[k], y[k])) return false;
      return true;
    }
    case T::Dict: {
      if (a.dict == b.dict) return true;
      if (a.dict->items.size() != b.dict->items.size()) return false;
      for (const auto& [k, v] : a.dict->items) {
        const Value* o = b.dict->find(k);
        if (!o || !equals(v, *o)) return false;
      }
      return true;
    }
    case T::Namespace: return a.dict == b.dict;
    case T::Function: return a.fn == b.fn;
    default: return false;
  }
}

int compare(const Value& a, const Value& b) {
  DepthGuard guard;
  if (a.is_number() && b.is_number()) {
    if (a.type == Value::Type::Float || b.type == Value::Type::Float) {
      double x = a.as_double(), y = b.as_double();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    int64_t x = a.as_int(), y = b.as_int();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) return a.s.compare(b.s) < 0 ? -1 : a.s == b.s ? 0 : 1;
  if (a.is_list() && b.is_list() && a.list->kind == b.list->kind && a.list->kind != ListData::Kind::Generator) {
    const auto &x = a.list->items, &y = b.list->items;
    for (size_t k = 0; k < x.size() && k < y.size(); ++k) {
      if (equals(x[k], y[k])) continue;
      return compare(x[k], y[k]);
    }
    return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
  }
  fail("TypeError: '<' not supported between instances of '" + type_name(a) + "' and '" + type_name(b) + "'");
}

template <class Json>
static Value value_from_json(const Json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return Value::none();
    case nlohmann::json::value_t::boolean: return Value::boolean(j.template get<bool>());
    case nlohmann::json::value_t::number_integer: return Value::integer(j.template get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      uint64_t u = j.template get<uint64_t>();
      if (u > uint64_t(INT64_MAX)) return Value::number(double(u));
      return Value::integer(int64_t(u));
    }
    case nlohmann::json::value_t::number_float: return Value::number(j.template get<double>());
    case nlohmann::json::value_t::string: return Value::string(j.template get<std::string>());
    case nlohmann::json::value_t::array: {
      Value v = Value::new_list();
      v.list->items.reserve(j.size());
      for (const auto& e : j) v.list->items.push_back(value_from_json(e));
      return v;
    }
    case nlohmann::json::value_t::object: {
      Value v = Value::new_dict();
      v.dict->items.reserve(j.size());
      for (auto it = j.begin(); it != j.end(); ++it)
        v.dict->items.emplace_back(Value::string(it.key()), value_from_json(it.value()));
      return v;
    }
    default: return Value::none();  // binary / discarded: not produced by parsing JSON text
  }
}

Value from_json(const nlohmann::json& j) { return value_from_json(j); }
Value from_json(const nlohmann::ordered_json& j) { return value_from_json(j); }

static void append_json_string(std::string& out, std::string_view s, bool ensure_ascii) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    size_t start = i;
    uint32_t cp = decode_utf8(s, i);
    switch (cp) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (cp < 0x20 || (ensure_ascii && cp > 0x7E)) {
      if (cp > 0xFFFF) {
        uint32_t c = cp - 0x10000;
        append_hex(out, "\\u", 0xD800 + (c >> 10), 4);
        append_hex(out, "\\u", 0xDC00 + (c & 0x3FF), 4);
      } else {
        append_hex(out, "\\u", cp, 4);
      }
    } else {
      out.append(s.substr(start, i - start));
    }
  }
  out += '"';
}

static std::string json_float(double x) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "Infinity" : "-Infinity";
  return float_repr(x);
}

static std::string json_key(const Value& k) {
  switch (k.type) {
    case Value::Type::String: return k.s;
    case Value::Type::Int: return std::to_string(k.i);
    case Value::Type::Bool: return k.b ? "true" : "false";
    case Value::Type::Float: return json_float(k.f);
    case Value::Type::None: return "null";
    default: fail("TypeError: keys must be str, int, float, bool or None, not " + type_name(k));
  }
}

static void append_newline(std::string& out, const JsonOptions& o, int depth) {
  if (o.indent < 0) return;
  out += '\n';
  out.append(size_t(o.indent) * size_t(depth), ' ');
}

static void append_json(std::string& out, const Value& v, const JsonOptions& o, int depth) {
  if (depth > 512) fail("ValueError: value too deeply nested for tojson");
  switch (v.type) {
    case Value::Type::None: out += "null"; return;
    case Value::Type::Bool: out += v.b ? "true" : "false"; return;
    case Value::Type::Int: out += std::to_string(v.i); return;
    case Value::Type::Float: out += json_float(v.f); return;
    case Value::Type::String: append_json_string(out, v.s, o.ensure_ascii); return;
    case Value::Type::List: {
      if (v.list->kind == ListData::Kind::Generator) break;
      const auto& items = v.list->items;
      if (items.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t k = 0; k < items.size(); ++k) {
        if (k) out += o.item_sep;
        append_newline(out, o, depth + 1);
        append_json(out, items[k], o, depth + 1);
      }
      append_newline(out, o, depth);
      out += ']';
      return;
    }
    case Value::Type::Dict: {
      std::vector<std::pair<std::string, const Value*>> items;
      for (const auto& [k, val] : v.dict->items) items.emplace_back(json_key(k), &val);
      if (items.empty()) {
        out += "{}";
        return;
      }
      if (o.sort_keys)
        std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      out += '{';
      for (size_t k = 0; k < items.size(); ++k) {
        if (k) out += o.item_sep;
        append_newline(out, o, depth + 1);
        append_json_string(out, items[k].first, o.ensure_ascii);
        out += o.key_sep;
        append_json(out, *items[k].second, o, depth + 1);
      }
      append_newline(out, o, depth);
      out += '}';
      return;
    }
    default: break;
  }
  fail("TypeError: Object of type " + type_name(v) + " is not JSON serializable");
}

std::string to_json(const Value& v, const JsonOptions& options) {
  std::string out;
  append_json(out, v, options, 0);
  return out;
}

}  // namespace pensieve::text::jinja
