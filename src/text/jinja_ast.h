// The syntax tree of a parsed Jinja template, and the lexer/parser entry points.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "text/jinja_value.h"

namespace pensieve::text::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    Literal,   // literal
    Name,      // name
    List,      // children
    Tuple,     // children
    Dict,      // children: k0, v0, k1, v1, ...
    GetAttr,   // children[0] . name
    GetItem,   // children[0] [ children[1] ]
    Slice,     // children: start, stop, step (null where omitted); only inside GetItem
    Call,      // children[0] ( children[1..] , kwargs )
    Filter,    // children[0] | name ( children[1..], kwargs )
    Test,      // children[0] is [not] name ( children[1..], kwargs )
    Neg,       // - children[0]
    Pos,       // + children[0]
    Not,       // not children[0]
    And,       // children[0] and children[1]
    Or,        // children[0] or children[1]
    Binary,    // children[0] op children[1]: + - * / // % ** ~
    Compare,   // children[0] ops[0] children[1] ops[1] children[2] ...: == != < <= > >= in notin
    CondExpr,  // children[1] if children[0] else children[2] (children[2] may be null)
  };
  Kind kind = Kind::Literal;
  int line = 0;
  int col = 0;
  Value literal;
  std::string name;  // Name, GetAttr attribute, Filter/Test name, Binary operator
  bool negated = false;  // Test: `is not`
  std::vector<ExprPtr> children;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;  // Compare
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // null: required
};

struct Stmt {
  enum class Kind {
    Text,         // text
    Output,       // {{ expr }}
    If,           // branches: (cond, body)...; else_body
    For,          // targets in expr [if cond] body [else else_body]
    Set,          // target = expr (target: Name, Tuple of Names, GetAttr on a namespace)
    SetBlock,     // {% set name [| filters] %} body {% endset %}: target, filter (may be null)
    Macro,        // {% macro name(params) %} body
    CallBlock,    // {% call[(params)] expr %} body: the body becomes `caller`
    FilterBlock,  // {% filter f %} body: filter applied to the body's output
    Break,
    Continue,
    Do,           // {% do expr %}
    Scope,        // a body rendered in place ({% generation %}...)
  };
  Kind kind = Kind::Text;
  int line = 0;
  int col = 0;
  std::string text;
  std::string name;  // Macro name
  ExprPtr expr;      // Output/Set/For iterable/CallBlock call/Do; SetBlock/FilterBlock filter chain
  ExprPtr target;    // Set/SetBlock/For
  ExprPtr cond;      // For filter
  std::vector<std::pair<ExprPtr, Body>> branches;  // If
  Body body;
  Body else_body;
  std::vector<MacroParam> params;  // Macro, CallBlock
};

// The filter chain of a filter/set block is a Filter expression whose innermost operand is a
// Name with this (unspellable) name, bound to the block's output when it is applied.
inline constexpr std::string_view kBlockValueName = "\x01block";

struct Template {
  std::string source;
  Body body;
};

// Lexes and parses; throws JinjaError("syntax error at line L, column C: ...").
std::shared_ptr<Template> parse_template(std::string_view source);

}  // namespace pensieve::text::jinja
