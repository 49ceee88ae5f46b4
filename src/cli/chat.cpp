// `pensieve chat`: interactive multi-turn chat with the model's template. Each turn re-renders
// the whole conversation; prefix reuse in the engine makes that cost only the new tokens.
// Ctrl-C stops the generation in progress (at the prompt it quits); EOF or /exit quits.
#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <unistd.h>

#include "cli/command.h"
#include "cli/compat.h"
#include "cli/engine_args.h"
#include "cli/shipped_model.h"

namespace pensieve::cli {
namespace {

std::atomic<bool> g_generating{false};
std::atomic<bool> g_interrupted{false};

void on_sigint(int) {
  if (g_generating.load()) {
    g_interrupted.store(true);
    return;
  }
  const char nl = '\n';
  (void)!write(STDOUT_FILENO, &nl, 1);
  _exit(130);
}

}  // namespace

int run_chat(int argc, char** argv) {
  CLI::App app{"Chat with a model interactively (Ctrl-C stops a reply; /exit or EOF quits)"};
  app.name("pensieve chat");
  engine::LoadOptions lo;
  engine::GenerateOptions gen;
  gen.max_tokens = -1;
  std::string system;
  add_load_options(app, lo);
  add_sampling_options(app, gen.sampling);
  app.add_option("-n,--n-predict", gen.max_tokens, "tokens per reply at most, >= -1 (-1: until the context is full)")
      ->check(n_predict_range());
  app.add_option("--system", system, "system message");
  add_accepted_llama_flags(app, /*server=*/false);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return e.get_exit_code() == 0 ? code : 2;
  }
  if (lo.model_path.empty() && !use_shipped_model(lo.model_path, "chat")) return 1;
  if (!std::filesystem::exists(lo.model_path)) {
    std::fprintf(stderr, "pensieve: model file not found: %s\n", lo.model_path.c_str());
    return 1;
  }
  if (int rc = check_ctx(lo.model_path, lo.n_ctx); rc != 0) return rc;
  choose_seed(gen.sampling, /*quiet=*/false);
  engine::InferenceBackend be;
  if (Status st = be.load(lo); !st.ok()) {
    std::fprintf(stderr, "pensieve: cannot load %s: %s\n", lo.model_path.c_str(), st.error().message.c_str());
    return load_failure_exit_code(st.error());
  }
  std::fprintf(stderr, "[%s on %s, context %d tokens; /exit to quit]\n", be.variant().c_str(), be.device().c_str(),
               be.info().n_ctx);
  std::signal(SIGINT, on_sigint);
  gen.should_stop = [] { return g_interrupted.load(); };

  nlohmann::json messages = nlohmann::json::array();
  if (!system.empty()) messages.push_back({{"role", "system"}, {"content", system}});
  const bool tty = isatty(STDIN_FILENO);
  std::string line;
  for (;;) {
    if (tty) std::fputs("> ", stdout), std::fflush(stdout);
    if (!std::getline(std::cin, line) || line == "/exit") break;
    if (line.empty()) continue;
    messages.push_back({{"role", "user"}, {"content", line}});
    auto prompt = render_chat(be, messages);
    if (!prompt) {
      std::fprintf(stderr, "pensieve: chat template: %s\n", prompt.error().message.c_str());
      return 1;
    }
    g_interrupted = false;
    g_generating = true;
    auto reply = be.stream(*prompt, gen, [](std::string_view text, engine::token_id) {
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
      return !g_interrupted.load();
    });
    g_generating = false;
    std::fputc('\n', stdout);
    if (!reply) {
      std::fprintf(stderr, "pensieve: %s\n", reply.error().message.c_str());
      messages.erase(messages.end() - 1);
      continue;
    }
    if (reply->finish == engine::FinishReason::context_full)
      std::fprintf(stderr, "[the context is full: start a new chat]\n");
    messages.push_back({{"role", "assistant"}, {"content", reply->text}});
  }
  return 0;
}

PENSIEVE_COMMAND("chat", "interactive multi-turn chat with a model", run_chat);

}  // namespace pensieve::cli
