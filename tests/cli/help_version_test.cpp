// Help that teaches and honest load/timing lines, through the real binary: --version's fields,
// the top-level list, every value option's default in each command's --help, --verbose's seed,
// the load summary and the timing line's separate phases, the default context (at most 8192
// tokens), --allow-ctx-extension, and the load progress line on a terminal.
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "cli_test_util.h"
#include "pty_util.h"

namespace pensieve::testing {
namespace {

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }
std::string model() { return fixtures_dir() + "/models/stories260K.gguf"; }

class HelpCli : public CliTest {
 protected:
  HelpCli() : CliTest("") {}
  RunResult pensieve(const std::vector<std::string>& args) { return run(args, "/dev/null"); }
};

TEST_F(HelpCli, VersionNamesBuildCompilerCudaAndIsa) {
  const RunResult v = pensieve({"--version"});
  ASSERT_EQ(v.exit_code, 0) << v.err;
  EXPECT_TRUE(std::regex_search(v.out, std::regex("^pensieve [0-9]+\\.[0-9]+\\.[0-9]+\n"))) << v.out;
  // git describe of the source tree at build time, or "unknown" outside git
  EXPECT_TRUE(std::regex_search(v.out, std::regex("\ncommit: +([0-9a-f]{7,}|v?[0-9][^ \n]*|unknown)(-dirty)?\n"))) << v.out;
  EXPECT_TRUE(std::regex_search(v.out, std::regex("\ncompiler: +(GCC|Clang) [0-9]+\\.[0-9]+"))) << v.out;
  EXPECT_TRUE(std::regex_search(v.out, std::regex("\ncuda: +(compiled in \\(toolkit [0-9]+\\.[0-9]+[^)]*\\)|not compiled in)\n")))
      << v.out;
  EXPECT_TRUE(std::regex_search(v.out, std::regex("\ncpu isa: +(scalar|avx2|avx512[^ ]*)"))) << v.out;
  // the ISA is read at run time: PENSIEVE_CPU_ISA=scalar lowers it and --version says so
  const std::string cmd = "PENSIEVE_CPU_ISA=scalar " + shell_quote(pensieve_binary()) + " --version";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[512];
  std::string out;
  while (fgets(buf, sizeof buf, p)) out += buf;
  pclose(p);
  EXPECT_TRUE(contains(out, "cpu isa:  scalar (PENSIEVE_CPU_ISA=scalar; the CPU has ")) << out;
}

TEST_F(HelpCli, TopLevelHelpListsEveryCommandAndTheVersion) {
  const RunResult h = pensieve({"--help"});
  ASSERT_EQ(h.exit_code, 0);
  EXPECT_TRUE(std::regex_search(h.out, std::regex("^pensieve [0-9]+\\.[0-9]+\\.[0-9]+: "))) << h.out;
  for (const char* c : {"run", "chat", "serve", "bench", "quantize", "tokenize", "info", "completions"})
    EXPECT_TRUE(std::regex_search(h.out, std::regex(std::string("\n  ") + c + " +[a-z][^\n]+\n"))) << c << "\n" << h.out;
  EXPECT_TRUE(contains(h.out, "--version")) << h.out;
}

// Every option that takes a value shows its default (CLI11's "=VALUE"), unless it is required or
// has no default by nature (a prompt, a file, a seed that is random).
TEST_F(HelpCli, EveryValueOptionShowsItsDefault) {
  const std::vector<std::string> no_default = {"-m,--model", "-p,--prompt", "-f,--file", "-s,--seed", "--system",
                                               "--n-gpu-layers", "--parallel", "--grammar", "--json-schema", "text",
                                               "model", "input", "output", "type", "--alias", "--api-key",
                                               "--cors-origin", "--allowed-hosts", "-o,--output"};
  int checked = 0;
  for (const char* cmd : {"run", "chat", "bench", "quantize"}) {
    const RunResult h = pensieve({cmd, "--help"});
    ASSERT_EQ(h.exit_code, 0) << cmd;
    EXPECT_TRUE(contains(h.out, std::string("Usage: pensieve ") + cmd)) << h.out;
    std::istringstream lines(h.out);
    for (std::string line; std::getline(lines, line);) {
      std::smatch m;
      if (!std::regex_search(line, m, std::regex("^  (-[^ ]+|[a-z]+) (TEXT|INT|FLOAT|UINT)([^ ]*)"))) continue;
      const std::string name = m[1];
      bool exempt = line.find("REQUIRED") != std::string::npos;
      for (const std::string& n : no_default) exempt |= name.rfind(n, 0) == 0 || name == n;
      if (exempt) continue;
      EXPECT_TRUE(std::string(m[3]).find('=') != std::string::npos) << cmd << ": no default shown: " << line;
      ++checked;
    }
  }
  EXPECT_GE(checked, 30);
  const RunResult q = pensieve({"quantize", "--help"});
  EXPECT_TRUE(contains(q.out, "-t,--threads INT:NONNEGATIVE=0")) << q.out;
}

TEST_F(HelpCli, VerbosePrintsSeedAndSettingsLoadAndTimingLines) {
  PS_REQUIRE_FIXTURES();
  const RunResult r = pensieve({"run", "-m", model(), "-p", "Zoo", "-n", "12", "-s", "42", "--verbose"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "pensieve: seed 42 (given)\n")) << r.err;
  EXPECT_TRUE(contains(r.err, "pensieve: sampling temp 0.8, top-k 40, top-p 0.95, min-p 0.05")) << r.err;
  EXPECT_TRUE(std::regex_search(
      r.err, std::regex("pensieve: loaded stories260K.gguf \\(llama F32, [0-9.]+ K params, 1.1 MiB\\) on cpu in [0-9]+ "
                        "ms, context 2048 tokens\n")))
      << r.err;
  // load, prompt and generation each with their own time
  EXPECT_TRUE(std::regex_search(r.err, std::regex("\\[load [0-9]+ ms \\| prompt [0-9]+ tokens \\(0 cached\\) [0-9]+ ms, "
                                                  "[0-9.]+ t/s \\| generated 12 tokens [0-9]+ ms, [0-9.]+ t/s \\| "
                                                  "ttft [0-9]+ ms \\| finish max_tokens\\]\n")))
      << r.err;
  // without --verbose a given seed is not echoed; -q: nothing on stderr
  const RunResult plain = pensieve({"run", "-m", model(), "-p", "Zoo", "-n", "4", "-s", "42"});
  EXPECT_FALSE(contains(plain.err, "seed")) << plain.err;
  const RunResult quiet = pensieve({"run", "-m", model(), "-p", "Zoo", "-n", "4", "-q"});
  EXPECT_EQ(quiet.err, "");
}

// A model trained on 16384 tokens gets 8192 from run (16384 from serve) unless --ctx says
// otherwise; beyond 16384 needs the documented opt-in.
TEST_F(HelpCli, DefaultContextIsAtMost8192) {
  PS_REQUIRE_FIXTURES();
  const std::string m = gen_test_model(dir_, "ctx16k.gguf", "--shape tiny-llama --layers 1 --ctx 16384");
  ASSERT_FALSE(m.empty()) << "gen_model.py failed (python3-numpy?)";
  const RunResult def = pensieve({"run", "-m", m, "-p", "a", "-n", "1"});
  ASSERT_EQ(def.exit_code, 0) << def.err;
  EXPECT_TRUE(contains(def.err, ", context 8192 tokens\n")) << def.err;
  const RunResult full = pensieve({"run", "-m", m, "-p", "a", "-n", "1", "-c", "16384"});
  EXPECT_TRUE(contains(full.err, ", context 16384 tokens\n")) << full.err;
  const RunResult beyond = pensieve({"run", "-m", m, "-p", "a", "-n", "1", "-c", "20000"});
  EXPECT_EQ(beyond.exit_code, 2);
  EXPECT_TRUE(contains(beyond.err, "--ctx 20000 is beyond the model's training context of 16384 tokens")) << beyond.err;
  const RunResult opt_in = pensieve({"run", "-m", m, "-p", "a", "-n", "1", "-c", "20000", "--allow-ctx-extension"});
  EXPECT_EQ(opt_in.exit_code, 0) << opt_in.err;
  EXPECT_TRUE(contains(opt_in.err, "(--allow-ctx-extension): no RoPE scaling is applied")) << opt_in.err;
  EXPECT_TRUE(contains(opt_in.err, ", context 20000 tokens\n")) << opt_in.err;
  // llama.cpp's --rope-scaling names the opt-in
  const RunResult rope = pensieve({"run", "-m", m, "-p", "a", "--rope-scaling", "linear"});
  EXPECT_EQ(rope.exit_code, 2);
  EXPECT_TRUE(contains(rope.err, "--allow-ctx-extension")) << rope.err;
  // serve: the same refusal and the same opt-in (it then runs until the test's timeout stops it)
  const RunResult serve_beyond = pensieve({"serve", "-m", m, "--port", "0", "-c", "20000"});
  EXPECT_EQ(serve_beyond.exit_code, 2);
  EXPECT_TRUE(contains(serve_beyond.err, "--ctx 20000 is beyond the model's training context")) << serve_beyond.err;
  const std::string err = (dir_ / "serve.err").string();
  const std::string cmd = "timeout -s TERM 4 " + shell_quote(pensieve_binary()) + " serve -m " + shell_quote(m) +
                          " --port 0 -c 20000 --allow-ctx-extension >/dev/null 2>" + shell_quote(err);
  (void)std::system(cmd.c_str());
  EXPECT_TRUE(contains(slurp(err), "context 20000 tokens")) << slurp(err);
  // serve without -c: the model's whole context (a paged KV pool; agents send 25k-token prompts)
  const std::string cmd_default = "timeout -s TERM 4 " + shell_quote(pensieve_binary()) + " serve -m " + shell_quote(m) +
                                  " --port 0 >/dev/null 2>" + shell_quote(err);
  (void)std::system(cmd_default.c_str());
  EXPECT_TRUE(contains(slurp(err), "context 16384 tokens")) << slurp(err);
}

// On a terminal, a file over the threshold shows a progress line while it is read; the threshold
// is 1 GB, lowered here with PENSIEVE_PROGRESS_MIN_MB=0 so the small fixture shows it.
TEST_F(HelpCli, LoadProgressOnATerminal) {
  PS_REQUIRE_FIXTURES();
  PtySession s({"run", "-m", model(), "-p", "Zoo", "-n", "2"}, {"PENSIEVE_PROGRESS_MIN_MB=0"});
  ASSERT_TRUE(s.started());
  EXPECT_TRUE(s.expect("loading stories260K.gguf: 100% (1.1 MiB of 1.1 MiB)")) << s.screen();
  // then the layers as they are bound to the device (stories260K has 5)
  EXPECT_TRUE(s.expect("loading stories260K.gguf: binding the weights to the device, layer 5 of 5")) << s.screen();
  EXPECT_TRUE(s.expect("pensieve: loaded stories260K.gguf")) << s.screen();
  EXPECT_EQ(s.wait_exit(), 0) << s.all();
  // Not a terminal (stderr to a file): no progress line, the summary only.
  const RunResult r = pensieve({"run", "-m", model(), "-p", "Zoo", "-n", "2"});
  EXPECT_FALSE(contains(r.err, "loading ")) << r.err;
}

}  // namespace
}  // namespace pensieve::testing

namespace pensieve::testing {
namespace {

// llama-cli's spellings that scripts use: --no-display-prompt, -no-cnv, -sys.
TEST_F(HelpCli, MoreLlamaCliSpellings) {
  PS_REQUIRE_FIXTURES();
  const RunResult full = pensieve({"run", "-m", model(), "-p", "Zoo", "-n", "20", "--temp", "0", "-q"});
  ASSERT_EQ(full.exit_code, 0) << full.err;
  const RunResult bare =
      pensieve({"run", "-m", model(), "-p", "Zoo", "-n", "20", "--temp", "0", "-q", "--no-display-prompt", "-no-cnv"});
  ASSERT_EQ(bare.exit_code, 0) << bare.err;
  EXPECT_EQ("Zoo" + bare.out, full.out);
  const RunResult sys = pensieve({"run", "--chat", "-m", model(), "-p", "Hi", "-sys", "Be brief.", "-n", "4", "-q"});
  EXPECT_EQ(sys.exit_code, 0) << sys.err;
  const RunResult chat = run({"chat", "-m", model(), "-sys", "Be brief.", "-n", "4"}, write("in", "/set\n/bye\n").string());
  EXPECT_EQ(chat.exit_code, 0) << chat.err;
}

}  // namespace
}  // namespace pensieve::testing
