// Templates that refuse the `system` role (Gemma's, Mistral's pre-v1) still serve requests with a
// system prompt, through both wire formats: the system text is folded into the first user turn.
// The expected prompts are llama.cpp's own (tests/test-chat-template.cpp, its minja path:
// `expected_output_jinja_effective` in ../shared/fixtures/chat-templates/
// llama.cpp-test-chat-template.cases.json), an independent renderer of the same conversation.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "server/anthropic.h"
#include "server/openai.h"
#include "server/prompt.h"
#include "test_util.h"

namespace pensieve::server {
namespace {

using nlohmann::json;

json read_json(const std::string& path) {
  std::ifstream f(path);
  return json::parse(f);
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct Case {
  std::string template_str, expected, bos, eos;
};

// One case of llama.cpp's test-chat-template by (a prefix of) its name.
Case llama_cpp_case(const std::string& name_prefix) {
  json all = read_json(pensieve::testing::fixtures_dir() + "/chat-templates/llama.cpp-test-chat-template.cases.json");
  for (const json& c : all["cases"]) {
    if (c["name"].get<std::string>().rfind(name_prefix, 0) == 0)
      return {c["template_str"], c["expected_output_jinja_effective"], c["bos_token"], c["eos_token"]};
  }
  ADD_FAILURE() << "no llama.cpp case named " << name_prefix;
  return {};
}

ServerModel model_with(const std::string& source, const std::string& bos, const std::string& eos) {
  ServerModel m;
  auto t = text::ChatTemplate::parse(source);
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
  if (t.ok()) m.chat_template = std::move(t.value());
  m.bos_token = bos;
  m.eos_token = eos;
  m.tokenize = [](std::string_view s) { return std::vector<token_id>(s.begin(), s.end()); };
  m.info.n_ctx = 4096;
  return m;
}

// llama.cpp's test conversation: system, then user/assistant turns ending with a user turn.
const char* kSystem = "You are a helpful assistant";
json turns() {
  return json::array({{{"role", "user"}, {"content", "Hello"}},
                      {{"role", "assistant"}, {"content", "Hi there"}},
                      {{"role", "user"}, {"content", "Who are you"}},
                      {{"role", "assistant"}, {"content", "   I am an assistant   "}},
                      {{"role", "user"}, {"content", "Another question"}}});
}

std::string render_anthropic(const ServerModel& m) {
  auto r = parse_anthropic_request({{"model", "x"}, {"max_tokens", 8}, {"system", kSystem}, {"messages", turns()}}, false);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return "";
  auto text = render_prompt(m, r.value());
  EXPECT_TRUE(text.ok()) << (text.ok() ? "" : text.error().message);
  return text.ok() ? text.value() : "";
}

std::string render_openai(const ServerModel& m) {
  json messages = turns();
  messages.insert(messages.begin(), json{{"role", "system"}, {"content", kSystem}});
  auto r = parse_openai_chat_request({{"model", "x"}, {"messages", messages}});
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return "";
  auto text = render_prompt(m, r.value());
  EXPECT_TRUE(text.ok()) << (text.ok() ? "" : text.error().message);
  return text.ok() ? text.value() : "";
}

TEST(SystemRole, GemmaFoldsTheSystemPromptIntoTheFirstUserTurn) {
  PS_REQUIRE_FIXTURES();
  const Case c = llama_cpp_case("google/gemma-7b-it");
  ServerModel m = model_with(c.template_str, c.bos, c.eos);
  ASSERT_FALSE(m.chat_template.supports_system_role());
  EXPECT_EQ(render_anthropic(m), c.expected);
  EXPECT_EQ(render_openai(m), c.expected);
}

TEST(SystemRole, MistralPreV1FoldsTheSystemPromptIntoTheFirstUserTurn) {
  PS_REQUIRE_FIXTURES();
  const Case c = llama_cpp_case("mistralai/Mistral-7B-Instruct-v0.2 (NOTE: Old pre-v1 without a system prompt)");
  ServerModel m = model_with(c.template_str, c.bos, c.eos);
  ASSERT_FALSE(m.chat_template.supports_system_role());
  // llama.cpp's expectation has the template's leading bos_token stripped (its tokenizer adds
  // BOS); render_prompt keeps the template's text and the server's tokenize drops a second BOS.
  EXPECT_EQ(render_anthropic(m), c.bos + c.expected);
  EXPECT_EQ(render_openai(m), c.bos + c.expected);
}

// The Gemma 2 template of the fixtures (the one the 400 was reproduced with): same rendering
// as Gemma 7B's plus its leading bos_token.
TEST(SystemRole, Gemma2FixtureTemplateServesASystemPrompt) {
  PS_REQUIRE_FIXTURES();
  const Case gemma = llama_cpp_case("google/gemma-7b-it");
  ServerModel m = model_with(read_file(pensieve::testing::fixtures_dir() + "/chat-templates/google-gemma-2-2b-it.jinja"),
                             "<bos>", "<eos>");
  ASSERT_FALSE(m.chat_template.supports_system_role());
  EXPECT_EQ(render_anthropic(m), "<bos>" + gemma.expected);
  EXPECT_EQ(render_openai(m), "<bos>" + gemma.expected);
}

// A system message in the middle of a conversation (Claude Code sends these) is folded into the
// user turn that follows it; templates with a system role keep theirs.
TEST(SystemRole, LateSystemMessageFoldsIntoTheNextUserTurn) {
  PS_REQUIRE_FIXTURES();
  ServerModel m = model_with(read_file(pensieve::testing::fixtures_dir() + "/chat-templates/google-gemma-2-2b-it.jinja"),
                             "<bos>", "<eos>");
  json messages = json::array({{{"role", "user"}, {"content", "Hi"}},
                               {{"role", "assistant"}, {"content", "Hello"}},
                               {{"role", "system"}, {"content", "Be brief."}},
                               {{"role", "user"}, {"content", "Why?"}}});
  auto r = parse_openai_chat_request({{"model", "x"}, {"messages", messages}});
  ASSERT_TRUE(r.ok());
  auto text = render_prompt(m, r.value());
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text,
            "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\nHello<end_of_turn>\n"
            "<start_of_turn>user\nBe brief.\nWhy?<end_of_turn>\n<start_of_turn>model\n");
}

TEST(SystemRole, TemplatesWithASystemRoleKeepIt) {
  PS_REQUIRE_FIXTURES();
  ServerModel m = model_with(read_file(pensieve::testing::fixtures_dir() + "/chat-templates/Qwen-Qwen2.5-7B-Instruct.jinja"),
                             "", "<|im_end|>");
  ASSERT_TRUE(m.chat_template.supports_system_role());
  EXPECT_EQ(render_openai(m).rfind("<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>", 0), 0u);
}

}  // namespace
}  // namespace pensieve::server
