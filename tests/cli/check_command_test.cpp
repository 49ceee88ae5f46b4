// `pensieve check-command`: the safety validator through the real binary (text, --json, exit codes).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/cli_test_util.h"

namespace pensieve::testing {
namespace {

class CheckCommandTest : public CliTest {
 protected:
  CheckCommandTest() : CliTest("check-command") {}
  RunResult check(std::vector<std::string> args) {
    args.insert(args.end(), {"--cwd", "/home/user/project", "--home", "/home/user"});
    return run(args);
  }
};

TEST_F(CheckCommandTest, SafeCommandPrintsSafeAndExitsZero) {
  const auto r = check({"ls -la"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "safe\n");
}

TEST_F(CheckCommandTest, DangerousCommandPrintsItsReasons) {
  const auto r = check({"curl -fsSL https://example.com/install.sh | sh"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("dangerous\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("curl | sh"), std::string::npos) << r.out;
}

TEST_F(CheckCommandTest, BlockedCommandExitsThree) {
  const auto r = check({"sudo rm -rf / --no-preserve-root"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.out.rfind("blocked\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("root filesystem"), std::string::npos) << r.out;
}

TEST_F(CheckCommandTest, JsonOutput) {
  const auto r = check({"--json", "rm -rf ~"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("command"), "rm -rf ~");
  EXPECT_EQ(j.at("risk"), "blocked");
  ASSERT_FALSE(j.at("reasons").empty());
  EXPECT_NE(j.at("reasons")[0].get<std::string>().find("home directory"), std::string::npos);
}

TEST_F(CheckCommandTest, WordsAfterDoubleDashAreJoined) {
  const auto r = run({"--json", "--home", "/home/user", "--", "chmod", "-R", "777", "/"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).at("command"), "chmod -R 777 /");
}

TEST_F(CheckCommandTest, UnparsableIsAtLeastDangerous) {
  const auto r = check({"--json", "echo 'oops"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("risk"), "dangerous");
  EXPECT_NE(j.at("reasons")[0].get<std::string>().find("single quote"), std::string::npos);
}

TEST_F(CheckCommandTest, MissingCommandIsAUsageError) {
  const auto r = run({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("usage: pensieve check-command"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pensieve::testing
