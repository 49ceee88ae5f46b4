// `pensieve run` / `bench` / `chat` as a user runs them: the real binary on a real model.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "test_util.h"

namespace pensieve::testing {
namespace {

struct Output {
  int code = -1;
  std::string out;
};

// Runs a shell command, capturing stdout (stderr discarded unless redirected by the caller).
Output run_cmd(const std::string& cmd) {
  Output o;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return o;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) o.out.append(buf.data(), n);
  const int status = pclose(p);
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

std::string model() { return fixtures_dir() + "/models/stories260K.gguf"; }

std::string golden(const std::string& name) {
  std::ifstream f(fixtures_dir() + "/golden/" + name, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Greedy decoding of a fixed model is deterministic, so the output is compared byte for byte with
// a published one: ../shared/fixtures/golden/stories260K.prompt-Zoo.60.txt is what llama2.c's
// run.c prints for `-t 0 -i "Zoo" -n 60` (60 positions: BOS + 3 prompt tokens + 57 new ones;
// provenance in golden/README.md).
TEST(CliRun, PrintsTheGoldenStory) {
  PS_REQUIRE_FIXTURES();
  const std::string expected = golden("stories260K.prompt-Zoo.60.txt");
  ASSERT_EQ(expected.rfind("Zoo was a little girl", 0), 0u) << "unexpected fixture: " << expected;
  for (int threads : {1, 2}) {
    const Output o = run_cmd(pensieve_binary() + " run -m " + model() + " -p Zoo -n 57 --temp 0 --threads " +
                             std::to_string(threads) + " 2>/dev/null");
    ASSERT_EQ(o.code, 0);
    std::string out = o.out;
    if (!out.empty() && out.back() == '\n') out.pop_back();  // run prints a final newline, as run.c does
    EXPECT_EQ(out, expected) << threads << " thread(s)";
  }
}

TEST(CliRun, BadArgumentsExit2AndMissingModelExit1) {
  PS_REQUIRE_FIXTURES();
  // No -m: the shipped model, here pointed at a file that does not exist.
  EXPECT_EQ(run_cmd("PENSIEVE_CMD_MODEL=/nonexistent.gguf " + pensieve_binary() + " run -p hi 2>/dev/null").code, 1);
  EXPECT_EQ(run_cmd(pensieve_binary() + " run -m " + model() + " -p hi --kv-type q4 2>/dev/null").code, 2);
  EXPECT_EQ(run_cmd(pensieve_binary() + " run -m /nonexistent.gguf -p hi 2>/dev/null").code, 1);
  EXPECT_EQ(run_cmd(pensieve_binary() + " run --help").code, 0);
  EXPECT_EQ(run_cmd(pensieve_binary() + " bench --help").code, 0);
  EXPECT_EQ(run_cmd(pensieve_binary() + " chat --help").code, 0);
}

TEST(CliBench, JsonLinesWithLlamaBenchKeys) {
  PS_REQUIRE_FIXTURES();
  const Output o = run_cmd(pensieve_binary() + " bench -m " + model() + " -p 32 -n 16 -r 2 --threads 1 --json");
  ASSERT_EQ(o.code, 0) << o.out;
  size_t lines = 0;
  for (size_t pos = 0; (pos = o.out.find('\n', pos)) != std::string::npos; ++pos) ++lines;
  EXPECT_EQ(lines, 2u) << o.out;
  for (const char* key : {"\"model_filename\"", "\"model_type\"", "\"n_threads\"", "\"n_prompt\":32", "\"n_gen\":16",
                          "\"avg_ts\"", "\"stddev_ts\"", "\"ttft_ms\"", "\"load_ms\"", "\"peak_rss_bytes\""})
    EXPECT_NE(o.out.find(key), std::string::npos) << key << " in " << o.out;
}

TEST(CliChat, TwoTurnsFromStdin) {
  PS_REQUIRE_FIXTURES();
  // stories260K has no template: ChatML is used; replies end at max tokens.
  const Output o = run_cmd("printf 'Hello\\nTell me a story\\n/exit\\n' | " + pensieve_binary() + " chat -m " +
                           model() + " -n 8 --temp 0 --threads 1 2>/dev/null");
  EXPECT_EQ(o.code, 0);
  size_t lines = 0;
  for (char c : o.out) lines += c == '\n';
  ASSERT_EQ(lines, 2u) << o.out;  // one reply line per turn
  // The first turn is the same conversation as a one-shot `run --chat`: greedy gives the same reply.
  const Output one = run_cmd(pensieve_binary() + " run --chat -m " + model() +
                             " -p Hello -n 8 --temp 0 --threads 1 2>/dev/null");
  ASSERT_EQ(one.code, 0);
  const std::string first_reply = o.out.substr(0, o.out.find('\n'));
  EXPECT_FALSE(first_reply.empty());
  EXPECT_EQ(first_reply + "\n", one.out);
}

}  // namespace
}  // namespace pensieve::testing
