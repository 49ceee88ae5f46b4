// `pensieve cmd` through the real binary. The model answers are chosen in advance: the models are
// real GGUF files the engine runs like any other, written by tests/cli/cmd_scripted_model.py with
// hand-set weights so that greedy decoding writes a given text whatever the prompt (a command the
// validator blocks, an answer in code fences, ...). What is tested is everything around the model:
// the prompt, reading the command out of the reply, the verdict, the exit codes, --json, --run.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/cli_test_util.h"
#include "model_files.h"

namespace pensieve::testing {
namespace {

// A model whose greedy answer is `text`; written once per test process.
std::string scripted_model(const std::string& text, const std::string& name = "scripted answer") {
  static std::map<std::pair<std::string, std::string>, std::string> made;
  auto& path = made[{text, name}];
  if (!path.empty()) return path;
  const std::string out = model_work_dir() + "/scripted-" + std::to_string(made.size()) + ".gguf";
  const std::string cmd = "PENSIEVE_SHARED_DIR=" + shell_quote(shared_dir()) + " /usr/bin/python3 " +
                          shell_quote(std::string(PENSIEVE_SOURCE_DIR) + "/tests/cli/cmd_scripted_model.py") +
                          " --out " + shell_quote(out) + " --text " + shell_quote(text) + " --name " +
                          shell_quote(name);
  EXPECT_EQ(std::system(cmd.c_str()), 0) << "cmd_scripted_model.py failed (python3-numpy and ../shared needed)";
  path = out;
  return path;
}

// Sets an environment variable for one test (the binary inherits it), restoring it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) setenv(name_, old_->c_str(), 1);
    else unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

class CmdTest : public CliTest {
 protected:
  CmdTest() : CliTest("cmd") {}
  void SetUp() override {
    CliTest::SetUp();
    if (!std::filesystem::exists(shared_dir() + "/tools/gen_model.py")) {
      if (std::getenv("CI")) FAIL() << "../shared/tools/gen_model.py is missing";
      GTEST_SKIP() << "../shared/tools is missing";
    }
  }
  // Runs a shell line in the test's folder (for --run: setsid, script).
  RunResult sh(const std::string& line) {
    const std::string cmd = "cd " + shell_quote(dir_.string()) + " && " + line + " >" +
                            shell_quote((dir_ / "out").string()) + " 2>" + shell_quote((dir_ / "err").string());
    const int status = std::system(cmd.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(dir_ / "out"), slurp(dir_ / "err")};
  }
  std::string bin() { return shell_quote(pensieve_binary()); }
};

TEST_F(CmdTest, PrintsTheCommandAndASafeVerdict) {
  const auto r = run({"-m", scripted_model("ls -la"), "--shell", "bash", "list everything here"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ls -la\n");
  EXPECT_NE(r.err.find("safety: safe"), std::string::npos) << r.err;
}

TEST_F(CmdTest, JsonHasTheCommandTheVerdictTheModelAndTimings) {
  const std::string model = scripted_model("ls -la");
  const auto r = run({"-m", model, "--json", "list", "everything", "here"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("command"), "ls -la");
  EXPECT_EQ(j.at("risk"), "safe");
  EXPECT_TRUE(j.at("reasons").is_array() && j.at("reasons").empty());
  EXPECT_EQ(j.at("model").at("name"), "scripted answer");
  EXPECT_EQ(j.at("model").at("path"), model);
  const auto& t = j.at("timings");
  for (const char* k : {"load_ms", "ttft_ms", "generate_ms", "total_ms"}) {
    ASSERT_TRUE(t.at(k).is_number()) << k;
    EXPECT_GT(t.at(k).get<double>(), 0.0) << k;
  }
  EXPECT_GE(t.at("total_ms").get<double>(), t.at("load_ms").get<double>());
  EXPECT_EQ(t.at("generated_tokens"), 3);  // "ls", " -", "la" (the end-of-text token is not counted)
}

TEST_F(CmdTest, BlockedAnswerExitsThreeAndIsNotPrinted) {
  const std::string model = scripted_model("rm -rf /");
  const auto r = run({"-m", model, "free some disk space"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.out, "");  // `eval "$(pensieve cmd ...)"` gets nothing to run
  EXPECT_NE(r.err.find("safety: blocked"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("root filesystem"), std::string::npos) << r.err;

  const auto j = run({"-m", model, "--json", "free some disk space"});
  EXPECT_EQ(j.exit_code, 3) << j.err;
  const auto js = nlohmann::json::parse(j.out);
  EXPECT_EQ(js.at("command"), "rm -rf /");
  EXPECT_EQ(js.at("risk"), "blocked");
  EXPECT_FALSE(js.at("reasons").empty());
}

TEST_F(CmdTest, DangerousAnswerIsPrintedWithItsReasons) {
  const auto r = run({"-m", scripted_model("git push --force"), "overwrite the remote branch"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "git push --force\n");
  EXPECT_NE(r.err.find("safety: dangerous: "), std::string::npos) << r.err;
}

TEST_F(CmdTest, CodeFencesAndPromptsAroundTheCommandAreRemoved) {
  const auto fenced = run({"-m", scripted_model("```sh\n\ngrep -rn TODO src"), "find the todos"});
  EXPECT_EQ(fenced.exit_code, 0) << fenced.err;
  EXPECT_EQ(fenced.out, "grep -rn TODO src\n");
  const auto prompt = run({"-m", scripted_model("$ df -h"), "free space"});
  EXPECT_EQ(prompt.exit_code, 0) << prompt.err;
  EXPECT_EQ(prompt.out, "df -h\n");
}

TEST_F(CmdTest, OnlyTheFirstLineIsTheCommand) {
  // The reply goes on after the line break; generation stops there and the rest is not printed.
  const auto r = run({"-m", scripted_model("du -sh\n\nThis shows the size"), "--json", "how big is this folder"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("command"), "du -sh");
  EXPECT_LT(j.at("timings").at("generated_tokens").get<int>(), 8);
}

TEST_F(CmdTest, AReplyWithoutACommandIsAnError) {
  const auto r = run({"-m", scripted_model("```"), "anything"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("the model gave no command"), std::string::npos) << r.err;
}

TEST_F(CmdTest, ExplainNamesTheProgramAndItsFlags) {
  const auto r = run({"-m", scripted_model("ls -la"), "--explain", "list everything"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("ls: list directory contents"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("-la: long format, including hidden entries"), std::string::npos) << r.err;
  const auto find = run({"-m", scripted_model("find src -mmin +5"), "--explain", "old files in src"});
  EXPECT_EQ(find.exit_code, 0) << find.err;
  EXPECT_NE(find.err.find("find: search a directory tree; -mmin +5: modified more than 5 minute(s) ago; on src"),
            std::string::npos)
      << find.err;
}

TEST_F(CmdTest, ExplainAsksAGeneralModelButNotTheShippedOne) {
  // A scripted model answers every prompt with its text, the explanation prompt included.
  const auto general = run({"-m", scripted_model("ls -la"), "--explain", "--json", "list everything"});
  ASSERT_EQ(general.exit_code, 0) << general.err;
  const std::string said = nlohmann::json::parse(general.out).at("explanation");
  EXPECT_NE(said.find("ls: list directory contents"), std::string::npos) << said;
  EXPECT_NE(said.find("\n  model: ls -la"), std::string::npos) << said;
  const auto shipped = run({"-m", scripted_model("ls -la", "pensieve-cmd"), "--explain", "--json", "list everything"});
  ASSERT_EQ(shipped.exit_code, 0) << shipped.err;
  EXPECT_EQ(nlohmann::json::parse(shipped.out).at("explanation").get<std::string>().find("model:"), std::string::npos);
}

TEST_F(CmdTest, ShippedModelGetsTheTerseSystemLine) {
  // The prompt format follows the model's general.name, whatever the file is called.
  const auto r = run({"-m", scripted_model("ls", "pensieve-cmd"), "--shell", "zsh", "--os", "macos", "--show-prompt",
                      "list files"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("shell=zsh os=macos"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("You translate"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("list files"), std::string::npos) << r.err;
}

TEST_F(CmdTest, OtherModelsGetAnInstruction) {
  const auto r = run({"-m", scripted_model("ls"), "--shell", "fish", "--os", "linux", "--show-prompt", "list files"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("You translate a request into exactly one fish command for Linux"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("shell=fish"), std::string::npos) << r.err;
}

TEST_F(CmdTest, UsageErrorsExitTwo) {
  const auto none = run({});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("usage: pensieve cmd"), std::string::npos) << none.err;
  EXPECT_EQ(run({"--shell", "tcsh", "list files"}).exit_code, 2);
  EXPECT_EQ(run({"--os", "windows", "list files"}).exit_code, 2);
  EXPECT_EQ(run({"   "}).exit_code, 2);
  EXPECT_EQ(run({"--run", "--json", "list files"}).exit_code, 2);
  EXPECT_EQ(run({"--no-such-flag", "list files"}).exit_code, 2);
}

TEST_F(CmdTest, MissingModelsExitOne) {
  const auto given = run({"-m", (dir_ / "nope.gguf").string(), "list files"});
  EXPECT_EQ(given.exit_code, 1);
  EXPECT_NE(given.err.find("model file not found"), std::string::npos) << given.err;
  ScopedEnv env("PENSIEVE_CMD_MODEL", (dir_ / "absent.gguf").string());
  const auto shipped = run({"list files"});
  EXPECT_EQ(shipped.exit_code, 1);
  EXPECT_NE(shipped.err.find("the shipped model pensieve-cmd.gguf is missing"), std::string::npos) << shipped.err;
  EXPECT_NE(shipped.err.find("absent.gguf"), std::string::npos) << shipped.err;
}

TEST_F(CmdTest, DefaultModelComesFromPensieveCmdModel) {
  ScopedEnv env("PENSIEVE_CMD_MODEL", scripted_model("ls -la"));
  const auto r = run({"list everything"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ls -la\n");
  // run/chat/serve/bench without -m use it too, and say what it is.
  const auto gen = sh(bin() + " run -p hi -n 2 --temp 0");
  EXPECT_EQ(gen.exit_code, 0) << gen.err;
  EXPECT_NE(gen.err.find("no -m given, using the shipped model"), std::string::npos) << gen.err;
  EXPECT_NE(gen.err.find("it only knows how to turn a request into a shell command"), std::string::npos) << gen.err;
}

TEST_F(CmdTest, RunWithoutATerminalRefuses) {
  const std::string model = scripted_model("touch ran.txt");
  const auto r = sh("setsid -w " + bin() + " cmd --run -m " + shell_quote(model) + " make a file </dev/null");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("--run needs a terminal"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "ran.txt"));
}

// script(1) gives the command a terminal whose input is the test's answer.
TEST_F(CmdTest, RunAsksOnTheTerminalAndRunsOnlyOnYes) {
  const std::string model = scripted_model("touch ran.txt");
  const std::string line = bin() + " cmd --run --shell sh -m " + shell_quote(model) + " make a file";
  const auto no = sh("printf 'n\\n' | script -qec " + shell_quote(line) + " /dev/null");
  EXPECT_EQ(no.exit_code, 0) << no.out << no.err;
  EXPECT_NE(no.out.find("Run it? [y/N]"), std::string::npos) << no.out;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "ran.txt"));
  const auto yes = sh("printf 'y\\n' | script -qec " + shell_quote(line) + " /dev/null");
  EXPECT_EQ(yes.exit_code, 0) << yes.out << yes.err;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "ran.txt")) << yes.out;
}

TEST_F(CmdTest, RunNeverRunsABlockedCommand) {
  const std::string line = bin() + " cmd --run -m " + shell_quote(scripted_model("rm -rf /")) + " clean up";
  const auto r = sh("printf 'y\\n' | script -qec " + shell_quote(line) + " /dev/null");
  EXPECT_NE(r.out.find("safety: blocked"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("Run it?"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace pensieve::testing
