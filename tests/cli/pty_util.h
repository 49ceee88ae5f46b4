// Driving the real `pensieve` binary in a pseudo-terminal, as a person at a terminal would: keys
// are written to the master side and the screen bytes read back with a deadline. Also a helper that
// writes gen_model.py models into a test's folder.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli_test_util.h"

namespace pensieve::testing {

class PtySession {
 public:
  // Starts `pensieve args...` on a new pseudo-terminal (80x24) with extra environment entries.
  PtySession(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
    winsize ws{};
    ws.ws_row = 24;
    ws.ws_col = 80;
    pid_ = forkpty(&fd_, nullptr, nullptr, &ws);
    if (pid_ == 0) {
      for (const std::string& e : env) putenv(const_cast<char*>(e.c_str()));
      std::vector<char*> argv;
      std::string bin = pensieve_binary();
      argv.push_back(bin.data());
      std::vector<std::string> copy = args;
      for (std::string& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(bin.c_str(), argv.data());
      _exit(127);
    }
  }
  ~PtySession() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) close(fd_);
  }
  bool started() const { return pid_ > 0; }

  void send(const std::string& keys) { (void)!write(fd_, keys.data(), keys.size()); }

  // Reads until `needle` appears in what was read since the last expect (kept in screen()), or
  // the deadline passes. True when found; everything read is appended to all().
  bool expect(const std::string& needle, double seconds = 20) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    for (;;) {
      const size_t hit = pending_.find(needle);
      if (hit != std::string::npos) {
        screen_ = pending_.substr(0, hit + needle.size());
        pending_.erase(0, hit + needle.size());
        return true;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !read_some(static_cast<int>(left.count()))) {
        screen_ = pending_;
        return false;
      }
    }
  }
  // Waits for the process to exit; its exit code, or -1 on timeout / a signal (128 + signal).
  int wait_exit(double seconds = 20) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      read_some(50);
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        while (read_some(50)) {
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
    }
    return -1;
  }
  const std::string& screen() const { return screen_; }  // up to the last match
  const std::string& all() const { return all_; }
  const std::string& pending() const { return pending_; }

 private:
  bool read_some(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return false;
    char buf[4096];
    const ssize_t n = read(fd_, buf, sizeof buf);
    if (n <= 0) return false;
    pending_.append(buf, n);
    all_.append(buf, n);
    return true;
  }
  pid_t pid_ = -1;
  int fd_ = -1;
  bool exited_ = false;
  std::string pending_, screen_, all_;
};

// A gen_model.py model written to `dir`/name (empty on failure: python3-numpy missing).
inline std::string gen_test_model(const std::filesystem::path& dir, const std::string& name,
                                  const std::string& extra_args) {
  const std::string out = (dir / name).string();
  const std::string cmd = "/usr/bin/python3 " + shared_dir() + "/tools/gen_model.py " + extra_args +
                          " --quiet --out " + shell_quote(out) + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0 ? out : "";
}

}  // namespace pensieve::testing
