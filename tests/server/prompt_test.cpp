// Rendering requests through real chat templates (fixtures), and fitting the context.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "server/anthropic.h"
#include "server/prompt.h"
#include "test_util.h"

namespace pensieve::server {
namespace {

using nlohmann::json;

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A ServerModel with a real template and a tokenizer stand-in that counts bytes (prompt
// rendering does not depend on the tokenizer).
ServerModel model_with_template(const std::string& file) {
  ServerModel m;
  auto t = text::ChatTemplate::parse(read_file(pensieve::testing::fixtures_dir() + "/chat-templates/" + file));
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
  if (t.ok()) m.chat_template = std::move(t.value());
  m.bos_token = "<|begin_of_text|>";
  m.tokenize = [](std::string_view s) { return std::vector<token_id>(s.begin(), s.end()); };
  m.info.n_ctx = 4096;
  return m;
}

ChatRequest tool_conversation() {
  json body = {{"model", "claude-x"},
               {"max_tokens", 32},
               {"system", "Be helpful."},
               {"tools", {{{"name", "get_weather"}, {"description", "Weather"}, {"input_schema", {{"type", "object"}}}}}},
               {"messages",
                {{{"role", "user"}, {"content", "Weather in Paris?"}},
                 {{"role", "assistant"},
                  {"content", {{{"type", "tool_use"}, {"id", "toolu_1"}, {"name", "get_weather"}, {"input", {{"city", "Paris"}}}}}}},
                 {{"role", "user"}, {"content", {{{"type", "tool_result"}, {"tool_use_id", "toolu_1"}, {"content", "sunny, 21C"}}}}}}}};
  auto r = parse_anthropic_request(body, false);
  EXPECT_TRUE(r.ok());
  return r.value();
}

TEST(Prompt, QwenRendersToolsCallsAndResults) {
  PS_REQUIRE_FIXTURES();
  ServerModel m = model_with_template("Qwen-Qwen2.5-7B-Instruct.jinja");
  auto text = render_prompt(m, tool_conversation());
  ASSERT_TRUE(text.ok()) << text.error().message;
  const std::string& p = text.value();
  EXPECT_NE(p.find("<|im_start|>system\nBe helpful."), std::string::npos) << p;
  EXPECT_NE(p.find("\"name\": \"get_weather\""), std::string::npos) << p;  // tool schema in <tools>
  EXPECT_NE(p.find("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>"), std::string::npos) << p;
  EXPECT_NE(p.find("<tool_response>\nsunny, 21C\n</tool_response>"), std::string::npos) << p;
  EXPECT_EQ(p.substr(p.size() - 22), "<|im_start|>assistant\n");
}

TEST(Prompt, ToolChoiceNoneHidesToolsAndForcedChoiceInstructs) {
  PS_REQUIRE_FIXTURES();
  ServerModel m = model_with_template("Qwen-Qwen2.5-7B-Instruct.jinja");
  ChatRequest r = tool_conversation();
  r.tool_choice = ToolChoice::none;
  auto text = render_prompt(m, r);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->find("<tools>"), std::string::npos);
  r.tool_choice = ToolChoice::tool;
  r.tool_choice_name = "get_weather";
  text = render_prompt(m, r);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("You must answer by calling the tool \"get_weather\"."), std::string::npos);
}

TEST(Prompt, Llama31RendersToolCallAsJson) {
  PS_REQUIRE_FIXTURES();
  ServerModel m = model_with_template("meta-llama-Llama-3.1-8B-Instruct.jinja");
  auto text = render_prompt(m, tool_conversation());
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_NE(text->find("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}"), std::string::npos) << *text;
  // The template passes string content through tojson (a Jinja string is iterable), as HF does.
  EXPECT_NE(text->find("<|start_header_id|>ipython<|end_header_id|>\n\n\"sunny, 21C\""), std::string::npos) << *text;
}

TEST(Prompt, PrefillIsAppendedAfterTheGenerationPrompt) {
  PS_REQUIRE_FIXTURES();
  ServerModel m = model_with_template("Qwen-Qwen2.5-7B-Instruct.jinja");
  ChatRequest r;
  r.messages = json::array({{{"role", "user"}, {"content", "Count"}}});
  r.prefill = "1, 2,";
  auto text = render_prompt(m, r);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->substr(text->size() - 27), "<|im_start|>assistant\n1, 2,");
}

TEST(Prompt, MergeConsecutiveRoles) {
  json msgs = json::array({{{"role", "user"}, {"content", "a"}}, {{"role", "user"}, {"content", "b"}},
                           {{"role", "tool"}, {"content", "1"}}, {{"role", "tool"}, {"content", "2"}}});
  merge_consecutive_roles(msgs);
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[0]["content"], "a\n\nb");
}

TEST(Prompt, FitContextClampsOrRefusesWithExactWording) {
  ChatRequest r;
  r.options.max_tokens = 32000;
  r.max_tokens_given = true;
  auto c = fit_context(WireFormat::anthropic, 1000, 4096, r);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c.value());
  EXPECT_EQ(r.options.max_tokens, 3096);
  auto e = fit_context(WireFormat::anthropic, 5000, 4096, r);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message, "prompt is too long: 5000 tokens > 4096 maximum");
  ChatRequest open;  // OpenAI without max_tokens: the rest of the context
  open.options.max_tokens = -1;
  c = fit_context(WireFormat::openai, 96, 4096, open);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c.value());
  EXPECT_EQ(open.options.max_tokens, 4000);
}

}  // namespace
}  // namespace pensieve::server
