// pensieve check-command "CMD" [--json] [--cwd DIR] [--home DIR]
// Rates one shell command line with cmd's safety validator (src/shell), without running it.
// Prints the risk (safe, caution, dangerous, blocked) and its reasons. Exit codes: 0 when rated
// safe, caution or dangerous, 3 when blocked, 2 for bad arguments.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/command.h"
#include "shell/validator.h"

namespace pensieve::cli {

namespace {

constexpr const char* kUsage = "usage: pensieve check-command \"COMMAND\" [--json] [--cwd DIR] [--home DIR]\n";

}  // namespace

int run_check_command(int argc, char** argv) {
  std::vector<std::string> words;
  bool as_json = false;
  shell::ShellContext ctx = shell::current_context();
  CLI::App app{"Rate a shell command's risk (safe, caution, dangerous, blocked) without running it"};
  app.add_option("command", words, "the command line (one argument, or words after --)")->required();
  app.add_flag("--json", as_json, "print {\"command\", \"risk\", \"reasons\"}");
  app.add_option("--cwd", ctx.cwd, "the working tree relative paths resolve against (default: current directory)");
  app.add_option("--home", ctx.home, "the home directory ~ and $HOME stand for (default: $HOME)");
  if (auto code = parse_or_usage(app, argc, argv, kUsage)) return *code;
  std::string line;
  for (const auto& w : words) line += (line.empty() ? "" : " ") + w;
  const shell::Verdict v = shell::rate_command(line, ctx);
  if (as_json) {
    const nlohmann::json j = {{"command", line}, {"risk", shell::risk_name(v.risk)}, {"reasons", v.reasons}};
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("%s\n", shell::risk_name(v.risk));
    for (const auto& r : v.reasons) std::printf("  - %s\n", r.c_str());
  }
  return v.risk == shell::Risk::blocked ? 3 : 0;
}

PENSIEVE_COMMAND("check-command", "rate a shell command's risk without running it", run_check_command);

}  // namespace pensieve::cli
