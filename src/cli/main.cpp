#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string_view>

#include "backend/cpu/cpu_features.h"
#include "cli/command.h"
#include "cli/compat.h"
#include "util/build_info.h"

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
  std::fprintf(out,
               "pensieve %s: local LLM inference (GGUF models) and an Anthropic/OpenAI-compatible server\n\n"
               "usage: pensieve <command> [options]   (pensieve <command> --help for details)\n\ncommands:\n",
               pensieve_version());
  for (const Command& c : commands()) std::fprintf(out, "  %-14s %s\n", c.name, c.summary);
  std::fprintf(out,
               "\noptions:\n  %-14s %s\n  %-14s %s\n\n"
               "llama.cpp's flags work too: -m -p -f -n -c -t -s --temp --top-k --top-p --min-p --repeat-penalty\n"
               "-ngl (> 0: --device cuda, 0: cpu) -fa -b -ub --jinja --host --port -np -cb --api-key\n",
               "-h, --help", "this list", "--version", "print the version, build commit, compiler, CUDA and CPU ISA");
}

// Version, build and the machine it runs on: what a bug report needs.
static void print_version() {
  const cpu::CpuIsa best = cpu::best_cpu_isa(), active = cpu::active_cpu_isa();
  std::printf("pensieve %s\n", pensieve_version());
  std::printf("commit:   %s\n", build_commit());
  std::printf("compiler: %s\n", compiler_name().c_str());
  if (cuda_compiled_in())
    std::printf("cuda:     compiled in (toolkit %s)\n", cuda_toolkit_version());
  else
    std::printf("cuda:     not compiled in\n");
  const char* forced = std::getenv("PENSIEVE_CPU_ISA");
  if (best == active)
    std::printf("cpu isa:  %s (detected at run time)\n", cpu::cpu_isa_name(active));
  else if (forced && *forced)
    std::printf("cpu isa:  %s (PENSIEVE_CPU_ISA=%s; the CPU has %s)\n", cpu::cpu_isa_name(active), forced,
                cpu::cpu_isa_name(best));
  else
    std::printf("cpu isa:  %s in use (detected at run time; the CPU has %s)\n", cpu::cpu_isa_name(active),
                cpu::cpu_isa_name(best));
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
  if (name == "--version" || name == "version") {
    print_version();
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
