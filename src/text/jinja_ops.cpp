// Attribute/item access, iteration, membership and the arithmetic operators, with Python's
// semantics and jinja2's default Undefined behaviour (using an undefined value in arithmetic,
// attribute access or subscription raises; printing or iterating it does not).
#include <algorithm>
#include <cmath>
#include <optional>

#include "text/jinja_render.h"

namespace pensieve::text::jinja {

namespace {

[[noreturn]] void fail_undefined(const Value& u) { fail("UndefinedError: " + (u.s.empty() ? std::string("value is undefined") : u.s)); }

std::string object_desc(const Value& v) { return "'" + type_name(v) + " object'"; }

int64_t normalize_index(int64_t i, size_t n) { return i < 0 ? i + int64_t(n) : i; }

}  // namespace

std::vector<std::string_view> utf8_chars(std::string_view s) {
  std::vector<std::string_view> out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t j = i + 1;
    while (j < s.size() && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) ++j;
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

Value get_attr(const Value& obj, std::string_view name) {
  switch (obj.type) {
    case Value::Type::Undefined: fail_undefined(obj);
    case Value::Type::Namespace:
    case Value::Type::Dict: {
      if (obj.type == Value::Type::Dict && has_method(obj, name)) return bound_method(obj, name);
      if (const Value* v = obj.dict->find(name)) return *v;
      break;
    }
    case Value::Type::String:
    case Value::Type::List:
      if (has_method(obj, name)) return bound_method(obj, name);
      break;
    default: break;
  }
  return Value::undefined(object_desc(obj) + " has no attribute '" + std::string(name) + "'");
}

Value get_item(const Value& obj, const Value& key) {
  switch (obj.type) {
    case Value::Type::Undefined: fail_undefined(obj);
    case Value::Type::Dict:
    case Value::Type::Namespace:
      if (const Value* v = obj.dict->find(key)) return *v;
      if (key.is_string()) return get_attr(obj, key.s);
      return Value::undefined(object_desc(obj) + " has no element " + to_repr(key));
    case Value::Type::List:
      if (obj.list->kind == ListData::Kind::Generator) fail("TypeError: 'generator' object is not subscriptable");
      if (key.is_int()) {
        int64_t i = normalize_index(key.as_int(), obj.list->items.size());
        if (i >= 0 && size_t(i) < obj.list->items.size()) return obj.list->items[size_t(i)];
        return Value::undefined(object_desc(obj) + " has no element " + std::to_string(key.as_int()));
      }
      break;
    case Value::Type::String:
      if (key.is_int()) {
        auto chars = utf8_chars(obj.s);
        int64_t i = normalize_index(key.as_int(), chars.size());
        if (i >= 0 && size_t(i) < chars.size()) return Value::string(std::string(chars[size_t(i)]));
        return Value::undefined(object_desc(obj) + " has no element " + std::to_string(key.as_int()));
      }
      break;
    default: break;
  }
  if (key.is_string()) return get_attr(obj, key.s);
  return Value::undefined(object_desc(obj) + " has no element " + to_repr(key));
}

// Python slice semantics (start/stop/step may be None).
static std::vector<size_t> slice_indices(size_t n, const Value& start, const Value& stop, const Value& step) {
  auto as_opt = [](const Value& v, const char* what) -> std::optional<int64_t> {
    if (v.is_none() || v.is_undefined()) return std::nullopt;
    if (!v.is_int()) fail(std::string("TypeError: slice ") + what + " must be an integer or None");
    return v.as_int();
  };
  int64_t st = as_opt(step, "step").value_or(1);
  if (st == 0) fail("ValueError: slice step cannot be zero");
  int64_t len = int64_t(n);
  auto clamp = [&](std::optional<int64_t> v, int64_t dflt) {
    if (!v) return dflt;
    int64_t x = *v < 0 ? *v + len : *v;
    if (st > 0) return std::clamp<int64_t>(x, 0, len);
    return std::clamp<int64_t>(x, -1, len - 1);
  };
  int64_t b = clamp(as_opt(start, "start"), st > 0 ? 0 : len - 1);
  int64_t e = clamp(as_opt(stop, "stop"), st > 0 ? len : -1);
  std::vector<size_t> idx;
  for (int64_t k = b; st > 0 ? k < e : k > e; k += st) idx.push_back(size_t(k));
  return idx;
}

Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
  if (obj.is_undefined()) fail_undefined(obj);
  if (obj.is_string()) {
    auto chars = utf8_chars(obj.s);
    std::string out;
    for (size_t k : slice_indices(chars.size(), start, stop, step)) out += chars[k];
    return Value::string(std::move(out));
  }
  if (obj.is_list() && obj.list->kind != ListData::Kind::Generator) {
    Value out = obj.list->kind == ListData::Kind::Tuple ? Value::new_tuple() : Value::new_list();
    for (size_t k : slice_indices(obj.list->items.size(), start, stop, step)) out.list->items.push_back(obj.list->items[k]);
    return out;
  }
  fail("TypeError: '" + type_name(obj) + "' object is not subscriptable");
}

ValueList iterate(const Value& v) {
  switch (v.type) {
    case Value::Type::Undefined: return {};
    case Value::Type::List: return v.list->items;
    case Value::Type::Dict: {
      ValueList keys;
      keys.reserve(v.dict->items.size());
      for (const auto& kv : v.dict->items) keys.push_back(kv.first);
      return keys;
    }
    case Value::Type::String: {
      ValueList chars;
      for (auto c : utf8_chars(v.s)) chars.push_back(Value::string(std::string(c)));
      return chars;
    }
    default: fail("TypeError: '" + type_name(v) + "' object is not iterable");
  }
}

bool contains(const Value& container, const Value& item) {
  switch (container.type) {
    case Value::Type::Undefined: return false;
    case Value::Type::String:
      if (!item.is_string()) fail("TypeError: 'in <string>' requires string as left operand, not " + type_name(item));
      return container.s.find(item.s) != std::string::npos;
    case Value::Type::List:
      for (const auto& x : container.list->items)
        if (equals(x, item)) return true;
      return false;
    case Value::Type::Dict: return container.dict->find(item) != nullptr;
    default: fail("TypeError: argument of type '" + type_name(container) + "' is not iterable");
  }
}

Value negate(const Value& v) {
  if (v.is_undefined()) fail_undefined(v);
  if (v.type == Value::Type::Float) return Value::number(-v.f);
  if (v.is_int()) {
    if (v.as_int() == INT64_MIN) fail("OverflowError: integer too large");
    return Value::integer(-v.as_int());
  }
  fail("TypeError: bad operand type for unary -: '" + type_name(v) + "'");
}

namespace {

// markupsafe.escape, applied when a plain string meets a Markup string in `+`.
std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '\'': out += "&#39;"; break;
      case '"': out += "&#34;"; break;
      default: out += c;
    }
  }
  return out;
}

[[noreturn]] void unsupported(std::string_view op, const Value& a, const Value& b) {
  fail("TypeError: unsupported operand type(s) for " + std::string(op) + ": '" + type_name(a) + "' and '" + type_name(b) + "'");
}

template <class Op>
Value checked_int(Op op, int64_t a, int64_t b) {
  int64_t r = 0;
  if (op(a, b, &r)) fail("OverflowError: integer result too large");
  return Value::integer(r);
}
bool add_ovf(int64_t a, int64_t b, int64_t* r) { return __builtin_add_overflow(a, b, r); }
bool sub_ovf(int64_t a, int64_t b, int64_t* r) { return __builtin_sub_overflow(a, b, r); }
bool mul_ovf(int64_t a, int64_t b, int64_t* r) { return __builtin_mul_overflow(a, b, r); }

Value repeat(const Value& seq, int64_t times, const Limits& limits) {
  if (times < 0) times = 0;
  if (seq.is_string()) {
    if (!seq.s.empty() && uint64_t(times) > limits.max_output_bytes / seq.s.size()) fail("string repetition too large");
    std::string out;
    out.reserve(seq.s.size() * size_t(times));
    for (int64_t k = 0; k < times; ++k) out += seq.s;
    return Value::string(std::move(out));
  }
  size_t n = seq.list->items.size();
  if (n && uint64_t(times) > limits.max_list_items / n) fail("list repetition too large");
  Value out = seq.list->kind == ListData::Kind::Tuple ? Value::new_tuple() : Value::new_list();
  for (int64_t k = 0; k < times; ++k) out.list->items.insert(out.list->items.end(), seq.list->items.begin(), seq.list->items.end());
  return out;
}

Value add(const Value& a, const Value& b, const Limits& limits) {
  if (a.is_string() && b.is_string()) {
    if (a.s.size() + b.s.size() > limits.max_output_bytes) fail("string too large");
    if (a.safe == b.safe) return Value::string(a.s + b.s, a.safe);
    // Markup + str (or str + Markup) escapes the plain side and stays Markup.
    return Value::string((a.safe ? a.s : html_escape(a.s)) + (b.safe ? b.s : html_escape(b.s)), true);
  }
  if (a.is_list() && b.is_list() && a.list->kind == b.list->kind && a.list->kind != ListData::Kind::Generator) {
    if (a.list->items.size() + b.list->items.size() > limits.max_list_items) fail("list too large");
    Value out = a.list->kind == ListData::Kind::Tuple ? Value::new_tuple() : Value::new_list();
    out.list->items = a.list->items;
    out.list->items.insert(out.list->items.end(), b.list->items.begin(), b.list->items.end());
    return out;
  }
  if (a.is_number() && b.is_number()) {
    if (a.type == Value::Type::Float || b.type == Value::Type::Float) return Value::number(a.as_double() + b.as_double());
    return checked_int(add_ovf, a.as_int(), b.as_int());
  }
  if (a.is_string()) fail("TypeError: can only concatenate str (not \"" + type_name(b) + "\") to str");
  if (a.is_list() && a.list->kind == ListData::Kind::List)
    fail("TypeError: can only concatenate list (not \"" + type_name(b) + "\") to list");
  unsupported("+", a, b);
}

Value floor_div_or_mod(std::string_view op, const Value& a, const Value& b) {
  if (a.type == Value::Type::Float || b.type == Value::Type::Float) {
    double x = a.as_double(), y = b.as_double();
    if (y == 0) fail("ZeroDivisionError: float division by zero");
    double m = std::fmod(x, y);
    if (m != 0 && ((m < 0) != (y < 0))) m += y;
    if (op == "%") return Value::number(m);
    return Value::number(std::floor(x / y));
  }
  int64_t x = a.as_int(), y = b.as_int();
  if (y == 0) fail("ZeroDivisionError: integer division or modulo by zero");
  if (x == INT64_MIN && y == -1) {
    if (op == "%") return Value::integer(0);
    fail("OverflowError: integer result too large");
  }
  int64_t q = x / y, r = x % y;
  if (r != 0 && ((r < 0) != (y < 0))) {
    q -= 1;
    r += y;
  }
  return Value::integer(op == "%" ? r : q);
}

Value power(const Value& a, const Value& b) {
  if (a.type == Value::Type::Float || b.type == Value::Type::Float || b.as_int() < 0)
    return Value::number(std::pow(a.as_double(), b.as_double()));
  int64_t base = a.as_int(), e = b.as_int(), r = 1;
  while (e > 0) {
    if (e & 1)
      if (__builtin_mul_overflow(r, base, &r)) fail("OverflowError: integer result too large");
    e >>= 1;
    if (e > 0 && __builtin_mul_overflow(base, base, &base)) fail("OverflowError: integer result too large");
  }
  return Value::integer(r);
}

}  // namespace

Value binary_op(std::string_view op, const Value& a, const Value& b, const Limits& limits) {
  if (op == "~") {
    std::string s = to_str(a);
    append_str(s, b);
    if (s.size() > limits.max_output_bytes) fail("string too large");
    return Value::string(std::move(s));
  }
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  if (op == "+") return add(a, b, limits);
  if (op == "*") {
    if ((a.is_string() || a.is_list()) && b.is_int()) return repeat(a, b.as_int(), limits);
    if ((b.is_string() || b.is_list()) && a.is_int()) return repeat(b, a.as_int(), limits);
  }
  if (a.type == Value::Type::List && a.list->kind == ListData::Kind::Generator) unsupported(op, a, b);
  if (!a.is_number() || !b.is_number()) unsupported(op, a, b);
  bool floats = a.type == Value::Type::Float || b.type == Value::Type::Float;
  if (op == "-") {
    if (floats) return Value::number(a.as_double() - b.as_double());
    return checked_int(sub_ovf, a.as_int(), b.as_int());
  }
  if (op == "*") {
    if (floats) return Value::number(a.as_double() * b.as_double());
    return checked_int(mul_ovf, a.as_int(), b.as_int());
  }
  if (op == "/") {
    if (b.as_double() == 0) fail("ZeroDivisionError: division by zero");
    return Value::number(a.as_double() / b.as_double());
  }
  if (op == "//" || op == "%") return floor_div_or_mod(op, a, b);
  if (op == "**") return power(a, b);
  fail("unknown operator " + std::string(op));
}

}  // namespace pensieve::text::jinja
