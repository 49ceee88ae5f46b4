#include "text/jinja_strings.h"

#include <algorithm>

#include "text/jinja_render.h"

namespace pensieve::text::jinja::str {

bool is_space_char(std::string_view ch) {
  if (ch.size() == 1) {
    unsigned char c = ch[0];
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
  }
  static const std::string_view kWide[] = {"\u0085", "\u00a0", "\u1680", "\u2000", "\u2001", "\u2002", "\u2003",
                                           "\u2004", "\u2005", "\u2006", "\u2007", "\u2008", "\u2009", "\u200a",
                                           "\u2028", "\u2029", "\u202f", "\u205f", "\u3000"};
  return std::find(std::begin(kWide), std::end(kWide), ch) != std::end(kWide);
}

std::string strip(std::string_view s, bool left, bool right, const std::string* chars) {
  auto cs = utf8_chars(s);
  std::vector<std::string_view> set;
  if (chars)
    for (auto c : utf8_chars(*chars)) set.push_back(c);
  auto strippable = [&](std::string_view c) {
    return chars ? std::find(set.begin(), set.end(), c) != set.end() : is_space_char(c);
  };
  size_t b = 0, e = cs.size();
  if (left)
    while (b < e && strippable(cs[b])) ++b;
  if (right)
    while (e > b && strippable(cs[e - 1])) --e;
  if (b == e) return {};
  const char* begin = cs[b].data();
  const char* end = cs[e - 1].data() + cs[e - 1].size();
  return std::string(begin, end);
}

// Simple case mapping for ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic (the letters
// chat content meets most); other code points are left unchanged.
static uint32_t lower_cp(uint32_t c) {
  if (c < 0x80) return c >= 'A' && c <= 'Z' ? c + 32 : c;
  if ((c >= 0xC0 && c <= 0xDE && c != 0xD7) || (c >= 0x391 && c <= 0x3AB && c != 0x3A2) || (c >= 0x410 && c <= 0x42F))
    return c + 0x20;
  if (c >= 0x400 && c <= 0x40F) return c + 0x50;
  if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 && c != 0x178 && c != 0x17F) {
    bool odd_is_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    bool is_upper = odd_is_upper ? (c & 1) : !(c & 1);
    return is_upper ? c + 1 : c;
  }
  if (c == 0x178) return 0xFF;
  return c;
}
static uint32_t upper_cp(uint32_t c) {
  if (c < 0x80) return c >= 'a' && c <= 'z' ? c - 32 : c;
  if ((c >= 0xE0 && c <= 0xFE && c != 0xF7) || (c >= 0x3B1 && c <= 0x3CB && c != 0x3C2) || (c >= 0x430 && c <= 0x44F))
    return c - 0x20;
  if (c >= 0x450 && c <= 0x45F) return c - 0x50;
  if (c == 0xFF) return 0x178;
  if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 && c != 0x178 && c != 0x17F) {
    bool odd_is_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    bool is_lower = odd_is_upper ? !(c & 1) : (c & 1);
    return is_lower ? c - 1 : c;
  }
  return c;
}
static bool is_cased(uint32_t c) { return lower_cp(c) != c || upper_cp(c) != c; }

static uint32_t decode(std::string_view ch) {
  unsigned char c = ch[0];
  if (ch.size() == 1) return c;
  uint32_t cp = c & (0x7F >> ch.size());
  for (size_t k = 1; k < ch.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(ch[k]) & 0x3F);
  return cp;
}
static void encode(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

// Applies `f(code point, index of the character)` to every character; invalid or 4-byte
// sequences are copied unchanged.
template <class F>
static std::string map_chars(std::string_view s, F f) {
  std::string out;
  out.reserve(s.size());
  size_t index = 0;
  for (std::string_view ch : utf8_chars(s)) {
    bool simple = ch.size() <= 3 && (ch.size() == 1 || (static_cast<unsigned char>(ch[0]) >= 0xC0));
    if (!simple) {
      out += ch;
    } else {
      uint32_t cp = decode(ch);
      uint32_t mapped = f(cp, index);
      if (mapped == cp) {
        out += ch;
      } else {
        encode(out, mapped);
      }
    }
    ++index;
  }
  return out;
}

std::string upper(std::string_view s) { return map_chars(s, [](uint32_t c, size_t) { return upper_cp(c); }); }
std::string lower(std::string_view s) { return map_chars(s, [](uint32_t c, size_t) { return lower_cp(c); }); }

std::string capitalize(std::string_view s) {
  return map_chars(s, [](uint32_t c, size_t i) { return i == 0 ? upper_cp(c) : lower_cp(c); });
}

std::string py_title(std::string_view s) {
  bool prev_cased = false;
  return map_chars(s, [&](uint32_t c, size_t) {
    uint32_t r = c;
    if (is_cased(c)) {
      r = prev_cased ? lower_cp(c) : upper_cp(c);
      prev_cased = true;
    } else {
      prev_cased = false;
    }
    return r;
  });
}

std::string jinja_title(std::string_view s) {
  bool word_start = true;
  return map_chars(s, [&](uint32_t c, size_t) {
    bool delim = c == ' ' || (c >= '\t' && c <= '\r') || c == '-' || c == '(' || c == '{' || c == '[' || c == '<';
    uint32_t r = delim ? c : word_start ? upper_cp(c) : lower_cp(c);
    word_start = delim;
    return r;
  });
}

std::vector<std::string> split(std::string_view s, const std::string* sep, int64_t maxsplit) {
  std::vector<std::string> out;
  if (sep) {
    if (sep->empty()) fail("ValueError: empty separator");
    size_t start = 0;
    while (maxsplit < 0 || int64_t(out.size()) < maxsplit) {
      size_t p = s.find(*sep, start);
      if (p == std::string_view::npos) break;
      out.emplace_back(s.substr(start, p - start));
      start = p + sep->size();
    }
    out.emplace_back(s.substr(start));
    return out;
  }
  auto cs = utf8_chars(s);
  size_t k = 0;
  while (true) {
    while (k < cs.size() && is_space_char(cs[k])) ++k;
    if (k == cs.size()) break;
    if (maxsplit >= 0 && int64_t(out.size()) == maxsplit) {
      // The rest, with trailing whitespace stripped.
      size_t e = cs.size();
      while (e > k && is_space_char(cs[e - 1])) --e;
      out.emplace_back(cs[k].data(), size_t(cs[e - 1].data() + cs[e - 1].size() - cs[k].data()));
      break;
    }
    size_t b = k;
    while (k < cs.size() && !is_space_char(cs[k])) ++k;
    out.emplace_back(cs[b].data(), size_t(cs[k - 1].data() + cs[k - 1].size() - cs[b].data()));
  }
  return out;
}

std::vector<std::string> splitlines(std::string_view s) {
  std::vector<std::string> out;
  auto cs = utf8_chars(s);
  std::string line;
  for (size_t k = 0; k < cs.size(); ++k) {
    std::string_view c = cs[k];
    bool brk = c == "\n" || c == "\r" || c == "\v" || c == "\f" || c == "\x1c" || c == "\x1d" || c == "\x1e" ||
               c == "\u0085" || c == "\u2028" || c == "\u2029";
    if (!brk) {
      line += c;
      continue;
    }
    if (c == "\r" && k + 1 < cs.size() && cs[k + 1] == "\n") ++k;
    out.push_back(std::move(line));
    line.clear();
  }
  if (!line.empty()) out.push_back(std::move(line));
  return out;
}

std::string replace(std::string_view s, std::string_view from, std::string_view to, int64_t count) {
  std::string out;
  if (from.empty()) {  // Python inserts `to` around every character
    auto cs = utf8_chars(s);
    int64_t done = 0;
    for (auto c : cs) {
      if (count < 0 || done < count) {
        out += to;
        ++done;
      }
      out += c;
    }
    if (count < 0 || done < count) out += to;
    return out;
  }
  size_t start = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    size_t p = s.find(from, start);
    if (p == std::string_view::npos) break;
    out.append(s.substr(start, p - start));
    out.append(to);
    start = p + from.size();
    ++done;
  }
  out.append(s.substr(start));
  return out;
}

size_t count(std::string_view s, std::string_view sub) {
  if (sub.empty()) return utf8_length(s) + 1;
  size_t n = 0;
  for (size_t p = s.find(sub); p != std::string_view::npos; p = s.find(sub, p + sub.size())) ++n;
  return n;
}

}  // namespace pensieve::text::jinja::str
