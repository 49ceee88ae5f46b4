#include <algorithm>
#include <cstdio>
#include <iterator>
#include <cstring>
#include <string_view>

#include "cli/command.h"
#include "cli/compat.h"

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
  std::fprintf(out,
               "\noptions:\n  %-14s %s\n  %-14s %s\n\n"
               "llama.cpp's flags work too: -m -p -f -n -c -t -s --temp --top-k --top-p --min-p --repeat-penalty\n"
               "-ngl (> 0: --device cuda, 0: cpu) -fa -b -ub --jinja --host --port -np -cb --api-key\n",
               "-h, --help", "this list", "--version", "print the version");
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
    if (name != c.name) continue;
    // llama.cpp's spellings only where llama.cpp has a counterpart: other commands (info,
    // chat-template, check-command, ...) get their arguments untouched.
    static constexpr std::string_view kLlamaLike[] = {"run", "chat", "serve", "bench", "quantize", "tokenize"};
    if (std::find(std::begin(kLlamaLike), std::end(kLlamaLike), name) == std::end(kLlamaLike))
      return c.run(argc - 1, argv + 1);
    std::optional<Argv> args = rewrite_llama_args(argc - 1, argv + 1);
    if (!args) return 2;  // a llama.cpp flag pensieve does not have: the reason is printed
    return c.run(args->argc(), args->argv());
  }
  std::fprintf(stderr, "pensieve: unknown command '%s'\n", argv[1]);
  print_usage(stderr);
  return 2;
}
