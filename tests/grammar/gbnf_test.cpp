// The GBNF parser and the byte-level automaton: what a grammar accepts and rejects, byte by
// byte, and the errors bad grammars get.
#include <gtest/gtest.h>

#include "grammar/automaton.h"
#include "grammar/grammar.h"

namespace pensieve::grammar {
namespace {

std::shared_ptr<const Grammar> parse(std::string_view text) {
  auto g = parse_gbnf(text);
  EXPECT_TRUE(g.ok()) << (g.ok() ? "" : g.error().message);
  return g.ok() ? *g : nullptr;
}

// Whether the grammar matches exactly `s` (a complete match).
bool matches(const std::shared_ptr<const Grammar>& g, std::string_view s) {
  Automaton a(g);
  StateId st = a.advance(a.initial(), s);
  return st != kDead && a.accepting(st);
}

// Whether `s` is a prefix of something the grammar matches.
bool viable(const std::shared_ptr<const Grammar>& g, std::string_view s) {
  Automaton a(g);
  return a.advance(a.initial(), s) != kDead;
}

TEST(Gbnf, LiteralsSequencesAlternatives) {
  auto g = parse(R"(root ::= "ab" "c" | "x" other
other ::= "yz")");
  EXPECT_TRUE(matches(g, "abc"));
  EXPECT_TRUE(matches(g, "xyz"));
  EXPECT_FALSE(matches(g, "ab"));
  EXPECT_TRUE(viable(g, "ab"));
  EXPECT_FALSE(viable(g, "abd"));
  EXPECT_FALSE(matches(g, "abcx"));
  EXPECT_FALSE(matches(g, ""));
}

TEST(Gbnf, EscapesInLiterals) {
  auto g = parse(R"(root ::= "a\n\t\"\\\x41\u00e9\U0001F600")");
  EXPECT_TRUE(matches(g, "a\n\t\"\\A\xc3\xa9\xf0\x9f\x98\x80"));
  EXPECT_FALSE(matches(g, "a\n\t\"\\A"));
}

TEST(Gbnf, CharClassesRangesAndNegation) {
  auto g = parse(R"(root ::= [a-c0-9_] [^"\\a-z])");
  EXPECT_TRUE(matches(g, "bA"));
  EXPECT_TRUE(matches(g, "7!"));
  EXPECT_TRUE(matches(g, "_\xc3\xa9"));       // é: a non-ASCII character is "not a-z"
  EXPECT_TRUE(matches(g, "a\xf0\x9f\x98\x80"));  // a 4-byte character too
  EXPECT_FALSE(matches(g, "d!"));
  EXPECT_FALSE(matches(g, "aq"));
  EXPECT_FALSE(matches(g, "a\""));
  EXPECT_FALSE(matches(g, "a\\"));
  EXPECT_FALSE(matches(g, "a\xc3"));       // half a character
  EXPECT_FALSE(viable(g, "a\xed\xa0"));    // a surrogate's encoding is not UTF-8
  EXPECT_FALSE(viable(g, "a\xc0"));        // an overlong lead byte
}

TEST(Gbnf, UnicodeRanges) {
  auto g = parse(R"(root ::= [α-ω]+)");
  EXPECT_TRUE(matches(g, "αβγω"));
  EXPECT_FALSE(matches(g, "αA"));
  EXPECT_FALSE(matches(g, "Α"));  // capital alpha is outside
}

TEST(Gbnf, AnyCharacter) {
  auto g = parse(R"(root ::= "<" . ">")");
  EXPECT_TRUE(matches(g, "<x>"));
  EXPECT_TRUE(matches(g, "<\xe2\x82\xac>"));
  EXPECT_FALSE(matches(g, "<>"));
  EXPECT_FALSE(matches(g, "<ab>"));
}

TEST(Gbnf, Repetitions) {
  auto g = parse(R"(root ::= "a"* "b"+ "c"? ("de"){2} "f"{1,3} "g"{2,} "h"{,2})");
  EXPECT_TRUE(matches(g, "bdedefgg"));
  EXPECT_TRUE(matches(g, "aaabbcdedefffggggghh"));
  EXPECT_FALSE(matches(g, "dedefgg"));        // b+ needs one
  EXPECT_FALSE(matches(g, "bdefgg"));         // {2}
  EXPECT_FALSE(matches(g, "bdedeffffgg"));    // {1,3}
  EXPECT_FALSE(matches(g, "bdedefg"));        // {2,}
  EXPECT_FALSE(matches(g, "bdedefgghhh"));    // {,2}
  EXPECT_FALSE(matches(g, "bccdedefgg"));     // c? once
}

TEST(Gbnf, GroupsNestAndSpanLinesWithComments) {
  auto g = parse(R"(# a comment
root ::= ( "x" | "y" ( "1" | "2" )+ )  # trailing comment
         "!"
item ::= "unused"
)");
  EXPECT_TRUE(matches(g, "x!"));
  EXPECT_TRUE(matches(g, "y1221!"));
  EXPECT_FALSE(matches(g, "y!"));
}

TEST(Gbnf, RecursionIsAStack) {
  auto g = parse(R"g(root ::= "(" root ")" | "")g");
  EXPECT_TRUE(matches(g, ""));
  EXPECT_TRUE(matches(g, "((()))"));
  EXPECT_FALSE(matches(g, "(()"));
  EXPECT_FALSE(matches(g, "())"));
  EXPECT_TRUE(viable(g, "((("));
}

TEST(Gbnf, LongRepetitionKeepsAFlatStack) {
  auto g = parse(R"(root ::= [a-z]* "." )");
  Automaton a(g);
  StateId s = a.initial();
  for (int i = 0; i < 5000; ++i) s = a.advance(s, 'q');
  ASSERT_NE(s, kDead);
  EXPECT_LT(a.n_nodes(), 20u);  // no frame per repetition
  EXPECT_TRUE(a.accepting(a.advance(s, '.')));
}

TEST(Gbnf, CompleteAndDistance) {
  auto g = parse(R"(root ::= "ab" "c"?)");
  Automaton a(g);
  EXPECT_EQ(a.distance(a.initial()), 2u);
  StateId s = a.advance(a.initial(), "ab");
  EXPECT_TRUE(a.accepting(s));
  EXPECT_FALSE(a.complete(s));  // "c" may still follow
  EXPECT_EQ(a.distance(s), 0u);
  EXPECT_TRUE(a.complete(a.advance(s, 'c')));
}

TEST(Gbnf, Errors) {
  auto err = [](std::string_view text) {
    auto g = parse_gbnf(text);
    return g.ok() ? std::string("ok") : g.error().message;
  };
  EXPECT_NE(err("root ::= foo").find("'foo' is used but never defined"), std::string::npos);
  EXPECT_NE(err("root ::= root \"a\" | \"b\"").find("left-recursive"), std::string::npos);
  EXPECT_NE(err("root ::= \"a\" root").find("can never finish"), std::string::npos);
  EXPECT_NE(err("rot ::= \"a\"").find("no rule named 'root'"), std::string::npos);
  EXPECT_NE(err("root ::= \"abc").find("unterminated"), std::string::npos);
  EXPECT_NE(err("root ::= [abc").find("unterminated"), std::string::npos);
  EXPECT_NE(err("root ::= (\"a\"").find("expected ')'"), std::string::npos);
  EXPECT_NE(err("root ::= \"a\"{3,1}").find("n < m"), std::string::npos);
  EXPECT_NE(err("root ::= \"a\"\nroot ::= \"b\"").find("defined twice"), std::string::npos);
  EXPECT_NE(err("root ::= \"a\" \\q").find("line 1"), std::string::npos);
  EXPECT_NE(err("root ::= \"\\q\"").find("unknown escape"), std::string::npos);
  EXPECT_NE(err("root ::= *").find("nothing before it"), std::string::npos);
  EXPECT_NE(err("root ::= [^\\x00-\\U0010FFFF]").find("matches nothing"), std::string::npos);
  EXPECT_EQ(err(std::string(300, '(')).find("ok"), std::string::npos);  // nesting bounded, no crash
}

TEST(Gbnf, HostileGrammarsAreBoundedNotHangs) {
  // A long chain of rules written top-down (each refers to the next one defined below it).
  std::string chain = "root ::= r0\n";
  for (int i = 0; i < 20000; ++i) chain += "r" + std::to_string(i) + " ::= \"x\" r" + std::to_string(i + 1) + " | \"y\"\n";
  chain += "r20000 ::= \"z\"\n";
  auto g = parse_gbnf(chain);
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_TRUE(matches(*g, "xxy"));
  // A long chain of calls before the first character: bounded, and deep stacks of frames that
  // end together do not recurse.
  std::string left = "root ::= l0\n";
  for (int i = 0; i < 3000; ++i) left += "l" + std::to_string(i) + " ::= l" + std::to_string(i + 1) + " \"x\"?\n";
  left += "l3000 ::= \"s\"\n";
  auto lg = parse_gbnf(left);
  ASSERT_TRUE(lg.ok()) << lg.error().message;
  EXPECT_TRUE(matches(*lg, "sxxx"));
  std::string too_deep = "root ::= l0\n";
  for (int i = 0; i < 6000; ++i) too_deep += "l" + std::to_string(i) + " ::= l" + std::to_string(i + 1) + " \"x\"\n";
  too_deep += "l6000 ::= \"s\"\n";
  EXPECT_NE(parse_gbnf(too_deep).error().message.find("too deeply"), std::string::npos);
  auto nest = parse_gbnf(R"(root ::= "a" root "b"? | "c")");
  ASSERT_TRUE(nest.ok());
  Automaton a(*nest);
  StateId st = a.initial();
  for (int i = 0; i < 200000; ++i) st = a.advance(st, 'a');
  st = a.advance(st, 'c');
  EXPECT_TRUE(a.accepting(st));  // 200000 frames, each may end at once
  // Repetition counts beyond the limit, and huge nested ones, are errors.
  EXPECT_FALSE(parse_gbnf("root ::= \"a\"{1000000}").ok());
  // Optional repetitions of something optional chain 60000 calls before a character: refused.
  EXPECT_NE(parse_gbnf("root ::= (\"a\"{0,60000}){0,60000}").error().message.find("too deeply"), std::string::npos);
  EXPECT_TRUE(parse_gbnf("root ::= (\"a\"{1,600}){0,600}").ok());
  EXPECT_FALSE(parse_gbnf("root ::= [^\\x00-\\x{10FFFF}]").ok());
}

TEST(Utf8Sequences, CoverExactlyTheRange) {
  // Every code point in and around a few ranges: encoded, it matches a sequence iff inside.
  for (auto [lo, hi] : std::vector<std::pair<uint32_t, uint32_t>>{{0x80, 0x10FFFF}, {0x3B1, 0x3C9}, {0x7F0, 0x1000}, {0xFFF0, 0x10010}}) {
    std::vector<std::vector<std::pair<uint8_t, uint8_t>>> seqs;
    utf8_sequences(lo, hi, seqs);
    for (uint32_t cp = 0x70; cp < 0x11000; cp += (cp < 0x2000 ? 1 : 7)) {
      std::string s;
      if (cp < 0x80) s = std::string(1, char(cp));
      else if (cp < 0x800) s = {char(0xC0 | (cp >> 6)), char(0x80 | (cp & 0x3F))};
      else if (cp < 0x10000) s = {char(0xE0 | (cp >> 12)), char(0x80 | ((cp >> 6) & 0x3F)), char(0x80 | (cp & 0x3F))};
      else s = {char(0xF0 | (cp >> 18)), char(0x80 | ((cp >> 12) & 0x3F)), char(0x80 | ((cp >> 6) & 0x3F)), char(0x80 | (cp & 0x3F))};
      bool hit = false;
      for (const auto& q : seqs) {
        if (q.size() != s.size()) continue;
        bool all = true;
        for (size_t i = 0; i < s.size(); ++i) all = all && uint8_t(s[i]) >= q[i].first && uint8_t(s[i]) <= q[i].second;
        hit = hit || all;
      }
      const bool inside = cp >= lo && cp <= hi && !(cp >= 0xD800 && cp <= 0xDFFF);
      ASSERT_EQ(hit, inside) << std::hex << cp;
    }
  }
}

}  // namespace
}  // namespace pensieve::grammar
