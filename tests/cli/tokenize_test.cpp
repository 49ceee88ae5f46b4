// `pensieve tokenize`, run as the real binary against the tokenizer fixtures.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli_test_util.h"

namespace pensieve::testing {
namespace {

namespace fs = std::filesystem;

class TokenizeCli : public CliTest {
 protected:
  TokenizeCli() : CliTest("tokenize") {}
};

std::string vocab(const std::string& name) { return fixtures_dir() + "/tokenizer/ggml-vocab-" + name + ".gguf"; }

// The .inp strings and .out lines of a test-vector pair.
std::vector<std::pair<std::string, std::string>> vectors(const std::string& name) {
  const std::string inp = slurp(vocab(name) + ".inp");
  std::istringstream out(slurp(vocab(name) + ".out"));
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::pair<std::string, std::string>> cases;
  size_t pos = 0, hit;
  std::string line;
  while ((hit = inp.find(sep, pos)) != std::string::npos && std::getline(out, line)) {
    cases.emplace_back(inp.substr(pos, hit - pos), line);
    pos = hit + sep.size();
  }
  return cases;
}

TEST_F(TokenizeCli, IdsMatchTheVectorsForTextArguments) {
  PS_REQUIRE_FIXTURES();
  for (const auto& [text, ids] : vectors("gpt-2")) {
    if (text != "Hello world" && text != " this is 🦙.cpp" && text != "Führer") continue;
    const RunResult r = run({vocab("gpt-2"), text, "--ids"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // .out lines put a space before every id; --ids separates them by single spaces.
    EXPECT_EQ(" " + r.out, ids + "\n") << text;
  }
}

TEST_F(TokenizeCli, FileIsReadByteForByte) {
  PS_REQUIRE_FIXTURES();
  int checked = 0;
  for (const auto& [text, ids] : vectors("qwen2")) {
    if (text.find('\n') == std::string::npos && text.find('\t') == std::string::npos) continue;
    const fs::path f = write("case" + std::to_string(checked), text);
    const RunResult r = run({vocab("qwen2"), "--file", f.string(), "--ids"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.empty() ? "\n" : " " + r.out, ids + "\n") << "'" << text << "'";
    ++checked;
  }
  EXPECT_GE(checked, 5);
}

// No text, --file - and --stdin read stdin; llama-tokenize's -m/-p spelling gives the same ids.
TEST_F(TokenizeCli, StdinAndLlamaSpellings) {
  PS_REQUIRE_FIXTURES();
  const std::string text = "Hello world\nsecond line";
  const std::string in = write("in.txt", text).string();
  const RunResult ref = run({vocab("gpt-2"), text, "--ids"});
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  ASSERT_GT(ref.out.size(), 4u);
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {vocab("gpt-2"), "--ids"}, {vocab("gpt-2"), "--file", "-", "--ids"}, {vocab("gpt-2"), "-f", "-", "--ids"},
           {"-m", vocab("gpt-2"), "--stdin", "--ids"}}) {
    const RunResult r = run(args, in);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, ref.out) << args[1];
    EXPECT_EQ(r.err, "");  // stdin is a file here: no terminal hint
  }
  const RunResult llama = run({"-m", vocab("gpt-2"), "-p", text, "--ids"});
  EXPECT_EQ(llama.exit_code, 0) << llama.err;
  EXPECT_EQ(llama.out, ref.out);
  const RunResult empty = run({vocab("gpt-2"), "--ids"}, "/dev/null");
  EXPECT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_EQ(empty.out, "\n");
}

TEST_F(TokenizeCli, PiecesAndSpecialTokens) {
  PS_REQUIRE_FIXTURES();
  const std::string chat = "<|im_start|>user\nHi<|im_end|>";
  RunResult r = run({vocab("qwen2"), chat, "--parse-special"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "151644 \"<|im_start|>\"\n872 \"user\"\n198 \"\\n\"\n13048 \"Hi\"\n151645 \"<|im_end|>\"\n");
  // Without --parse-special the markers are plain text.
  r = run({vocab("qwen2"), chat, "--ids"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("151644"), std::string::npos);
}

TEST_F(TokenizeCli, AddSpecialAddsBos) {
  PS_REQUIRE_FIXTURES();
  const RunResult plain = run({vocab("llama-spm"), "Hello", "--ids"});
  const RunResult with_bos = run({vocab("llama-spm"), "Hello", "--ids", "--add-special"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  ASSERT_EQ(with_bos.exit_code, 0) << with_bos.err;
  EXPECT_EQ(with_bos.out, "1 " + plain.out);
}

TEST_F(TokenizeCli, BadArgumentsExit2WithUsage) {
  PS_REQUIRE_FIXTURES();
  RunResult r = run({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("usage: pensieve tokenize"), std::string::npos) << r.err;
  r = run({"--ids"});  // no model
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("a model is required"), std::string::npos) << r.err;
  r = run({vocab("gpt-2"), "x", "-p", "y"});  // two texts
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("text excludes --prompt"), std::string::npos) << r.err;
  r = run({vocab("gpt-2"), "x", "--no-such-flag"});
  EXPECT_EQ(r.exit_code, 2);
  r = run({vocab("gpt-2"), "x", "--file", "y"});  // both a text and a file
  EXPECT_EQ(r.exit_code, 2);
  r = run({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--parse-special"), std::string::npos);
  EXPECT_NE(r.out.find("Usage: pensieve tokenize [OPTIONS] [model] [text]"), std::string::npos) << r.out;
}

TEST_F(TokenizeCli, RuntimeErrorsExit1) {
  PS_REQUIRE_FIXTURES();
  RunResult r = run({(dir_ / "missing.gguf").string(), "x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing.gguf"), std::string::npos) << r.err;
  r = run({vocab("gpt-2"), "--file", (dir_ / "missing.txt").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing.txt"), std::string::npos) << r.err;
  const fs::path junk = write("junk.gguf", "not a gguf file at all");
  r = run({junk.string(), "x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(r.err.empty());
}

}  // namespace
}  // namespace pensieve::testing
