// Running the real `pensieve` binary from a test: a temp folder per test, argv quoted for the
// shell, stdout/stderr captured to files.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace pensieve::testing {

struct RunResult {
  int exit_code = -1;
  std::string out, err;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// A test fixture with its own temp folder that runs `pensieve <subcommand> args...`.
class CliTest : public ::testing::Test {
 protected:
  explicit CliTest(std::string subcommand) : subcommand_(std::move(subcommand)) {}
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("pensieve_" + subcommand_ + "_" + info->name() + "_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // `pensieve <subcommand> <args...>`; stdin from `stdin_path` when one is given.
  RunResult run(const std::vector<std::string>& args, const std::string& stdin_path = "") {
    std::string cmd = shell_quote(pensieve_binary()) + " " + subcommand_;
    for (const std::string& a : args) cmd += " " + shell_quote(a);
    if (!stdin_path.empty()) cmd += " <" + shell_quote(stdin_path);
    cmd += " >" + shell_quote((dir_ / "out").string()) + " 2>" + shell_quote((dir_ / "err").string());
    RunResult r;
    const int status = std::system(cmd.c_str());
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(dir_ / "out");
    r.err = slurp(dir_ / "err");
    return r;
  }

  std::filesystem::path write(const std::string& name, const std::string& bytes) {
    const std::filesystem::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

  std::string subcommand_;
  std::filesystem::path dir_;
};

}  // namespace pensieve::testing
