// Which grammar a request gets (structured_output.cpp): the tool-call syntax each real chat
// template writes, forced and lazy tool-call grammars that accept exactly well-formed calls to
// the declared tools, response schemas and GBNF, the 400s, and the per-schema cache.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "grammar/automaton.h"
#include "server/structured_output.h"
#include "server/tool_calls.h"
#include "test_util.h"

namespace pensieve::server {
namespace {

using nlohmann::json;

std::string template_text(const std::string& name) {
  std::ifstream in(std::string(PENSIEVE_SHARED_DIR) + "/fixtures/chat-templates/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool accepts(const std::shared_ptr<const grammar::Grammar>& g, std::string_view text) {
  grammar::Automaton a(g);
  auto s = a.advance(a.initial(), text);
  return s != grammar::kDead && a.accepting(s);
}

ChatRequest with_tools(ToolChoice choice, std::string name = "") {
  ChatRequest r;
  r.tools = json::array();
  r.tools.push_back({{"type", "function"}, {"function", {{"name", "get_weather"}, {"parameters",
      {{"type", "object"}, {"properties", {{"city", {{"type", "string"}}}}}, {"required", {"city"}}}}}}});
  r.tools.push_back({{"type", "function"}, {"function", {{"name", "noop"}, {"parameters", {{"type", "object"}}}}}});
  r.tool_choice = choice;
  r.tool_choice_name = std::move(name);
  return r;
}

TEST(StructuredOutput, ToolCallSyntaxFromRealTemplates) {
  EXPECT_EQ(tool_call_syntax(template_text("Qwen-Qwen2.5-7B-Instruct.jinja")), ToolCallSyntax::hermes);
  EXPECT_EQ(tool_call_syntax(template_text("NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja")), ToolCallSyntax::hermes);
  EXPECT_EQ(tool_call_syntax(template_text("meta-llama-Llama-3.1-8B-Instruct.jinja")), ToolCallSyntax::llama_json);
  EXPECT_EQ(tool_call_syntax(template_text("meta-llama-Llama-3.3-70B-Instruct.jinja")), ToolCallSyntax::llama_json);
}

TEST(StructuredOutput, ForcedHermesCallsParseAsCallsToDeclaredTools) {
  ChatRequest r = with_tools(ToolChoice::any);
  ASSERT_TRUE(attach_grammar(ToolCallSyntax::hermes, r).ok());
  ASSERT_TRUE(r.options.grammar);
  EXPECT_TRUE(r.options.grammar_triggers.empty());  // forced: from the first token
  const std::string call = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\":\"Paris\"}}\n</tool_call>";
  EXPECT_TRUE(accepts(r.options.grammar, call));
  EXPECT_TRUE(accepts(r.options.grammar, "<tool_call>{\"name\": \"noop\", \"arguments\": {}}</tool_call>"));
  EXPECT_TRUE(accepts(r.options.grammar, "<tool_call>{\"name\":\"noop\",\"arguments\":{}}</tool_call>"));
  EXPECT_FALSE(accepts(r.options.grammar, "<tool_call>\n{\"name\": \"other\", \"arguments\": {}}\n</tool_call>"));
  EXPECT_FALSE(accepts(r.options.grammar, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {}}\n</tool_call>"));  // city required
  EXPECT_FALSE(accepts(r.options.grammar, "Sure! " + call));
  // What the grammar accepts, the server's parser reads back as that call.
  ParsedReply reply = parse_reply(call, tool_names(r.tools));
  ASSERT_EQ(reply.calls.size(), 1u);
  EXPECT_EQ(reply.calls[0].name, "get_weather");
  EXPECT_EQ(reply.calls[0].arguments, json({{"city", "Paris"}}));
}

TEST(StructuredOutput, NamedToolAndLlamaSyntax) {
  ChatRequest r = with_tools(ToolChoice::tool, "noop");
  ASSERT_TRUE(attach_grammar(ToolCallSyntax::llama_json, r).ok());
  EXPECT_TRUE(accepts(r.options.grammar, "{\"name\": \"noop\", \"parameters\": {\"x\":[1]}}"));
  EXPECT_FALSE(accepts(r.options.grammar, "{\"name\": \"get_weather\", \"parameters\": {\"city\":\"x\"}}"));
  ParsedReply reply = parse_reply("{\"name\": \"noop\", \"parameters\": {\"x\":[1]}}", tool_names(r.tools));
  ASSERT_EQ(reply.calls.size(), 1u);
  ChatRequest missing = with_tools(ToolChoice::tool, "nope");
  EXPECT_FALSE(attach_grammar(ToolCallSyntax::hermes, missing).ok());
}

TEST(StructuredOutput, AutoIsLazyAndNoneIsFree) {
  ChatRequest a = with_tools(ToolChoice::auto_);
  ASSERT_TRUE(attach_grammar(ToolCallSyntax::hermes, a).ok());
  ASSERT_TRUE(a.options.grammar);
  EXPECT_EQ(a.options.grammar_triggers, std::vector<std::string>{"<tool_call>"});
  ChatRequest n = with_tools(ToolChoice::none);
  ASSERT_TRUE(attach_grammar(ToolCallSyntax::hermes, n).ok());
  EXPECT_FALSE(n.options.grammar);
  ChatRequest plain;
  ASSERT_TRUE(attach_grammar(ToolCallSyntax::hermes, plain).ok());
  EXPECT_FALSE(plain.options.grammar);
}

TEST(StructuredOutput, StrictToolsMustConvertOthersFallBack) {
  ChatRequest r = with_tools(ToolChoice::any);
  r.tools[1]["function"]["parameters"] = {{"type", "object"}, {"not", {{"required", {"a"}}}}};
  r.tool_strict = {false, false};
  ASSERT_TRUE(attach_grammar(ToolCallSyntax::hermes, r).ok());
  EXPECT_TRUE(accepts(r.options.grammar, "<tool_call>{\"name\": \"noop\", \"arguments\": {\"a\":1}}</tool_call>"));
  ChatRequest strict = with_tools(ToolChoice::any);
  strict.tools[1]["function"]["parameters"] = {{"type", "object"}, {"not", {{"required", {"a"}}}}};
  strict.tool_strict = {false, true};
  auto st = attach_grammar(ToolCallSyntax::hermes, strict);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("'not'"), std::string::npos);
  EXPECT_NE(st.error().message.find("noop"), std::string::npos);
}

TEST(StructuredOutput, SchemasAndGrammarsAreCachedPerSource) {
  ChatRequest a, b, c;
  a.response_schema = json::parse(R"({"type":"object","properties":{"k":{"type":"integer"}}})");
  b.response_schema = json::parse(R"({"properties":{"k":{"type":"integer"}},"type":"object"})");  // same schema
  c.grammar = "root ::= \"x\"";
  ASSERT_TRUE(attach_grammar(ToolCallSyntax::hermes, a).ok());
  ASSERT_TRUE(attach_grammar(ToolCallSyntax::hermes, b).ok());
  ASSERT_TRUE(attach_grammar(ToolCallSyntax::hermes, c).ok());
  EXPECT_EQ(a.options.grammar, b.options.grammar);  // one compiled grammar, so one set of token tables
  EXPECT_TRUE(accepts(a.options.grammar, "{\"k\":5}"));
  EXPECT_TRUE(accepts(c.options.grammar, "x"));
  ChatRequest bad;
  bad.grammar = "root ::= nothing";
  auto st = attach_grammar(ToolCallSyntax::hermes, bad);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::invalid_request);
  EXPECT_NE(st.error().message.find("'nothing'"), std::string::npos);
}

}  // namespace
}  // namespace pensieve::server
