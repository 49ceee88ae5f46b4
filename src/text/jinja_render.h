// Evaluation of a parsed template: scopes, statements, expressions, and the builtins
// (filters, tests, str/list/dict methods, global functions) that Hugging Face's chat-template
// environment provides.
//
// A Renderer is single-use and single-threaded; the Template it renders is immutable and can be
// shared by many renderers at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "text/jinja_ast.h"
#include "text/jinja_value.h"

namespace pensieve::text::jinja {

// Bounds that keep a hostile template from exhausting memory, stack or time.
struct Limits {
  size_t max_output_bytes = size_t(32) << 20;  // also caps any single string value
  size_t max_list_items = size_t(1) << 18;
  int max_call_depth = 100;                      // nested macro calls
  uint64_t max_steps = 2'000'000;                // statements + loop iterations + calls
};

struct Scope {
  std::shared_ptr<Scope> parent;
  std::vector<std::pair<std::string, Value>> vars;

  Value* find_local(std::string_view name);
  const Value* lookup(std::string_view name) const;
  void set(std::string_view name, Value value);
};

class Renderer {
 public:
  // `globals` become the root scope (messages, tools, bos_token, ...). `today` is "YYYY-MM-DD"
  // for strftime_now, or empty for the current date.
  Renderer(const Template& tmpl, std::vector<std::pair<std::string, Value>> globals, std::string today,
           Limits limits = {});
  std::string render();  // throws JinjaError

  // Used by the builtins.
  Value call(const Value& callee, CallArgs& args);
  const Limits& limits() const { return limits_; }
  const std::string& today() const { return today_; }
  void count_step();

 private:
  enum class Flow { Normal, Break, Continue };

  const Template& tmpl_;
  std::string today_;
  Limits limits_;
  std::shared_ptr<Scope> root_;
  std::shared_ptr<Scope> scope_;  // innermost
  std::string* out_ = nullptr;
  int call_depth_ = 0;
  uint64_t steps_ = 0;

  Flow exec_body(const Body& body);
  Flow exec(const Stmt& s);
  void write(std::string_view s);
  void write_value(const Value& v);
  std::string capture(const Body& body);  // renders a body into a string
  Flow exec_if(const Stmt& s);
  Flow exec_for(const Stmt& s);
  void exec_set(const Stmt& s);
  void exec_block_capture(const Stmt& s);
  void define_macro(const Stmt& s);
  Value call_macro(const Stmt& def, const std::weak_ptr<Scope>& def_scope, CallArgs& args, const Value* caller);
  void assign(const Expr& target, const Value& v);
  Value apply_block_filter(const Expr& chain, Value body_output);

  Value eval(const Expr& e);
  Value eval_call(const Expr& e);
  Value eval_compare(const Expr& e);
  void eval_args(const Expr& e, size_t first, CallArgs& args);
};

// ---- access and operators (jinja_ops.cpp) ----
Value get_attr(const Value& obj, std::string_view name);  // jinja getattr: attribute, then item
Value get_item(const Value& obj, const Value& key);       // jinja getitem: item, then attribute
Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step);
ValueList iterate(const Value& v);                         // for-loop items; throws if not iterable
bool contains(const Value& container, const Value& item);  // `item in container`
Value binary_op(std::string_view op, const Value& a, const Value& b, const Limits& limits);
Value negate(const Value& v);
std::vector<std::string_view> utf8_chars(std::string_view s);

// ---- builtins (jinja_filters.cpp, jinja_methods.cpp) ----
Value apply_filter(Renderer& r, std::string_view name, const Value& v, CallArgs& args);
bool apply_test(Renderer& r, std::string_view name, const Value& v, CallArgs& args);
bool filter_exists(std::string_view name);  // jinja2 rejects unknown filters/tests at compile time
bool test_exists(std::string_view name);
bool has_method(const Value& obj, std::string_view name);
Value call_method(Renderer& r, const Value& obj, std::string_view name, CallArgs& args);
Value bound_method(const Value& obj, std::string_view name);  // `obj.name` as a callable value
std::vector<std::pair<std::string, Value>> builtin_globals();   // range, namespace, raise_exception, ...

}  // namespace pensieve::text::jinja
