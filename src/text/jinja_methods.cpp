// Python methods of str, list and dict that templates call (`content.strip()`,
// `message.get('x')`, ...), and the global functions of the chat-template environment.
#include <algorithm>
#include <ctime>

#include "text/jinja_render.h"
#include "text/jinja_strings.h"

namespace pensieve::text::jinja {

namespace {

const Value& need(const CallArgs& a, size_t pos, std::string_view name, std::string_view method) {
  const Value* v = a.get(pos, name);
  if (!v) fail("TypeError: " + std::string(method) + "() missing argument '" + std::string(name) + "'");
  return *v;
}
const std::string& need_str(const CallArgs& a, size_t pos, std::string_view name, std::string_view method) {
  const Value& v = need(a, pos, name, method);
  if (!v.is_string()) fail("TypeError: " + std::string(method) + "() argument must be str, not " + type_name(v));
  return v.s;
}
int64_t opt_int(const CallArgs& a, size_t pos, std::string_view name, int64_t dflt) {
  const Value* v = a.get(pos, name);
  if (!v || v->is_none()) return dflt;
  if (!v->is_int()) fail("TypeError: '" + type_name(*v) + "' object cannot be interpreted as an integer");
  return v->as_int();
}
Value str_list(std::vector<std::string> parts) {
  Value l = Value::new_list();
  for (auto& p : parts) l.list->items.push_back(Value::string(std::move(p)));
  return l;
}

constexpr std::string_view kStrMethods[] = {"strip", "lstrip", "rstrip", "upper", "lower", "title", "capitalize",
                                            "startswith", "endswith", "split", "splitlines", "replace", "find",
                                            "rfind", "count", "join", "format", "isdigit", "isalpha", "isalnum",
                                            "isspace", "isupper", "islower"};
constexpr std::string_view kListMethods[] = {"append", "pop", "insert", "extend", "index", "count"};
constexpr std::string_view kDictMethods[] = {"items", "keys", "values", "get"};

template <size_t N>
bool in(const std::string_view (&names)[N], std::string_view name) {
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

bool affix_match(const std::string& s, const Value& affix, bool prefix) {
  auto one = [&](const Value& a) {
    if (!a.is_string()) fail("TypeError: startswith/endswith first arg must be str or a tuple of str");
    if (a.s.size() > s.size()) return false;
    return prefix ? s.compare(0, a.s.size(), a.s) == 0 : s.compare(s.size() - a.s.size(), a.s.size(), a.s) == 0;
  };
  if (affix.is_list()) return std::any_of(affix.list->items.begin(), affix.list->items.end(), one);
  return one(affix);
}

bool all_chars(const std::string& s, bool (*pred)(unsigned char)) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) { return pred((unsigned char)c); });
}

// str.format with {} / {0} / {name} fields (no format specs beyond plain substitution).
std::string py_format(const std::string& fmt, const CallArgs& a) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c == '{' && i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out += '{';
      ++i;
    } else if (c == '}' && i + 1 < fmt.size() && fmt[i + 1] == '}') {
      out += '}';
      ++i;
    } else if (c == '{') {
      size_t close = fmt.find('}', i);
      if (close == std::string::npos) fail("ValueError: Single '{' encountered in format string");
      std::string field = fmt.substr(i + 1, close - i - 1);
      field = field.substr(0, field.find_first_of(":!"));
      const Value* v = nullptr;
      if (field.empty()) {
        v = auto_index < a.positional.size() ? &a.positional[auto_index++] : nullptr;
      } else if (std::all_of(field.begin(), field.end(), [](char d) { return d >= '0' && d <= '9'; })) {
        size_t k = field.size() < 9 ? std::stoul(field) : SIZE_MAX;
        v = k < a.positional.size() ? &a.positional[k] : nullptr;
      } else {
        v = a.kw(field);
      }
      if (!v) fail("IndexError: format field '" + field + "' has no value");
      append_str(out, *v);
      i = close;
    } else {
      out += c;
    }
  }
  return out;
}

Value string_method(Renderer& r, const Value& obj, std::string_view m, CallArgs& a) {
  const std::string& s = obj.s;
  if (m == "strip" || m == "lstrip" || m == "rstrip") {
    const Value* chars = a.get(0, "chars");
    std::string cs = chars && !chars->is_none() ? to_str(*chars) : std::string();
    return Value::string(str::strip(s, m != "rstrip", m != "lstrip", chars && !chars->is_none() ? &cs : nullptr));
  }
  if (m == "upper") return Value::string(str::upper(s));
  if (m == "lower") return Value::string(str::lower(s));
  if (m == "title") return Value::string(str::py_title(s));
  if (m == "capitalize") return Value::string(str::capitalize(s));
  if (m == "startswith") return Value::boolean(affix_match(s, need(a, 0, "prefix", m), true));
  if (m == "endswith") return Value::boolean(affix_match(s, need(a, 0, "suffix", m), false));
  if (m == "split") {
    const Value* sep = a.get(0, "sep");
    bool has_sep = sep && !sep->is_none();
    std::string sp = has_sep ? to_str(*sep) : std::string();
    return str_list(str::split(s, has_sep ? &sp : nullptr, opt_int(a, 1, "maxsplit", -1)));
  }
  if (m == "splitlines") return str_list(str::splitlines(s));
  if (m == "replace")
    return Value::string(str::replace(s, need_str(a, 0, "old", m), need_str(a, 1, "new", m), opt_int(a, 2, "count", -1)));
  if (m == "find" || m == "rfind") {
    const std::string& sub = need_str(a, 0, "sub", m);
    size_t p = m == "find" ? s.find(sub) : s.rfind(sub);
    return Value::integer(p == std::string::npos ? -1 : int64_t(utf8_length(std::string_view(s).substr(0, p))));
  }
  if (m == "count") return Value::integer(int64_t(str::count(s, need_str(a, 0, "sub", m))));
  if (m == "join") {
    std::string out;
    bool first = true;
    for (const Value& item : iterate(need(a, 0, "iterable", m))) {
      if (!item.is_string()) fail("TypeError: sequence item: expected str instance, " + type_name(item) + " found");
      if (!first) out += s;
      first = false;
      out += item.s;
      if (out.size() > r.limits().max_output_bytes) fail("string too large");
    }
    return Value::string(std::move(out));
  }
  if (m == "format") return Value::string(py_format(s, a));
  if (m == "isdigit") return Value::boolean(all_chars(s, [](unsigned char c) { return c >= '0' && c <= '9'; }));
  if (m == "isalpha") return Value::boolean(all_chars(s, [](unsigned char c) { return bool(std::isalpha(c)); }));
  if (m == "isalnum") return Value::boolean(all_chars(s, [](unsigned char c) { return bool(std::isalnum(c)); }));
  if (m == "isspace") return Value::boolean(!s.empty() && str::strip(s, true, true, nullptr).empty());
  if (m == "isupper") return Value::boolean(str::upper(s) == s && str::lower(s) != s);
  if (m == "islower") return Value::boolean(str::lower(s) == s && str::upper(s) != s);
  fail("AttributeError: 'str' object has no attribute '" + std::string(m) + "'");
}

Value list_method(Renderer& r, const Value& obj, std::string_view m, CallArgs& a) {
  auto& items = obj.list->items;
  bool mutable_list = obj.list->kind == ListData::Kind::List;
  if (!mutable_list && m != "index" && m != "count")
    fail("AttributeError: '" + type_name(obj) + "' object has no attribute '" + std::string(m) + "'");
  if (m == "append" || m == "insert" || m == "extend") {
    if (items.size() >= r.limits().max_list_items) fail("list too large");
  }
  if (m == "append") {
    items.push_back(need(a, 0, "object", m));
    return Value::none();
  }
  if (m == "extend") {
    ValueList more = iterate(need(a, 0, "iterable", m));
    items.insert(items.end(), more.begin(), more.end());
    return Value::none();
  }
  if (m == "insert") {
    int64_t n = int64_t(items.size()), i = opt_int(a, 0, "index", 0);
    i = std::clamp<int64_t>(i < 0 ? i + n : i, 0, n);
    items.insert(items.begin() + i, need(a, 1, "object", m));
    return Value::none();
  }
  if (m == "pop") {
    if (items.empty()) fail("IndexError: pop from empty list");
    int64_t n = int64_t(items.size()), i = opt_int(a, 0, "index", -1);
    if (i < 0) i += n;
    if (i < 0 || i >= n) fail("IndexError: pop index out of range");
    Value v = items[size_t(i)];
    items.erase(items.begin() + i);
    return v;
  }
  const Value& x = need(a, 0, "value", m);
  if (m == "count") return Value::integer(std::count_if(items.begin(), items.end(), [&](const Value& v) { return equals(v, x); }));
  for (size_t k = 0; k < items.size(); ++k)
    if (equals(items[k], x)) return Value::integer(int64_t(k));
  fail("ValueError: " + to_repr(x) + " is not in list");
}

Value dict_method(const Value& obj, std::string_view m, CallArgs& a) {
  const auto& items = obj.dict->items;
  if (m == "get") {
    const Value* v = obj.dict->find(need(a, 0, "key", m));
    if (v) return *v;
    const Value* d = a.get(1, "default");
    return d ? *d : Value::none();
  }
  Value out = Value::new_list();  // dict views, materialised
  for (const auto& [k, v] : items) {
    if (m == "keys") {
      out.list->items.push_back(k);
    } else if (m == "values") {
      out.list->items.push_back(v);
    } else {
      Value t = Value::new_tuple();
      t.list->items = {k, v};
      out.list->items.push_back(std::move(t));
    }
  }
  return out;
}

// strftime on the pinned date (midnight) or the current local time.
std::string strftime_now(const std::string& today, const std::string& fmt) {
  std::tm tm{};
  if (!today.empty()) {
    int y = 1970, mo = 1, d = 1;
    if (std::sscanf(today.c_str(), "%d-%d-%d", &y, &mo, &d) != 3) fail("invalid pinned date '" + today + "'");
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_isdst = -1;
    std::time_t t = timegm(&tm);
    gmtime_r(&t, &tm);  // fills in the weekday and day of year
  } else {
    std::time_t t = std::time(nullptr);
    localtime_r(&t, &tm);
  }
  if (fmt.size() > 4096) fail("strftime format too long");
  std::string buf(fmt.size() * 16 + 64, '\0');
  size_t n = std::strftime(buf.data(), buf.size(), fmt.c_str(), &tm);
  buf.resize(n);
  return buf;
}

std::shared_ptr<Function> make_fn(std::string name, std::function<Value(Renderer&, CallArgs&)> f) {
  auto fn = std::make_shared<Function>();
  fn->name = std::move(name);
  fn->call = std::move(f);
  return fn;
}

Value range_fn(Renderer& r, CallArgs& a) {
  int64_t start = 0, stop = 0, step = 1;
  auto num = [&](size_t k) {
    if (!a.positional[k].is_int()) fail("TypeError: range() arguments must be integers");
    return a.positional[k].as_int();
  };
  if (a.positional.size() == 1) {
    stop = num(0);
  } else if (a.positional.size() >= 2) {
    start = num(0);
    stop = num(1);
    if (a.positional.size() >= 3) step = num(2);
  } else {
    fail("TypeError: range expected at least 1 argument");
  }
  if (step == 0) fail("ValueError: range() arg 3 must not be zero");
  Value out = Value::new_list();
  for (int64_t k = start; step > 0 ? k < stop : k > stop; k += step) {
    if (out.list->items.size() >= r.limits().max_list_items) fail("range too large");
    out.list->items.push_back(Value::integer(k));
    if ((step > 0 && k > INT64_MAX - step) || (step < 0 && k < INT64_MIN - step)) break;
  }
  return out;
}

}  // namespace

bool has_method(const Value& obj, std::string_view name) {
  switch (obj.type) {
    case Value::Type::String: return in(kStrMethods, name);
    case Value::Type::List: return obj.list->kind != ListData::Kind::Generator && in(kListMethods, name);
    case Value::Type::Dict: return in(kDictMethods, name);
    default: return false;
  }
}

Value call_method(Renderer& r, const Value& obj, std::string_view name, CallArgs& args) {
  switch (obj.type) {
    case Value::Type::String: return string_method(r, obj, name, args);
    case Value::Type::List: return list_method(r, obj, name, args);
    case Value::Type::Dict: return dict_method(obj, name, args);
    default: fail("AttributeError: '" + type_name(obj) + "' object has no attribute '" + std::string(name) + "'");
  }
}

Value bound_method(const Value& obj, std::string_view name) {
  std::string n(name);
  return Value::function(make_fn(type_name(obj) + "." + n, [obj, n](Renderer& r, CallArgs& a) { return call_method(r, obj, n, a); }));
}

std::vector<std::pair<std::string, Value>> builtin_globals() {
  std::vector<std::pair<std::string, Value>> g;
  g.emplace_back("raise_exception", Value::function(make_fn("raise_exception", [](Renderer&, CallArgs& a) -> Value {
                   fail(a.positional.empty() ? std::string("raise_exception called") : to_str(a.positional[0]));
                 })));
  g.emplace_back("strftime_now", Value::function(make_fn("strftime_now", [](Renderer& r, CallArgs& a) -> Value {
                   return Value::string(strftime_now(r.today(), need_str(a, 0, "format", "strftime_now")));
                 })));
  g.emplace_back("range", Value::function(make_fn("range", range_fn)));
  auto ns_or_dict = [](bool ns) {
    return [ns](Renderer&, CallArgs& a) -> Value {
      Value v = ns ? Value::new_namespace() : Value::new_dict();
      for (const Value& p : a.positional) {
        if (!p.is_dict()) fail("TypeError: namespace()/dict() positional argument must be a mapping");
        for (const auto& [k, x] : p.dict->items) v.dict->set(k, x);
      }
      for (const auto& [k, x] : a.keyword) v.dict->set(Value::string(k), x);
      return v;
    };
  };
  g.emplace_back("namespace", Value::function(make_fn("namespace", ns_or_dict(true))));
  g.emplace_back("dict", Value::function(make_fn("dict", ns_or_dict(false))));
  return g;
}

}  // namespace pensieve::text::jinja
