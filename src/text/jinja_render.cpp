#include "text/jinja_render.h"

namespace pensieve::text::jinja {

Value* Scope::find_local(std::string_view name) {
  for (auto& [k, v] : vars)
    if (k == name) return &v;
  return nullptr;
}

const Value* Scope::lookup(std::string_view name) const {
  for (const Scope* s = this; s; s = s->parent.get())
    for (const auto& [k, v] : s->vars)
      if (k == name) return &v;
  return nullptr;
}

void Scope::set(std::string_view name, Value value) {
  if (Value* v = find_local(name)) {
    *v = std::move(value);
  } else {
    vars.emplace_back(std::string(name), std::move(value));
  }
}

namespace {

// Makes `scope` the innermost scope for the lifetime of the guard.
struct ScopeSwap {
  std::shared_ptr<Scope>& slot;
  std::shared_ptr<Scope> saved;
  ScopeSwap(std::shared_ptr<Scope>& s, std::shared_ptr<Scope> next) : slot(s), saved(std::move(s)) { slot = std::move(next); }
  ~ScopeSwap() { slot = std::move(saved); }
};

std::shared_ptr<Scope> child_of(const std::shared_ptr<Scope>& parent) {
  auto s = std::make_shared<Scope>();
  s->parent = parent;
  s->vars.reserve(4);
  return s;
}

}  // namespace

Renderer::Renderer(const Template& tmpl, std::vector<std::pair<std::string, Value>> globals, std::string today,
                   Limits limits)
    : tmpl_(tmpl), today_(std::move(today)), limits_(limits) {
  auto builtins = std::make_shared<Scope>();
  builtins->vars = builtin_globals();
  root_ = child_of(builtins);
  root_->vars = std::move(globals);
  scope_ = root_;
}

std::string Renderer::render() {
  std::string out;
  out_ = &out;
  exec_body(tmpl_.body);
  out_ = nullptr;
  return out;
}

void Renderer::count_step() {
  if (++steps_ > limits_.max_steps) fail("template exceeded its step budget (infinite or runaway loop?)");
}

void Renderer::write(std::string_view s) {
  if (out_->size() + s.size() > limits_.max_output_bytes) fail("template output exceeds the size limit");
  out_->append(s);
}

void Renderer::write_value(const Value& v) {
  if (v.is_string()) {
    write(v.s);
  } else if (!v.is_undefined()) {
    write(to_str(v));
  }
}

std::string Renderer::capture(const Body& body) {
  std::string buf;
  std::string* saved = out_;
  out_ = &buf;
  try {
    exec_body(body);
  } catch (...) {
    out_ = saved;
    throw;
  }
  out_ = saved;
  return buf;
}

Renderer::Flow Renderer::exec_body(const Body& body) {
  for (const auto& s : body) {
    Flow f = exec(*s);
    if (f != Flow::Normal) return f;
  }
  return Flow::Normal;
}

Renderer::Flow Renderer::exec(const Stmt& s) {
  count_step();
  switch (s.kind) {
    case Stmt::Kind::Text: write(s.text); break;
    case Stmt::Kind::Output: write_value(eval(*s.expr)); break;
    case Stmt::Kind::If: return exec_if(s);
    case Stmt::Kind::For: return exec_for(s);
    case Stmt::Kind::Set: exec_set(s); break;
    case Stmt::Kind::SetBlock:
    case Stmt::Kind::FilterBlock:
    case Stmt::Kind::CallBlock: exec_block_capture(s); break;
    case Stmt::Kind::Macro: define_macro(s); break;
    case Stmt::Kind::Break: return Flow::Break;
    case Stmt::Kind::Continue: return Flow::Continue;
    case Stmt::Kind::Do: eval(*s.expr); break;
    case Stmt::Kind::Scope: return exec_body(s.body);
  }
  return Flow::Normal;
}

Renderer::Flow Renderer::exec_if(const Stmt& s) {
  for (const auto& [cond, body] : s.branches)
    if (truthy(eval(*cond))) return exec_body(body);
  return exec_body(s.else_body);
}

Renderer::Flow Renderer::exec_for(const Stmt& s) {
  ValueList all = iterate(eval(*s.expr));
  const std::shared_ptr<Scope> outer = scope_;
  ValueList items;
  if (s.cond) {
    ScopeSwap swap(scope_, child_of(outer));
    for (auto& item : all) {
      count_step();
      assign(*s.target, item);
      if (truthy(eval(*s.cond))) items.push_back(std::move(item));
    }
  } else {
    items = std::move(all);
  }
  if (items.empty()) {
    exec_body(s.else_body);
    return Flow::Normal;
  }
  // One loop object for the whole loop, updated in place, as jinja2's LoopContext is.
  Value loop = Value::new_namespace();
  auto& fields = loop.dict->items;
  const char* names[] = {"index", "index0", "revindex", "revindex0", "first", "last", "length",
                         "previtem", "nextitem", "depth", "depth0", "cycle"};
  for (const char* n : names) fields.emplace_back(Value::string(n), Value());
  std::weak_ptr<DictData> weak_loop = loop.dict;
  auto cycle = std::make_shared<Function>();
  cycle->name = "loop.cycle";
  cycle->call = [weak_loop](Renderer&, CallArgs& args) -> Value {
    auto d = weak_loop.lock();
    if (!d || args.positional.empty()) fail("loop.cycle needs at least one argument");
    int64_t i0 = d->items[1].second.i;
    return args.positional[size_t(i0) % args.positional.size()];
  };
  fields[11].second = Value::function(cycle);
  fields[9].second = Value::integer(1);
  fields[10].second = Value::integer(0);
  const int64_t n = int64_t(items.size());
  fields[6].second = Value::integer(n);
  for (int64_t k = 0; k < n; ++k) {
    count_step();
    fields[0].second = Value::integer(k + 1);
    fields[1].second = Value::integer(k);
    fields[2].second = Value::integer(n - k);
    fields[3].second = Value::integer(n - k - 1);
    fields[4].second = Value::boolean(k == 0);
    fields[5].second = Value::boolean(k == n - 1);
    fields[7].second = k > 0 ? items[size_t(k - 1)] : Value::undefined("there is no previous item");
    fields[8].second = k + 1 < n ? items[size_t(k + 1)] : Value::undefined("there is no next item");
    // Each iteration starts from the enclosing scope: a `set` in the body lasts one iteration.
    ScopeSwap iteration(scope_, child_of(outer));
    assign(*s.target, items[size_t(k)]);
    scope_->set("loop", loop);
    if (exec_body(s.body) == Flow::Break) break;
  }
  return Flow::Normal;
}

void Renderer::assign(const Expr& target, const Value& v) {
  if (target.kind == Expr::Kind::Name) {
    scope_->set(target.name, v);
    return;
  }
  if (target.kind == Expr::Kind::GetAttr) {
    Value ns = eval(*target.children[0]);
    if (ns.type != Value::Type::Namespace) fail("cannot assign attribute on non-namespace object");
    ns.dict->set(Value::string(target.name), v);
    return;
  }
  // Tuple unpacking.
  ValueList items = iterate(v);
  const auto& names = target.children;
  if (items.size() != names.size())
    fail("ValueError: cannot unpack " + std::to_string(items.size()) + " values into " + std::to_string(names.size()) +
         " names");
  for (size_t k = 0; k < names.size(); ++k) assign(*names[k], items[k]);
}

void Renderer::exec_set(const Stmt& s) { assign(*s.target, eval(*s.expr)); }

Value Renderer::apply_block_filter(const Expr& chain, Value body_output) {
  ScopeSwap swap(scope_, child_of(scope_));
  scope_->set(kBlockValueName, std::move(body_output));
  return eval(chain);
}

void Renderer::exec_block_capture(const Stmt& s) {
  if (s.kind == Stmt::Kind::CallBlock) {
    // The body becomes `caller(...)` inside the called macro, rendered in this scope.
    const Stmt* stmt = &s;
    std::weak_ptr<Scope> here = scope_;
    auto caller = std::make_shared<Function>();
    caller->name = "caller";
    caller->call = [stmt, here](Renderer& r, CallArgs& args) -> Value {
      return r.call_macro(*stmt, here, args, nullptr);
    };
    const Expr& call = *s.expr;
    Value callee = eval(*call.children[0]);
    CallArgs args;
    eval_args(call, 1, args);
    args.keyword.emplace_back("caller", Value::function(caller));
    write_value(this->call(callee, args));
    return;
  }
  Value text = Value::string(capture(s.body));
  if (s.expr) text = apply_block_filter(*s.expr, std::move(text));
  if (s.kind == Stmt::Kind::SetBlock) {
    assign(*s.target, text);
  } else {
    write_value(text);
  }
}

void Renderer::define_macro(const Stmt& s) {
  const Stmt* stmt = &s;
  std::weak_ptr<Scope> def_scope = scope_;  // weak: the macro is stored in that very scope
  auto f = std::make_shared<Function>();
  f->name = s.name;
  f->call = [stmt, def_scope](Renderer& r, CallArgs& args) -> Value { return r.call_macro(*stmt, def_scope, args, nullptr); };
  scope_->set(s.name, Value::function(f));
}

Value Renderer::call_macro(const Stmt& def, const std::weak_ptr<Scope>& def_scope, CallArgs& args, const Value*) {
  if (call_depth_ >= limits_.max_call_depth) fail("RecursionError: macro calls nested too deeply");
  std::shared_ptr<Scope> parent = def_scope.lock();
  if (!parent) parent = root_;
  ScopeSwap swap(scope_, child_of(parent));
  ++call_depth_;
  struct DepthRestore {
    int& d;
    ~DepthRestore() { --d; }
  } restore{call_depth_};

  Value varargs = Value::new_tuple();
  for (size_t k = 0; k < args.positional.size(); ++k) {
    if (k < def.params.size()) {
      scope_->set(def.params[k].name, args.positional[k]);
    } else {
      varargs.list->items.push_back(args.positional[k]);
    }
  }
  Value kwargs = Value::new_dict();
  for (auto& [key, val] : args.keyword) {
    bool is_param = false;
    for (size_t k = 0; k < def.params.size(); ++k) {
      if (def.params[k].name != key) continue;
      if (k < args.positional.size()) fail("macro '" + def.name + "' got multiple values for argument '" + key + "'");
      is_param = true;
    }
    if (is_param || key == "caller") {
      scope_->set(key, val);
    } else {
      kwargs.dict->set(Value::string(key), val);
    }
  }
  for (const auto& p : def.params) {
    if (scope_->find_local(p.name)) continue;
    scope_->set(p.name, p.default_value ? eval(*p.default_value)
                                        : Value::undefined("parameter '" + p.name + "' was not provided"));
  }
  scope_->set("varargs", varargs);
  scope_->set("kwargs", kwargs);
  return Value::string(capture(def.body));
}

Value Renderer::call(const Value& callee, CallArgs& args) {
  if (callee.is_undefined()) fail(callee.s.empty() ? "UndefinedError: call of an undefined value" : "UndefinedError: " + callee.s);
  if (callee.type != Value::Type::Function) fail("TypeError: '" + type_name(callee) + "' object is not callable");
  count_step();
  return callee.fn->call(*this, args);
}

void Renderer::eval_args(const Expr& e, size_t first, CallArgs& args) {
  for (size_t k = first; k < e.children.size(); ++k) args.positional.push_back(eval(*e.children[k]));
  for (const auto& [key, ex] : e.kwargs) args.keyword.emplace_back(key, eval(*ex));
}

Value Renderer::eval_call(const Expr& e) {
  const Expr& callee = *e.children[0];
  CallArgs args;
  if (callee.kind == Expr::Kind::GetAttr) {
    Value obj = eval(*callee.children[0]);
    if (has_method(obj, callee.name)) {
      eval_args(e, 1, args);
      count_step();
      return call_method(*this, obj, callee.name, args);
    }
    Value f = get_attr(obj, callee.name);
    eval_args(e, 1, args);
    return call(f, args);
  }
  Value f = eval(callee);
  eval_args(e, 1, args);
  return call(f, args);
}

Value Renderer::eval_compare(const Expr& e) {
  Value left = eval(*e.children[0]);
  for (size_t k = 0; k < e.ops.size(); ++k) {
    Value right = eval(*e.children[k + 1]);
    const std::string& op = e.ops[k];
    bool r;
    if (op == "==") {
      r = equals(left, right);
    } else if (op == "!=") {
      r = !equals(left, right);
    } else if (op == "in") {
      r = contains(right, left);
    } else if (op == "notin") {
      r = !contains(right, left);
    } else {
      if (left.is_undefined()) fail("UndefinedError: " + left.s);
      if (right.is_undefined()) fail("UndefinedError: " + right.s);
      int c = compare(left, right);
      r = op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0;
    }
    if (!r) return Value::boolean(false);
    left = std::move(right);
  }
  return Value::boolean(true);
}

Value Renderer::eval(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::Literal: return e.literal;
    case Expr::Kind::Name: {
      const Value* v = scope_->lookup(e.name);
      return v ? *v : Value::undefined("'" + e.name + "' is undefined");
    }
    case Expr::Kind::List:
    case Expr::Kind::Tuple: {
      Value l = e.kind == Expr::Kind::List ? Value::new_list() : Value::new_tuple();
      l.list->items.reserve(e.children.size());
      for (const auto& c : e.children) l.list->items.push_back(eval(*c));
      return l;
    }
    case Expr::Kind::Dict: {
      Value d = Value::new_dict();
      for (size_t k = 0; k + 1 < e.children.size(); k += 2) {
        Value key = eval(*e.children[k]);
        d.dict->set(std::move(key), eval(*e.children[k + 1]));
      }
      return d;
    }
    case Expr::Kind::GetAttr: return get_attr(eval(*e.children[0]), e.name);
    case Expr::Kind::GetItem: {
      Value obj = eval(*e.children[0]);
      const Expr& sub = *e.children[1];
      if (sub.kind == Expr::Kind::Slice) {
        auto part = [&](size_t k) { return sub.children[k] ? eval(*sub.children[k]) : Value::none(); };
        return slice(obj, part(0), part(1), part(2));
      }
      return get_item(obj, eval(sub));
    }
    case Expr::Kind::Slice: fail("slice outside of a subscript");
    case Expr::Kind::Call: return eval_call(e);
    case Expr::Kind::Filter: {
      Value v = eval(*e.children[0]);
      CallArgs args;
      eval_args(e, 1, args);
      return apply_filter(*this, e.name, v, args);
    }
    case Expr::Kind::Test: {
      Value v = eval(*e.children[0]);
      CallArgs args;
      eval_args(e, 1, args);
      return Value::boolean(apply_test(*this, e.name, v, args) != e.negated);
    }
    case Expr::Kind::Neg: return negate(eval(*e.children[0]));
    case Expr::Kind::Pos: {
      Value v = eval(*e.children[0]);
      if (!v.is_number()) fail("TypeError: bad operand type for unary +: '" + type_name(v) + "'");
      return v.type == Value::Type::Bool ? Value::integer(v.as_int()) : v;
    }
    case Expr::Kind::Not: return Value::boolean(!truthy(eval(*e.children[0])));
    case Expr::Kind::And: {
      Value l = eval(*e.children[0]);
      return truthy(l) ? eval(*e.children[1]) : l;
    }
    case Expr::Kind::Or: {
      Value l = eval(*e.children[0]);
      return truthy(l) ? l : eval(*e.children[1]);
    }
    case Expr::Kind::Binary: {
      Value l = eval(*e.children[0]);
      return binary_op(e.name, l, eval(*e.children[1]), limits_);
    }
    case Expr::Kind::Compare: return eval_compare(e);
    case Expr::Kind::CondExpr:
      if (truthy(eval(*e.children[0]))) return eval(*e.children[1]);
      return e.children[2] ? eval(*e.children[2]) : Value::undefined("the inline if-expression evaluated to false");
  }
  return Value();
}

}  // namespace pensieve::text::jinja
