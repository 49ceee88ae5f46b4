// The scalar parts of the schema conversion: strings (formats, patterns, lengths) and numbers
// (ranges, multipleOf).
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>

#include "grammar/json_schema_internal.h"

namespace pensieve::grammar {

using nlohmann::json;
using namespace schema_detail;

namespace {

constexpr int64_t kMaxAbs = 999999999999999;  // 15 digits: safe integers in JavaScript
constexpr int64_t kMaxMultiples = 256;         // multipleOf: how many values are offered

// Formats of unbounded length, as patterns (so minLength / maxLength apply to them as to any
// pattern). Each allows a plain subset of what the format allows.
const std::map<std::string, std::string>& format_patterns() {
  static const std::map<std::string, std::string> k = {
      {"email", "^[a-zA-Z0-9_+-]+(\\.[a-zA-Z0-9_+-]+)*@([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?\\.)+[a-zA-Z][a-zA-Z0-9]+$"},
      {"uri", "^https?://[a-z0-9][a-z0-9-]*(\\.[a-z0-9][a-z0-9-]*)*(/[a-zA-Z0-9._~-]*)*$"},
      {"iri", "^https?://[a-z0-9][a-z0-9-]*(\\.[a-z0-9][a-z0-9-]*)*(/[a-zA-Z0-9._~-]*)*$"},
      {"url", "^https?://[a-z0-9]+(\\.[a-z0-9]+)*\\.[a-z]{2,6}(/[a-zA-Z0-9._~-]*)*$"},
      // Labels of at most 12 characters, at most 4 of them: well inside the 63 / 253 limits.
      {"hostname", "^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?){0,3}$"},
      {"uri-reference", "^[a-zA-Z0-9._~-]+(/[a-zA-Z0-9._~-]+)*$"},
      {"iri-reference", "^[a-zA-Z0-9._~-]+(/[a-zA-Z0-9._~-]+)*$"},
      {"json-pointer", "^(/[a-zA-Z0-9_]*)*$"},
      {"relative-json-pointer", "^(0|[1-9][0-9]{0,3})(/[a-zA-Z0-9_]*)*$"},
      {"byte", "^([A-Za-z0-9+/]{4})*$"},
      {"uri-template", "^[a-zA-Z0-9_]*$"},
      {"regex", "^[a-zA-Z0-9_]*$"}};
  return k;
}

// The shortest decimal text of a double that reads back as the same double.
std::string shortest(double d) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

// `m` as mantissa * 10^-scale (m > 0, from its shortest decimal text); false when out of range.
bool decimal_of(double m, int64_t& mantissa, int& scale) {
  std::string t = shortest(m);
  int exp = 0;
  if (auto e = t.find_first_of("eE"); e != std::string::npos) {
    exp = std::atoi(t.c_str() + e + 1);
    t.resize(e);
  }
  scale = 0;
  if (auto dot = t.find('.'); dot != std::string::npos) {
    scale = static_cast<int>(t.size() - dot - 1);
    t.erase(dot, 1);
  }
  scale -= exp;
  if (t.size() > 15) return false;
  mantissa = std::stoll(t);
  for (; scale < 0; ++scale) {
    if (mantissa > kMaxAbs / 10) return false;
    mantissa *= 10;
  }
  return scale <= 15;
}

// k * mantissa * 10^-scale as JSON number text.
std::string scaled_text(int64_t k, int64_t mantissa, int scale) {
  const __int128 v = static_cast<__int128>(k) * mantissa;
  const bool neg = v < 0;
  std::string digits;
  for (__int128 a = neg ? -v : v; a > 0; a /= 10) digits.insert(digits.begin(), char('0' + int(a % 10)));
  if (digits.empty()) return "0";
  if (scale > 0) {
    if (static_cast<int>(digits.size()) <= scale) digits.insert(0, scale + 1 - digits.size(), '0');
    digits.insert(digits.size() - scale, ".");
    while (digits.back() == '0') digits.pop_back();
    if (digits.back() == '.') digits.pop_back();
  }
  return (neg ? "-" : "") + digits;
}

// multipleOf: the multiples of m within the bounds nearest zero, at most kMaxMultiples of them
// (a subset: fine for validity). Each is kept only if it passes the check validators make
// (value / m an integer in double arithmetic: ajv's and Python's), so 0.3 is not offered as a
// multiple of 0.1, since 0.3 / 0.1 is 2.9999999999999996.
Result<std::string> multiples(double m, double lo, bool lo_excl, double hi, bool hi_excl, bool integer) {
  int64_t mantissa = 0;
  int scale = 0;
  if (!decimal_of(m, mantissa, scale)) return make_error(ErrorKind::invalid_request, "multipleOf " + shortest(m) + " is out of the supported range");
  const double kmax_abs = static_cast<double>(kMaxAbs) / static_cast<double>(mantissa);
  double kmin = std::isinf(lo) ? -kmax_abs : std::max(-kmax_abs, std::ceil(lo / m) - 1);
  double kmax = std::isinf(hi) ? kmax_abs : std::min(kmax_abs, std::floor(hi / m) + 1);
  // Start at the multiple nearest zero inside [kmin, kmax] and go outwards.
  const double start = kmin > 0 ? kmin : kmax < 0 ? kmax : 0;
  std::vector<std::string> texts;
  auto fits = [&](double v) {
    return (lo_excl ? v > lo : v >= lo) && (hi_excl ? v < hi : v <= hi) && (!integer || std::floor(v) == v) &&
           std::floor(v / m) == v / m && std::abs(v) <= static_cast<double>(kMaxAbs);
  };
  for (int64_t step = 0; static_cast<int64_t>(texts.size()) < kMaxMultiples && step < 4 * kMaxMultiples; ++step) {
    for (double k : step == 0 ? std::vector<double>{start} : std::vector<double>{start + step, start - step}) {
      if (k < kmin || k > kmax || static_cast<int64_t>(texts.size()) >= kMaxMultiples) continue;
      const std::string t = scaled_text(static_cast<int64_t>(k), mantissa, scale);
      if (fits(std::strtod(t.c_str(), nullptr))) texts.push_back(t);
    }
  }
  if (texts.empty()) return make_error(ErrorKind::invalid_request, "no multiple of " + shortest(m) + " lies between the bounds");
  return literal_alternatives(texts);
}

}  // namespace

Result<std::string> SchemaConverter::string_rule(const json& s, const std::string& where) {
  auto min = count_of(s, "minLength", where, 0);
  if (!min.ok()) return min.error();
  auto max = count_of(s, "maxLength", where, -1);
  if (!max.ok()) return max.error();
  if (*max >= 0 && *max < *min) return bad(where, "maxLength is below minLength");
  const bool has_len = *min > 0 || *max >= 0;
  std::string pattern;
  if (s.contains("format")) {
    if (!s["format"].is_string()) return bad(where, "format must be a string");
    const std::string f = s["format"];
    if (s.contains("pattern")) return bad(where, "format together with pattern is not supported");
    if (auto it = format_patterns().find(f); it != format_patterns().end()) {
      pattern = it->second;
    } else {
      if (has_len) {
        // Formats whose strings have bounded lengths may carry length limits that they meet anyway.
        static const std::map<std::string, std::pair<int64_t, int64_t>> kLengths = {
            {"date", {10, 10}}, {"time", {9, 21}}, {"iso-time", {9, 21}}, {"date-time", {20, 32}},
            {"iso-date-time", {20, 32}}, {"uuid", {36, 36}}, {"ipv4", {7, 15}}, {"ipv6", {15, 39}},
            {"duration", {3, 6}}};
        auto it = kLengths.find(f);
        if (it == kLengths.end() || *min > it->second.first || (*max >= 0 && *max < it->second.second))
          return bad(where, "format '" + f + "' together with minLength/maxLength it does not always meet is not supported");
      }
      const std::string d2 = "[0-9]{2}";
      // Days that exist in every year: 29 and 30 except in February, 31 in the long months.
      const std::string date = "[0-9]{4} \"-\" ( \"02-\" ( \"0\" [1-9] | \"1\" [0-9] | \"2\" [0-8] ) | ( \"0\" [13-9] | \"1\" [0-2] ) \"-\" ( \"0\" [1-9] | [12] [0-9] | \"30\" ) | ( \"0\" [13578] | \"1\" [02] ) \"-31\" )";
      const std::string time = "( [01] [0-9] | \"2\" [0-3] ) \":\" [0-5] [0-9] \":\" [0-5] [0-9] ( \".\" [0-9]{1,6} )? ( \"Z\" | [+-] ( [01] [0-9] | \"2\" [0-3] ) \":\" [0-5] [0-9] )";
      const std::string hex = "[0-9a-f]";
      std::string body;
      if (f == "date") body = date;
      else if (f == "time" || f == "iso-time") body = time;
      else if (f == "date-time" || f == "iso-date-time") body = date + " \"T\" " + time;
      else if (f == "uuid") body = hex + "{8} \"-\" " + hex + "{4} \"-\" " + hex + "{4} \"-\" " + hex + "{4} \"-\" " + hex + "{12}";
      else if (f == "ipv4") {
        const std::string octet = "( \"25\" [0-5] | \"2\" [0-4] [0-9] | \"1\" [0-9] [0-9] | [1-9]? [0-9] )";
        body = octet + " \".\" " + octet + " \".\" " + octet + " \".\" " + octet;
      } else if (f == "ipv6") {
        body = "[0-9a-f]{1,4} ( \":\" [0-9a-f]{1,4} ){7}";
      } else if (f == "duration") {
        body = "\"P\" ( [0-9]{1,3} \"D\" | [0-9]{1,3} \"W\" | \"T\" [0-9]{1,3} [HMS] )";
      } else if (f == "password" || f == "binary" || f == "int32" || f == "int64" || f == "float" || f == "double") {
        body.clear();  // no constraint on a string (the numeric ones apply to numbers)
      } else return bad(where, "the string format '" + f + "' is not supported for constrained output");
      if (!body.empty()) return b_.add(prefix_ + "format-" + f, "\"\\\"\" " + body + " \"\\\"\"");
    }
  } else if (s.contains("pattern")) {
    if (!s["pattern"].is_string()) return bad(where, "pattern must be a string");
    pattern = s["pattern"].get<std::string>();
  }
  if (!pattern.empty()) {
    auto body = regex_to_gbnf(pattern, b_, *min, *max);
    if (!body.ok()) return bad(where, (s.contains("pattern") ? "pattern: " : "format: ") + body.error().message);
    return b_.add(prefix_ + "pattern", "\"\\\"\" " + *body + " \"\\\"\"");
  }
  if (!has_len) return b_.primitive("string");
  return b_.add(prefix_ + "string", "\"\\\"\" " + repeat(b_.primitive("char"), *min, *max) + " \"\\\"\"");
}

Result<std::string> SchemaConverter::number_rule(const json& s, const std::string& where, bool integer) {
  // Bounds as a closed integer range for the integer part.
  double lo = -INFINITY, hi = INFINITY;
  bool lo_excl = false, hi_excl = false;
  for (const char* k : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}) {
    if (!s.contains(k)) continue;
    const json& v = s[k];
    const std::string key = k;
    if (v.is_boolean() && (key == "exclusiveMinimum" || key == "exclusiveMaximum")) {  // draft 4
      (key == "exclusiveMinimum" ? lo_excl : hi_excl) = v.get<bool>();
      continue;
    }
    if (!v.is_number()) return bad(where, key + " must be a number");
    const double d = v.get<double>();
    if (key == "minimum" && d > lo) lo = d;
    if (key == "maximum" && d < hi) hi = d;
    if (key == "exclusiveMinimum" && d >= lo) lo = d, lo_excl = true;
    if (key == "exclusiveMaximum" && d <= hi) hi = d, hi_excl = true;
  }
  // format int32 / int64 bound the value (ajv checks them); float / double do not.
  if (s.contains("format") && s["format"].is_string()) {
    const std::string f = s["format"];
    if (f == "int32") lo = std::max(lo, -2147483648.0), hi = std::min(hi, 2147483647.0);
    else if (f != "int64" && f != "float" && f != "double")
      return bad(where, "the number format '" + f + "' is not supported for constrained output");
  }
  if (s.contains("multipleOf")) {
    const json& m = s["multipleOf"];
    if (!m.is_number() || m.get<double>() <= 0) return bad(where, "multipleOf must be a number above 0");
    auto body = multiples(m.get<double>(), lo, lo_excl, hi, hi_excl, integer);
    if (!body.ok()) return bad(where, body.error().message);
    return b_.add(prefix_ + "multiples", *body);
  }
  if (std::isinf(lo) && std::isinf(hi)) return b_.primitive(integer ? "integer" : "number");
  auto clamp = [](double d) { return std::max<double>(-kMaxAbs, std::min<double>(kMaxAbs, d)); };
  double ilo = std::ceil(clamp(lo)), ihi = std::floor(clamp(hi));
  if (lo_excl && ilo == lo) ilo += 1;
  if (hi_excl && ihi == hi) ihi -= 1;
  std::vector<std::string> alts;
  if (ilo <= ihi) alts.push_back(integer_range_gbnf(static_cast<int64_t>(ilo), static_cast<int64_t>(ihi)));
  if (!integer) {
    // i.f with a fraction that is not all zeros lies strictly between i and i + 1.
    const std::string frac = "\".\" [0-9]{0,5} [1-9]";
    // i.f: needs i >= lo and i + 1 <= hi.
    const double plo = std::max(0.0, std::ceil(clamp(lo))), phi = std::floor(clamp(hi)) - 1;
    if (plo <= phi) alts.push_back(integer_range_gbnf(static_cast<int64_t>(plo), static_cast<int64_t>(phi)) + " " + frac);
    // -i.f: needs -(i + 1) >= lo and -i <= hi.
    const double nlo = std::max(0.0, std::ceil(clamp(-hi))), nhi = std::isinf(lo) ? kMaxAbs : std::floor(clamp(-lo)) - 1;
    if (nlo <= nhi) alts.push_back("\"-\" " + integer_range_gbnf(static_cast<int64_t>(nlo), static_cast<int64_t>(nhi)) + " " + frac);
  }
  if (alts.empty()) return bad(where, "no " + std::string(integer ? "integer" : "number") + " lies between the bounds");
  std::string body;
  for (size_t i = 0; i < alts.size(); ++i) body += (i ? " | " : "") + alts[i];
  return b_.add(prefix_ + (integer ? "int-range" : "num-range"), body);
}


}  // namespace pensieve::grammar
