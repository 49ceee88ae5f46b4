// Jinja lexer configured as Hugging Face's chat-template environment: trim_blocks and
// lstrip_blocks on, `-`/`+` whitespace control, newlines normalised to "\n", one trailing
// newline dropped (keep_trailing_newline=False), {% raw %} blocks.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pensieve::text::jinja {

struct Token {
  enum class Type { Text, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Int, Float, Op, Eof };
  Type type = Type::Eof;
  std::string value;  // text, name, decoded string, number spelling, operator
  int line = 1;
  int col = 1;
};

// Throws JinjaError with line and column on malformed input.
std::vector<Token> lex_template(std::string_view source);

[[noreturn]] void syntax_error(int line, int col, const std::string& message);

}  // namespace pensieve::text::jinja
