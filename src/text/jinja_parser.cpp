// Recursive-descent parser following jinja2's grammar and operator precedence:
// condexpr < or < and < not < compare < + - < ~ < * / // % < ** < unary < postfix/filters/tests.
#include <charconv>
#include <cmath>
#include <unordered_set>

#include "text/jinja_ast.h"
#include "text/jinja_lexer.h"
#include "text/jinja_render.h"

namespace pensieve::text::jinja {
namespace {

constexpr int kMaxNesting = 200;  // deeper expressions/blocks are refused, not a stack overflow

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  Body parse_all() {
    Body body = parse_body({});
    if (cur().type != Token::Type::Eof) error("unexpected tag '" + cur().value + "'");
    return body;
  }

 private:
  std::vector<Token> toks_;
  size_t p_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;

  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser) : p(parser) {
      if (++p.depth_ > kMaxNesting) p.error("template nested too deeply");
    }
    ~DepthGuard() { --p.depth_; }
  };

  const Token& cur() const { return toks_[p_]; }
  const Token& peek(size_t k = 1) const { return toks_[std::min(p_ + k, toks_.size() - 1)]; }
  void advance() {
    if (p_ + 1 < toks_.size()) ++p_;
  }
  [[noreturn]] void error(const std::string& msg) const { syntax_error(cur().line, cur().col, msg); }
  bool is_op(std::string_view op) const { return cur().type == Token::Type::Op && cur().value == op; }
  bool is_name(std::string_view n) const { return cur().type == Token::Type::Name && cur().value == n; }
  bool accept_op(std::string_view op) {
    if (!is_op(op)) return false;
    advance();
    return true;
  }
  bool accept_name(std::string_view n) {
    if (!is_name(n)) return false;
    advance();
    return true;
  }
  void expect_op(std::string_view op) {
    if (!accept_op(op)) error("expected '" + std::string(op) + "', got " + describe(cur()));
  }
  void expect_name(std::string_view n) {
    if (!accept_name(n)) error("expected '" + std::string(n) + "', got " + describe(cur()));
  }
  std::string expect_identifier() {
    if (cur().type != Token::Type::Name) error("expected a name, got " + describe(cur()));
    std::string n = cur().value;
    advance();
    return n;
  }
  void expect_block_end() {
    if (cur().type != Token::Type::BlockEnd) error("expected end of statement '%}', got " + describe(cur()));
    advance();
  }
  static std::string describe(const Token& t) {
    switch (t.type) {
      case Token::Type::Eof: return "end of template";
      case Token::Type::BlockEnd: return "'%}'";
      case Token::Type::VarEnd: return "'}}'";
      case Token::Type::Text: return "text";
      case Token::Type::String: return "a string";
      default: return "'" + t.value + "'";
    }
  }
  ExprPtr make(Expr::Kind kind, const Token& at) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = at.line;
    e->col = at.col;
    return e;
  }
  StmtPtr make_stmt(Stmt::Kind kind, const Token& at) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->line = at.line;
    s->col = at.col;
    return s;
  }

  // ---- statements ----

  // Parses until `{% <one of ends>`; leaves the cursor on that end tag's name.
  Body parse_body(const std::vector<std::string_view>& ends) {
    DepthGuard guard(*this);
    Body body;
    while (true) {
      const Token& t = cur();
      if (t.type == Token::Type::Eof) {
        if (!ends.empty()) error("unexpected end of template, expected '" + std::string(ends[0]) + "'");
        return body;
      }
      if (t.type == Token::Type::Text) {
        auto s = make_stmt(Stmt::Kind::Text, t);
        s->text = t.value;
        body.push_back(std::move(s));
        advance();
      } else if (t.type == Token::Type::VarBegin) {
        auto s = make_stmt(Stmt::Kind::Output, t);
        advance();
        s->expr = parse_tuple(true);
        if (cur().type != Token::Type::VarEnd) error("expected '}}', got " + describe(cur()));
        advance();
        body.push_back(std::move(s));
      } else if (t.type == Token::Type::BlockBegin) {
        advance();
        if (cur().type != Token::Type::Name) error("expected a tag name, got " + describe(cur()));
        for (std::string_view e : ends)
          if (cur().value == e) return body;
        body.push_back(parse_statement());
      } else {
        error("unexpected " + describe(t));
      }
    }
  }

  // Consumes `{% end %}` after parse_body stopped on it.
  void end_block(std::string_view name) {
    expect_name(name);
    expect_block_end();
  }

  StmtPtr parse_statement() {
    const Token& t = cur();
    std::string tag = t.value;
    if (tag == "for") return parse_for();
    if (tag == "if") return parse_if();
    if (tag == "set") return parse_set();
    if (tag == "macro") return parse_macro();
    if (tag == "call") return parse_call_block();
    if (tag == "filter") {
      auto s = make_stmt(Stmt::Kind::FilterBlock, t);
      advance();
      s->expr = parse_filter_chain(true);
      expect_block_end();
      s->body = parse_body({"endfilter"});
      end_block("endfilter");
      return s;
    }
    if (tag == "break" || tag == "continue") {
      if (loop_depth_ == 0) error("'" + tag + "' outside of a loop");
      auto s = make_stmt(tag == "break" ? Stmt::Kind::Break : Stmt::Kind::Continue, t);
      advance();
      expect_block_end();
      return s;
    }
    if (tag == "do") {
      auto s = make_stmt(Stmt::Kind::Do, t);
      advance();
      s->expr = parse_tuple(true);
      expect_block_end();
      return s;
    }
    if (tag == "generation") {  // transformers' AssistantTracker: renders its body in place
      auto s = make_stmt(Stmt::Kind::Scope, t);
      advance();
      expect_block_end();
      s->body = parse_body({"endgeneration"});
      end_block("endgeneration");
      return s;
    }
    error("unknown or unexpected tag '" + tag + "'");
  }

  StmtPtr parse_for() {
    auto s = make_stmt(Stmt::Kind::For, cur());
    advance();
    s->target = parse_assign_target(false);
    expect_name("in");
    s->expr = parse_tuple(false);
    if (accept_name("if")) s->cond = parse_expression(true);
    if (is_name("recursive")) error("recursive loops are not supported");
    expect_block_end();
    ++loop_depth_;
    s->body = parse_body({"endfor", "else"});
    --loop_depth_;
    if (accept_name("else")) {
      expect_block_end();
      s->else_body = parse_body({"endfor"});
    }
    end_block("endfor");
    return s;
  }

  StmtPtr parse_if() {
    auto s = make_stmt(Stmt::Kind::If, cur());
    advance();
    while (true) {
      ExprPtr cond = parse_tuple(false);
      expect_block_end();
      Body body = parse_body({"elif", "else", "endif"});
      s->branches.emplace_back(std::move(cond), std::move(body));
      if (accept_name("elif")) continue;
      if (accept_name("else")) {
        expect_block_end();
        s->else_body = parse_body({"endif"});
      }
      end_block("endif");
      return s;
    }
  }

  StmtPtr parse_set() {
    const Token& at = cur();
    advance();
    ExprPtr target = parse_assign_target(true);
    if (accept_op("=")) {
      auto s = make_stmt(Stmt::Kind::Set, at);
      s->target = std::move(target);
      s->expr = parse_tuple(true);
      expect_block_end();
      return s;
    }
    auto s = make_stmt(Stmt::Kind::SetBlock, at);
    if (target->kind != Expr::Kind::Name) error("block set needs a plain name");
    s->target = std::move(target);
    if (is_op("|")) s->expr = parse_filter_chain(false);
    expect_block_end();
    s->body = parse_body({"endset"});
    end_block("endset");
    return s;
  }

  StmtPtr parse_macro() {
    auto s = make_stmt(Stmt::Kind::Macro, cur());
    advance();
    s->name = expect_identifier();
    parse_params(s->params);
    expect_block_end();
    int saved_loops = loop_depth_;
    loop_depth_ = 0;
    s->body = parse_body({"endmacro"});
    loop_depth_ = saved_loops;
    end_block("endmacro");
    return s;
  }

  StmtPtr parse_call_block() {
    auto s = make_stmt(Stmt::Kind::CallBlock, cur());
    advance();
    if (is_op("(")) parse_params(s->params);
    s->expr = parse_expression(true);
    if (s->expr->kind != Expr::Kind::Call) error("expected a macro call after 'call'");
    expect_block_end();
    s->body = parse_body({"endcall"});
    end_block("endcall");
    return s;
  }

  void parse_params(std::vector<MacroParam>& params) {
    expect_op("(");
    while (!is_op(")")) {
      if (!params.empty()) expect_op(",");
      if (is_op(")")) break;
      MacroParam p;
      p.name = expect_identifier();
      if (accept_op("=")) {
        p.default_value = parse_expression(true);
      } else if (!params.empty() && params.back().default_value) {
        error("non-default argument follows default argument");
      }
      params.push_back(std::move(p));
    }
    expect_op(")");
  }

  // A name, `ns.attr` (when allowed), or a tuple of names.
  ExprPtr parse_assign_target(bool allow_namespace) {
    const Token& at = cur();
    bool paren = accept_op("(");
    auto one = [&]() -> ExprPtr {
      const Token& t = cur();
      auto n = make(Expr::Kind::Name, t);
      n->name = expect_identifier();
      if (allow_namespace && is_op(".")) {
        advance();
        auto g = make(Expr::Kind::GetAttr, t);
        g->name = expect_identifier();
        g->children.push_back(std::move(n));
        return g;
      }
      return n;
    };
    ExprPtr first = one();
    if (!is_op(",") && !paren) return first;
    auto tuple = make(Expr::Kind::Tuple, at);
    tuple->children.push_back(std::move(first));
    while (accept_op(",")) {
      if (cur().type != Token::Type::Name) break;
      tuple->children.push_back(one());
    }
    if (paren) expect_op(")");
    for (const auto& c : tuple->children)
      if (c->kind != Expr::Kind::Name) error("can only unpack into plain names");
    if (paren && tuple->children.size() == 1) return std::move(tuple->children[0]);
    return tuple;
  }

  // `| f(args) | g` (or `f | g` when start_inline) applied to the block-value placeholder.
  ExprPtr parse_filter_chain(bool start_inline) {
    auto node = make(Expr::Kind::Name, cur());
    node->name = std::string(kBlockValueName);
    if (start_inline) node = parse_one_filter(std::move(node));
    while (accept_op("|")) node = parse_one_filter(std::move(node));
    return node;
  }

  // ---- expressions ----

  // Expression, or a bare tuple `a, b` (as in `{% set a, b = 1, 2 %}`).
  ExprPtr parse_tuple(bool with_condexpr) {
    const Token& at = cur();
    ExprPtr first = parse_expression(with_condexpr);
    if (!is_op(",")) return first;
    auto t = make(Expr::Kind::Tuple, at);
    t->children.push_back(std::move(first));
    while (accept_op(",")) {
      if (is_tuple_end()) break;
      t->children.push_back(parse_expression(with_condexpr));
    }
    return t;
  }
  bool is_tuple_end() const {
    Token::Type t = cur().type;
    return t == Token::Type::VarEnd || t == Token::Type::BlockEnd || t == Token::Type::Eof || is_op(")") || is_op("=") ||
           is_name("if") || is_name("in");
  }

  ExprPtr parse_expression(bool with_condexpr) {
    DepthGuard guard(*this);
    if (!with_condexpr) return parse_or();
    const Token& at = cur();
    ExprPtr expr = parse_or();
    while (is_name("if")) {
      advance();
      auto c = make(Expr::Kind::CondExpr, at);
      c->children.push_back(parse_or());
      c->children.push_back(std::move(expr));
      c->children.push_back(accept_name("else") ? parse_expression(true) : nullptr);
      expr = std::move(c);
    }
    return expr;
  }

  ExprPtr binary(Expr::Kind kind, const Token& at, ExprPtr l, ExprPtr r, std::string op = "") {
    auto e = make(kind, at);
    e->name = std::move(op);
    e->children.push_back(std::move(l));
    e->children.push_back(std::move(r));
    return e;
  }

  ExprPtr parse_or() {
    ExprPtr l = parse_and();
    while (is_name("or")) {
      const Token& at = cur();
      advance();
      l = binary(Expr::Kind::Or, at, std::move(l), parse_and());
    }
    return l;
  }
  ExprPtr parse_and() {
    ExprPtr l = parse_not();
    while (is_name("and")) {
      const Token& at = cur();
      advance();
      l = binary(Expr::Kind::And, at, std::move(l), parse_not());
    }
    return l;
  }
  ExprPtr parse_not() {
    if (is_name("not")) {
      DepthGuard guard(*this);
      auto n = make(Expr::Kind::Not, cur());
      advance();
      n->children.push_back(parse_not());
      return n;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const Token& at = cur();
    ExprPtr first = parse_math1();
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (cur().type == Token::Type::Op &&
          (is_op("==") || is_op("!=") || is_op("<") || is_op(">") || is_op("<=") || is_op(">="))) {
        op = cur().value;
        advance();
      } else if (is_name("in")) {
        op = "in";
        advance();
      } else if (is_name("not") && peek().type == Token::Type::Name && peek().value == "in") {
        op = "notin";
        advance();
        advance();
      } else {
        break;
      }
      if (!cmp) {
        cmp = make(Expr::Kind::Compare, at);
        cmp->children.push_back(std::move(first));
      }
      cmp->ops.push_back(op);
      cmp->children.push_back(parse_math1());
    }
    return cmp ? std::move(cmp) : std::move(first);
  }

  ExprPtr parse_math1() {
    ExprPtr l = parse_concat();
    while (is_op("+") || is_op("-")) {
      const Token& at = cur();
      std::string op = at.value;
      advance();
      l = binary(Expr::Kind::Binary, at, std::move(l), parse_concat(), op);
    }
    return l;
  }
  ExprPtr parse_concat() {
    ExprPtr l = parse_math2();
    while (is_op("~")) {
      const Token& at = cur();
      advance();
      l = binary(Expr::Kind::Binary, at, std::move(l), parse_math2(), "~");
    }
    return l;
  }
  ExprPtr parse_math2() {
    ExprPtr l = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const Token& at = cur();
      std::string op = at.value;
      advance();
      l = binary(Expr::Kind::Binary, at, std::move(l), parse_pow(), op);
    }
    return l;
  }
  ExprPtr parse_pow() {
    ExprPtr l = parse_unary(true);
    while (is_op("**")) {
      const Token& at = cur();
      advance();
      l = binary(Expr::Kind::Binary, at, std::move(l), parse_unary(true), "**");
    }
    return l;
  }

  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(*this);
    const Token& at = cur();
    ExprPtr node;
    if (is_op("-") || is_op("+")) {
      bool neg = is_op("-");
      advance();
      node = make(neg ? Expr::Kind::Neg : Expr::Kind::Pos, at);
      node->children.push_back(parse_unary(false));
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    return node;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    switch (t.type) {
      case Token::Type::Name: {
        auto e = make(Expr::Kind::Literal, t);
        const std::string& n = t.value;
        if (n == "true" || n == "True") {
          e->literal = Value::boolean(true);
        } else if (n == "false" || n == "False") {
          e->literal = Value::boolean(false);
        } else if (n == "none" || n == "None") {
          e->literal = Value::none();
        } else {
          e->kind = Expr::Kind::Name;
          e->name = n;
        }
        advance();
        return e;
      }
      case Token::Type::String: {
        auto e = make(Expr::Kind::Literal, t);
        std::string s;
        while (cur().type == Token::Type::String) {  // adjacent literals concatenate
          s += cur().value;
          advance();
        }
        e->literal = Value::string(std::move(s));
        return e;
      }
      case Token::Type::Int:
      case Token::Type::Float: {
        auto e = make(Expr::Kind::Literal, t);
        e->literal = parse_number(t);
        advance();
        return e;
      }
      case Token::Type::Op:
        if (t.value == "(") return parse_paren();
        if (t.value == "[") return parse_list();
        if (t.value == "{") return parse_dict();
        break;
      default: break;
    }
    error("unexpected " + describe(t));
  }

  Value parse_number(const Token& t) {
    std::string s;
    for (char c : t.value)
      if (c != '_') s += c;
    if (t.type == Token::Type::Float) return Value::number(std::strtod(s.c_str(), nullptr));
    int base = 10;
    size_t off = 0;
    if (s.size() > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) base = 16, off = 2;
    if (s.size() > 1 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) base = 8, off = 2;
    if (s.size() > 1 && s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) base = 2, off = 2;
    int64_t v = 0;
    auto r = std::from_chars(s.data() + off, s.data() + s.size(), v, base);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) error("invalid or too large integer literal '" + t.value + "'");
    return Value::integer(v);
  }

  ExprPtr parse_paren() {
    const Token& at = cur();
    advance();
    if (accept_op(")")) return make(Expr::Kind::Tuple, at);
    ExprPtr first = parse_expression(true);
    if (accept_op(")")) return first;
    auto t = make(Expr::Kind::Tuple, at);
    t->children.push_back(std::move(first));
    while (accept_op(",")) {
      if (is_op(")")) break;
      t->children.push_back(parse_expression(true));
    }
    expect_op(")");
    return t;
  }
  ExprPtr parse_list() {
    auto l = make(Expr::Kind::List, cur());
    advance();
    while (!is_op("]")) {
      if (!l->children.empty()) expect_op(",");
      if (is_op("]")) break;
      l->children.push_back(parse_expression(true));
    }
    expect_op("]");
    return l;
  }
  ExprPtr parse_dict() {
    auto d = make(Expr::Kind::Dict, cur());
    advance();
    while (!is_op("}")) {
      if (!d->children.empty()) expect_op(",");
      if (is_op("}")) break;
      d->children.push_back(parse_expression(true));
      expect_op(":");
      d->children.push_back(parse_expression(true));
    }
    expect_op("}");
    return d;
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      const Token& at = cur();
      if (is_op(".")) {
        advance();
        if (cur().type == Token::Type::Name) {
          auto g = make(Expr::Kind::GetAttr, at);
          g->name = cur().value;
          g->children.push_back(std::move(node));
          node = std::move(g);
        } else if (cur().type == Token::Type::Int) {
          auto g = make(Expr::Kind::GetItem, at);
          g->children.push_back(std::move(node));
          auto idx = make(Expr::Kind::Literal, cur());
          idx->literal = parse_number(cur());
          g->children.push_back(std::move(idx));
          node = std::move(g);
        } else {
          error("expected an attribute name after '.'");
        }
        advance();
      } else if (is_op("[")) {
        advance();
        auto g = make(Expr::Kind::GetItem, at);
        g->children.push_back(std::move(node));
        g->children.push_back(parse_subscript());
        expect_op("]");
        node = std::move(g);
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript() {
    const Token& at = cur();
    ExprPtr start;
    if (!is_op(":")) {
      start = parse_expression(true);
      if (!is_op(":")) return start;
    }
    auto s = make(Expr::Kind::Slice, at);
    s->children.push_back(std::move(start));
    advance();  // ':'
    s->children.push_back(is_op("]") || is_op(":") ? nullptr : parse_expression(true));
    if (accept_op(":")) {
      s->children.push_back(is_op("]") ? nullptr : parse_expression(true));
    } else {
      s->children.push_back(nullptr);
    }
    return s;
  }

  // `(args)` after a callee, filter or test: positional and keyword arguments.
  void parse_args(Expr& target) {
    expect_op("(");
    bool any = false;
    while (!is_op(")")) {
      if (any) expect_op(",");
      if (is_op(")")) break;
      any = true;
      if (cur().type == Token::Type::Name && peek().type == Token::Type::Op && peek().value == "=") {
        std::string key = cur().value;
        advance();
        advance();
        target.kwargs.emplace_back(std::move(key), parse_expression(true));
      } else {
        if (!target.kwargs.empty()) error("positional argument follows keyword argument");
        target.children.push_back(parse_expression(true));
      }
    }
    expect_op(")");
  }

  ExprPtr parse_call(ExprPtr callee) {
    auto c = make(Expr::Kind::Call, cur());
    c->children.push_back(std::move(callee));
    parse_args(*c);
    return c;
  }

  ExprPtr parse_one_filter(ExprPtr operand) {
    auto f = make(Expr::Kind::Filter, cur());
    if (cur().type == Token::Type::Name && !filter_exists(cur().value)) error("no filter named '" + cur().value + "'");
    f->name = expect_identifier();
    f->children.push_back(std::move(operand));
    if (is_op("(")) parse_args(*f);
    return f;
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    while (true) {
      if (accept_op("|")) {
        node = parse_one_filter(std::move(node));
      } else if (is_name("is")) {
        node = parse_test(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_test(ExprPtr node) {
    auto t = make(Expr::Kind::Test, cur());
    advance();  // 'is'
    t->negated = accept_name("not");
    if (cur().type == Token::Type::Name && !test_exists(cur().value)) error("no test named '" + cur().value + "'");
    t->name = expect_identifier();
    t->children.push_back(std::move(node));
    const Token& c = cur();
    bool arg_follows = c.type == Token::Type::Name || c.type == Token::Type::String || c.type == Token::Type::Int ||
                       c.type == Token::Type::Float || is_op("[") || is_op("{");
    if (is_op("(")) {
      parse_args(*t);
    } else if (arg_follows && !is_name("else") && !is_name("or") && !is_name("and") && !is_name("if") &&
               !is_name("in") && !is_name("not")) {
      if (is_name("is")) error("cannot chain multiple tests with 'is'");
      t->children.push_back(parse_postfix(parse_primary()));
    }
    return t;
  }
};

}  // namespace

std::shared_ptr<Template> parse_template(std::string_view source) {
  auto t = std::make_shared<Template>();
  t->source = std::string(source);
  t->body = Parser(lex_template(source)).parse_all();
  return t;
}

}  // namespace pensieve::text::jinja
