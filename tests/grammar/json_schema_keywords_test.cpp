// JSON Schema keywords that real schemas (Pydantic, zod, tool definitions, config files) use and
// that need more than a type's grammar: for each, documents that must be accepted and ones that
// must not (a document the grammar allows must validate), or the error a schema gets.
#include <gtest/gtest.h>

#include "grammar/schema_checker.h"

namespace pensieve::grammar {
namespace {

using nlohmann::json;

TEST(JsonSchemaKeywords, UnknownKeywordsAreIgnoredUnenforcedOnesListed) {
  // Validators ignore keywords outside the vocabulary (Pydantic's discriminator, extensions).
  Checker c(json::parse(R"({"type":"object","properties":{"a":{"type":"integer","ge":0,"x-ui":"slider"}},
      "required":["a"],"discriminator":{"propertyName":"a"}})"));
  EXPECT_TRUE(c(R"({"a":-3})"));
  EXPECT_FALSE(c(R"({"a":"x"})"));
  // Vocabulary keywords that are not enforced: an error naming all of them.
  const std::string e = error_of(json::parse(R"({"if":{"required":["a"]},"then":{"required":["b"]},"else":{}})"));
  for (auto kw : {"'if'", "'then'", "'else'"}) EXPECT_NE(e.find(kw), std::string::npos) << e;
}

TEST(JsonSchemaKeywords, SchemasThatAllowNothing) {
  // zod's optional fields: anyOf [{not: {}}, T]; the impossible branch is left out.
  Checker z(json::parse(R"({"anyOf":[{"not":{}},{"type":"string"}]})"));
  EXPECT_TRUE(z(R"("s")"));
  EXPECT_FALSE(z("1"));
  // A property whose schema is false is never written; required, it is an error.
  Checker p(json::parse(R"({"type":"object","properties":{"a":false,"b":{"type":"integer"}},"required":["b"]})"));
  EXPECT_TRUE(p(R"({"b":1})"));
  EXPECT_FALSE(p(R"({"a":1,"b":1})"));
  EXPECT_NE(error_of(json::parse(R"({"properties":{"a":false},"required":["a"]})")).find("allows nothing"), std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"not":{}})")).find("allows nothing"), std::string::npos);
}

TEST(JsonSchemaKeywords, UnionBranchesThatCannotBeConverted) {
  // Pydantic's Decimal: a number, or a string whose pattern has a lookahead. The number branch
  // alone still validates.
  Checker d(json::parse(R"({"anyOf":[{"type":"number"},{"type":"string","pattern":"^(?!^[-+.]*$)[+-]?0*\\d*\\.?\\d*$"}]})"));
  EXPECT_TRUE(d("1.5"));
  EXPECT_FALSE(d(R"("1.5")"));
  EXPECT_NE(error_of(json::parse(R"j({"anyOf":[{"type":"string","pattern":"(?=a)"}]})j")).find("lookaround"), std::string::npos);
  // oneOf whose branches may all overlap (an integer is a number): an error, never two matches.
  EXPECT_NE(error_of(json::parse(R"({"oneOf":[{"type":"integer"},{"type":"number"}]})")).find("oneOf"), std::string::npos);
}

TEST(JsonSchemaKeywords, RefWithSiblings) {
  Checker c(json::parse(R"({"$defs":{"s":{"type":"string"}},"$ref":"#/$defs/s","maxLength":2})"));
  EXPECT_TRUE(c(R"("ab")"));
  EXPECT_FALSE(c(R"("abc")"));
}

TEST(JsonSchemaKeywords, Draft7TuplesWithAdditionalItems) {
  Checker c(json::parse(R"({"type":"array","items":[{"type":"string"}],"additionalItems":{"type":"integer"},"maxItems":3})"));
  EXPECT_TRUE(c(R"(["a",1,2])"));
  EXPECT_FALSE(c(R"(["a","b"])"));
  EXPECT_FALSE(c(R"(["a",1,2,3])"));
  Checker closed(json::parse(R"({"type":"array","items":[{"type":"boolean"}],"additionalItems":false})"));
  EXPECT_TRUE(closed("[true]"));
  EXPECT_FALSE(closed("[true,false]"));
}

TEST(JsonSchemaKeywords, DependentRequired) {
  Checker c(json::parse(R"({"type":"object","properties":{"box":{"type":"string"},"street":{"type":"string"},"city":{"type":"string"}},
      "required":["city"],"dependentRequired":{"box":["street"]}})"));
  // (Properties come in the order the parsed schema keeps them: by name.)
  EXPECT_TRUE(c(R"({"box":"1","city":"c","street":"s"})"));
  EXPECT_TRUE(c(R"({"city":"c","street":"s"})"));
  EXPECT_FALSE(c(R"({"box":"1","city":"c"})"));  // box without street
  EXPECT_FALSE(c(R"({"city":"c"})"));            // street is made required: box may be written
  // A dependent that cannot be written: the optional trigger is left out.
  Checker gone(json::parse(R"({"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":false,
      "dependencies":{"a":["missing"]}})"));
  EXPECT_TRUE(gone("{}"));
  EXPECT_FALSE(gone(R"({"a":1})"));
}

TEST(JsonSchemaKeywords, UniqueItems) {
  // An enum's values as a subset, in the listed order: no value twice.
  Checker e(json::parse(R"({"type":"array","items":{"enum":["r","w","x"]},"uniqueItems":true,"minItems":2})"));
  EXPECT_TRUE(e(R"(["r","x"])"));
  EXPECT_TRUE(e(R"(["r","w","x"])"));
  EXPECT_FALSE(e(R"(["r","r"])"));
  EXPECT_FALSE(e(R"(["r"])"));
  Checker flags(json::parse(R"({"type":"array","items":{"type":"boolean"},"uniqueItems":true})"));
  EXPECT_TRUE(flags("[false,true]"));
  EXPECT_FALSE(flags("[true,true]"));
  // Other items: at most one (always unique); more cannot be promised.
  Checker one(json::parse(R"({"type":"array","items":{"type":"string"},"uniqueItems":true})"));
  EXPECT_TRUE(one(R"(["a"])"));
  EXPECT_TRUE(one("[]"));
  EXPECT_FALSE(one(R"(["a","b"])"));
  EXPECT_NE(error_of(json::parse(R"({"type":"array","items":{"type":"string"},"uniqueItems":true,"minItems":2})")).find("uniqueItems"), std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"type":"array","items":{"enum":[1,2]},"uniqueItems":true,"minItems":3})")).find("uniqueItems"), std::string::npos);
}

TEST(JsonSchemaKeywords, MultipleOf) {
  Checker half(json::parse(R"({"type":"number","minimum":0,"maximum":5,"multipleOf":0.5})"));
  for (auto ok : {"0", "0.5", "3", "4.5", "5"}) EXPECT_TRUE(half(ok)) << ok;
  for (auto no : {"0.25", "5.5", "-0.5", "1.0"}) EXPECT_FALSE(half(no)) << no;
  // 0.07 / 0.01 is 7.000000000000001 in doubles: validators reject it, so it is not offered.
  Checker cents(json::parse(R"({"type":"number","minimum":0,"multipleOf":0.01})"));
  EXPECT_TRUE(cents("0.05"));
  EXPECT_TRUE(cents("1.25"));
  EXPECT_FALSE(cents("0.07"));
  EXPECT_FALSE(cents("0.001"));
  Checker five(json::parse(R"({"type":"integer","minimum":0,"maximum":100,"multipleOf":5})"));
  for (int v = -10; v <= 110; ++v) EXPECT_EQ(five(std::to_string(v)), v >= 0 && v <= 100 && v % 5 == 0) << v;
  // Unbounded above: the first 256 multiples are offered.
  Checker k(json::parse(R"({"type":"integer","multipleOf":1000,"exclusiveMinimum":0})"));
  for (int v : {0, 1000, 1500, 256000, 257000}) EXPECT_EQ(k(std::to_string(v)), v > 0 && v <= 256000 && v % 1000 == 0) << v;
  EXPECT_NE(error_of(json::parse(R"({"type":"integer","minimum":1,"maximum":4,"multipleOf":5})")).find("no multiple"), std::string::npos);
}

TEST(JsonSchemaKeywords, PropertyCounts) {
  // A PATCH body: at least one of the optional properties.
  Checker patch(json::parse(R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"},"c":{"type":"integer"}},
      "minProperties":1,"maxProperties":2,"additionalProperties":false})"));
  EXPECT_TRUE(patch(R"({"b":1})"));
  EXPECT_TRUE(patch(R"({"a":1,"c":2})"));
  EXPECT_FALSE(patch("{}"));
  EXPECT_FALSE(patch(R"({"a":1,"b":2,"c":3})"));
  // Maps: at most maxProperties entries; at least one.
  Checker map(json::parse(R"({"type":"object","additionalProperties":{"type":"integer"},"minProperties":1,"maxProperties":2})"));
  EXPECT_TRUE(map(R"({"x":1})"));
  EXPECT_TRUE(map(R"({"x":1,"y":2})"));
  EXPECT_FALSE(map("{}"));
  EXPECT_FALSE(map(R"({"x":1,"y":2,"z":3})"));
  // Two distinct keys cannot be promised by a grammar that may repeat one.
  EXPECT_NE(error_of(json::parse(R"({"type":"object","additionalProperties":{"type":"integer"},"minProperties":2})")).find("minProperties"), std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"type":"object","properties":{"a":{}},"required":["a"],"maxProperties":0})")).find("maxProperties"), std::string::npos);
}

TEST(JsonSchemaKeywords, PatternsWithLengths) {
  // Pydantic's constr: a top-level repetition repeats at least minLength times.
  Checker user(json::parse(R"({"type":"string","pattern":"^[a-z0-9_]+$","minLength":3,"maxLength":5})"));
  EXPECT_TRUE(user(R"("abc")"));
  EXPECT_TRUE(user(R"("ab_12")"));
  EXPECT_FALSE(user(R"("ab")"));
  EXPECT_FALSE(user(R"("abcdef")"));
  // A Kubernetes name: unbounded inner repetitions are capped so every match fits.
  Checker k8s(json::parse(R"({"type":"string","pattern":"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$","maxLength":6})"));
  EXPECT_TRUE(k8s(R"("a")"));
  EXPECT_TRUE(k8s(R"("ab-cd")"));
  EXPECT_FALSE(k8s(R"("abcdefg")"));
  // Unanchored: padding counts toward the length.
  Checker digit(json::parse(R"({"type":"string","pattern":"[0-9]","minLength":3,"maxLength":4})"));
  EXPECT_TRUE(digit(R"("ab1")"));
  EXPECT_FALSE(digit(R"("1")"));
  EXPECT_FALSE(digit(R"("abcd1")"));
  EXPECT_NE(error_of(json::parse(R"({"type":"string","pattern":"^[A-Z]{2}$","minLength":3})")).find("minLength"), std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"type":"string","pattern":"^abcdef$","maxLength":3})")).find("maxLength"), std::string::npos);
  // Formats of unbounded length: the same narrowing.
  Checker uri(json::parse(R"({"type":"string","format":"uri","minLength":1,"maxLength":20})"));
  EXPECT_TRUE(uri(R"("https://a.b/c")"));
  EXPECT_FALSE(uri(R"("https://abcdefghijklmnop.com")"));
}

}  // namespace
}  // namespace pensieve::grammar
