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

// A parsed piece: its GBNF and the fewest / most characters it matches (max < 0: unbounded).
struct Frag {
  std::string g;
  int64_t min = 0, max = 0;
};

int64_t add_len(int64_t a, int64_t b) { return a < 0 || b < 0 ? -1 : std::min<int64_t>(a + b, INT32_MAX); }
int64_t mul_len(int64_t a, int64_t n) { return n < 0 ? (a == 0 ? 0 : -1) : a < 0 ? (n == 0 ? 0 : -1) : std::min<int64_t>(a * n, INT32_MAX); }

// One pass over the pattern. For length limits the pattern is parsed again with `cap_` (the
// most repetitions an unbounded quantifier may take) and `boost_` (more repetitions, at least,
// for some top-level quantifiers): both only narrow what the pattern matches.
class RegexParser {
 public:
  RegexParser(std::string_view p, GbnfBuilder& b, int64_t cap, const std::vector<int64_t>& boost)
      : p_(p), b_(b), cap_(cap), boost_(boost) {}

  // The pattern as given: unanchored ends allow any characters there.
  Result<Frag> run(bool anchored_only) {
    bool start = false, end = false;
    if (!p_.empty() && p_[0] == '^') start = true, p_.remove_prefix(1);
    if (!p_.empty() && p_.back() == '$' && (p_.size() < 2 || p_[p_.size() - 2] != '\\')) end = true, p_.remove_suffix(1);
    if (anchored_only && !(start && end)) return make_error(ErrorKind::invalid_request, "internal: expected an anchored pattern");
    Frag body = alternation(0);
    if (!err_.empty()) return make_error(ErrorKind::invalid_request, err_);
    if (pos_ < p_.size()) return make_error(ErrorKind::invalid_request, "unexpected '" + std::string(1, p_[pos_]) + "'");
    const std::string any = b_.primitive("char");
    body.g = (start ? "" : any + "* ") + "( " + body.g + " )" + (end ? "" : " " + any + "*");
    if (!start || !end) body.max = -1;
    return body;
  }

  // Top-level quantified atoms (a pattern without top-level '|'): their fewest characters per
  // repetition and their repetition bounds, for raising a minimum length.
  struct Quantified {
    int64_t atom_min, lo, hi;
  };
  const std::vector<Quantified>& top_level() const { return top_; }
  bool top_alternation() const { return top_alt_; }

 private:
  void fail(const std::string& m) {
    if (err_.empty()) err_ = m + " at offset " + std::to_string(pos_);
  }

  Frag alternation(int depth) {
    if (depth > 50) {
      fail("groups nested too deeply");
      return {};
    }
    Frag out = concat(depth);
    while (err_.empty() && pos_ < p_.size() && p_[pos_] == '|') {
      ++pos_;
      if (depth == 0) top_alt_ = true;
      Frag next = concat(depth);
      out.g += " | " + next.g;
      out.min = std::min(out.min, next.min);
      out.max = out.max < 0 || next.max < 0 ? -1 : std::max(out.max, next.max);
    }
    return out;
  }

  Frag concat(int depth) {
    Frag out{"", 0, 0};
    while (err_.empty() && pos_ < p_.size() && p_[pos_] != '|' && p_[pos_] != ')') {
      Frag a = atom(depth);
      if (!err_.empty()) break;
      a.g = "( " + a.g + " )";
      a = quantifier(a, depth);
      out.g += (out.g.empty() ? "" : " ") + a.g;
      out.min = add_len(out.min, a.min);
      out.max = add_len(out.max, a.max);
    }
    if (out.g.empty()) out.g = "\"\"";
    return out;
  }

  Frag quantifier(Frag a, int depth) {
    int64_t lo = 1, hi = 1;
    bool quantified = false;
    if (pos_ < p_.size()) {
      const char c = p_[pos_];
      if (c == '*' || c == '+' || c == '?') {
        ++pos_;
        quantified = true;
        lo = c == '+' ? 1 : 0;
        hi = c == '?' ? 1 : -1;
      } else if (c == '{') {
        const size_t close = p_.find('}', pos_);
        if (close == std::string_view::npos) return a;  // a literal '{' in ECMA-262 annex B
        const std::string inner(p_.substr(pos_ + 1, close - pos_ - 1));
        if (inner.empty() || inner.find_first_not_of("0123456789,") != std::string::npos || inner[0] == ',') return a;
        const size_t comma = inner.find(',');
        if (inner.substr(0, comma).size() > 4 || (comma != std::string::npos && inner.size() - comma - 1 > 4)) {
          fail("a repetition count above 1000");
          return a;
        }
        lo = std::stoll(inner.substr(0, comma));
        hi = comma == std::string::npos ? lo : comma + 1 == inner.size() ? -1 : std::stoll(inner.substr(comma + 1));
        if (lo > 1000 || hi > 1000) {
          fail("a repetition count above 1000");
          return a;
        }
        if (hi >= 0 && hi < lo) {
          fail("a repetition {m,n} with n below m");
          return a;
        }
        pos_ = close + 1;
        quantified = true;
      }
    }
    if (quantified && pos_ < p_.size() && p_[pos_] == '?') ++pos_;  // lazy: the same set of strings
    if (depth == 0 && (lo != hi)) {  // a top-level quantifier whose count can vary
      const size_t k = top_.size();
      top_.push_back({a.min, lo, hi});
      if (k < boost_.size()) lo = std::min(hi < 0 ? INT64_MAX : hi, lo + boost_[k]);
    }
    if (hi < 0 && cap_ >= 0) hi = std::max(lo, cap_);
    if (lo == 1 && hi == 1) return a;
    Frag out{a.g, mul_len(a.min, lo), mul_len(a.max, hi)};
    if (hi < 0) out.g += lo == 0 ? "*" : lo == 1 ? "+" : "{" + std::to_string(lo) + ",}";
    else if (lo == 0 && hi == 1) out.g += "?";
    else if (lo == hi) out.g += "{" + std::to_string(lo) + "}";
    else out.g += "{" + std::to_string(lo) + "," + std::to_string(hi) + "}";
    return out;
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

  Frag one_char(const Ranges& r) { return {chars(r), 1, 1}; }

  Frag atom(int depth) {
    const char c = p_[pos_];
    if (c == '(') {
      ++pos_;
      if (p_.substr(pos_, 2) == "?:") pos_ += 2;
      else if (pos_ < p_.size() && p_[pos_] == '?') {
        fail("lookaround and named groups are not supported");
        return {};
      }
      Frag inner = alternation(depth + 1);
      if (pos_ >= p_.size() || p_[pos_] != ')') {
        fail("expected ')'");
        return {};
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
          if (!escape(one)) return {};
        } else {
          uint32_t cp = next_cp();
          one.emplace_back(cp, cp);
        }
        if (one.size() == 1 && one[0].first == one[0].second && pos_ + 1 < p_.size() && p_[pos_] == '-' && p_[pos_ + 1] != ']') {
          ++pos_;
          Ranges hi;
          if (p_[pos_] == '\\') {
            ++pos_;
            if (!escape(hi)) return {};
          } else {
            uint32_t cp = next_cp();
            hi.emplace_back(cp, cp);
          }
          if (hi.size() != 1 || hi[0].first < one[0].first) {
            fail("a bad range in a class");
            return {};
          }
          one[0].second = hi[0].first;
        }
        r.insert(r.end(), one.begin(), one.end());
      }
      if (pos_ >= p_.size()) {
        fail("unterminated class");
        return {};
      }
      ++pos_;
      return one_char(neg ? complement(r) : r);
    }
    if (c == '.') {
      ++pos_;
      return one_char(complement({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}}));
    }
    if (c == '\\') {
      ++pos_;
      Ranges r;
      if (!escape(r)) return {};
      return one_char(r);
    }
    if (c == '^' || c == '$') {
      fail("'^' and '$' are supported only at the very start and end");
      return {};
    }
    if (c == '*' || c == '+' || c == '?' || c == ')') {
      fail(std::string("unexpected '") + c + "'");
      return {};
    }
    uint32_t cp = next_cp();
    return one_char({{cp, cp}});
  }

  std::string_view p_;
  GbnfBuilder& b_;
  int64_t cap_;
  const std::vector<int64_t>& boost_;
  size_t pos_ = 0;
  std::string err_;
  std::vector<Quantified> top_;
  bool top_alt_ = false;
};

}  // namespace

Result<std::string> regex_to_gbnf(std::string_view pattern, GbnfBuilder& b, int64_t min_len, int64_t max_len) {
  const std::vector<int64_t> none;
  if (min_len <= 0 && max_len < 0) {
    auto f = RegexParser(pattern, b, -1, none).run(false);
    if (!f.ok()) return f.error();
    return f->g;
  }
  // Length limits. Unanchored ends become explicit "any characters" quantifiers, so that they
  // count like the others.
  std::string p(pattern);
  const bool start = !p.empty() && p[0] == '^';
  const bool end = !p.empty() && p.back() == '$' && (p.size() < 2 || p[p.size() - 2] != '\\');
  if (!start || !end) {
    const std::string core = p.substr(start ? 1 : 0, p.size() - (start ? 1 : 0) - (end ? 1 : 0));
    p = std::string("^") + (start ? "" : "[\\s\\S]*") + "(?:" + core + ")" + (end ? "" : "[\\s\\S]*") + "$";
  }
  auto parse = [&](int64_t cap, const std::vector<int64_t>& boost) { return RegexParser(p, b, cap, boost).run(true); };
  RegexParser first(p, b, -1, none);
  auto f = first.run(true);
  if (!f.ok()) return f.error();
  // minLength: more repetitions of top-level quantifiers, first ones first.
  std::vector<int64_t> boost;
  if (f->min < min_len) {
    int64_t need = min_len - f->min;
    for (const auto& q : first.top_level()) {
      int64_t add = 0;
      if (!first.top_alternation() && q.atom_min > 0 && need > 0)
        add = std::min<int64_t>(q.hi < 0 ? INT32_MAX : q.hi - q.lo, (need + q.atom_min - 1) / q.atom_min);
      boost.push_back(add);
      need -= add * q.atom_min;
    }
    if (need > 0) return make_error(ErrorKind::invalid_request, "minLength " + std::to_string(min_len) + " cannot be met by the pattern");
  }
  // maxLength: the most repetitions an unbounded quantifier may take, as many as still fit.
  int64_t cap = -1;
  auto g = parse(cap, boost);
  if (!g.ok()) return g.error();
  if (max_len >= 0 && (g->max < 0 || g->max > max_len)) {
    auto at = [&](int64_t c) { auto r = parse(c, boost); return r.ok() ? r->max : INT64_MAX; };
    if (at(0) > max_len) return make_error(ErrorKind::invalid_request, "the pattern matches nothing within maxLength " + std::to_string(max_len));
    int64_t lo = 0, hi = max_len;  // at(lo) fits; find the largest that does
    while (lo < hi) {
      const int64_t mid = (lo + hi + 1) / 2;
      if (at(mid) <= max_len) lo = mid;
      else hi = mid - 1;
    }
    cap = lo;
    g = parse(cap, boost);
  }
  if (g->min < min_len || (max_len >= 0 && g->max > max_len))
    return make_error(ErrorKind::invalid_request, "the pattern cannot be held within minLength / maxLength");
  return g->g;
}

}  // namespace pensieve::grammar
