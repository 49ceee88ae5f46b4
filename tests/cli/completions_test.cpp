// `pensieve completions bash|zsh|fish`: each script is valid for its shell (bash -n, zsh -n,
// fish --no-execute), and the bash one completes for real: it is sourced into bash and its
// function is called on command lines, as bash's completion would.
#include <cstdio>
#include <string>
#include <vector>

#include "cli_test_util.h"

namespace pensieve::testing {
namespace {

class Completions : public CliTest {
 protected:
  Completions() : CliTest("completions") {}
  // Runs a shell command line, returns stdout; exit code in *rc.
  std::string sh(const std::string& cmd, int* rc) {
    FILE* p = popen((cmd + " 2>&1").c_str(), "r");
    std::string out;
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    const int status = pclose(p);
    *rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return out;
  }
  bool have(const char* program) {
    int rc = 0;
    sh(std::string("command -v ") + program + " >/dev/null", &rc);
    return rc == 0;
  }
  // The completions bash offers for `words` (the last one being completed).
  std::string complete_bash(const std::string& script, const std::vector<std::string>& words) {
    std::string arr;
    for (const std::string& w : words) arr += " " + shell_quote(w);
    const std::string prog = "source " + shell_quote(script) + "; COMP_WORDS=(" + arr + "); COMP_CWORD=" +
                             std::to_string(words.size() - 1) + "; _pensieve; printf '%s\\n' \"${COMPREPLY[@]}\"";
    int rc = 0;
    const std::string out = sh("bash -c " + shell_quote(prog), &rc);
    EXPECT_EQ(rc, 0) << out;
    return out;
  }
};

bool has_line(const std::string& out, const std::string& line) {
  return ("\n" + out).find("\n" + line + "\n") != std::string::npos;
}

TEST_F(Completions, BashIsValidAndCompletes) {
  const RunResult r = run({"bash"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");  // every command described itself without running
  const std::string script = write("pensieve.bash", r.out).string();
  int rc = 0;
  const std::string syntax = sh("bash -n " + shell_quote(script), &rc);
  EXPECT_EQ(rc, 0) << syntax;
  // subcommands
  const std::string cmds = complete_bash(script, {"pensieve", "ru"});
  EXPECT_EQ(cmds, "run\n");
  const std::string all = complete_bash(script, {"pensieve", ""});
  for (const char* c : {"run", "chat", "serve", "bench", "quantize", "tokenize", "info", "completions", "--version"})
    EXPECT_TRUE(has_line(all, c)) << c << " in\n" << all;
  // options of each command, from its CLI11 definition
  EXPECT_EQ(complete_bash(script, {"pensieve", "run", "--tem"}), "--temp\n");
  EXPECT_TRUE(has_line(complete_bash(script, {"pensieve", "serve", "--po"}), "--port"));
  EXPECT_TRUE(has_line(complete_bash(script, {"pensieve", "bench", "-"}), "--n-prompt"));
  EXPECT_TRUE(has_line(complete_bash(script, {"pensieve", "chat", "--allow"}), "--allow-ctx-extension"));
  // a choice list (IsMember) completes its values; a number completes nothing
  EXPECT_EQ(complete_bash(script, {"pensieve", "run", "--kv-type", ""}), "f16\nf32\n");
  EXPECT_EQ(complete_bash(script, {"pensieve", "run", "--top-k", ""}), "\n");
  // a model path completes files
  write("model-a.gguf", "x");
  const std::string files = complete_bash(script, {"pensieve", "run", "-m", (dir_ / "model-").string()});
  EXPECT_EQ(files, (dir_ / "model-a.gguf").string() + "\n");
}

TEST_F(Completions, ZshAndFishAreValid) {
  const RunResult zsh = run({"zsh"});
  ASSERT_EQ(zsh.exit_code, 0) << zsh.err;
  EXPECT_EQ(zsh.out.rfind("#compdef pensieve\n", 0), 0u);
  EXPECT_NE(zsh.out.find("'--temp[temperature, >= 0 (0, greedy)]:value: '"), std::string::npos) << zsh.out;
  const RunResult fish = run({"fish"});
  ASSERT_EQ(fish.exit_code, 0) << fish.err;
  EXPECT_NE(fish.out.find("complete -c pensieve -n '__fish_seen_subcommand_from run' -l kv-type -x -a 'f16 f32'"),
            std::string::npos)
      << fish.out;
  if (!have("zsh") || !have("fish")) PS_SKIP_OR_FAIL("zsh or fish not installed (scripts/setup.sh installs them)");
  int rc = 0;
  std::string out = sh("zsh -n " + shell_quote(write("_pensieve", zsh.out).string()), &rc);
  EXPECT_EQ(rc, 0) << out;
  out = sh("fish --no-execute " + shell_quote(write("pensieve.fish", fish.out).string()), &rc);
  EXPECT_EQ(rc, 0) << out;
  // fish really completes from it: the options of `pensieve run --te`
  out = sh("fish -c " + shell_quote("source " + (dir_ / "pensieve.fish").string() + "; complete -C 'pensieve run --tem'"),
           &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out.rfind("--temp", 0), 0u) << out;
}

TEST_F(Completions, UnknownShellIsAUsageError) {
  const RunResult r = run({"tcsh"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("shell: tcsh not in {bash,zsh,fish}"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pensieve::testing
