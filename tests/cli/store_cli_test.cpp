// The store from the command line: import, list, show, run -m NAME, cp, rm, and pull (plain
// progress lines when stderr is not a terminal) against the local hub stand-in.
#include <gtest/gtest.h>

#include <cstdlib>

#include "cli/cli_test_util.h"
#include "store/hub_mock.h"

namespace pensieve::testing {
namespace {

class StoreCli : public CliTest {
 protected:
  StoreCli() : CliTest("") {}
  void SetUp() override {
    CliTest::SetUp();
    ::setenv("PENSIEVE_MODELS", (dir_ / "models").c_str(), 1);
    ::setenv("no_proxy", "127.0.0.1,localhost", 1);
  }
  void TearDown() override {
    ::unsetenv("PENSIEVE_MODELS");
    CliTest::TearDown();
  }
};

TEST_F(StoreCli, ImportListShowRunRemove) {
  PS_REQUIRE_FIXTURES();
  const std::string gguf = fixtures_dir() + "/models/stories260K.gguf";
  RunResult r = run({"import", gguf, "stories:260k"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("as stories:260k"), std::string::npos) << r.out;

  r = run({"list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("stories:260k"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("llama"), std::string::npos);

  r = run({"show", "stories:260k"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("sha256:"), std::string::npos);
  EXPECT_NE(r.out.find("architecture:    llama"), std::string::npos) << r.out;  // pensieve info's part

  // -m takes the name: the same greedy text as the file's path gives.
  r = run({"run", "-m", "stories:260k", "-p", "Once upon a time", "-n", "12", "--temp", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  RunResult by_path = run({"run", "-m", gguf, "-p", "Once upon a time", "-n", "12", "--temp", "0"});
  EXPECT_EQ(r.out, by_path.out);
  EXPECT_FALSE(r.out.empty());

  ASSERT_EQ(run({"cp", "stories:260k", "tiny"}).exit_code, 0);
  ASSERT_EQ(run({"rm", "stories:260k"}).exit_code, 0);
  r = run({"show", "stories:260k"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not found"), std::string::npos) << r.err;
  EXPECT_EQ(run({"run", "-m", "tiny", "-p", "Once", "-n", "2"}).exit_code, 0);
  ASSERT_EQ(run({"rm", "tiny"}).exit_code, 0);
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "models" / "blobs"));
  EXPECT_EQ(run({"import", (dir_ / "missing.gguf").string()}).exit_code, 1);
  EXPECT_EQ(run({"import", gguf, "Bad Name"}).exit_code, 2);
}

TEST_F(StoreCli, PullPrintsPlainProgressAndNamesTheModel) {
  PS_REQUIRE_FIXTURES();
  const std::string gguf = fixtures_dir() + "/models/stories260K.gguf";
  nlohmann::json cfg = {{"repos", {{"owner/Stories-GGUF", {{{"path", "stories-Q4_K_M.gguf"}, {"local", gguf}}}}}}};
  cfg["drop_after"] = {{"stories-Q4_K_M.gguf", 500000}};
  HubMock hub(cfg, dir_);
  ASSERT_GT(hub.port(), 0);
  ::setenv("HF_ENDPOINT", hub.endpoint().c_str(), 1);
  RunResult r = run({"pull", "hf:owner/Stories-GGUF"});
  ::unsetenv("HF_ENDPOINT");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("pulled stories:latest"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("downloading "), std::string::npos) << r.err;  // a plain line, not a bar
  EXPECT_EQ(r.err.find('\r'), std::string::npos);
  EXPECT_NE(r.err.find("retrying"), std::string::npos) << r.err;     // the dropped connection
  EXPECT_NE(r.err.find("success"), std::string::npos);
  r = run({"run", "-m", "stories", "-p", "Once", "-n", "4", "--temp", "0"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(run({"pull", "nonsense"}).exit_code, 2);
}

}  // namespace
}  // namespace pensieve::testing
