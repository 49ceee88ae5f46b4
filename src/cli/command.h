// Subcommands register themselves; main() dispatches on argv[1].
// Each subcommand file defines one `int run_xxx(int argc, char** argv)` (argv[0] = subcommand name)
// and registers it with PENSIEVE_COMMAND. Exit codes: 0 ok, 1 runtime error, 2 bad arguments.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace pensieve::cli {

// `pensieve completions` builds each command's CLI::App without running the command: it sets this
// hook, calls the command, and the command's parse_or_usage hands the hook its App and throws
// AppDescribed instead of parsing. So the completion scripts come from the real definitions.
using DescribeHook = std::function<void(const CLI::App&)>;
inline DescribeHook& describe_hook() {
  static DescribeHook hook;
  return hook;
}
struct AppDescribed {};

// Parses argv into `app`; on a parse error prints `usage` (when given) and CLI11's message and
// returns the exit code (2; 0 for --help), else nullopt.
inline std::optional<int> parse_or_usage(CLI::App& app, int argc, char** argv, const char* usage = nullptr) {
  // CLI11 names the program after argv[0] (the subcommand): usage lines say "pensieve <command>".
  if (app.get_name().empty() && argc > 0) app.name(std::string("pensieve ") + argv[0]);
  if (describe_hook()) {
    describe_hook()(app);
    throw AppDescribed{};
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    if (usage) std::fputs(usage, stderr);
    app.exit(e);
    return 2;
  }
  return std::nullopt;
}

struct Command {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
};

bool register_command(const Command& command);
const std::vector<Command>& commands();

}  // namespace pensieve::cli

#define PENSIEVE_COMMAND(name, summary, fn) \
  static const bool pensieve_registered_##fn = ::pensieve::cli::register_command({name, summary, fn})
