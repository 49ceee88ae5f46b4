// `pensieve chat` as a person uses it: the real binary in a pseudo-terminal with a real model
// (gen_model.py's tiny qwen2 with Qwen2.5's chat template). A message and its reply, the line
// editor's keys and history, /set /save /load /clear /help, a """ block, Ctrl-C at the prompt
// (a hint, no exit) and during a reply (it stops, nothing printed after ^C), Ctrl-D (clean
// exit). Piped input: the commands work too, and a model without a template gets a warning.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_test_util.h"
#include "pty_util.h"

namespace pensieve::testing {
namespace {

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }
// The editor's drawing of an empty prompt, cursor after it: the session waits for a message.
const std::string kReady = ">>> \r\x1b[4C";

class ChatPrompt : public CliTest {
 protected:
  ChatPrompt() : CliTest("chat") {}
  std::string qwen() {
    const std::string tmpl = fixtures_dir() + "/chat-templates/Qwen-Qwen2.5-7B-Instruct.jinja";
    return gen_test_model(dir_, "tiny-qwen2.gguf", "--shape tiny-qwen2 --ctx 8192 --chat-template " + shell_quote(tmpl));
  }
};

TEST_F(ChatPrompt, TerminalSession) {
  PS_REQUIRE_FIXTURES();
  const std::string model = qwen();
  ASSERT_FALSE(model.empty()) << "gen_model.py failed (python3-numpy?)";
  PtySession s({"chat", "-m", model, "-n", "6", "--temp", "0.9", "-s", "1", "-t", "1", "-c", "4096"});
  ASSERT_TRUE(s.started());
  ASSERT_TRUE(s.expect(kReady, 60)) << s.all();
  EXPECT_FALSE(contains(s.screen(), "no chat template")) << s.screen();
  EXPECT_TRUE(contains(s.screen(), "/help for commands")) << s.screen();

  // a message and its reply, then the prompt again
  s.send("Hello\r");
  ASSERT_TRUE(s.expect(kReady)) << s.all();
  const std::string reply = s.screen();
  const size_t start = reply.find("Hello");
  ASSERT_NE(start, std::string::npos) << reply;
  // after the typed line: the reply (random weights: some words), then the prompt
  const std::string words = reply.substr(start + 5);
  EXPECT_GE(std::count_if(words.begin(), words.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); }), 3)
      << reply;

  // editing: "/et temp 0.5", Home, Right, "s" makes "/set temp 0.5"
  s.send("/et temp 0.5");
  s.send("\x1b[H\x1b[Cs\r");
  ASSERT_TRUE(s.expect("[temp = 0.5]")) << s.all();
  ASSERT_TRUE(s.expect(kReady)) << s.all();
  // history: Up twice brings back "Hello"; Ctrl-U clears it; /set shows the settings
  s.send("\x1b[A\x1b[A");
  EXPECT_TRUE(s.expect("Hello")) << s.all();
  s.send("\x15/set\r");
  ASSERT_TRUE(s.expect("temp 0.5, top_k 40")) << s.all();
  EXPECT_TRUE(s.expect(kReady)) << s.all();
  s.send("/set top_p 7\r");
  EXPECT_TRUE(s.expect("[top_p: must be in [0, 1] (1: off), got 7]")) << s.all();
  s.send("/set temp 0.8\r");
  EXPECT_TRUE(s.expect("[temp = 0.8]")) << s.all();

  // /save writes the conversation; /clear forgets it; /load brings it back
  const std::string saved = (dir_ / "conv.json").string();
  s.send("/save " + saved + "\r");
  ASSERT_TRUE(s.expect("[saved 2 messages to " + saved + "]")) << s.all();
  const nlohmann::json conv = nlohmann::json::parse(slurp(saved));
  ASSERT_EQ(conv["messages"].size(), 2u) << conv.dump();
  EXPECT_EQ(conv["messages"][0]["content"], "Hello");
  EXPECT_EQ(conv["messages"][1]["role"], "assistant");
  s.send("/clear\r");
  EXPECT_TRUE(s.expect("[conversation cleared]")) << s.all();
  s.send("/load " + saved + "\r");
  EXPECT_TRUE(s.expect("[loaded 2 messages from " + saved + "]")) << s.all();
  s.send("/frobnicate\r");
  EXPECT_TRUE(s.expect("[unknown command /frobnicate: /help lists the commands]")) << s.all();
  s.send("/help\r");
  EXPECT_TRUE(s.expect("/system TEXT")) << s.all();
  ASSERT_TRUE(s.expect(kReady)) << s.all();

  // a """ block is one message of several lines
  s.send("/clear\r");
  ASSERT_TRUE(s.expect(kReady)) << s.all();
  s.send("\"\"\"first line\r");
  EXPECT_TRUE(s.expect("... ")) << s.all();
  s.send("second line\"\"\"\r");
  ASSERT_TRUE(s.expect(kReady)) << s.all();
  s.send("/save " + saved + "\r");
  ASSERT_TRUE(s.expect("[saved 2 messages")) << s.all();
  EXPECT_EQ(nlohmann::json::parse(slurp(saved))["messages"][0]["content"], "first line\nsecond line");

  // Ctrl-C at an empty prompt: a hint, the session goes on
  ASSERT_TRUE(s.expect(kReady)) << s.all();
  s.send("\x03");
  EXPECT_TRUE(s.expect("(Ctrl-D or /bye quits)")) << s.all();
  // Ctrl-C with text at the prompt drops the line
  s.send("half a line\x03");
  ASSERT_TRUE(s.expect("^C")) << s.all();
  s.send("/set\r");
  EXPECT_TRUE(s.expect("[temp 0.8, top_k 40")) << s.all();  // "half a line" went nowhere
  ASSERT_TRUE(s.expect(kReady)) << s.all();

  // Ctrl-C during a long reply stops it; nothing but the line end comes after the ^C
  s.send("/set n_predict -1\r");
  ASSERT_TRUE(s.expect(kReady)) << s.all();
  s.send("Tell me a long story\r");
  ASSERT_TRUE(s.expect("story")) << s.all();
  ASSERT_TRUE(s.expect("\r\n")) << s.all();  // Enter: the reply streams on the next row
  ASSERT_TRUE(s.expect(" ", 20)) << s.all();
  s.send("\x03");
  ASSERT_TRUE(s.expect("[stopped]", 20)) << s.all();
  const std::string tail = s.screen();
  // the chat marks where it stopped after the last token it printed: nothing comes after ^C
  const size_t caret = tail.rfind("^C");
  ASSERT_NE(caret, std::string::npos) << tail;
  EXPECT_EQ(tail.substr(caret), "^C\r\n[stopped]") << tail;
  EXPECT_EQ(tail.find("^C"), caret) << tail;  // and the terminal did not echo one of its own
  ASSERT_TRUE(s.expect(kReady)) << s.all();

  // Ctrl-D: a newline and a clean exit
  s.send("\x04");
  EXPECT_EQ(s.wait_exit(), 0) << s.all();
  EXPECT_EQ(s.all().substr(s.all().size() - 2), "\r\n");
}

TEST_F(ChatPrompt, PipedCommandsAndMissingTemplateWarning) {
  PS_REQUIRE_FIXTURES();
  const std::string in = write("in.txt", "/set temp 0.3\n/set\n/system be brief\nHi\n/bye\nnot sent\n").string();
  const RunResult r = run({"-m", fixtures_dir() + "/models/stories260K.gguf", "-n", "4", "-s", "1"}, in);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "pensieve: warning: the model has no chat template; using ChatML")) << r.err;
  EXPECT_TRUE(contains(r.err, "[temp = 0.3]\n[temp 0.3, top_k 40")) << r.err;
  EXPECT_TRUE(contains(r.err, "[system message set]")) << r.err;
  EXPECT_FALSE(r.out.empty());
}

}  // namespace
}  // namespace pensieve::testing
