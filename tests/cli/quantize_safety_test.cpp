// `pensieve quantize` protects files and models: an existing output needs --force, an already
// quantized input needs --allow-requantize (with a warning), and the 2-5 bit k-quant mixes
// (Q2_K, Q3_K_S/M/L, Q4_K_S, Q5_K_S) are written through the binary and load to run.
#include <filesystem>
#include <string>

#include "cli_test_util.h"
#include "gguf/gguf.h"

namespace pensieve::testing {
namespace {

class QuantizeSafety : public CliTest {
 protected:
  QuantizeSafety() : CliTest("quantize") {}
  std::string ref() { return fixtures_dir() + "/reference/ref-llama.gguf"; }
};

TEST_F(QuantizeSafety, ExistingOutputNeedsForce) {
  PS_REQUIRE_FIXTURES();
  const std::string out = (dir_ / "out.gguf").string();
  ASSERT_EQ(run({ref(), out, "Q8_0", "--quiet"}).exit_code, 0);
  const std::string before = slurp(out);
  const RunResult again = run({ref(), out, "Q4_0", "--quiet"});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_EQ(again.err, "pensieve quantize: " + out + " exists; pass --force to overwrite it\n");
  EXPECT_EQ(slurp(out), before);  // untouched
  const RunResult forced = run({ref(), out, "Q4_0", "--quiet", "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_NE(slurp(out), before);
  auto f = GgufFile::open(out);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)->tensor("blk.0.attn_q.weight")->type, GgmlType::Q4_0);
}

TEST_F(QuantizeSafety, QuantizedInputNeedsAllowRequantize) {
  PS_REQUIRE_FIXTURES();
  const std::string q8 = (dir_ / "q8.gguf").string(), q4 = (dir_ / "q4.gguf").string();
  ASSERT_EQ(run({ref(), q8, "Q8_0", "--quiet"}).exit_code, 0);
  const RunResult refused = run({q8, q4, "Q4_0"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("pensieve quantize: " + q8 + " is already quantized (Q8_0 weights)"), std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("--allow-requantize"), std::string::npos) << refused.err;
  EXPECT_FALSE(std::filesystem::exists(q4));
  const RunResult allowed = run({q8, q4, "Q4_0", "--allow-requantize", "--quiet"});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_NE(allowed.err.find("warning: re-quantizing " + q8 + " (already Q8_0)"), std::string::npos) << allowed.err;
  EXPECT_TRUE(std::filesystem::exists(q4));
  // an F16 source is not "quantized"
  const std::string f16 = (dir_ / "f16.gguf").string();
  ASSERT_EQ(run({ref(), f16, "F16", "--quiet"}).exit_code, 0);
  const RunResult from_f16 = run({f16, (dir_ / "from-f16.gguf").string(), "Q8_0", "--quiet"});
  EXPECT_EQ(from_f16.exit_code, 0) << from_f16.err;
  EXPECT_EQ(from_f16.err.find("warning"), std::string::npos) << from_f16.err;
}

TEST_F(QuantizeSafety, LowBitMixesThroughTheBinaryAndTheyRun) {
  PS_REQUIRE_FIXTURES();
  const std::string stories = fixtures_dir() + "/models/stories260K.gguf";
  for (const char* type : {"Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q5_K_S"}) {
    SCOPED_TRACE(type);
    const std::string out = (dir_ / (std::string(type) + ".gguf")).string();
    const RunResult q = run({stories, out, type, "--quiet"});
    ASSERT_EQ(q.exit_code, 0) << q.err;
    EXPECT_NE(q.err.find(std::string("(") + type + "): "), std::string::npos) << q.err;
    auto f = GgufFile::open(out);
    ASSERT_TRUE(f.ok());
    // the model loads and generates (its variant names the mix)
    const std::string cmd = shell_quote(pensieve_binary()) + " run -m " + shell_quote(out) +
                            " -p Once -n 8 --temp 0 2>" + shell_quote((dir_ / "err").string());
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    char buf[256];
    std::string text;
    while (fgets(buf, sizeof buf, p)) text += buf;
    EXPECT_EQ(pclose(p), 0) << slurp(dir_ / "err");
    EXPECT_EQ(text.rfind("Once", 0), 0u) << text;
    EXPECT_GT(text.size(), 6u);
    EXPECT_NE(slurp(dir_ / "err").find(std::string("llama ") + type), std::string::npos) << slurp(dir_ / "err");
  }
}

}  // namespace
}  // namespace pensieve::testing
