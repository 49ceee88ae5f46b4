// GBNF text -> Grammar: a recursive-descent parser into rules of items (byte sets and rule
// references), then checks (undefined rules, left recursion, rules that never finish) and the
// flat element layout the matcher walks.
#include <algorithm>
#include <array>
#include <map>
#include <unordered_map>

#include "grammar/grammar.h"

namespace pensieve::grammar {

namespace {

constexpr uint32_t kInf = UINT32_MAX / 4;
constexpr int kMaxNesting = 200;
constexpr long kMaxRepeat = 100000;
constexpr size_t kMaxRules = 500000;
constexpr uint32_t kMaxLeftDepth = 5000;

struct Item {
  bool is_set = true;
  ByteSet set;
  uint32_t rule = 0;
};
using Seq = std::vector<Item>;

struct RawRule {
  std::string name;
  std::vector<Seq> alts;
  bool defined = false;
  size_t first_use = 0;  // text offset, for "undefined rule" errors
};

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

void append_utf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Parser {
 public:
  explicit Parser(std::string_view text) : t_(text) {}

  Result<std::shared_ptr<const Grammar>> run(std::string_view root_name) {
    skip_space();
    while (pos_ < t_.size()) {
      const size_t at = pos_;
      std::string name = parse_name();
      if (name.empty()) return fail("expected a rule name");
      skip_space();
      if (t_.substr(pos_, 3) != "::=") return fail("expected '::=' after the rule name '" + name + "'");
      pos_ += 3;
      const uint32_t id = rule_id(name, at);
      if (rules_[id].defined) return fail_at(at, "rule '" + name + "' is defined twice");
      auto alts = parse_alternates(0);
      if (!error_.empty()) return make_error(ErrorKind::invalid_request, error_);
      rules_[id].alts = std::move(alts);
      rules_[id].defined = true;
      skip_space();
      if (pos_ < t_.size() && !at_rule_start()) return fail(std::string("unexpected '") + t_[pos_] + "'");
    }
    auto root = names_.find(std::string(root_name));
    if (root == names_.end() || !rules_[root->second].defined)
      return make_error(ErrorKind::invalid_request, "grammar: there is no rule named '" + std::string(root_name) + "'");
    for (const RawRule& r : rules_)
      if (!r.defined) return fail_at(r.first_use, "rule '" + r.name + "' is used but never defined");
    return compile(root->second);
  }

 private:
  Error fail_at(size_t at, const std::string& msg) {
    size_t line = 1 + std::count(t_.begin(), t_.begin() + std::min(at, t_.size()), '\n');
    return make_error(ErrorKind::invalid_request, "grammar: line " + std::to_string(line) + ": " + msg);
  }
  Error fail(const std::string& msg) { return fail_at(pos_, msg); }
  void set_error(const std::string& msg) {
    if (error_.empty()) error_ = fail(msg).message;
  }

  void skip_space() {
    while (pos_ < t_.size()) {
      char c = t_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else if (c == '#') {
        while (pos_ < t_.size() && t_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  std::string parse_name() {
    size_t s = pos_;
    while (pos_ < t_.size() && is_name_char(t_[pos_])) ++pos_;
    return std::string(t_.substr(s, pos_ - s));
  }

  // The next thing is `name ::=`: the current rule has ended.
  bool at_rule_start() const {
    size_t p = pos_;
    while (p < t_.size() && is_name_char(t_[p])) ++p;
    if (p == pos_) return false;
    while (p < t_.size() && (t_[p] == ' ' || t_[p] == '\t' || t_[p] == '\n' || t_[p] == '\r')) ++p;
    return t_.substr(p, 3) == "::=";
  }

  uint32_t rule_id(const std::string& name, size_t at) {
    auto [it, fresh] = names_.emplace(name, static_cast<uint32_t>(rules_.size()));
    if (fresh) rules_.push_back(RawRule{name, {}, false, at});
    return it->second;
  }

  uint32_t helper_rule(std::vector<Seq> alts) {
    const uint32_t id = static_cast<uint32_t>(rules_.size());
    std::string name = "_h" + std::to_string(id);
    names_.emplace(name, id);
    rules_.push_back(RawRule{name, std::move(alts), true, pos_});
    return id;
  }

  static Item ref(uint32_t rule) {
    Item i;
    i.is_set = false;
    i.rule = rule;
    return i;
  }
  static Item byte_item(uint8_t b) {
    Item i;
    i.set.add(b);
    return i;
  }

  std::vector<Seq> parse_alternates(int depth) {
    std::vector<Seq> alts;
    if (depth > kMaxNesting) {
      set_error("groups nested too deeply");
      return alts;
    }
    alts.push_back(parse_sequence(depth));
    while (error_.empty() && pos_ < t_.size() && t_[pos_] == '|') {
      ++pos_;
      alts.push_back(parse_sequence(depth));
    }
    return alts;
  }

  // A code point from the text: an escape or one UTF-8 character.
  uint32_t parse_char() {
    unsigned char c = static_cast<unsigned char>(t_[pos_]);
    if (c == '\\') {
      if (pos_ + 1 >= t_.size()) {
        set_error("a '\\' at the end of the grammar");
        return 0;
      }
      char e = t_[pos_ + 1];
      pos_ += 2;
      switch (e) {
        case 'n': return '\n';
        case 'r': return '\r';
        case 't': return '\t';
        case '0': return 0;
        case 'x': return parse_hex(2);
        case 'u': return parse_hex(4);
        case 'U': return parse_hex(8);
        case '\\': case '"': case '[': case ']': case '-': case '^': case '/': case '\'': return static_cast<uint32_t>(e);
        default: set_error(std::string("unknown escape '\\") + e + "'"); return 0;
      }
    }
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || pos_ + n > t_.size()) {
      set_error("invalid UTF-8 in the grammar");
      ++pos_;
      return 0;
    }
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (int i = 1; i < n; ++i) cp = (cp << 6) | (static_cast<unsigned char>(t_[pos_ + i]) & 0x3F);
    pos_ += n;
    return cp;
  }

  uint32_t parse_hex(int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i, ++pos_) {
      char h = pos_ < t_.size() ? t_[pos_] : 0;
      int d = (h >= '0' && h <= '9') ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
      if (d < 0) {
        set_error("expected " + std::to_string(n) + " hex digits in an escape");
        return 0;
      }
      v = v * 16 + static_cast<uint32_t>(d);
    }
    if (v > 0x10FFFF) set_error("escape beyond U+10FFFF");
    return v;
  }

  // Items matching one code point of the (merged) ranges: a byte set, or a rule over UTF-8.
  Item char_class(std::vector<std::pair<uint32_t, uint32_t>> ranges, bool negated, const std::string& key) {
    if (auto it = class_rules_.find(key); it != class_rules_.end()) return it->second;
    std::sort(ranges.begin(), ranges.end());
    std::vector<std::pair<uint32_t, uint32_t>> merged;
    for (auto r : ranges) {
      if (!merged.empty() && r.first <= merged.back().second + 1) merged.back().second = std::max(merged.back().second, r.second);
      else merged.push_back(r);
    }
    if (negated) {
      std::vector<std::pair<uint32_t, uint32_t>> inv;
      uint32_t next = 0;
      for (auto r : merged) {
        if (r.first > next) inv.emplace_back(next, r.first - 1);
        next = r.second + 1;
      }
      if (next <= 0x10FFFF) inv.emplace_back(next, 0x10FFFF);
      merged = std::move(inv);
    }
    Item ascii;
    std::vector<std::vector<std::pair<uint8_t, uint8_t>>> seqs;
    for (auto r : merged) {
      if (r.first < 0x80) ascii.set.add_range(static_cast<uint8_t>(r.first), static_cast<uint8_t>(std::min<uint32_t>(r.second, 0x7F)));
      if (r.second >= 0x80) utf8_sequences(std::max<uint32_t>(r.first, 0x80), r.second, seqs);
    }
    const bool has_ascii = ascii.set != ByteSet{};
    if (!has_ascii && seqs.empty()) {
      set_error("a character class that matches nothing");
      return ascii;
    }
    Item out = ascii;
    if (!seqs.empty()) {
      std::vector<Seq> alts;
      if (has_ascii) alts.push_back(Seq{ascii});
      for (auto& s : seqs) {
        Seq seq;
        for (auto [lo, hi] : s) {
          Item i;
          i.set.add_range(lo, hi);
          seq.push_back(i);
        }
        alts.push_back(std::move(seq));
      }
      out = ref(helper_rule(std::move(alts)));
    }
    class_rules_.emplace(key, out);
    return out;
  }

  Item parse_class() {
    const size_t start = pos_;
    ++pos_;  // '['
    bool negated = false;
    if (pos_ < t_.size() && t_[pos_] == '^') negated = true, ++pos_;
    std::vector<std::pair<uint32_t, uint32_t>> ranges;
    while (error_.empty()) {
      if (pos_ >= t_.size()) {
        set_error("unterminated character class");
        return Item{};
      }
      if (t_[pos_] == ']') break;
      uint32_t lo = parse_char(), hi = lo;
      if (pos_ + 1 < t_.size() && t_[pos_] == '-' && t_[pos_ + 1] != ']') {
        ++pos_;
        hi = parse_char();
        if (hi < lo) set_error("a character range whose end is before its start");
      }
      ranges.emplace_back(lo, hi);
    }
    ++pos_;  // ']'
    return char_class(std::move(ranges), negated, std::string(t_.substr(start, pos_ - start)));
  }

  // Applies a repetition operator to the atom seq[start..].
  void repeat(Seq& seq, size_t start, long min, long max /* -1: unbounded */) {
    if (start >= seq.size()) {
      set_error("a repetition operator with nothing before it");
      return;
    }
    Seq atom_seq(seq.begin() + static_cast<long>(start), seq.end());
    seq.resize(start);
    Item atom = atom_seq.size() == 1 ? atom_seq[0] : ref(helper_rule({atom_seq}));
    for (long i = 0; i < min; ++i) seq.push_back(atom);
    if (max < 0) {  // star ::= atom star | ""
      const uint32_t star = helper_rule({});
      rules_[star].alts = {Seq{atom, ref(star)}, Seq{}};
      seq.push_back(ref(star));
      return;
    }
    if (max > min) {  // opt_k ::= atom opt_{k-1} | ""
      uint32_t prev = helper_rule({Seq{atom}, Seq{}});
      for (long k = 1; k < max - min; ++k) prev = helper_rule({Seq{atom, ref(prev)}, Seq{}});
      seq.push_back(ref(prev));
    }
  }

  long parse_int() {
    long v = 0;
    size_t s = pos_;
    while (pos_ < t_.size() && t_[pos_] >= '0' && t_[pos_] <= '9' && v <= kMaxRepeat) v = v * 10 + (t_[pos_++] - '0');
    return pos_ == s ? -1 : v;
  }

  Seq parse_sequence(int depth) {
    Seq seq;
    size_t last_atom = SIZE_MAX;
    while (error_.empty()) {
      skip_space();
      if (pos_ >= t_.size()) break;
      const char c = t_[pos_];
      if (c == '|' || c == ')') break;
      if (depth == 0 && at_rule_start()) break;
      if (c == '"') {
        last_atom = seq.size();
        ++pos_;
        std::string bytes;
        while (error_.empty() && pos_ < t_.size() && t_[pos_] != '"') append_utf8(parse_char(), bytes);
        if (pos_ >= t_.size()) set_error("unterminated string literal");
        ++pos_;
        for (unsigned char b : bytes) seq.push_back(byte_item(b));
        if (bytes.empty()) last_atom = SIZE_MAX;
      } else if (c == '[') {
        last_atom = seq.size();
        seq.push_back(parse_class());
      } else if (c == '.') {
        ++pos_;
        last_atom = seq.size();
        seq.push_back(char_class({}, true, "."));
      } else if (is_name_char(c)) {
        last_atom = seq.size();
        const size_t at = pos_;
        std::string name = parse_name();
        seq.push_back(ref(rule_id(name, at)));
      } else if (c == '(') {
        ++pos_;
        auto alts = parse_alternates(depth + 1);
        skip_space();
        if (pos_ >= t_.size() || t_[pos_] != ')') {
          set_error("expected ')'");
          break;
        }
        ++pos_;
        last_atom = seq.size();
        if (alts.size() == 1 && alts[0].size() == 1) seq.push_back(alts[0][0]);
        else if (alts.size() == 1) seq.insert(seq.end(), alts[0].begin(), alts[0].end());
        else seq.push_back(ref(helper_rule(std::move(alts))));
      } else if (c == '*' || c == '+' || c == '?') {
        ++pos_;
        repeat(seq, last_atom, c == '+' ? 1 : 0, c == '?' ? 1 : -1);
        last_atom = SIZE_MAX;
      } else if (c == '{') {
        ++pos_;
        skip_space();
        long min = parse_int(), max;
        skip_space();
        if (pos_ < t_.size() && t_[pos_] == ',') {
          ++pos_;
          skip_space();
          max = parse_int();  // -1: unbounded
          if (min < 0) min = 0;
        } else {
          max = min;
        }
        skip_space();
        if (pos_ >= t_.size() || t_[pos_] != '}' || min < 0) {
          set_error("expected {m}, {m,}, {m,n} or {,n}");
          break;
        }
        ++pos_;
        if (min > kMaxRepeat || max > kMaxRepeat) set_error("repetition count above " + std::to_string(kMaxRepeat));
        else if (max >= 0 && max < min) set_error("repetition {m,n} with n < m");
        else repeat(seq, last_atom, min, max);
        last_atom = SIZE_MAX;
      } else {
        set_error(std::string("unexpected '") + c + "'");
      }
    }
    return seq;
  }

  Result<std::shared_ptr<const Grammar>> compile(uint32_t root);

  std::string_view t_;
  size_t pos_ = 0;
  std::string error_;
  std::vector<RawRule> rules_;
  std::unordered_map<std::string, uint32_t> names_;
  std::unordered_map<std::string, Item> class_rules_;
};

Result<std::shared_ptr<const Grammar>> Parser::compile(uint32_t root) {
  const size_t n = rules_.size();
  // Nullable rules, then left recursion: a rule reachable from itself without consuming a byte.
  if (n > kMaxRules) return make_error(ErrorKind::invalid_request, "grammar: more than " + std::to_string(kMaxRules) + " rules (after expanding repetitions)");
  // Fixed points below sweep forwards and backwards in turn, so a chain of rules converges in
  // two sweeps whichever order it was written in.
  std::vector<char> nullable(n, 0);
  for (bool changed = true, forward = true; changed; forward = !forward) {
    changed = false;
    for (size_t k = 0; k < n; ++k) {
      const size_t r = forward ? k : n - 1 - k;
      if (nullable[r]) continue;
      for (const Seq& s : rules_[r].alts) {
        bool all = std::all_of(s.begin(), s.end(), [&](const Item& i) { return !i.is_set && nullable[i.rule]; });
        if (all) {
          nullable[r] = 1, changed = true;
          break;
        }
      }
    }
  }
  std::vector<std::vector<uint32_t>> left(n);
  for (size_t r = 0; r < n; ++r)
    for (const Seq& s : rules_[r].alts)
      for (const Item& i : s) {
        if (i.is_set) break;
        left[r].push_back(i.rule);
        if (!nullable[i.rule]) break;
      }
  // Depth-first without native recursion: a cycle is left recursion; the longest chain of
  // calls made before any byte is bounded (the matcher expands those chains).
  std::vector<char> color(n, 0);  // 0 new, 1 on the path, 2 done
  std::vector<uint32_t> depth(n, 0);
  for (size_t r0 = 0; r0 < n; ++r0) {
    if (color[r0]) continue;
    std::vector<std::pair<uint32_t, size_t>> path{{static_cast<uint32_t>(r0), 0}};
    color[r0] = 1;
    while (!path.empty()) {
      auto& [r, next] = path.back();
      if (next < left[r].size()) {
        const uint32_t c = left[r][next++];
        if (color[c] == 1) return make_error(ErrorKind::invalid_request, "grammar: rule '" + rules_[c].name + "' is left-recursive");
        if (color[c] == 0) {
          color[c] = 1;
          path.emplace_back(c, 0);
        }
        continue;
      }
      for (uint32_t c : left[r]) depth[r] = std::max(depth[r], depth[c] + 1);
      if (depth[r] > kMaxLeftDepth)
        return make_error(ErrorKind::invalid_request, "grammar: rule '" + rules_[r].name + "' nests calls too deeply before its first character");
      color[r] = 2;
      path.pop_back();
    }
  }

  // Fewest bytes each rule needs.
  std::vector<uint32_t> min_len(n, kInf);
  for (bool changed = true, forward = true; changed; forward = !forward) {
    changed = false;
    for (size_t k = 0; k < n; ++k)
      for (const Seq& s : rules_[forward ? k : n - 1 - k].alts) {
        const size_t r = forward ? k : n - 1 - k;
        uint64_t sum = 0;
        for (const Item& i : s) sum = std::min<uint64_t>(kInf, sum + (i.is_set ? 1 : min_len[i.rule]));
        if (sum < min_len[r]) min_len[r] = static_cast<uint32_t>(sum), changed = true;
      }
  }
  for (size_t r = 0; r < n; ++r)
    if (min_len[r] >= kInf) return make_error(ErrorKind::invalid_request, "grammar: rule '" + rules_[r].name + "' can never finish");

  auto g = std::make_shared<Grammar>();
  g->root = root;
  g->rule_alts.resize(n);
  std::map<std::array<uint64_t, 4>, uint32_t> set_ids;
  for (size_t r = 0; r < n; ++r) {
    g->rule_names.push_back(rules_[r].name);
    for (const Seq& s : rules_[r].alts) {
      g->rule_alts[r].push_back(static_cast<uint32_t>(g->elems.size()));
      for (const Item& i : s) {
        if (i.is_set) {
          std::array<uint64_t, 4> key{i.set.w[0], i.set.w[1], i.set.w[2], i.set.w[3]};
          auto [it, fresh] = set_ids.emplace(key, static_cast<uint32_t>(g->sets.size()));
          if (fresh) g->sets.push_back(i.set);
          g->elems.push_back(Element{ElemKind::bytes, it->second});
        } else {
          g->elems.push_back(Element{ElemKind::rule_ref, i.rule});
        }
      }
      g->elems.push_back(Element{ElemKind::end, 0});
    }
  }
  g->min_len_from.assign(g->elems.size(), 0);
  for (size_t p = g->elems.size(); p-- > 0;) {
    const Element& e = g->elems[p];
    if (e.kind == ElemKind::end) continue;
    g->min_len_from[p] = static_cast<uint32_t>(
        std::min<uint64_t>(kInf, uint64_t(e.kind == ElemKind::bytes ? 1 : min_len[e.value]) + g->min_len_from[p + 1]));
  }
  return std::shared_ptr<const Grammar>(std::move(g));
}

}  // namespace

Result<std::shared_ptr<const Grammar>> parse_gbnf(std::string_view text, std::string_view root) {
  return Parser(text).run(root);
}

}  // namespace pensieve::grammar
