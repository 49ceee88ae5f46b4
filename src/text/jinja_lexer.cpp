#include "text/jinja_lexer.h"

#include <algorithm>
#include <cstring>

#include "text/jinja_value.h"

namespace pensieve::text::jinja {

void syntax_error(int line, int col, const std::string& message) {
  fail("syntax error at line " + std::to_string(line) + ", column " + std::to_string(col) + ": " + message);
}

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Jinja normalises every line ending to "\n" and drops one trailing newline.
std::string normalize_newlines(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Python's unicode-escape decoding of a string literal's body; unknown escapes stay as written.
std::string decode_escapes(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c != '\\' || i + 1 >= raw.size()) {
      out += c;
      continue;
    }
    char e = raw[++i];
    switch (e) {
      case '\n': break;  // line continuation
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case 'a': out += '\a'; break;
      case 'x':
      case 'u':
      case 'U': {
        size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        uint32_t cp = 0;
        bool ok = true;
        for (size_t k = 1; ok && k <= n; ++k) {
          if (i + k >= raw.size() || hex_value(raw[i + k]) < 0) {
            ok = false;
            break;
          }
          cp = cp * 16 + uint32_t(hex_value(raw[i + k]));
        }
        if (!ok || cp > 0x10FFFF) {
          out += '\\';
          out += e;
          break;
        }
        append_utf8(out, cp);
        i += n;
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          uint32_t cp = uint32_t(e - '0');
          for (int k = 0; k < 2 && i + 1 < raw.size() && raw[i + 1] >= '0' && raw[i + 1] <= '7'; ++k)
            cp = cp * 8 + uint32_t(raw[++i] - '0');
          append_utf8(out, cp);
        } else {
          out += '\\';
          out += e;
        }
    }
  }
  return out;
}

class Lexer {
 public:
  explicit Lexer(std::string_view source) : src_(normalize_newlines(source)) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i)
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
  }

  std::vector<Token> run() {
    while (pos_ < src_.size()) {
      size_t open = find_open(pos_);
      if (open == std::string::npos) {
        emit_text(pos_, src_.substr(pos_));
        break;
      }
      char kind = src_[open + 1];
      char mod = open + 2 < src_.size() ? src_[open + 2] : '\0';
      std::string text = src_.substr(pos_, open - pos_);
      if (mod == '-') {
        size_t end = text.size();
        while (end > 0 && is_space(text[end - 1])) --end;
        text.resize(end);
      } else if (mod != '+' && kind != '{') {
        lstrip_block_text(text);
      }
      emit_text(pos_, std::move(text));
      size_t after = open + 2 + ((mod == '-' || mod == '+') ? 1 : 0);
      if (kind == '#') {
        lex_comment(open, after);
      } else if (kind == '%' && try_raw(open, after)) {
        // handled
      } else {
        lex_tag(open, after, kind == '{');
      }
    }
    push(Token::Type::Eof, "", src_.size());
    return std::move(tokens_);
  }

 private:
  std::string src_;
  size_t pos_ = 0;
  bool line_starting_ = true;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;

  void position(size_t offset, int& line, int& col) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    size_t idx = size_t(it - line_starts_.begin()) - 1;
    line = int(idx) + 1;
    col = int(offset - line_starts_[idx]) + 1;
  }
  [[noreturn]] void error_at(size_t offset, const std::string& msg) const {
    int line, col;
    position(offset, line, col);
    syntax_error(line, col, msg);
  }
  void push(Token::Type type, std::string value, size_t offset) {
    Token t;
    t.type = type;
    t.value = std::move(value);
    position(offset, t.line, t.col);
    tokens_.push_back(std::move(t));
  }
  void emit_text(size_t offset, std::string text) {
    if (!text.empty()) push(Token::Type::Text, std::move(text), offset);
  }

  size_t find_open(size_t from) const {
    for (size_t i = src_.find('{', from); i != std::string::npos; i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return std::string::npos;
  }

  // lstrip_blocks: spaces/tabs between a line start and a block or comment tag are dropped.
  void lstrip_block_text(std::string& text) const {
    size_t nl = text.rfind('\n');
    size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
    if (l_pos == 0 && !line_starting_) return;
    for (size_t k = l_pos; k < text.size(); ++k)
      if (!is_space(text[k])) return;
    text.resize(l_pos);
  }

  // After a block/comment end: `-` strips all following whitespace, `+` keeps it, otherwise
  // trim_blocks drops one newline.
  void finish_tag(size_t end_pos, char end_mod) {
    size_t p = end_pos;
    if (end_mod == '-') {
      while (p < src_.size() && is_space(src_[p])) ++p;
    } else if (end_mod != '+' && p < src_.size() && src_[p] == '\n') {
      ++p;
    }
    line_starting_ = p > 0 && src_[p - 1] == '\n';
    pos_ = p;
  }

  void lex_comment(size_t open, size_t after) {
    size_t close = src_.find("#}", after);
    if (close == std::string::npos) error_at(open, "missing end of comment tag");
    char mod = close > after && (src_[close - 1] == '-' || src_[close - 1] == '+') ? src_[close - 1] : '\0';
    finish_tag(close + 2, mod);
  }

  // {% raw %}...{% endraw %}: the body is text, untouched.
  bool try_raw(size_t open, size_t after) {
    size_t p = after;
    while (p < src_.size() && is_space(src_[p])) ++p;
    if (src_.compare(p, 3, "raw") != 0 || (p + 3 < src_.size() && is_name_char(src_[p + 3]))) return false;
    p += 3;
    while (p < src_.size() && is_space(src_[p])) ++p;
    char begin_mod = '\0';
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) begin_mod = src_[p++];
    if (src_.compare(p, 2, "%}") != 0) error_at(p, "expected '%}' after 'raw'");
    size_t body = p + 2;
    if (begin_mod == '-')
      while (body < src_.size() && is_space(src_[body])) ++body;
    for (size_t q = src_.find("{%", body); q != std::string::npos; q = src_.find("{%", q + 2)) {
      size_t r = q + 2;
      char end_open_mod = '\0';
      if (r < src_.size() && (src_[r] == '-' || src_[r] == '+')) end_open_mod = src_[r++];
      while (r < src_.size() && is_space(src_[r])) ++r;
      if (src_.compare(r, 6, "endraw") != 0) continue;
      r += 6;
      while (r < src_.size() && is_space(src_[r])) ++r;
      char end_mod = '\0';
      if (r < src_.size() && (src_[r] == '-' || src_[r] == '+')) end_mod = src_[r++];
      if (src_.compare(r, 2, "%}") != 0) continue;
      std::string text = src_.substr(body, q - body);
      if (end_open_mod == '-') {
        while (!text.empty() && is_space(text.back())) text.pop_back();
      }
      emit_text(body, std::move(text));
      finish_tag(r + 2, end_mod);
      return true;
    }
    error_at(open, "missing {% endraw %}");
  }

  void lex_tag(size_t open, size_t after, bool is_var) {
    push(is_var ? Token::Type::VarBegin : Token::Type::BlockBegin, "", open);
    std::vector<char> balance;
    size_t p = after;
    while (true) {
      while (p < src_.size() && is_space(src_[p])) ++p;
      if (p >= src_.size()) error_at(open, is_var ? "unexpected end of template, expected '}}'" : "unexpected end of template, expected '%}'");
      if (balance.empty() && try_end(p, is_var)) return;
      p = lex_token(p, balance);
    }
  }

  bool try_end(size_t p, bool is_var) {
    const char* close = is_var ? "}}" : "%}";
    char mod = '\0';
    size_t q = p;
    if (src_[q] == '-' || (!is_var && src_[q] == '+')) mod = src_[q++];
    if (src_.compare(q, 2, close) != 0) return false;
    push(is_var ? Token::Type::VarEnd : Token::Type::BlockEnd, "", p);
    if (is_var) {
      size_t e = q + 2;
      if (mod == '-')
        while (e < src_.size() && is_space(src_[e])) ++e;
      line_starting_ = e > 0 && src_[e - 1] == '\n';
      pos_ = e;
    } else {
      finish_tag(q + 2, mod);
    }
    return true;
  }

  size_t lex_token(size_t p, std::vector<char>& balance) {
    char c = src_[p];
    if (is_name_start(c) || (unsigned char)c >= 0x80) {
      size_t e = p;
      while (e < src_.size() && (is_name_char(src_[e]) || (unsigned char)src_[e] >= 0x80)) ++e;
      push(Token::Type::Name, src_.substr(p, e - p), p);
      return e;
    }
    if (is_digit(c)) return lex_number(p);
    if (c == '\'' || c == '"') {
      size_t e = p + 1;
      while (e < src_.size() && src_[e] != c) e += src_[e] == '\\' ? 2 : 1;
      if (e >= src_.size()) error_at(p, "unterminated string literal");
      push(Token::Type::String, decode_escapes(std::string_view(src_).substr(p + 1, e - p - 1)), p);
      return e + 1;
    }
    static const char* const kOps[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<",
                                       ">",  "=",  "(",  ")",  "[",  "]",  "{", "}", ",", ".", ":", "|", ";"};
    for (const char* op : kOps) {
      size_t n = std::strlen(op);
      if (src_.compare(p, n, op) != 0) continue;
      if (n == 1 && (c == '(' || c == '[' || c == '{')) balance.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
      if (n == 1 && (c == ')' || c == ']' || c == '}')) {
        if (balance.empty() || balance.back() != c) error_at(p, std::string("unexpected '") + c + "'");
        balance.pop_back();
      }
      push(Token::Type::Op, op, p);
      return p + n;
    }
    error_at(p, std::string("unexpected character '") + c + "'");
  }

  size_t lex_number(size_t p) {
    bool after_dot = !tokens_.empty() && tokens_.back().type == Token::Type::Op && tokens_.back().value == ".";
    size_t e = p;
    auto digits = [&](size_t q) {
      while (q < src_.size() && (is_digit(src_[q]) || (src_[q] == '_' && q + 1 < src_.size() && is_digit(src_[q + 1]))))
        ++q;
      return q;
    };
    if (src_[p] == '0' && p + 1 < src_.size() && std::strchr("xXoObB", src_[p + 1]) && src_[p + 1] != '\0') {
      e = p + 2;
      while (e < src_.size() && (hex_value(src_[e]) >= 0 || src_[e] == '_')) ++e;
      push(Token::Type::Int, src_.substr(p, e - p), p);
      return e;
    }
    e = digits(p);
    bool is_float = false;
    if (!after_dot && e + 1 < src_.size() && src_[e] == '.' && is_digit(src_[e + 1])) {
      e = digits(e + 1);
      is_float = true;
    }
    if (!after_dot && e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
      size_t q = e + 1;
      if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
      if (q < src_.size() && is_digit(src_[q])) {
        e = digits(q);
        is_float = true;
      }
    }
    push(is_float ? Token::Type::Float : Token::Type::Int, src_.substr(p, e - p), p);
    return e;
  }
};

}  // namespace

std::vector<Token> lex_template(std::string_view source) { return Lexer(source).run(); }

}  // namespace pensieve::text::jinja
