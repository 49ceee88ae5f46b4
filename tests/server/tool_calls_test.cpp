// Tool-call parsing for the Hermes/Qwen2.5 <tool_call> syntax and the Llama 3.1 JSON syntax,
// whole and streamed in arbitrary pieces.
#include <gtest/gtest.h>

#include "server/tool_calls.h"

namespace pensieve::server {
namespace {

const std::vector<std::string> kTools = {"get_weather", "Bash"};

// Streams `text` one character at a time and collects what the parser emits.
ParsedReply stream_chars(std::string_view text, size_t step = 1) {
  ToolCallParser p(kTools);
  ParsedReply out;
  auto take = [&](std::vector<ReplyEvent> ev) {
    for (auto& e : ev) {
      if (e.is_call) out.calls.push_back(e.call);
      else out.text += e.text;
    }
  };
  for (size_t i = 0; i < text.size(); i += step) take(p.push(text.substr(i, step)));
  take(p.finish());
  return out;
}

TEST(ToolCalls, QwenTaggedCall) {
  std::string out = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>";
  for (size_t step : {1, 3, 7, 1000}) {
    ParsedReply r = stream_chars(out, step);
    ASSERT_EQ(r.calls.size(), 1u) << "step " << step;
    EXPECT_EQ(r.calls[0].name, "get_weather");
    EXPECT_EQ(r.calls[0].arguments, (nlohmann::json{{"city", "Paris"}}));
    EXPECT_EQ(r.calls[0].id.rfind("toolu_", 0), 0u);
    EXPECT_EQ(r.text, "");
  }
}

TEST(ToolCalls, TextBeforeAndSeveralCalls) {
  std::string out =
      "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>\n"
      "<tool_call>\n{\"name\": \"Bash\", \"arguments\": {\"command\": \"ls\"}}\n</tool_call>";
  ParsedReply r = stream_chars(out);
  EXPECT_EQ(r.text, "Let me check.");
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[1].name, "Bash");
  EXPECT_EQ(r.calls[1].arguments["command"], "ls");
  EXPECT_NE(r.calls[0].id, r.calls[1].id);
}

TEST(ToolCalls, Llama31JsonWithParameters) {
  std::string out = "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Rome\"}}";
  ParsedReply r = stream_chars(out);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments["city"], "Rome");
  r = parse_reply("<|python_tag|>" + out, kTools);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].name, "get_weather");
}

TEST(ToolCalls, ArgumentsAsJsonString) {
  ParsedReply r = parse_reply("<tool_call>{\"name\":\"Bash\",\"arguments\":\"{\\\"command\\\":\\\"pwd\\\"}\"}</tool_call>", kTools);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments["command"], "pwd");
}

TEST(ToolCalls, UndeclaredToolOrBadJsonStaysText) {
  std::string unknown = "<tool_call>{\"name\": \"rm_rf\", \"arguments\": {}}</tool_call>";
  ParsedReply r = stream_chars(unknown);
  EXPECT_TRUE(r.calls.empty());
  EXPECT_EQ(r.text, unknown);
  std::string json_answer = "{\"answer\": 42}";
  r = stream_chars(json_answer);
  EXPECT_TRUE(r.calls.empty());
  EXPECT_EQ(r.text, json_answer);
  std::string broken = "<tool_call>{\"name\": \"Bash\", \"argu";
  r = stream_chars(broken);
  EXPECT_TRUE(r.calls.empty());
  EXPECT_EQ(r.text, broken);
}

TEST(ToolCalls, PlainTextPassesThroughIncludingPartialTagLookalikes) {
  std::string text = "a < b and <tool is not a tag; x <tool_cal y\n";
  ParsedReply r = stream_chars(text);
  EXPECT_TRUE(r.calls.empty());
  EXPECT_EQ(r.text, text);
}

TEST(ToolCalls, UnterminatedTagWithCompleteJsonIsACall) {
  ParsedReply r = parse_reply("<tool_call>\n{\"name\": \"Bash\", \"arguments\": {\"command\": \"ls\"}}\n", kTools);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].name, "Bash");
}

TEST(ToolCalls, ToolNamesFromTemplateTools) {
  nlohmann::json tools = nlohmann::json::array(
      {{{"type", "function"}, {"function", {{"name", "a"}}}}, {{"type", "function"}, {"function", {{"name", "b"}}}}});
  EXPECT_EQ(tool_names(tools), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(tool_names(nullptr).empty());
}

}  // namespace
}  // namespace pensieve::server
