// cmd's safety validator: rates one shell command line before anyone runs it.
//   safe       reads, lists, creates new archives/downloads, prints
//   caution    writes or deletes inside the working tree, package installs, sudo
//   dangerous  recursive deletes, chmod/chown -R, overwriting files with >, killing processes,
//              git push --force, curl | sh, anything that does not parse
//   blocked    never run: rm -rf of / ~ /* or system dirs, mkfs, dd to a block device, fork bombs,
//              > /dev/sd*, chmod -R 777 /, overwriting /etc files, shutdown/reboot, history wiping
// Pure C++, no model: the line is split by shell/tokenizer.h and every simple command (and every
// $(...) / backtick inside it, recursively) is matched against the rule tables in rules.cpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pensieve::shell {

enum class Risk { safe = 0, caution = 1, dangerous = 2, blocked = 3 };

const char* risk_name(Risk risk);

struct Verdict {
  Risk risk = Risk::safe;
  std::vector<std::string> reasons;  // one line each, in the order the command reads; empty when safe

  // Raises the risk to at least `r` and records why (duplicates are dropped).
  void add(Risk r, std::string reason);
};

// Where the command would run. Relative paths resolve against `cwd` (the working tree);
// ~, $HOME and ${HOME} mean `home`.
struct ShellContext {
  std::string cwd = ".";
  std::string home = "/home/user";
};

// The context of the calling process: $PWD (getcwd) and $HOME.
ShellContext current_context();

Verdict rate_command(std::string_view command, const ShellContext& ctx);

}  // namespace pensieve::shell
