// The JSON nesting limit: measured by a pre-scan before nlohmann builds anything.
#include <gtest/gtest.h>

#include <string>

#include "server/anthropic.h"
#include "server/json_limits.h"
#include "server/openai.h"

namespace pensieve::server {
namespace {

std::string nested(size_t n, char open = '[', char close = ']') {
  return std::string(n, open) + std::string(n, close);
}

TEST(JsonLimits, DepthIgnoresBracketsInStringsAndEscapes) {
  EXPECT_EQ(json_nesting_depth("{}", 100), 1u);
  EXPECT_EQ(json_nesting_depth(R"({"a":[1,{"b":[]}]})", 100), 4u);
  EXPECT_EQ(json_nesting_depth(R"(["[[[[", "\"[[["])", 100), 1u);
  EXPECT_EQ(json_nesting_depth("42", 100), 0u);
  EXPECT_EQ(json_nesting_depth(nested(1000000), 128), 129u);  // stops early
}

TEST(JsonLimits, RefusesDeepBodiesBeforeParsing) {
  auto ok = parse_json_limited(nested(128), "the body", 128);
  ASSERT_TRUE(ok.ok());
  auto deep = parse_json_limited(nested(129), "the body", 128);
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().kind, ErrorKind::invalid_request);
  EXPECT_NE(deep.error().message.find("deeper than 128"), std::string::npos);
  auto huge = parse_json_limited(nested(200000, '{', '}'), "the body", 128);
  EXPECT_FALSE(huge.ok());
  EXPECT_FALSE(parse_json_limited("{\"a\":", "the body").ok());
}

TEST(JsonLimits, OpenAIToolArgumentsStringIsDepthLimited) {
  nlohmann::json body = {{"model", "m"},
                         {"messages",
                          {{{"role", "assistant"},
                            {"content", ""},
                            {"tool_calls",
                             {{{"id", "c"}, {"type", "function"},
                               {"function", {{"name", "f"}, {"arguments", "{\"a\":" + nested(50000) + "}"}}}}}}}}}};
  auto r = parse_openai_chat_request(body);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("arguments"), std::string::npos);
}

}  // namespace
}  // namespace pensieve::server
