// JSON Schema `pattern` (an ECMA-262 regex subset) -> GBNF over JSON string content.
#include <algorithm>

#include "grammar/json_schema.h"

namespace pensieve::grammar {

namespace {

using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;

Ranges normalize(Ranges r) {
  std::sort(r.begin(), r.end());
  Ranges out;
  for (auto x : r) {
    if (!out.empty() && x.first <= out.back().second + 1) out.back().second = std::max(out.back().second, x.second);
    else out.push_back(x);
  }
  return out;
}

Ranges complement(const Ranges& r) {
  Ranges out;
  uint32_t next = 0;
  for (auto x : normalize(r)) {
    if (x.first > next) out.emplace_back(next, x.first - 1);
    next = x.second + 1;
  }
  if (next <= 0x10FFFF) out.emplace_back(next, 0x10FFFF);
  return out;
}

std::string cp_escape(uint32_t cp) {
  char buf[16];
  if ((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) return std::string(1, char(cp));
  if (cp <= 0xFFFF) std::snprintf(buf, sizeof buf, "\\u%04X", cp);
  else std::snprintf(buf, sizeof buf, "\\U%08X", cp);
  return buf;
}

// The JSON-string form of a set of characters: plain characters as a class, and the ones JSON
// escapes (" \ tab newline carriage return) as their escapes; other control characters are left
// out (a smaller set, still valid).
Result<std::string> json_chars(const Ranges& ranges) {
  Ranges plain;
  std::vector<std::string> alts;
  auto has = [&](uint32_t c) {
    return std::any_of(ranges.begin(), ranges.end(), [&](auto r) { return c >= r.first && c <= r.second; });
  };
  for (auto [lo, hi] : normalize(ranges)) {
    lo = std::max<uint32_t>(lo, 0x20);
    if (lo > hi) continue;
    // cut out '"' and '\'
    for (uint32_t cut : {uint32_t('"'), uint32_t('\\')}) {
      if (cut >= lo && cut <= hi) {
        if (cut > lo) plain.emplace_back(lo, cut - 1);
        lo = cut + 1;
      }
    }
    if (lo <= hi) plain.emplace_back(lo, hi);
  }
  plain = normalize(plain);
  if (!plain.empty()) {
    std::string cls = "[";
    for (auto [lo, hi] : plain) cls += lo == hi ? cp_escape(lo) : cp_escape(lo) + "-" + cp_escape(hi);
    alts.push_back(cls + "]");
  }
  if (has('"')) alts.push_back("\"\\\\\\\"\"");
  if (has('\\')) alts.push_back("\"\\\\\\\\\"");
  if (has('\t')) alts.push_back("\"\\\\t\"");
  if (has('\n')) alts.push_back("\"\\\\n\"");
  if (has('\r')) alts.push_back("\"\\\\r\"");
  if (alts.empty()) return make_error(ErrorKind::invalid_request, "a character class that matches nothing");
  if (alts.size() == 1) return alts[0];
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

class RegexParser {
 public:
  RegexParser(std::string_view p, GbnfBuilder& b) : p_(p), b_(b) {}

  Result<std::string> run() {
    bool start = false, end = false;
    if (!p_.empty() && p_[0] == '^') start = true, p_.remove_prefix(1);
    if (!p_.empty() && p_.back() == '$' && (p_.size() < 2 || p_[p_.size() - 2] != '\\')) end = true, p_.remove_suffix(1);
    std::string body = alternation(0);
    if (!err_.empty()) return make_error(ErrorKind::invalid_request, err_);
    if (pos_ < p_.size()) return make_error(ErrorKind::invalid_request, "unexpected '" + std::string(1, p_[pos_]) + "'");
    const std::string any = b_.primitive("char");
    return (start ? "" : any + "* ") + "( " + body + " )" + (end ? "" : " " + any + "*");
  }

 private:
  void fail(const std::string& m) {
    if (err_.empty()) err_ = m + " at offset " + std::to_string(pos_);
  }

  std::string alternation(int depth) {
    if (depth > 50) {
      fail("groups nested too deeply");
      return "";
    }
    std::string out = concat(depth);
    while (err_.empty() && pos_ < p_.size() && p_[pos_] == '|') {
      ++pos_;
      out += " | " + concat(depth);
    }
    return out;
  }

  std::string concat(int depth) {
    std::string out;
    while (err_.empty() && pos_ < p_.size() && p_[pos_] != '|' && p_[pos_] != ')') {
      std::string a = atom(depth);
      if (!err_.empty()) break;
      a = quantifier("( " + a + " )");
      out += (out.empty() ? "" : " ") + a;
    }
    return out.empty() ? "\"\"" : out;
  }

  std::string quantifier(const std::string& a) {
    if (pos_ >= p_.size()) return a;
    char c = p_[pos_];
    std::string q;
    if (c == '*' || c == '+' || c == '?') {
      ++pos_;
      q = std::string(1, c);
    } else if (c == '{') {
      size_t close = p_.find('}', pos_);
      if (close == std::string_view::npos) return a;  // a literal '{' in ECMA-262 annex B
      std::string inner(p_.substr(pos_ + 1, close - pos_ - 1));
      if (inner.empty() || inner.find_first_not_of("0123456789,") != std::string::npos) return a;
      pos_ = close + 1;
      q = "{" + inner + "}";
      for (size_t i = 0, n = 0; i <= inner.size(); ++i) {  // bound the repetition counts
        if (i < inner.size() && inner[i] != ',') { n = n * 10 + (inner[i] - '0'); if (n > 1000) { fail("a repetition count above 1000"); return a; } }
        else n = 0;
      }
    } else {
      return a;
    }
    if (pos_ < p_.size() && p_[pos_] == '?') ++pos_;  // lazy: the same set of strings
    return a + q;
  }

  uint32_t next_cp() {
    unsigned char c = static_cast<unsigned char>(p_[pos_]);
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
    if (pos_ + n > p_.size()) {
      fail("invalid UTF-8");
      ++pos_;
      return 0;
    }
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (int i = 1; i < n; ++i) cp = (cp << 6) | (static_cast<unsigned char>(p_[pos_ + i]) & 0x3F);
    pos_ += n;
    return cp;
  }

  // After a '\': a class escape (\d \w \s and negations) or one character.
  bool escape(Ranges& out) {
    if (pos_ >= p_.size()) {
      fail("a '\\' at the end");
      return false;
    }
    char e = p_[pos_++];
    const Ranges digit{{'0', '9'}}, word{{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}},
        space{{' ', ' '}, {'\t', '\r'}, {0xA0, 0xA0}, {0xFEFF, 0xFEFF}, {0x2000, 0x200A}, {0x2028, 0x2029}, {0x3000, 0x3000}};
    switch (e) {
      case 'd': out.insert(out.end(), digit.begin(), digit.end()); return true;
      case 'w': out.insert(out.end(), word.begin(), word.end()); return true;
      case 's': out.insert(out.end(), space.begin(), space.end()); return true;
      case 'D': { auto c = complement(digit); out.insert(out.end(), c.begin(), c.end()); return true; }
      case 'W': { auto c = complement(word); out.insert(out.end(), c.begin(), c.end()); return true; }
      case 'S': { auto c = complement(space); out.insert(out.end(), c.begin(), c.end()); return true; }
      case 'n': out.emplace_back('\n', '\n'); return true;
      case 't': out.emplace_back('\t', '\t'); return true;
      case 'r': out.emplace_back('\r', '\r'); return true;
      case 'f': out.emplace_back('\f', '\f'); return true;
      case 'v': out.emplace_back('\v', '\v'); return true;
      case 'u': case 'x': {
        const size_t n = e == 'u' ? 4 : 2;
        if (pos_ + n > p_.size()) { fail("a short \\" + std::string(1, e) + " escape"); return false; }
        uint32_t v = 0;
        for (size_t i = 0; i < n; ++i) {
          char h = p_[pos_ + i];
          int d = (h >= '0' && h <= '9') ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
          if (d < 0) { fail("a bad hex escape"); return false; }
          v = v * 16 + d;
        }
        pos_ += n;
        out.emplace_back(v, v);
        return true;
      }
      default:
        if ((e >= '0' && e <= '9') || e == 'b' || e == 'B' || e == 'k' || e == 'p' || e == 'P' || e == 'c') {
          fail(std::string("'\\") + e + "' (back-references, word boundaries, Unicode properties) is not supported");
          return false;
        }
        out.emplace_back(static_cast<unsigned char>(e), static_cast<unsigned char>(e));
        return true;
    }
  }

  std::string chars(const Ranges& r) {
    auto j = json_chars(r);
    if (!j.ok()) {
      fail(j.error().message);
      return "";
    }
    return *j;
  }

  std::string atom(int depth) {
    const char c = p_[pos_];
    if (c == '(') {
      ++pos_;
      if (p_.substr(pos_, 2) == "?:") pos_ += 2;
      else if (pos_ < p_.size() && p_[pos_] == '?') {
        fail("lookaround and named groups are not supported");
        return "";
      }
      std::string inner = alternation(depth + 1);
      if (pos_ >= p_.size() || p_[pos_] != ')') {
        fail("expected ')'");
        return "";
      }
      ++pos_;
      return inner;
    }
    if (c == '[') {
      ++pos_;
      bool neg = pos_ < p_.size() && p_[pos_] == '^';
      if (neg) ++pos_;
      Ranges r;
      bool first = true;
      while (err_.empty() && pos_ < p_.size() && (p_[pos_] != ']' || first)) {
        first = false;
        Ranges one;
        if (p_[pos_] == '\\') {
          ++pos_;
          if (!escape(one)) return "";
        } else {
          uint32_t cp = next_cp();
          one.emplace_back(cp, cp);
        }
        if (one.size() == 1 && one[0].first == one[0].second && pos_ + 1 < p_.size() && p_[pos_] == '-' && p_[pos_ + 1] != ']') {
          ++pos_;
          Ranges hi;
          if (p_[pos_] == '\\') {
            ++pos_;
            if (!escape(hi)) return "";
          } else {
            uint32_t cp = next_cp();
            hi.emplace_back(cp, cp);
          }
          if (hi.size() != 1 || hi[0].first < one[0].first) {
            fail("a bad range in a class");
            return "";
          }
          one[0].second = hi[0].first;
        }
        r.insert(r.end(), one.begin(), one.end());
      }
      if (pos_ >= p_.size()) {
        fail("unterminated class");
        return "";
      }
      ++pos_;
      return chars(neg ? complement(r) : r);
    }
    if (c == '.') {
      ++pos_;
      return chars(complement({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}}));
    }
    if (c == '\\') {
      ++pos_;
      Ranges r;
      if (!escape(r)) return "";
      return chars(r);
    }
    if (c == '^' || c == '$') {
      fail("'^' and '$' are supported only at the very start and end");
      return "";
    }
    if (c == '*' || c == '+' || c == '?' || c == ')') {
      fail(std::string("unexpected '") + c + "'");
      return "";
    }
    uint32_t cp = next_cp();
    return chars({{cp, cp}});
  }

  std::string_view p_;
  GbnfBuilder& b_;
  size_t pos_ = 0;
  std::string err_;
};

}  // namespace

Result<std::string> regex_to_gbnf(std::string_view pattern, GbnfBuilder& b) { return RegexParser(pattern, b).run(); }

}  // namespace pensieve::grammar
