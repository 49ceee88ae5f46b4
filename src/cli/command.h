// Subcommands register themselves; main() dispatches on argv[1].
// Each subcommand file defines one `int run_xxx(int argc, char** argv)` (argv[0] = subcommand name)
// and registers it with PENSIEVE_COMMAND. Exit codes: 0 ok, 1 runtime error, 2 bad arguments.
#pragma once

#include <vector>

namespace pensieve::cli {

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
