// CLI paths no other test runs, through the real binary: `pensieve quantize` end to end, and a
// context that cannot be allocated (an address-space limit makes the KV cache allocation fail).
#include <algorithm>
#include <filesystem>
#include <map>

#include "cli_test_util.h"
#include "gguf/gguf.h"
#include "quant/quantize_model.h"

namespace pensieve::testing {
namespace {

class QuantizeCli : public CliTest {
 protected:
  QuantizeCli() : CliTest("quantize") {}
};

std::string ref_llama() { return fixtures_dir() + "/reference/ref-llama.gguf"; }

// ref-llama (width 64, FFN 128, 2 layers) to Q8_0: every matrix's rows are a multiple of Q8_0's
// 32-value block, so every matrix becomes Q8_0 and the 1-D norms stay F32 (written out by hand
// from the model's tensor list, not from the planner).
TEST_F(QuantizeCli, WritesTheSameFileAsTheLibraryWithTheExpectedTypes) {
  PS_REQUIRE_FIXTURES();
  const std::string out = (dir_ / "q8.gguf").string();
  const RunResult r = run({ref_llama(), out, "q8_0", "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("quantized " + ref_llama() + " -> " + out + " (Q8_0): 21 tensors"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("[21/21] output.weight"), std::string::npos) << r.err;  // per-tensor progress

  auto f = GgufFile::open(out);
  ASSERT_TRUE(f.ok()) << f.error().message;
  std::map<std::string, GgmlType> expected = {{"token_embd.weight", GgmlType::Q8_0},
                                              {"output.weight", GgmlType::Q8_0},
                                              {"output_norm.weight", GgmlType::F32}};
  for (int i = 0; i < 2; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    for (const char* m : {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"})
      expected[b + m + ".weight"] = GgmlType::Q8_0;
    for (const char* n : {"attn_norm", "ffn_norm"}) expected[b + n + ".weight"] = GgmlType::F32;
  }
  ASSERT_EQ((*f)->tensors().size(), expected.size());
  for (const GgufTensorInfo& t : (*f)->tensors()) {
    ASSERT_TRUE(expected.count(std::string(t.name))) << t.name;
    EXPECT_EQ(t.type, expected[std::string(t.name)]) << t.name;
  }

  // The CLI is a thin wrapper: byte for byte what the library writes (with any thread count).
  const std::string lib = (dir_ / "lib.gguf").string();
  ASSERT_TRUE(quantize_model(ref_llama(), lib, QuantizeTarget::Q8_0, 1).ok());
  EXPECT_EQ(slurp(out), slurp(lib));

  // --quiet drops the progress lines but keeps the summary.
  const RunResult q = run({ref_llama(), (dir_ / "q.gguf").string(), "Q8_0", "--quiet"});
  ASSERT_EQ(q.exit_code, 0);
  EXPECT_EQ(q.err.find("[1/21]"), std::string::npos) << q.err;
  EXPECT_NE(q.err.find("21 tensors"), std::string::npos) << q.err;
}

TEST_F(QuantizeCli, BadArgumentsExit2AndFailuresExit1WithoutOutput) {
  PS_REQUIRE_FIXTURES();
  const RunResult unknown = run({ref_llama(), (dir_ / "x.gguf").string(), "Q9_9"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("pensieve quantize: unknown type 'Q9_9'"), std::string::npos) << unknown.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x.gguf"));
  EXPECT_EQ(run({ref_llama()}).exit_code, 2);  // no output or type

  const RunResult missing = run({(dir_ / "nope.gguf").string(), (dir_ / "y.gguf").string(), "Q8_0"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("nope.gguf"), std::string::npos) << missing.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "y.gguf"));

  const RunResult no_dir = run({ref_llama(), (dir_ / "no/such/dir/z.gguf").string(), "Q8_0"});
  EXPECT_EQ(no_dir.exit_code, 1);
  EXPECT_NE(no_dir.err.find("pensieve quantize: "), std::string::npos) << no_dir.err;
}

class RunCli : public CliTest {
 protected:
  RunCli() : CliTest("run") {}
};

// A KV pool of terabytes; under a 4 GiB address-space limit its allocation fails: the load must
// fail cleanly (an error message and exit 1), not crash.
TEST_F(RunCli, ContextThatCannotBeAllocatedFailsCleanly) {
  PS_REQUIRE_FIXTURES();
  // A --ctx beyond the model's training context (2048) is refused before loading (see
  // llama_flags_test.cpp), so the KV pool is made too large with serve's --kv-budget instead.
  const std::string cmd = "ulimit -v 4194304; " + shell_quote(pensieve_binary()) + " serve -m " +
                          shell_quote(fixtures_dir() + "/models/stories260K.gguf") +
                          " --port 0 --threads 1 --device cpu --kv-budget 1220703 >" + shell_quote((dir_ / "out").string()) +
                          " 2>" + shell_quote((dir_ / "err").string());
  const int status = std::system(("bash -c " + shell_quote(cmd)).c_str());
  ASSERT_TRUE(WIFEXITED(status));
  const std::string err = slurp(dir_ / "err");
  EXPECT_EQ(WEXITSTATUS(status), 1) << err;
  // 1220703 MiB of blocks of 16 tokens x 5 layers x 2 x 4 heads x 8 dims x 2 bytes (f16), rounded down
  EXPECT_NE(err.find("pensieve: cannot load " + fixtures_dir() + "/models/stories260K.gguf: cannot reserve 1220702 MiB for the KV cache"),
            std::string::npos) << err;
  // Every line goes to stderr, the listening line first; stdout stays empty.
  EXPECT_EQ(err.rfind("pensieve: listening on http://127.0.0.1:", 0), 0u) << err;
  EXPECT_EQ(slurp(dir_ / "out"), "");
}

}  // namespace
}  // namespace pensieve::testing
