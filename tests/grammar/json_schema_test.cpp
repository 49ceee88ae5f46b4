// JSON Schema -> grammar: for each keyword, documents the grammar must accept and ones it must
// reject, and the errors unsupported schemas get.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "grammar/automaton.h"
#include "grammar/json_schema.h"
#include "grammar/schema_checker.h"

namespace pensieve::grammar {
namespace {

using nlohmann::json;

TEST(JsonSchema, Primitives) {
  Checker str(json{{"type", "string"}});
  EXPECT_TRUE(str(R"("")"));
  EXPECT_TRUE(str(R"("héllo \"q\" \\ \n \u00e9")"));
  EXPECT_FALSE(str(R"("\ud800")"));  // a lone surrogate escape
  EXPECT_FALSE(str("\"a\nb\""));       // a raw control character
  EXPECT_FALSE(str(R"("abc)"));
  EXPECT_FALSE(str("1"));
  Checker num(json{{"type", "number"}});
  for (auto ok : {"0", "-1", "3.25", "1e5", "-0.5E-3", "12345"}) EXPECT_TRUE(num(ok)) << ok;
  for (auto no : {"01", "1.", ".5", "+1", "1e", "\"1\"", "--1"}) EXPECT_FALSE(num(no)) << no;
  Checker integer(json{{"type", "integer"}});
  EXPECT_TRUE(integer("-42"));
  EXPECT_FALSE(integer("4.2"));
  EXPECT_FALSE(integer("1e3"));
  Checker b(json{{"type", "boolean"}});
  EXPECT_TRUE(b("true"));
  EXPECT_TRUE(b("false"));
  EXPECT_FALSE(b("null"));
  Checker n(json{{"type", "null"}});
  EXPECT_TRUE(n("null"));
  Checker multi(json{{"type", {"string", "null"}}});
  EXPECT_TRUE(multi("null"));
  EXPECT_TRUE(multi("\"x\""));
  EXPECT_FALSE(multi("1"));
  Checker any(json::object());
  for (auto ok : {"1", "\"s\"", "[1,{\"a\":[]}]", "{\"k\":null}", "true"}) EXPECT_TRUE(any(ok)) << ok;
}

TEST(JsonSchema, ObjectsRequiredOptionalAndOrder) {
  Checker c(json::parse(R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"},"c":{"type":"boolean"}},
                            "required":["b"],"additionalProperties":false})"));
  EXPECT_TRUE(c(R"({"b":"x"})"));
  EXPECT_TRUE(c(R"({"a":1,"b":"x"})"));
  EXPECT_TRUE(c(R"({"a":1,"b":"x","c":true})"));
  EXPECT_TRUE(c(R"({"b":"x","c":false})"));
  EXPECT_FALSE(c(R"({})"));              // b is required
  EXPECT_FALSE(c(R"({"a":1})"));
  EXPECT_FALSE(c(R"({"b":"x","d":1})"));  // not declared
  EXPECT_FALSE(c(R"({"b":"x",})"));
  EXPECT_FALSE(c(R"({,"b":"x"})"));
  EXPECT_FALSE(c(R"({"b":1})"));
  Checker none(json::parse(R"({"type":"object","properties":{"a":{"type":"integer"}}})"));
  EXPECT_TRUE(none("{}"));
  EXPECT_TRUE(none(R"({"a":2})"));
  Checker closed(json::parse(R"({"type":"object","additionalProperties":false})"));
  EXPECT_TRUE(closed("{}"));
  EXPECT_FALSE(closed(R"({"a":1})"));
  Checker map(json::parse(R"({"type":"object","additionalProperties":{"type":"integer"}})"));
  EXPECT_TRUE(map(R"({"x":1,"y":2})"));
  EXPECT_FALSE(map(R"({"x":"1"})"));
  Checker names(json::parse(R"({"type":"object","propertyNames":{"pattern":"^[a-z]+$"},"additionalProperties":{"type":"integer"}})"));
  EXPECT_TRUE(names(R"({"ab":1,"c":2})"));
  EXPECT_FALSE(names(R"({"Ab":1})"));
  Checker undeclared_required(json::parse(R"({"type":"object","required":["q"]})"));
  EXPECT_TRUE(undeclared_required(R"({"q":[1]})"));
  EXPECT_FALSE(undeclared_required("{}"));
}

TEST(JsonSchema, NestedObjectsAndArrays) {
  Checker c(json::parse(R"({"type":"object","properties":{"items":{"type":"array","items":
      {"type":"object","properties":{"id":{"type":"integer"},"tags":{"type":"array","items":{"type":"string"}}},"required":["id","tags"]}}},
      "required":["items"]})"));
  EXPECT_TRUE(c(R"({"items":[]})"));
  EXPECT_TRUE(c(R"({"items":[{"id":1,"tags":[]},{"id":2,"tags":["a","b"]}]})"));
  EXPECT_FALSE(c(R"({"items":[{"id":1}]})"));
  EXPECT_FALSE(c(R"({"items":[{"id":1,"tags":[1]}]})"));
}

TEST(JsonSchema, ArrayBounds) {
  Checker c(json::parse(R"({"type":"array","items":{"type":"integer"},"minItems":2,"maxItems":3})"));
  EXPECT_FALSE(c("[]"));
  EXPECT_FALSE(c("[1]"));
  EXPECT_TRUE(c("[1,2]"));
  EXPECT_TRUE(c("[1,2,3]"));
  EXPECT_FALSE(c("[1,2,3,4]"));
  Checker min1(json::parse(R"({"type":"array","minItems":1})"));
  EXPECT_FALSE(min1("[]"));
  EXPECT_TRUE(min1("[null,\"x\"]"));
  Checker tuple(json::parse(R"({"type":"array","prefixItems":[{"type":"string"},{"type":"integer"}],"items":false,"minItems":1})"));
  EXPECT_TRUE(tuple(R"(["a"])"));
  EXPECT_TRUE(tuple(R"(["a",1])"));
  EXPECT_FALSE(tuple(R"(["a",1,2])"));
  EXPECT_FALSE(tuple(R"([1])"));
  EXPECT_FALSE(tuple("[]"));
}

TEST(JsonSchema, EnumAndConst) {
  Checker e(json::parse(R"({"enum":["red","green",3,null,{"a":[1]}]})"));
  for (auto ok : {"\"red\"", "\"green\"", "3", "null", "{\"a\":[1]}"}) EXPECT_TRUE(e(ok)) << ok;
  for (auto no : {"\"blue\"", "\"re\"", "4", "{\"a\":[2]}"}) EXPECT_FALSE(e(no)) << no;
  Checker typed(json::parse(R"({"type":"string","enum":["a",1]})"));
  EXPECT_TRUE(typed("\"a\""));
  EXPECT_FALSE(typed("1"));  // not a string
  Checker k(json::parse(R"({"const":"only \"this\""})"));
  EXPECT_TRUE(k(R"("only \"this\"")"));
  EXPECT_FALSE(k(R"("only")"));
  std::vector<std::string> many;
  for (int i = 0; i < 500; ++i) many.push_back("value_" + std::to_string(i));
  Checker big(json{{"enum", many}});
  EXPECT_TRUE(big("\"value_499\""));
  EXPECT_FALSE(big("\"value_500\""));
}

TEST(JsonSchema, AnyOfOneOfAllOf) {
  Checker c(json::parse(R"({"anyOf":[{"type":"integer"},{"type":"object","properties":{"x":{"type":"string"}},"required":["x"]}]})"));
  EXPECT_TRUE(c("5"));
  EXPECT_TRUE(c(R"({"x":"y"})"));
  EXPECT_FALSE(c(R"("5")"));
  Checker o(json::parse(R"({"oneOf":[{"const":"a"},{"const":"b"}]})"));
  EXPECT_TRUE(o("\"b\""));
  EXPECT_FALSE(o("\"c\""));
  // oneOf: a document may match only one branch. Overlapping branches are left out where the
  // others are provably exclusive: here {"b":..} would also match the open first branch.
  Checker overlap(json::parse(R"({"oneOf":[{"type":"object","properties":{"a":{"type":"integer"}}},
      {"type":"object","properties":{"b":{"type":"integer"}},"required":["b"]},{"type":"string"}]})"));
  EXPECT_TRUE(overlap("\"s\""));
  EXPECT_TRUE(overlap(R"({"a":1})"));   // the second branch requires "b": exclusive
  EXPECT_TRUE(overlap("{}"));
  EXPECT_FALSE(overlap(R"({"b":1})"));  // would match the first branch as well (open object)
  Checker numbers(json::parse(R"({"oneOf":[{"type":"integer"},{"type":"number"},{"type":"boolean"}]})"));
  EXPECT_TRUE(numbers("true"));
  EXPECT_FALSE(numbers("1"));  // an integer would match two branches
  Checker tagged(json::parse(R"({"oneOf":[{"type":"object","properties":{"k":{"const":"a"},"x":{"type":"integer"}},"required":["k"]},
      {"type":"object","properties":{"k":{"const":"b"}},"required":["k"]}]})"));
  EXPECT_TRUE(tagged(R"({"k":"a","x":1})"));
  EXPECT_TRUE(tagged(R"({"k":"b"})"));
  Checker sib(json::parse(R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},
                              "anyOf":[{"required":["a"]},{"required":["b"]}]})"));
  EXPECT_TRUE(sib(R"({"a":1})"));
  EXPECT_TRUE(sib(R"({"b":1})"));
  EXPECT_FALSE(sib("{}"));
  Checker all(json::parse(R"({"allOf":[{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]},
                                       {"properties":{"b":{"type":"string"}},"required":["b"]}]})"));
  EXPECT_TRUE(all(R"({"a":1,"b":"x"})"));
  EXPECT_FALSE(all(R"({"a":1})"));
}

TEST(JsonSchema, RefsAndRecursion) {
  Checker c(json::parse(R"({"$defs":{"pt":{"type":"object","properties":{"x":{"type":"integer"}},"required":["x"]}},
                            "type":"array","items":{"$ref":"#/$defs/pt"}})"));
  EXPECT_TRUE(c(R"([{"x":1},{"x":2}])"));
  EXPECT_FALSE(c(R"([{"y":1}])"));
  Checker tree(json::parse(R"({"definitions":{"node":{"type":"object","properties":{"v":{"type":"integer"},
      "kids":{"type":"array","items":{"$ref":"#/definitions/node"}}},"required":["v"],"additionalProperties":false}},
      "$ref":"#/definitions/node"})"));
  EXPECT_TRUE(tree(R"({"v":1})"));
  // Properties come in the order the parsed schema keeps them (nlohmann::json: by name).
  EXPECT_TRUE(tree(R"({"kids":[{"kids":[{"v":3}],"v":2},{"v":4}],"v":1})"));
  EXPECT_FALSE(tree(R"({"kids":[{"kids":[]}],"v":1})"));
  Checker root(json::parse(R"({"type":"object","properties":{"next":{"$ref":"#"}}})"));
  EXPECT_TRUE(root(R"({"next":{"next":{}}})"));
}

TEST(JsonSchema, StringFormats) {
  Checker date(json::parse(R"({"type":"string","format":"date"})"));
  EXPECT_TRUE(date(R"("2024-01-31")"));
  EXPECT_TRUE(date(R"("1999-12-30")"));
  EXPECT_FALSE(date(R"("2024-02-30")"));
  EXPECT_FALSE(date(R"("2024-04-31")"));
  EXPECT_FALSE(date(R"("2024-13-01")"));
  EXPECT_FALSE(date(R"("24-01-01")"));
  Checker dt(json::parse(R"({"type":"string","format":"date-time"})"));
  EXPECT_TRUE(dt(R"("2024-05-06T07:08:09Z")"));
  EXPECT_TRUE(dt(R"("2024-05-06T23:59:59.123+02:00")"));
  EXPECT_FALSE(dt(R"("2024-05-06T24:00:00Z")"));
  EXPECT_FALSE(dt(R"("2024-05-06 07:08:09")"));
  Checker uuid(json::parse(R"({"type":"string","format":"uuid"})"));
  EXPECT_TRUE(uuid(R"("123e4567-e89b-12d3-a456-426614174000")"));
  EXPECT_FALSE(uuid(R"("123e4567e89b12d3a456426614174000")"));
  Checker email(json::parse(R"({"type":"string","format":"email"})"));
  EXPECT_TRUE(email(R"("a.b+c@example.co")"));
  EXPECT_FALSE(email(R"("a@b")"));
  EXPECT_FALSE(email(R"("@example.com")"));
  Checker host(json::parse(R"({"type":"string","format":"hostname"})"));
  EXPECT_TRUE(host(R"("a-b.example.io")"));
  EXPECT_FALSE(host(R"("a-.b")"));
  Checker v6(json::parse(R"({"type":"string","format":"ipv6"})"));
  EXPECT_TRUE(v6(R"("fe80:0:0:0:202:b3ff:fe1e:8329")"));
  Checker dur(json::parse(R"({"type":"string","format":"duration"})"));
  EXPECT_TRUE(dur(R"("P3D")"));
  EXPECT_TRUE(dur(R"("PT12H")"));
  EXPECT_FALSE(dur(R"("P")"));
  Checker i32(json::parse(R"({"type":"integer","format":"int32"})"));
  EXPECT_TRUE(i32("2147483647"));
  EXPECT_FALSE(i32("2147483648"));
  Checker bounded(json::parse(R"({"type":"string","format":"uuid","minLength":36,"maxLength":64})"));
  EXPECT_TRUE(bounded(R"("123e4567-e89b-12d3-a456-426614174000")"));
  Checker short_mail(json::parse(R"({"type":"string","format":"email","maxLength":12})"));  // narrowed to fit
  EXPECT_TRUE(short_mail(R"("a@b.cd")"));
  EXPECT_FALSE(short_mail(R"("abcdef@ghij.kl")"));
  EXPECT_NE(error_of(json::parse(R"({"type":"string","format":"date","maxLength":8})")).find("minLength/maxLength"), std::string::npos);
  Checker ip(json::parse(R"({"type":"string","format":"ipv4"})"));
  EXPECT_TRUE(ip(R"("192.168.0.255")"));
  EXPECT_FALSE(ip(R"("256.1.1.1")"));
}

TEST(JsonSchema, StringLengths) {
  Checker c(json::parse(R"({"type":"string","minLength":2,"maxLength":4})"));
  EXPECT_FALSE(c(R"("a")"));
  EXPECT_TRUE(c(R"("ab")"));
  EXPECT_TRUE(c(R"("a\"éd")"));  // 4 characters: an escape and a 2-byte character count once
  EXPECT_FALSE(c(R"("abcde")"));
  Checker min(json::parse(R"({"type":"string","minLength":3})"));
  EXPECT_FALSE(min(R"("ab")"));
  EXPECT_TRUE(min(R"("abcdefgh")"));
}

TEST(JsonSchema, Patterns) {
  Checker c(json::parse(R"({"type":"string","pattern":"^[A-Z]{2}-\\d{3,4}$"})"));
  EXPECT_TRUE(c(R"("AB-123")"));
  EXPECT_TRUE(c(R"("XY-9999")"));
  EXPECT_FALSE(c(R"("AB-12")"));
  EXPECT_FALSE(c(R"("ab-123")"));
  EXPECT_FALSE(c(R"("AB-123x")"));
  Checker alt(json::parse(R"({"pattern":"^(cat|dog)s?$"})"));
  EXPECT_TRUE(alt(R"("cats")"));
  EXPECT_TRUE(alt(R"("dog")"));
  EXPECT_FALSE(alt(R"("cow")"));
  Checker unanchored(json::parse(R"({"type":"string","pattern":"ab+c"})"));
  EXPECT_TRUE(unanchored(R"("xxabbbcyy")"));
  EXPECT_FALSE(unanchored(R"("xxacyy")"));
  Checker quote(json::parse(R"({"type":"string","pattern":"^[^a-z]\\.\"$"})"));
  EXPECT_TRUE(quote(R"("Q.\"")"));
  EXPECT_TRUE(quote(R"("\\.\"")"));  // a backslash, escaped in JSON
  EXPECT_FALSE(quote(R"("q.\"")"));
  EXPECT_NE(error_of(json::parse(R"j({"type":"string","pattern":"(?=a)"})j")).find("lookaround"), std::string::npos);
  EXPECT_NE(error_of(json::parse(R"j({"type":"string","pattern":"(a)\\1"})j")).find("back-references"), std::string::npos);
}

TEST(JsonSchema, IntegerAndNumberRanges) {
  Checker c(json::parse(R"({"type":"integer","minimum":-15,"maximum":120})"));
  for (int v = -30; v <= 200; ++v) EXPECT_EQ(c(std::to_string(v)), v >= -15 && v <= 120) << v;
  EXPECT_FALSE(c("-0"));
  EXPECT_FALSE(c("007"));
  Checker ex(json::parse(R"({"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":10})"));
  EXPECT_FALSE(ex("0"));
  EXPECT_TRUE(ex("1"));
  EXPECT_TRUE(ex("9"));
  EXPECT_FALSE(ex("10"));
  Checker big(json::parse(R"({"type":"integer","minimum":1000})"));
  EXPECT_FALSE(big("999"));
  EXPECT_TRUE(big("1000"));
  EXPECT_TRUE(big("123456789"));
  Checker num(json::parse(R"({"type":"number","minimum":-2.5,"maximum":3})"));
  for (auto ok : {"-2", "-1.9", "-0.5", "0", "2.75", "3"}) EXPECT_TRUE(num(ok)) << ok;
  for (auto no : {"-3", "-2.6", "3.5", "4", "3.0001"}) EXPECT_FALSE(num(no)) << no;
  Checker numex(json::parse(R"({"type":"number","exclusiveMinimum":0})"));
  EXPECT_FALSE(numex("0"));
  EXPECT_FALSE(numex("0.0"));
  EXPECT_TRUE(numex("0.01"));
  EXPECT_FALSE(numex("-1"));
}

TEST(JsonSchema, Nullable) {
  Checker c(json::parse(R"({"type":"integer","nullable":true})"));
  EXPECT_TRUE(c("null"));
  EXPECT_TRUE(c("3"));
  Checker r(json::parse(R"({"$defs":{"p":{"type":"boolean"}},"type":"object","properties":{"x":{"$ref":"#/$defs/p","nullable":true}},"required":["x"]})"));
  EXPECT_TRUE(r(R"({"x":null})"));
  EXPECT_TRUE(r(R"({"x":true})"));
  EXPECT_FALSE(r(R"({"x":1})"));
}

TEST(JsonSchema, UnsupportedKeywordsAreErrors) {
  for (auto kw : {"patternProperties", "if", "contains", "unevaluatedItems", "dependentSchemas"}) {
    json s = {{"type", "array"}, {kw, json::object()}};
    EXPECT_NE(error_of(s).find(std::string("'") + kw + "' is not supported"), std::string::npos) << kw;
  }
  EXPECT_NE(error_of(json::parse(R"({"not":{"type":"string"}})")).find("'not' is not supported"), std::string::npos);
  // Accepted where they constrain nothing; an error where they would.
  EXPECT_EQ(error_of(json::parse(R"({"type":"array","uniqueItems":false})")), "ok");
  EXPECT_EQ(error_of(json::parse(R"({"type":"array","uniqueItems":true,"maxItems":1})")), "ok");
  EXPECT_EQ(error_of(json::parse(R"({"type":"object","properties":{"a":{},"b":{}},"required":["a"],"minProperties":1,"maxProperties":2})")), "ok");
  EXPECT_NE(error_of(json::parse(R"({"type":"object","properties":{"a":{}},"minProperties":2})")).find("minProperties"), std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"type":"integer","format":"uint8"})")).find("uint8"), std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"type":"object","properties":{"a":{"type":"string","format":"idn-hostname"}}})")).find("properties.a"), std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"$ref":"#/$defs/missing"})")).find("does not resolve"), std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"$ref":"http://example.com/s.json"})")).find("only references inside"), std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"type":"integer","minimum":5,"maximum":4})")).find("between the bounds"), std::string::npos);
  EXPECT_NE(error_of(json(false)).find("allows nothing"), std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"type":"strin"})")).find("unknown type"), std::string::npos);
  // Annotations are fine.
  EXPECT_EQ(error_of(json::parse(R"({"$schema":"https://json-schema.org/draft/2020-12/schema","title":"t","description":"d",
      "type":"object","properties":{"a":{"type":"string","default":"x","examples":["y"]}}})")), "ok");
}

TEST(JsonSchema, IntegerRangeGbnfMatchesExactly) {
  for (auto [lo, hi] : std::vector<std::pair<int64_t, int64_t>>{{0, 0}, {7, 1234}, {-999, -10}, {-5, 5}, {100, 100000}}) {
    auto g = parse_gbnf("root ::= " + integer_range_gbnf(lo, hi));
    ASSERT_TRUE(g.ok()) << g.error().message;
    Automaton a(*g);
    for (int64_t v = lo - 50; v <= std::min<int64_t>(hi + 50, lo + 3000); ++v) {
      StateId s = a.advance(a.initial(), std::to_string(v));
      ASSERT_EQ(s != kDead && a.accepting(s), v >= lo && v <= hi) << v << " in [" << lo << "," << hi << "]";
    }
  }
}

// The held-out schemas of the client test (tests/clients/test/heldout_schemas.json): each one
// converts and compiles within a second, except those marked reject_ok, whose error names that
// keyword. (The client test checks that the outputs validate.)
TEST(JsonSchema, HeldOutSchemasCompileQuickly) {
  std::ifstream in(std::string(PENSIEVE_SOURCE_DIR) + "/tests/clients/test/heldout_schemas.json");
  ASSERT_TRUE(in) << "heldout_schemas.json";
  const json all = json::parse(in);
  ASSERT_GE(all.size(), 80u);
  for (const auto& e : all) {
    const std::string name = e["name"];
    const auto t0 = std::chrono::steady_clock::now();
    auto g = compile_json_schema(e["schema"]);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(s, 1.0) << name;
    if (e.contains("reject_ok")) {
      if (!g.ok()) {
        EXPECT_NE(g.error().message.find(e["reject_ok"].get<std::string>()), std::string::npos) << name << ": " << g.error().message;
      }
    } else {
      EXPECT_TRUE(g.ok()) << name << ": " << (g.ok() ? "" : g.error().message);
    }
  }
}

}  // namespace
}  // namespace pensieve::grammar
