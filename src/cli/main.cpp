#include <cstdio>
#include <cstring>
#include <string_view>

#include "cli/command.h"

namespace pensieve::cli {

static std::vector<Command>& registry() {
  static std::vector<Command> r;
  return r;
}

bool register_command(const Command& command) {
  registry().push_back(command);
  return true;
}

const std::vector<Command>& commands() { return registry(); }

static void print_usage(FILE* out) {
  std::fprintf(out, "usage: pensieve <command> [options]   (pensieve <command> --help for details)\n\ncommands:\n");
  for (const Command& c : commands()) std::fprintf(out, "  %-14s %s\n", c.name, c.summary);
}

}  // namespace pensieve::cli

int main(int argc, char** argv) {
  using namespace pensieve::cli;
  if (argc < 2) {
    print_usage(stderr);
    return 2;
  }
  std::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(stdout);
    return 0;
  }
  if (name == "--version") {
    std::printf("pensieve 0.1.0\n");
    return 0;
  }
  for (const Command& c : commands()) {
    if (name == c.name) return c.run(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "pensieve: unknown command '%s'\n", argv[1]);
  print_usage(stderr);
  return 2;
}
