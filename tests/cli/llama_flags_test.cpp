// llama.cpp users' flags through the real binary: the aliases give the same bytes as pensieve's
// own spellings (greedy output of a real model compared with its published golden), -f FILE and
// -p - (stdin), the known-unsupported flags, the sampling ranges, --ctx beyond the training
// context, --help's defaults and the seed of a random run.
#include <csignal>
#include <chrono>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_test_util.h"

namespace pensieve::testing {
namespace {

std::string model() { return fixtures_dir() + "/models/stories260K.gguf"; }

// What llama2.c's run.c prints for `-t 0 -i "Zoo" -n 60` (see run_test.cpp): 57 new tokens.
std::string golden_zoo() { return slurp(fixtures_dir() + "/golden/stories260K.prompt-Zoo.60.txt"); }

std::string chomp(std::string s) {
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

class Cli : public CliTest {
 protected:
  Cli() : CliTest("") {}
  // `pensieve <args...>` with stdin from a file (or /dev/null).
  RunResult pensieve(const std::vector<std::string>& args, const std::string& stdin_path = "/dev/null") {
    return run(args, stdin_path);  // the subcommand is args[0]
  }
  std::vector<std::string> greedy_zoo(std::vector<std::string> extra) {
    std::vector<std::string> args = {"run", "-m", model(), "-n", "57", "--temp", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
};

TEST_F(Cli, LlamaCppSpellingsGiveTheGoldenStory) {
  PS_REQUIRE_FIXTURES();
  const std::string expected = golden_zoo();
  ASSERT_EQ(expected.rfind("Zoo was a little girl", 0), 0u) << "unexpected fixture: " << expected;
  const std::vector<std::vector<std::string>> spellings = {
      // one-letter and multi-letter single-dash forms, -fa as a bare flag
      {"-p", "Zoo", "-t", "1", "-c", "256", "-ngl", "0", "-fa", "-b", "64", "-ub", "16", "-s", "7"},
      // llama.cpp's long forms, -fa with a value (recent llama.cpp), -b smaller than -ub
      {"--prompt", "Zoo", "--threads", "2", "--ctx-size", "128", "--n-gpu-layers", "0", "-fa", "on",
       "--batch-size", "8", "--ubatch-size", "512", "--seed", "7"},
      {"-p", "Zoo", "--flash-attn", "auto", "-ngl=0", "--ctx-size=64", "--jinja"},
  };
  for (const auto& extra : spellings) {
    const RunResult r = pensieve(greedy_zoo(extra));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(chomp(r.out), expected) << r.err;
    EXPECT_TRUE(contains(r.err, "device cpu (requested)")) << r.err;  // -ngl 0 is --device cpu
    EXPECT_FALSE(contains(r.err, "pensieve: seed")) << r.err;        // greedy: no seed to show
  }
  // -fa off is accepted with a note (attention is always fused here); -n is --n-predict.
  const RunResult off = pensieve({"run", "-m", model(), "-p", "Zoo", "--n-predict", "57", "--temp", "0", "-fa", "off"});
  ASSERT_EQ(off.exit_code, 0) << off.err;
  EXPECT_EQ(chomp(off.out), expected);
  EXPECT_TRUE(contains(off.err, "pensieve: note: -fa off ignored: attention is always fused here\n")) << off.err;
}

TEST_F(Cli, NGpuLayersChoosesTheDevice) {
  PS_REQUIRE_FIXTURES();
  // Any layer on the GPU is --device cuda: on this build either it runs there or it is refused
  // as a request the machine cannot meet (exit 2), naming CUDA; never a silent CPU run.
  for (const char* n : {"99", "1", "all"}) {
    const RunResult gpu = pensieve({"run", "-m", model(), "-p", "Zoo", "-n", "4", "--temp", "0", "-ngl", n});
    if (gpu.exit_code == 0) {
      EXPECT_TRUE(contains(gpu.err, "on cuda")) << gpu.err;
    } else {
      EXPECT_EQ(gpu.exit_code, 2) << gpu.err;
      // A CPU-only build: "device 'cuda': this build has no CUDA backend"; a CUDA build on a
      // machine without a GPU: "--device cuda: no CUDA device found".
      EXPECT_TRUE(contains(gpu.err, "device 'cuda'") || contains(gpu.err, "--device cuda: no CUDA device")) << gpu.err;
      EXPECT_EQ(gpu.out, "");
    }
  }
  // auto (recent llama.cpp's default, also spelled -1) is --device auto: it always runs.
  for (const char* n : {"auto", "-1"}) {
    const RunResult r = pensieve({"run", "-m", model(), "-p", "Zoo", "-n", "57", "--temp", "0", "--gpu-layers", n});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(chomp(r.out), golden_zoo());
    EXPECT_FALSE(contains(r.err, "(requested)")) << r.err;  // chosen, not asked for
  }
  const RunResult bad = pensieve({"run", "-m", model(), "-p", "hi", "-ngl", "many"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(contains(bad.err, "--n-gpu-layers: expected a layer count >= 0, 'all' or 'auto', got 'many'")) << bad.err;
  // -ngl and --device say the same thing twice: a usage error.
  const RunResult both = pensieve({"run", "-m", model(), "-p", "hi", "-ngl", "0", "--device", "cpu"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_TRUE(contains(both.err, "--n-gpu-layers")) << both.err;
  const RunResult neg = pensieve({"run", "-m", model(), "-p", "hi", "-ngl", "-2"});
  EXPECT_EQ(neg.exit_code, 2) << neg.err;
}

TEST_F(Cli, PromptFromFileAndFromStdin) {
  PS_REQUIRE_FIXTURES();
  const std::string expected = golden_zoo();
  const std::string prompt = write("prompt.txt", "Zoo").string();
  for (const auto& args : {greedy_zoo({"-f", prompt}), greedy_zoo({"--file", prompt})}) {
    const RunResult r = pensieve(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(chomp(r.out), expected);
  }
  for (const auto& args : {greedy_zoo({"-p", "-"}), greedy_zoo({"-f", "-"})}) {
    const RunResult r = pensieve(args, prompt);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(chomp(r.out), expected);
  }
  // The file is the prompt byte for byte: a trailing newline is part of it (the echo shows it).
  const std::string nl = write("nl.txt", "Zoo\n").string();
  const RunResult with_nl = pensieve({"run", "-m", model(), "-f", nl, "-n", "3", "--temp", "0", "-q"});
  ASSERT_EQ(with_nl.exit_code, 0) << with_nl.err;
  EXPECT_EQ(with_nl.out.rfind("Zoo\n", 0), 0u) << with_nl.out;

  const RunResult missing = pensieve({"run", "-m", model(), "-f", (dir_ / "nope.txt").string()});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(contains(missing.err, "cannot read the prompt file")) << missing.err;
  const RunResult both = pensieve({"run", "-m", model(), "-p", "hi", "-f", prompt});
  EXPECT_EQ(both.exit_code, 2);
  const RunResult none = pensieve({"run", "-m", model()});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_TRUE(contains(none.err, "a prompt is required: -p TEXT, -p - (stdin) or -f FILE")) << none.err;
}

TEST_F(Cli, UnsupportedLlamaCppFlagsExit2WithAHint) {
  PS_REQUIRE_FIXTURES();
  const RunResult hf = pensieve({"run", "-hf", "ggml-org/foo", "-p", "hi"});
  EXPECT_EQ(hf.exit_code, 2);
  EXPECT_EQ(hf.out, "");
  EXPECT_EQ(hf.err,
            "pensieve: not supported: -hf (fetch it first: `pensieve pull hf:OWNER/REPO[:QUANT]`, then -m NAME)\n");
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"serve", "--hf-repo=ggml-org/foo"}, "not supported: --hf-repo (fetch it first: `pensieve pull hf:"},
      {{"chat", "-m", model(), "--lora", "x.gguf"}, "not supported: --lora (LoRA adapters are not supported)"},
      {{"run", "-m", model(), "-p", "hi", "-ctk", "q8_0"}, "not supported: -ctk (the KV cache type is one option here"},
      {{"run", "-m", model(), "-cnv"}, "not supported: -cnv (use `pensieve chat`)"},
      {{"serve", "-m", model(), "-sm", "row"}, "not supported: -sm (one GPU per process: --device cuda:N)"},
      {{"run", "-m", model(), "-p", "hi", "--rope-scaling", "yarn"}, "not supported: --rope-scaling (RoPE scaling is not supported; --allow-ctx-extension"},
  };
  for (const Case& c : cases) {
    const RunResult r = pensieve(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.message;
    EXPECT_TRUE(contains(r.err, "pensieve: " + c.message)) << r.err;
  }
  // After `--` nothing is a flag: tokenize's text "-hf" is text, tokenized like "-" "hf" alone.
  const RunResult text = pensieve({"tokenize", model(), "--ids", "--", "-hf"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  const RunResult plain = pensieve({"tokenize", model(), "--ids", "--", "-hf "});
  EXPECT_FALSE(text.out.empty());
  EXPECT_NE(text.out, plain.out);  // the argument reached the tokenizer as given
  // Commands without a llama.cpp counterpart see their arguments untouched: info's own
  // CLI11 error for an unknown -cnv, not the rewrite's "not supported" line.
  const RunResult info = pensieve({"info", model(), "-cnv"});
  EXPECT_EQ(info.exit_code, 2);
  EXPECT_TRUE(contains(info.err, "The following argument was not expected: -cnv")) << info.err;
  EXPECT_FALSE(contains(info.err, "not supported")) << info.err;
}

// The ranges, each at its edges. A bad value is a usage error before anything is loaded.
TEST_F(Cli, SamplingRangesAreChecked) {
  PS_REQUIRE_FIXTURES();
  struct Case {
    std::string flag, value;
    bool ok;
  };
  const std::vector<Case> cases = {
      {"--temp", "-1", false},          {"--temp", "-0.01", false},      {"--temp", "nan", false},
      {"--temp", "0", true},            {"--temp", "1.5", true},         {"--top-k", "-3", false},
      {"--top-k", "0", true},           {"--top-k", "1", true},          {"--top-p", "7", false},
      {"--top-p", "0", true},          {"--top-p", "1.01", false},      {"--top-p", "1", true},
      {"--top-p", "0.01", true},        {"--min-p", "-0.1", false},      {"--min-p", "1.5", false},
      {"--min-p", "0", true},           {"--min-p", "1", true},          {"--repeat-penalty", "0", false},
      {"--repeat-penalty", "-1", false}, {"--repeat-penalty", "1.1", true}, {"-n", "-2", false},
      {"--repeat-penalty", "10.5", false},
      {"-n", "-1", true},               {"-n", "0", true},               {"--top-k", "x", false},
  };
  for (const Case& c : cases) {
    // -c 32 bounds -n -1 (until the context is full)
    std::vector<std::string> args = {"run", "-m", model(), "-p", "Zoo", "-c", "32", "-s", "1", c.flag, c.value};
    if (c.flag != "-n") args.insert(args.end(), {"-n", "4"});
    const RunResult r = pensieve(args);
    if (c.ok) {
      EXPECT_EQ(r.exit_code, 0) << c.flag << " " << c.value << ": " << r.err;
      EXPECT_EQ(r.out.rfind("Zoo", 0), 0u) << c.flag << " " << c.value << ": " << r.out;
    } else {
      EXPECT_EQ(r.exit_code, 2) << c.flag << " " << c.value << ": " << r.err;
      EXPECT_EQ(r.out, "") << c.flag << " " << c.value;
      const std::string name = c.flag == "-n" ? "--n-predict" : c.flag;  // CLI11 names the long form
      EXPECT_TRUE(contains(r.err, name + ":")) << c.flag << " " << c.value << ": " << r.err;
      EXPECT_TRUE(contains(r.err, "Run with --help for more information.")) << r.err;
    }
  }
  // The exact words of one: the rule, then the value given.
  const RunResult topp = pensieve({"run", "-m", model(), "-p", "hi", "--top-p", "7"});
  EXPECT_EQ(topp.err, "--top-p: must be in [0, 1] (1: off), got 7\nRun with --help for more information.\n");
  // chat checks the same ranges.
  const RunResult chat = pensieve({"chat", "-m", model(), "--temp", "-1"});
  EXPECT_EQ(chat.exit_code, 2);
  EXPECT_TRUE(contains(chat.err, "--temp: must be >= 0")) << chat.err;
}

TEST_F(Cli, ContextBeyondTrainingIsRefused) {
  PS_REQUIRE_FIXTURES();
  const std::string msg =
      "pensieve: --ctx 99999999 is beyond the model's training context of 2048 tokens; use --ctx 2048 or less (0: "
      "the model's)\n";
  const RunResult run = pensieve({"run", "-m", model(), "-p", "hi", "-c", "99999999"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err, msg);
  EXPECT_EQ(run.out, "");
  const RunResult chat = pensieve({"chat", "-m", model(), "--ctx-size", "99999999"});
  EXPECT_EQ(chat.exit_code, 2);
  EXPECT_EQ(chat.err, msg);
  // serve refuses before it listens (no "listening" line)
  const RunResult serve = pensieve({"serve", "-m", model(), "--port", "0", "-c", "99999999"});
  EXPECT_EQ(serve.exit_code, 2);
  EXPECT_EQ(serve.err, msg);
  EXPECT_EQ(serve.out, "");
  // exactly the training context is fine
  const RunResult edge = pensieve({"run", "-m", model(), "-p", "Zoo", "-n", "57", "--temp", "0", "-c", "2048"});
  EXPECT_EQ(edge.exit_code, 0) << edge.err;
  EXPECT_EQ(chomp(edge.out), golden_zoo());
  EXPECT_TRUE(contains(edge.err, "generated 57 tokens")) << edge.err;
}

TEST_F(Cli, RandomRunPrintsItsSeedAndTheSeedReproducesIt) {
  PS_REQUIRE_FIXTURES();
  const std::vector<std::string> args = {"run", "-m", model(), "-p", "Once", "-n", "40", "--temp", "1.2", "--top-k", "0",
                                         "--top-p", "1", "--min-p", "0"};
  const RunResult first = pensieve(args);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(first.err, m, std::regex("^pensieve: seed ([0-9]+)\n"))) << first.err;
  const std::string seed = m[1];
  std::vector<std::string> again = args;
  again.insert(again.end(), {"-s", seed});
  const RunResult second = pensieve(again);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, first.out);                       // the same 40 sampled tokens
  EXPECT_FALSE(contains(second.err, "pensieve: seed"));   // a given seed is not echoed
  // -q keeps stderr quiet, seed line included
  std::vector<std::string> quiet = args;
  quiet.push_back("-q");
  const RunResult q = pensieve(quiet);
  ASSERT_EQ(q.exit_code, 0);
  EXPECT_FALSE(contains(q.err, "seed")) << q.err;
  EXPECT_FALSE(contains(q.err, "generated")) << q.err;
}

TEST_F(Cli, HelpShowsDefaultsAndVersion) {
  const RunResult run = pensieve({"run", "--help"});
  ASSERT_EQ(run.exit_code, 0);
  for (const char* s : {"--temp FLOAT=0.8 ", "--top-k INT=40 ", "--top-p FLOAT=0.95 ", "--min-p FLOAT=0.05 ",
                        "-n,--n-predict INT=256 ", "--repeat-penalty FLOAT=1 ", "-c,--ctx,--ctx-size INT:NONNEGATIVE=0\n",
                        "-t,--threads INT:NONNEGATIVE=0\n", "-s,--seed UINT ", "--ubatch,--ubatch-size INT:POSITIVE=512\n",
                        "-f,--file TEXT", "--n-gpu-layers,--gpu-layers TEXT:N|all|auto ", "--flash-attn ", "-b,--batch-size"})
    EXPECT_TRUE(contains(run.out, s)) << s << " in\n" << run.out;
  const RunResult serve = pensieve({"serve", "--help"});
  ASSERT_EQ(serve.exit_code, 0);
  for (const char* s : {"--port INT:INT in [0 - 65535]=8080\n", "--max-queue INT:NONNEGATIVE=16\n",
                        "--host TEXT=127.0.0.1 ", "--api-key TEXT ", "--parallel INT:INT in [0 - 512]=0\n",
                        "-c,--ctx,--ctx-size", "-t,--threads", "--n-gpu-layers", "--flash-attn"})
    EXPECT_TRUE(contains(serve.out, s)) << s << " in\n" << serve.out;
  const RunResult chat = pensieve({"chat", "--help"});
  EXPECT_TRUE(contains(chat.out, "-n,--n-predict INT=-1 ")) << chat.out;
  const RunResult top = pensieve({"--help"});
  ASSERT_EQ(top.exit_code, 0);
  EXPECT_TRUE(contains(top.out, "  --version      print the version, build commit, compiler, CUDA and CPU ISA\n")) << top.out;
  const RunResult version = pensieve({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("pensieve ", 0), 0u);
}

TEST_F(Cli, ChatTakesTheLlamaCppFlags) {
  PS_REQUIRE_FIXTURES();
  const std::string in = write("in.txt", "Hello\n/exit\n").string();
  const RunResult chat = pensieve({"chat", "-m", model(), "-n", "8", "--temp", "0", "-t", "1", "-c", "256", "-ngl",
                                   "0", "-fa", "-s", "3", "--jinja"},
                                  in);
  ASSERT_EQ(chat.exit_code, 0) << chat.err;
  EXPECT_TRUE(contains(chat.err, "context 256 tokens")) << chat.err;
  const RunResult one = pensieve({"run", "--chat", "-m", model(), "-p", "Hello", "-n", "8", "--temp", "0", "-t", "1"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_FALSE(chomp(one.out).empty());
  EXPECT_EQ(chat.out, one.out);  // the same first turn, greedy
}

// bench and quantize take -t (and bench the load options, -np for --parallel).
TEST_F(Cli, BenchAndQuantizeTakeTheLlamaCppFlags) {
  PS_REQUIRE_FIXTURES();
  const RunResult bench = pensieve({"bench", "-m", model(), "-t", "1", "-c", "64", "-ub", "8", "-fa", "-ngl", "0",
                                    "-p", "16", "-n", "8", "-r", "1", "--json"});
  ASSERT_EQ(bench.exit_code, 0) << bench.err;
  EXPECT_TRUE(contains(bench.out, "\"n_threads\":1")) << bench.out;
  EXPECT_TRUE(contains(bench.out, "\"n_prompt\":16")) << bench.out;
  const RunResult np = pensieve({"bench", "-m", model(), "-t", "1", "-np", "2", "-p", "16", "-n", "8", "-r", "1"});
  ASSERT_EQ(np.exit_code, 0) << np.err;
  EXPECT_TRUE(contains(np.out, "x2")) << np.out;  // the --parallel 2 test
  const std::string out = (dir_ / "q.gguf").string();
  const RunResult q = pensieve({"quantize", fixtures_dir() + "/reference/ref-llama.gguf", out, "q8_0", "-t", "2"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_TRUE(contains(q.err, "(Q8_0): 21 tensors")) << q.err;
}

// serve with llama-server's spellings: the startup line shows what they set; then SIGTERM.
TEST_F(Cli, ServeTakesTheLlamaServerFlags) {
  PS_REQUIRE_FIXTURES();
  const std::string out = (dir_ / "serve.out").string(), err = (dir_ / "serve.err").string();
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, 1);
    dup2(e, 2);
    const std::string bin = pensieve_binary(), m = model();
    execl(bin.c_str(), bin.c_str(), "serve", "-m", m.c_str(), "--host", "127.0.0.1", "--port", "0", "-c", "256",
          "-t", "1", "-np", "3", "-ngl", "0", "-fa", "-b", "64", "-ub", "32", "--api-key", "k", "-cb", "--jinja", "--quiet",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  std::string log;
  for (int i = 0; i < 300 && !contains(log, "loaded in"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    log = slurp(err);
  }
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(contains(log, "pensieve: listening on http://127.0.0.1:")) << log;
  EXPECT_TRUE(contains(log, "pensieve: device cpu (requested)")) << log;
  // -c and -np as the startup line reports them (the KV pool's size is the engine's policy)
  EXPECT_TRUE(contains(log, " on cpu, context 256 tokens, 3 parallel, KV pool ")) << log;
}

}  // namespace
}  // namespace pensieve::testing
