// Values of the Jinja interpreter, with Python's semantics where templates can observe them:
// truthiness, str()/repr() printing, equality and ordering, json.dumps (Hugging Face's tojson).
//
// Lists, dicts and namespaces are shared by reference (as Python objects are), so `ns.x = ...`
// and `list.append(...)` are visible through every alias. Dicts keep insertion order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace pensieve::text::jinja {

// Every runtime or syntax problem is thrown as this and turned into an Error at the API boundary.
struct JinjaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] void fail(const std::string& message);

struct Value;
struct ListData;
struct DictData;
struct Function;

using ValueList = std::vector<Value>;

struct Value {
  enum class Type : uint8_t { Undefined, None, Bool, Int, Float, String, List, Dict, Namespace, Function };

  Type type = Type::Undefined;
  bool b = false;
  bool safe = false;  // a markupsafe.Markup string (from |safe); `+` escapes the other operand
  int64_t i = 0;
  double f = 0;
  std::string s;  // String; for Undefined, the message jinja2 would raise when it is used
  std::shared_ptr<ListData> list;
  std::shared_ptr<DictData> dict;  // Dict and Namespace
  std::shared_ptr<const Function> fn;

  Value() = default;
  static Value undefined(std::string hint) {
    Value v;
    v.s = std::move(hint);
    return v;
  }
  static Value none() { return of_type(Type::None); }
  static Value boolean(bool x) {
    Value v = of_type(Type::Bool);
    v.b = x;
    return v;
  }
  static Value integer(int64_t x) {
    Value v = of_type(Type::Int);
    v.i = x;
    return v;
  }
  static Value number(double x) {
    Value v = of_type(Type::Float);
    v.f = x;
    return v;
  }
  static Value string(std::string x, bool is_safe = false) {
    Value v = of_type(Type::String);
    v.s = std::move(x);
    v.safe = is_safe;
    return v;
  }
  static Value new_list();  // list kind
  static Value new_tuple();
  static Value new_generator();  // result of map/select/...: iterable, but no len()/tojson
  static Value new_dict();
  static Value new_namespace();
  static Value function(std::shared_ptr<const Function> f) {
    Value v = of_type(Type::Function);
    v.fn = std::move(f);
    return v;
  }

  bool is_undefined() const { return type == Type::Undefined; }
  bool is_none() const { return type == Type::None; }
  bool is_string() const { return type == Type::String; }
  bool is_int() const { return type == Type::Int || type == Type::Bool; }  // Python: bool is an int
  bool is_number() const { return type == Type::Int || type == Type::Float || type == Type::Bool; }
  bool is_list() const { return type == Type::List; }
  bool is_dict() const { return type == Type::Dict; }
  double as_double() const { return type == Type::Float ? f : type == Type::Bool ? (b ? 1 : 0) : double(i); }
  int64_t as_int() const { return type == Type::Bool ? (b ? 1 : 0) : i; }

 private:
  static Value of_type(Type t) {
    Value v;
    v.type = t;
    return v;
  }
};

struct ListData {
  enum class Kind : uint8_t { List, Tuple, Generator };
  Kind kind = Kind::List;
  ValueList items;
};

struct DictData {
  std::vector<std::pair<Value, Value>> items;  // insertion order, as Python 3.7+ dicts
  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  void set(Value key, Value value);
};

// Arguments of a call: positional then keyword, in source order.
struct CallArgs {
  ValueList positional;
  std::vector<std::pair<std::string, Value>> keyword;
  const Value* kw(std::string_view name) const;
  // Python-style binding: positional index `pos`, else keyword `name`, else nullptr.
  const Value* get(size_t pos, std::string_view name) const;
};

class Renderer;
struct Function {
  std::string name;
  std::function<Value(Renderer&, CallArgs&)> call;
};

// ---- Python semantics ----
bool truthy(const Value& v);
std::string type_name(const Value& v);  // Python's type name: str, int, dict, list, NoneType, ...
std::string to_str(const Value& v);     // str(v)
std::string to_repr(const Value& v);    // repr(v)
void append_str(std::string& out, const Value& v);
bool equals(const Value& a, const Value& b);
int compare(const Value& a, const Value& b);  // <0, 0, >0; throws TypeError for unorderable types
size_t utf8_length(std::string_view s);        // len() of a str: code points

// ---- JSON ----
Value from_json(const nlohmann::json& j);
Value from_json(const nlohmann::ordered_json& j);
struct JsonOptions {
  bool ensure_ascii = false;
  int indent = -1;  // -1: no newlines (json.dumps indent=None)
  std::string item_sep = ", ";
  std::string key_sep = ": ";
  bool sort_keys = false;
};
// json.dumps(v, ...); throws JinjaError for values Python cannot serialise.
std::string to_json(const Value& v, const JsonOptions& options);

// Python float repr: shortest round-trip digits, exponent form outside [1e-4, 1e16).
std::string float_repr(double x);

}  // namespace pensieve::text::jinja
