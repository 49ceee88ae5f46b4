#include "text/unicode.h"

#include <algorithm>
#include <array>

#include "text/unicode_tables.h"

namespace pensieve::text::unicode {

namespace ud = unicode_data;

namespace {

// Valid range of the second byte for a lead byte (RFC 3629 table 3-7); {0,0} if not a lead.
struct SecondByteRange {
  uint8_t lo, hi, len;
};

SecondByteRange lead_info(uint8_t b) {
  if (b >= 0xC2 && b <= 0xDF) return {0x80, 0xBF, 2};
  if (b == 0xE0) return {0xA0, 0xBF, 3};
  if (b == 0xED) return {0x80, 0x9F, 3};
  if (b >= 0xE1 && b <= 0xEF) return {0x80, 0xBF, 3};
  if (b == 0xF0) return {0x90, 0xBF, 4};
  if (b >= 0xF1 && b <= 0xF3) return {0x80, 0xBF, 4};
  if (b == 0xF4) return {0x80, 0x8F, 4};
  return {0, 0, 0};
}

// Number of bytes from `pos` that form a valid (possibly incomplete) prefix of one sequence.
// Sets `need` to the full length the lead byte announces (0 when it is not a lead byte).
size_t valid_prefix(std::string_view text, size_t pos, size_t& need) {
  const auto b0 = static_cast<uint8_t>(text[pos]);
  const SecondByteRange info = lead_info(b0);
  need = info.len;
  if (info.len == 0) return 0;
  size_t n = 1;
  while (n < info.len && pos + n < text.size()) {
    const auto b = static_cast<uint8_t>(text[pos + n]);
    const bool ok = n == 1 ? (b >= info.lo && b <= info.hi) : (b >= 0x80 && b <= 0xBF);
    if (!ok) break;
    ++n;
  }
  return n;
}

struct ByteMap {
  std::array<uint32_t, 256> byte_to_cpt{};
  std::array<std::array<char, 3>, 256> utf8{};  // bytes + length in [2]
  std::array<int16_t, 512> cpt_to_byte{};       // every mapped code point is < 512
};

const ByteMap& byte_map() {
  static const ByteMap map = [] {
    ByteMap m;
    m.cpt_to_byte.fill(-1);
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      const uint32_t cpt = printable ? static_cast<uint32_t>(b) : next++;
      m.byte_to_cpt[b] = cpt;
      m.cpt_to_byte[cpt] = static_cast<int16_t>(b);
      std::string s = to_utf8(cpt);
      m.utf8[b][0] = s[0];
      m.utf8[b][1] = s.size() > 1 ? s[1] : 0;
      m.utf8[b][2] = static_cast<char>(s.size());
    }
    return m;
  }();
  return map;
}

template <class Table>
uint32_t lookup_pair(const Table* table, size_t n, uint32_t cpt) {
  const auto* end = table + n;
  const auto* it = std::lower_bound(table, end, cpt, [](const auto& e, uint32_t c) { return e.cpt < c; });
  return (it != end && it->cpt == cpt) ? it->value : cpt;
}

}  // namespace

size_t decode_utf8(std::string_view text, size_t pos, uint32_t& cpt, bool& valid) {
  const auto b0 = static_cast<uint8_t>(text[pos]);
  if (b0 < 0x80) {
    cpt = b0;
    valid = true;
    return 1;
  }
  size_t need = 0;
  const size_t n = valid_prefix(text, pos, need);
  if (need == 0 || n < need) {
    cpt = kReplacementChar;
    valid = false;
    return std::max<size_t>(n, 1);
  }
  uint32_t c = b0 & (0x7F >> need);
  for (size_t i = 1; i < need; ++i) c = (c << 6) | (static_cast<uint8_t>(text[pos + i]) & 0x3F);
  cpt = c;
  valid = true;
  return need;
}

size_t incomplete_utf8_tail(std::string_view text) {
  const size_t n = text.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const size_t pos = n - back;
    const auto b = static_cast<uint8_t>(text[pos]);
    if (b >= 0x80 && b <= 0xBF) continue;  // continuation byte: the lead is further back
    size_t need = 0;
    const size_t valid = valid_prefix(text, pos, need);
    return (need > back && valid == back) ? back : 0;
  }
  return 0;
}

void append_utf8(std::string& out, uint32_t cpt) {
  if (cpt > 0x10FFFF) cpt = kReplacementChar;
  if (cpt < 0x80) {
    out += static_cast<char>(cpt);
  } else if (cpt < 0x800) {
    out += static_cast<char>(0xC0 | (cpt >> 6));
    out += static_cast<char>(0x80 | (cpt & 0x3F));
  } else if (cpt < 0x10000) {
    out += static_cast<char>(0xE0 | (cpt >> 12));
    out += static_cast<char>(0x80 | ((cpt >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cpt & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cpt >> 18));
    out += static_cast<char>(0x80 | ((cpt >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cpt >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cpt & 0x3F));
  }
}

std::string to_utf8(uint32_t cpt) {
  std::string s;
  append_utf8(s, cpt);
  return s;
}

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    uint32_t cpt = 0;
    bool valid = false;
    const size_t len = decode_utf8(text, pos, cpt, valid);
    if (valid) {
      out.append(text.substr(pos, len));
    } else {
      append_utf8(out, kReplacementChar);
    }
    pos += len;
  }
  return out;
}

uint8_t category(uint32_t cpt) {
  const auto* begin = ud::kCategoryRanges;
  const auto* end = begin + ud::kCategoryRangesSize;
  const auto* it = std::upper_bound(begin, end, cpt, [](uint32_t c, const ud::CategoryRange& r) { return c < r.first; });
  if (it == begin) return ud::Cn;
  --it;
  return cpt <= it->last ? it->category : static_cast<uint8_t>(ud::Cn);
}

const char* category_name(uint32_t cpt) { return ud::kCategoryNames[category(cpt)]; }

bool is_letter(uint32_t cpt) {
  const uint8_t c = category(cpt);
  return c >= ud::Lu && c <= ud::Lo;
}
bool is_number(uint32_t cpt) {
  const uint8_t c = category(cpt);
  return c >= ud::Nd && c <= ud::No;
}
bool is_punctuation(uint32_t cpt) {
  const uint8_t c = category(cpt);
  return c >= ud::Pc && c <= ud::Po;
}
bool is_symbol(uint32_t cpt) {
  const uint8_t c = category(cpt);
  return c >= ud::Sm && c <= ud::So;
}
bool is_mark(uint32_t cpt) {
  const uint8_t c = category(cpt);
  return c >= ud::Mn && c <= ud::Me;
}
bool is_control(uint32_t cpt) {
  const uint8_t c = category(cpt);
  return c == ud::Cc || c == ud::Cf;
}

bool is_whitespace(uint32_t cpt) {
  switch (cpt) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0x85: case 0xA0:
    case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return cpt >= 0x2000 && cpt <= 0x200A;
  }
}

uint32_t to_lower(uint32_t cpt) {
  if (cpt < 0x80) return (cpt >= 'A' && cpt <= 'Z') ? cpt + 32 : cpt;
  return lookup_pair(ud::kLowerMap, ud::kLowerMapSize, cpt);
}

uint32_t nfd_base(uint32_t cpt) {
  if (cpt < 0xC0) return cpt;
  return lookup_pair(ud::kNfdBaseMap, ud::kNfdBaseMapSize, cpt);
}

uint32_t byte_to_cpt(uint8_t byte) { return byte_map().byte_to_cpt[byte]; }

int cpt_to_byte(uint32_t cpt) { return cpt < 512 ? byte_map().cpt_to_byte[cpt] : -1; }

std::string_view byte_to_utf8(uint8_t byte) {
  const auto& e = byte_map().utf8[byte];
  return std::string_view(e.data(), static_cast<size_t>(e[2]));
}

}  // namespace pensieve::text::unicode
