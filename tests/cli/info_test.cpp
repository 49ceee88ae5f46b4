// `pensieve info`: runs the real binary on fixture models and on broken files.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "test_util.h"

namespace pensieve {
namespace {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `pensieve ARGS` (ARGS already shell-quoted), capturing stdout and stderr.
RunResult run_pensieve(const std::string& args) {
  const std::string err_path =
      (std::filesystem::temp_directory_path() / ("pensieve_info_test_" + std::to_string(::getpid()) + ".err")).string();
  const std::string cmd = "'" + testing::pensieve_binary() + "' " + args + " 2>'" + err_path + "'";
  RunResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = slurp(err_path);
  std::remove(err_path.c_str());
  return r;
}

std::string fixture(const std::string& rel) { return "'" + testing::fixtures_dir() + "/" + rel + "'"; }

bool has(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

TEST(CliInfo, Stories260KText) {
  PS_REQUIRE_FIXTURES();
  RunResult r = run_pensieve("info " + fixture("models/stories260K.gguf"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "architecture:    llama")) << r.out;
  EXPECT_TRUE(has(r.out, "v3, alignment 32, 19 metadata keys")) << r.out;
  // 292,800 = the tensor shapes listed in fixtures/models/README.md, summed by hand:
  // 2 x 64x512 + 64 + 5 x (64x64 x2 + 64x32 x2 + 64x172 x3 + 64 x2).
  EXPECT_TRUE(has(r.out, "parameters:      292.80 K (292800)")) << r.out;
  EXPECT_TRUE(has(r.out, "  layers             5\n")) << r.out;
  EXPECT_TRUE(has(r.out, "  heads              8\n")) << r.out;
  EXPECT_TRUE(has(r.out, "  kv heads           4\n")) << r.out;
  EXPECT_TRUE(has(r.out, "  head dim           8\n")) << r.out;
  EXPECT_TRUE(has(r.out, "  ffn length         172\n")) << r.out;
  EXPECT_TRUE(has(r.out, "  context length     2048\n")) << r.out;
  EXPECT_TRUE(has(r.out, "  rms norm eps       1e-05\n")) << r.out;
  EXPECT_TRUE(has(r.out, "  vocab size         512\n")) << r.out;
  EXPECT_TRUE(has(r.out, "  f32          48 tensors")) << r.out;
  EXPECT_TRUE(has(r.out, "  bos                1 '<s>'\n")) << r.out;
  EXPECT_TRUE(has(r.out, "  eos                2 '</s>'\n")) << r.out;
  EXPECT_TRUE(has(r.out, "  pad                none (4294967295)\n")) << r.out;
  EXPECT_TRUE(has(r.out, "chat template:   none")) << r.out;
}

TEST(CliInfo, JsonOutput) {
  PS_REQUIRE_FIXTURES();
  RunResult r = run_pensieve("info --json " + fixture("reference/ref-qwen3.gguf"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["architecture"], "qwen3");
  EXPECT_EQ(j["file"]["gguf_version"], 3);
  EXPECT_EQ(j["hyperparameters"]["block_count"], 2);
  EXPECT_EQ(j["hyperparameters"]["head_dim"], 32) << "qwen3 head_dim comes from key_length, not 64/4";
  EXPECT_EQ(j["hyperparameters"]["rope_freq_base"], 1e6);
  EXPECT_EQ(j["tensors"]["parameters"], 164288) << "from fixtures/reference/README.md";
  ASSERT_EQ(j["tensors"]["types"].size(), 1u);
  EXPECT_EQ(j["tensors"]["types"][0]["type"], "f32");
  EXPECT_EQ(j["tensors"]["types"][0]["bytes"], 164288 * 4);
  EXPECT_EQ(j["tokenizer"]["special"]["bos"]["text"], "<s>");
  EXPECT_TRUE(j["chat_template"].is_null());
}

TEST(CliInfo, MixedTypesAndVocabOnly) {
  PS_REQUIRE_FIXTURES();
  RunResult r = run_pensieve("info " + fixture("models/llama-2-tiny-random.gguf"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "  f32           3 tensors")) << r.out;
  EXPECT_TRUE(has(r.out, "  f16           9 tensors")) << r.out;
  RunResult v = run_pensieve("info --json " + fixture("tokenizer/ggml-vocab-qwen2.gguf"));
  ASSERT_EQ(v.exit_code, 0) << v.err;
  const nlohmann::json j = nlohmann::json::parse(v.out);
  EXPECT_EQ(j["tensors"]["count"], 0);
  EXPECT_EQ(j["tokenizer"]["tokens"], 151936);
  EXPECT_EQ(j["tokenizer"]["merges"], 151387);
  EXPECT_EQ(j["tokenizer"]["special"]["eos"]["id"], 151645);
  EXPECT_EQ(j["tokenizer"]["special"]["pad"]["text"], "<|endoftext|>");
}

TEST(CliInfo, CorruptFileExitsOneWithTheReason) {
  PS_REQUIRE_FIXTURES();
  const std::string bad =
      (std::filesystem::temp_directory_path() / ("pensieve_info_bad_" + std::to_string(::getpid()) + ".gguf")).string();
  {
    std::string bytes = slurp(testing::fixtures_dir() + "/models/stories260K.gguf");
    bytes.resize(5000);  // cut inside the vocabulary
    std::ofstream(bad, std::ios::binary) << bytes;
  }
  RunResult r = run_pensieve("info '" + bad + "'");
  std::remove(bad.c_str());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(has(r.err, "pensieve info: " + bad + ": ")) << r.err;
  EXPECT_TRUE(has(r.err, "truncated")) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;

  RunResult v1 = run_pensieve("info " + fixture("models/tinyllamas-stories-260k-f32.gguf"));
  EXPECT_EQ(v1.exit_code, 1);
  EXPECT_TRUE(has(v1.err, "GGUF v1 is not supported")) << v1.err;

  RunResult missing = run_pensieve("info /nonexistent/model.gguf");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(has(missing.err, "/nonexistent/model.gguf: cannot open")) << missing.err;
}

TEST(CliInfo, BadArgumentsExitTwoAndHelpExitsZero) {
  RunResult none = run_pensieve("info");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_TRUE(has(none.err, "usage: pensieve info")) << none.err;
  RunResult unknown = run_pensieve("info --bogus x.gguf");
  EXPECT_EQ(unknown.exit_code, 2);
  RunResult help = run_pensieve("info --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(has(help.out, "--json")) << help.out;
}

}  // namespace
}  // namespace pensieve
