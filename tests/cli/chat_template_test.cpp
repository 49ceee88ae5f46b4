// `pensieve chat-template`, run as the real binary against the chat-template fixtures.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli_test_util.h"

namespace pensieve::testing {
namespace {

namespace fs = std::filesystem;

class ChatTemplateCli : public CliTest {
 protected:
  ChatTemplateCli() : CliTest("chat-template") {}
  std::string write(const std::string& name, const std::string& content) { return CliTest::write(name, content).string(); }
  static fs::path templates() { return fs::path(fixtures_dir()) / "chat-templates"; }
  nlohmann::ordered_json cases() { return nlohmann::ordered_json::parse(slurp(templates() / "expected" / "cases.json")); }

};

TEST_F(ChatTemplateCli, RendersATemplateFileLikePythonJinja2) {
  PS_REQUIRE_FIXTURES();
  auto c = cases();
  for (const char* name : {"system_multiturn", "tools_roundtrip"}) {
    SCOPED_TRACE(name);
    const auto& conv = c["cases"][name];
    std::vector<std::string> args = {"--template", (templates() / "Qwen-Qwen2.5-7B-Instruct.jinja").string(),
                                     "--messages", write("messages.json", conv["messages"].dump()),
                                     "--add-generation-prompt", "--bos-token", "<s>", "--eos-token", "</s>",
                                     "--date", "2026-01-15"};
    if (conv.contains("tools")) {
      args.push_back("--tools");
      args.push_back(write("tools.json", conv["tools"].dump()));
    }
    RunResult r = run(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, slurp(templates() / "expected" / (std::string("Qwen-Qwen2.5-7B-Instruct.") + name + ".txt")));
  }
}

TEST_F(ChatTemplateCli, RendersTheTemplateOfAGgufWithItsSpecialTokens) {
  PS_REQUIRE_FIXTURES();
  // Expected output rendered by Python jinja2 3.1.6 (trim_blocks, lstrip_blocks) from the
  // template stored in this file, with bos_token = tokens[bos_token_id] = "<s>".
  const std::string gguf = fixtures_dir() + "/tokenizer/ggml-vocab-phi-3.gguf";
  const std::string messages = write("m.json", R"([{"role":"system","content":"Be brief."},{"role":"user","content":"Hi ✓"},
      {"role":"assistant","content":"Hello."},{"role":"user","content":"Bye"}])");
  RunResult r = run({gguf, "--messages", messages, "--add-generation-prompt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<s><|user|>\nHi ✓<|end|>\n<|assistant|>\nHello.<|end|>\n<|user|>\nBye<|end|>\n<|assistant|>\n");
  // --for-prompt: this template drops system messages, so the system text joins the first user
  // turn (llama.cpp's behaviour), and the leading bos_token is stripped.
  r = run({gguf, "--messages", messages, "--bos-token", "B", "--for-prompt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<|user|>\nBe brief.\nHi ✓<|end|>\n<|assistant|>\nHello.<|end|>\n<|user|>\nBye<|end|>\n<|assistant|>\n");
}

TEST_F(ChatTemplateCli, MessagesFileMayCarryTools) {
  PS_REQUIRE_FIXTURES();
  auto conv = cases()["cases"]["tools_roundtrip"];
  nlohmann::ordered_json doc = {{"messages", conv["messages"]}, {"tools", conv["tools"]}};
  RunResult r = run({"--template", (templates() / "Qwen-Qwen2.5-7B-Instruct.jinja").string(), "--messages",
                     write("doc.json", doc.dump()), "--add-generation-prompt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, slurp(templates() / "expected" / "Qwen-Qwen2.5-7B-Instruct.tools_roundtrip.txt"));
}

TEST_F(ChatTemplateCli, TemplateErrorsExitOneWithTheMessage) {
  PS_REQUIRE_FIXTURES();
  const std::string messages = write("m.json", R"([{"role":"system","content":"S"},{"role":"user","content":"U"}])");
  RunResult r = run({"--template", (templates() / "google-gemma-2-2b-it.jinja").string(), "--messages", messages});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("System role not supported"), std::string::npos) << r.err;

  r = run({"--template", write("bad.jinja", "line one\n{% for x in %}"), "--messages", messages});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("line 2, column"), std::string::npos) << r.err;

  r = run({"--template", write("ok.jinja", "x"), "--messages", write("broken.json", "[{")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("invalid JSON"), std::string::npos) << r.err;

  r = run({"/nonexistent/model.gguf", "--messages", messages});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(r.err.empty());
}

TEST_F(ChatTemplateCli, BadArgumentsExitTwoWithUsage) {
  RunResult r = run({"--template", "x.jinja"});  // no --messages
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("usage: pensieve chat-template"), std::string::npos) << r.err;
  r = run({"--messages", "m.json"});  // neither model nor template
  EXPECT_EQ(r.exit_code, 2);
  r = run({"--template", "x.jinja", "--messages", "m.json", "--date", "15/01/2026"});
  EXPECT_EQ(r.exit_code, 2);
  r = run({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--add-generation-prompt"), std::string::npos);
}

}  // namespace
}  // namespace pensieve::testing
