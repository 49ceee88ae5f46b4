// Behaviour beyond Hugging Face's environment (list methods, |split, {% do %}, {% generation %}),
// the safety limits, ChatML, render_for_prompt details and concurrent use.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "text/chat_template.h"

namespace pensieve::text {
namespace {

Result<std::string> render(const std::string& src, ChatTemplateInputs in = {}) {
  auto t = ChatTemplate::parse(src);
  if (!t.ok()) return t.error();
  return t->render(in);
}

std::string render_ok(const std::string& src, ChatTemplateInputs in = {}) {
  auto r = render(src, std::move(in));
  EXPECT_TRUE(r.ok()) << src << ": " << r.error().message;
  return r.ok() ? *r : std::string();
}

// The render fails, and for the reason the test names: its message contains `why`.
void expect_error(const std::string& src, const std::string& why) {
  auto r = render(src);
  ASSERT_FALSE(r.ok()) << src << " rendered as: " << r.value();
  EXPECT_NE(r.error().message.find(why), std::string::npos)
      << src.substr(0, 80) << ": expected an error about '" << why << "', got: " << r.error().message;
}

TEST(JinjaExt, MutatingListMethodsAreAllowed) {
  // jinja2's sandbox refuses these; llama.cpp's minja accepts them, and so do we.
  EXPECT_EQ(render_ok("{% set l = [1] %}{% do l.append(2) %}{{ l }}{% do l.insert(0, 0) %}{{ l }}{{ l.pop() }}{{ l }}"),
            "[1, 2][0, 1, 2]2[0, 1]");
  EXPECT_EQ(render_ok("{% set l = [] %}{% for i in range(3) %}{% set _ = l.append(i * i) %}{% endfor %}{{ l|join(',') }}"),
            "0,1,4");
}

TEST(JinjaExt, SplitFilterAndGenerationBlock) {
  EXPECT_EQ(render_ok("{{ 'a,b,,c'|split(',') }}|{{ ' a  b '|split }}"), "['a', 'b', '', 'c']|['a', 'b']");
  EXPECT_EQ(render_ok("x{% generation %}y{{ 1 }}{% endgeneration %}z"), "xy1z");
}

TEST(JinjaExt, UnknownFilterOrTagIsAnError) {
  expect_error("{{ 1|frobnicate }}", "no filter named 'frobnicate'");
  expect_error("{% frobnicate %}", "unknown or unexpected tag 'frobnicate'");
  expect_error("{% include 'x.j2' %}", "unknown or unexpected tag 'include'");
}

TEST(JinjaExt, RunawayTemplatesStopWithAnError) {
  auto nested = render("{% for i in range(5000) %}{% for j in range(5000) %}{% endfor %}{% endfor %}");
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.error().message.find("step budget"), std::string::npos) << nested.error().message;

  auto recursion = render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
  ASSERT_FALSE(recursion.ok());
  EXPECT_NE(recursion.error().message.find("RecursionError"), std::string::npos);

  expect_error("{{ 'x' * 1000000000 }}", "string repetition too large");
  expect_error("{% set s = namespace(v='ab') %}{% for i in range(40) %}{% set s.v = s.v + s.v %}{% endfor %}", "string too large");
  expect_error("{{ range(100000000)|length }}", "range too large");
  expect_error("{% set l = [1] %}{% do l.append(l) %}{{ l }}", "RecursionError: maximum recursion depth exceeded");
  expect_error("{{ 2 ** 200 }}", "OverflowError: integer result too large");
  expect_error("{{ 9223372036854775807 + 1 }}", "OverflowError: integer result too large");
}

TEST(JinjaExt, DeepNestingIsASyntaxErrorNotACrash) {
  std::string deep_parens = std::string(5000, '(') + "1" + std::string(5000, ')');
  auto r = render("{{ " + deep_parens + " }}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("nested too deeply"), std::string::npos);
  std::string deep_ifs;
  for (int i = 0; i < 5000; ++i) deep_ifs += "{% if true %}";
  expect_error(deep_ifs, "template nested too deeply");
  expect_error("{{ " + std::string(5000, '-') + "1 }}", "template nested too deeply");
  expect_error("{{ " + std::string(5000, '[') + " }}", "syntax error");
}

TEST(JinjaExt, ChatmlFallback) {
  ChatTemplateInputs in;
  in.messages = nlohmann::json::array({{{"role", "system"}, {"content", "S"}}, {{"role", "user"}, {"content", "U"}}});
  EXPECT_EQ(render_ok(std::string(chatml_template()), in),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n");
  in.add_generation_prompt = false;
  EXPECT_EQ(render_ok(std::string(chatml_template()), in), "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n");
  auto t = ChatTemplate::parse(chatml_template());
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->supports_system_role());
}

TEST(JinjaExt, RenderForPromptStripsBosAndEos) {
  auto t = ChatTemplate::parse("{{ bos_token }}{% for m in messages %}[{{ m.content }}]{% endfor %}{{ eos_token }}");
  ASSERT_TRUE(t.ok());
  ChatTemplateInputs in;
  in.messages = nlohmann::json::array({{{"role", "user"}, {"content", "q"}}});
  in.bos_token = "<s>";
  in.eos_token = "</s>";
  EXPECT_EQ(*t->render(in), "<s>[q]</s>");
  EXPECT_EQ(*t->render_for_prompt(in), "[q]");
}

TEST(JinjaExt, ToolsUndefinedWhenAbsentAndExtraVariables) {
  ChatTemplateInputs in;
  EXPECT_EQ(render_ok("{{ tools is defined }}", in), "False");
  in.tools = nlohmann::json::array({{{"name", "f"}}});
  EXPECT_EQ(render_ok("{{ tools[0].name }}", in), "f");
  in.extra = {{"enable_thinking", false}};
  EXPECT_EQ(render_ok("{{ enable_thinking }}", in), "False");
}

TEST(JinjaExt, StrftimeNowUsesPinnedDate) {
  ChatTemplateInputs in;
  in.date = "2024-07-26";
  EXPECT_EQ(render_ok("{{ strftime_now('%d %b %Y') }}", in), "26 Jul 2024");
  in.date.clear();
  EXPECT_EQ(render_ok("{{ strftime_now('%Y')|length }}", in), "4");
}

TEST(JinjaExt, OneTemplateRendersFromManyThreads) {
  auto t = ChatTemplate::parse("{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{{ m.content }}{% endfor %}{{ ns.n }}");
  ASSERT_TRUE(t.ok());
  std::vector<std::thread> threads;
  std::vector<std::string> outs(8);
  for (int k = 0; k < 8; ++k) {
    threads.emplace_back([&, k] {
      ChatTemplateInputs in;
      for (int i = 0; i <= k; ++i) in.messages.push_back({{"role", "user"}, {"content", std::to_string(k)}});
      for (int rep = 0; rep < 200; ++rep) outs[size_t(k)] = *t->render(in);
    });
  }
  for (auto& th : threads) th.join();
  for (int k = 0; k < 8; ++k) EXPECT_EQ(outs[size_t(k)], std::string(size_t(k + 1), char('0' + k)) + std::to_string(k + 1));
}

}  // namespace
}  // namespace pensieve::text
