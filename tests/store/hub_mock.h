// Runs tests/store/hub_mock.py (a local stand-in for the Hugging Face hub) on a free loopback
// port for one test, and stops it at the end.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace pensieve::testing {

class HubMock {
 public:
  explicit HubMock(const nlohmann::json& config, const std::filesystem::path& work) {
    const std::string cfg = (work / "hub.json").string();
    std::ofstream(cfg) << config.dump();
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      const std::string script = source_dir() + "/tests/store/hub_mock.py";
      execl("/usr/bin/python3", "python3", script.c_str(), cfg.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    std::FILE* out = fdopen(fds[0], "r");
    char line[64] = {};
    if (out && std::fgets(line, sizeof line, out)) port_ = std::atoi(line);
    if (out) std::fclose(out);
  }
  ~HubMock() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace pensieve::testing
