// `pensieve cmd "REQUEST"`: plain words in, one shell command out, rated by the safety validator
// (src/shell) before anyone runs it.
//   stdout  the command (one line); nothing when it is rated blocked
//   stderr  "safety: <risk>[: reasons]", the explanation with --explain
// Exit codes: 0 printed, 1 model/runtime error, 2 usage, 3 blocked. With --run and a "y" on the
// terminal, the command's own exit status.
#include <CLI/CLI.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cmd_explain.h"
#include "cli/cmd_prompt.h"
#include "cli/command.h"
#include "cli/engine_args.h"
#include "cli/shipped_model.h"
#include "engine/inference.h"
#include "gguf/gguf.h"
#include "gguf/keys.h"
#include "shell/validator.h"

namespace pensieve::cli {

namespace {

constexpr const char* kUsage =
    "usage: pensieve cmd \"REQUEST\" [--shell bash|zsh|fish|sh] [--explain] [--run] [--json] [-m FILE.gguf]\n";

// Greedy, one line: a command is short, and the first line break ends it.
constexpr int kMaxTokens = 96;
constexpr int kMinAnswerTokens = 32;
// The shipped model's prompts are ~30 tokens; a general model's instruction with two examples
// is a few hundred. The KV cache holds only this much (not the model's whole context).
constexpr int kShippedCtx = 512;
constexpr int kGeneralCtx = 1024;
// Models smaller than this decode on one thread unless -t says otherwise.
constexpr uint64_t kOneThreadBytes = 64ull << 20;

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

struct CmdArgs {
  std::vector<std::string> words;
  CmdTarget target;
  std::string model_path;
  std::string device;  // "": cpu for the shipped model, auto for others
  int threads = 0;
  bool explain = false;
  bool run = false;
  bool json = false;
  bool show_prompt = false;
};

// The user's shell as an executable: $SHELL when it is the chosen one, else the name on PATH.
std::string shell_program(const std::string& shell) {
  const char* env = std::getenv("SHELL");
  if (env && *env && std::filesystem::path(env).filename() == shell) return env;
  return shell;
}

// Asks on the terminal (never stdin, which may be a pipe) and runs the command on "y".
// Returns the exit code for the process.
int confirm_and_run(const std::string& command, const CmdTarget& target) {
  const int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (tty < 0) {
    std::fprintf(stderr, "pensieve cmd: --run needs a terminal to ask on; not running it\n");
    return 1;
  }
  const std::string question = "Run it? [y/N] ";
  (void)!write(tty, question.data(), question.size());
  std::string answer;
  char c;
  while (read(tty, &c, 1) == 1 && c != '\n') answer += c;
  close(tty);
  if (answer != "y" && answer != "Y" && answer != "yes" && answer != "Yes") {
    std::fprintf(stderr, "pensieve cmd: not run\n");
    return 0;
  }
  std::fflush(stdout);
  const std::string prog = shell_program(target.shell);
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("pensieve cmd: fork");
    return 1;
  }
  if (pid == 0) {
    execlp(prog.c_str(), prog.c_str(), "-c", command.c_str(), static_cast<char*>(nullptr));
    std::fprintf(stderr, "pensieve cmd: cannot start %s\n", prog.c_str());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A general model's own one-sentence explanation (the shipped model only knows commands).
std::string ask_for_explanation(engine::InferenceBackend& be, const std::string& command) {
  nlohmann::json messages = nlohmann::json::array();
  messages.push_back({{"role", "system"},
                      {"content", "You explain shell commands. Answer with one short sentence, no code."}});
  messages.push_back({{"role", "user"}, {"content", "What does this command do?\n" + command}});
  auto prompt = render_chat(be, messages);
  if (!prompt || static_cast<int>(prompt->size()) + kMaxTokens > be.info().n_ctx) return "";
  engine::GenerateOptions gen;
  gen.sampling.temperature = 0;
  gen.max_tokens = kMaxTokens;
  gen.stop = {"\n"};
  auto g = be.infer(*prompt, gen);
  if (!g) return "";
  std::string_view t = g->text;
  while (!t.empty() && (t.front() == ' ' || t.front() == '\n')) t.remove_prefix(1);
  return std::string(t);
}

std::string one_line_verdict(const shell::Verdict& v) {
  std::string line = std::string("safety: ") + shell::risk_name(v.risk);
  for (size_t i = 0; i < v.reasons.size(); ++i) line += (i == 0 ? ": " : "; ") + v.reasons[i];
  return line;
}

}  // namespace

int run_cmd(int argc, char** argv) {
  const Clock::time_point start = Clock::now();
  CLI::App app{"Turn a request in plain words into one shell command, rated for safety before anything runs"};
  app.name("pensieve cmd");
  CmdArgs a;
  a.target.shell = default_shell();
  a.target.os = current_os();
  app.add_option("request", a.words, "what you want done, in plain words (one argument, or several words)")
      ->required();
  app.add_option("--shell", a.target.shell, "the shell the command is for (default: from $SHELL)")
      ->check(CLI::IsMember({"bash", "zsh", "fish", "sh"}))
      ->capture_default_str();
  app.add_option("--os", a.target.os, "the OS whose tools' flags to use (default: this one, from uname)")
      ->check(CLI::IsMember({"linux", "macos"}))
      ->capture_default_str();
  app.add_option("-m,--model", a.model_path, "any supported GGUF model, prompted through its chat template "
                                              "(default: the shipped pensieve-cmd model)");
  app.add_option("-t,--threads", a.threads, "CPU threads (0: one for a model under 64 MiB, else physical cores)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--device", a.device, "auto | cpu | cuda | cuda:N (default: cpu for the shipped model, else auto)");
  app.add_flag("--explain", a.explain, "also explain the command (stderr)");
  app.add_flag("--run", a.run, "ask on the terminal, then run it with your shell (never when blocked)");
  app.add_flag("--show-prompt", a.show_prompt, "print the prompt the model is given (stderr)");
  app.add_flag("--json", a.json, "print {\"command\", \"risk\", \"reasons\", \"model\", \"timings\"} instead");
  if (auto code = parse_or_usage(app, argc, argv, kUsage)) return *code;
  if (a.run && a.json) {
    std::fprintf(stderr, "%spensieve cmd: --run and --json do not go together\n", kUsage);
    return 2;
  }
  std::string request;
  for (const auto& w : a.words) request += (request.empty() ? "" : " ") + w;
  if (request.find_first_not_of(" \t\r\n") == std::string::npos) {
    std::fprintf(stderr, "%spensieve cmd: the request is empty\n", kUsage);
    return 2;
  }

  if (a.model_path.empty()) {
    std::string searched;
    a.model_path = find_shipped_model(&searched);
    if (a.model_path.empty()) {
      std::fprintf(stderr,
                   "pensieve cmd: the shipped model %s is missing (looked in: %s); it is part of the repository "
                   "(models/%s), or set $PENSIEVE_CMD_MODEL, or pass a model with -m FILE.gguf\n",
                   kShippedModelFile, searched.c_str(), kShippedModelFile);
      return 1;
    }
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(a.model_path, ec)) {
    std::fprintf(stderr, "pensieve cmd: model file not found: %s\n", a.model_path.c_str());
    return 1;
  }

  // What the model is decides the prompt format, the context and the device: its general.name,
  // and its training context (the KV cache is sized to what cmd needs, never beyond it).
  auto meta = GgufFile::open(a.model_path);
  if (!meta) {
    std::fprintf(stderr, "pensieve cmd: cannot load %s: %s\n", a.model_path.c_str(), meta.error().message.c_str());
    return 1;
  }
  const bool shipped = (*meta)->get_string(keys::kName) == std::optional<std::string_view>(kShippedModelName);
  int64_t n_ctx_train = 0;
  if (auto arch = (*meta)->get_string(keys::kArchitecture))
    n_ctx_train = (*meta)->get_int(keys::arch_key(keys::kContextLength, std::string(*arch))).value_or(0);

  // Load: the file is memory-mapped; one sequence with a small context is all a command needs.
  engine::LoadOptions lo;
  lo.model_path = a.model_path;
  // A small model's matrices are too small to split: the threads would spend a decode step
  // mostly waiting for each other (bench/RESULTS.md: the shipped model answers in 49 ms on one
  // thread, 89 ms on two).
  lo.threads = a.threads > 0 ? a.threads : (*meta)->file_size() < kOneThreadBytes ? 1 : 0;
  lo.n_parallel = 1;
  lo.quiet = true;
  // The shipped model is small enough that starting a GPU would cost more than it saves.
  lo.device = !a.device.empty() ? a.device : shipped ? "cpu" : "auto";
  lo.n_ctx = shipped ? kShippedCtx : kGeneralCtx;
  if (n_ctx_train > 0 && n_ctx_train < lo.n_ctx) lo.n_ctx = static_cast<int>(n_ctx_train);
  meta->reset();
  engine::InferenceBackend be;
  if (Status st = be.load(lo); !st.ok()) {
    std::fprintf(stderr, "pensieve cmd: cannot load %s: %s\n", a.model_path.c_str(), st.error().message.c_str());
    return load_failure_exit_code(st.error());
  }
  const double load_ms = ms_since(start);

  const Clock::time_point gen_start = Clock::now();
  auto prompt = render_chat(be, cmd_messages(request, a.target, shipped));
  if (!prompt) {
    std::fprintf(stderr, "pensieve cmd: chat template: %s\n", prompt.error().message.c_str());
    return 1;
  }
  // The answer gets what the context leaves, up to kMaxTokens; a request that leaves less than
  // a short command's worth is refused.
  const int room = be.info().n_ctx - static_cast<int>(prompt->size());
  if (room < kMinAnswerTokens) {
    std::fprintf(stderr, "pensieve cmd: the request is too long (%zu prompt tokens; at most %d fit)\n",
                 prompt->size(), be.info().n_ctx - kMinAnswerTokens);
    return 2;
  }
  if (a.show_prompt) std::fprintf(stderr, "%s\n", be.tokenizer().decode(*prompt, /*special=*/true).c_str());
  engine::GenerateOptions gen;
  gen.sampling.temperature = 0;  // greedy: the same request gives the same command
  gen.max_tokens = std::min(kMaxTokens, room);
  std::string reply;
  auto g = be.stream(*prompt, gen, [&reply](std::string_view piece, engine::token_id) {
    reply.append(piece);
    return !reply_has_command_line(reply);  // the first complete command line ends it
  });
  if (!g) {
    std::fprintf(stderr, "pensieve cmd: %s\n", g.error().message.c_str());
    return 1;
  }
  const std::string command = extract_command(reply);
  if (command.empty()) {
    std::fprintf(stderr, "pensieve cmd: the model gave no command (its reply: %s)\n",
                 nlohmann::json(reply).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 1;
  }
  const double generate_ms = ms_since(gen_start);
  const shell::Verdict verdict = shell::rate_command(command, shell::current_context());
  const bool blocked = verdict.risk == shell::Risk::blocked;
  std::string explanation;
  if (a.explain) {
    explanation = explain_command(command);
    if (!shipped) {
      if (std::string said = ask_for_explanation(be, command); !said.empty()) explanation += "\n  model: " + said;
    }
  }

  if (a.json) {
    nlohmann::json j = {
        {"command", command},
        {"risk", shell::risk_name(verdict.risk)},
        {"reasons", verdict.reasons},
        {"model", {{"name", be.info().name}, {"path", a.model_path}, {"variant", be.variant()}, {"device", be.device()}}},
        {"timings",
         {{"load_ms", load_ms},
          {"ttft_ms", g->ttft_ms},
          {"generate_ms", generate_ms},
          {"total_ms", ms_since(start)},
          {"prompt_tokens", g->n_prompt},
          {"generated_tokens", g->n_generated}}}};
    if (a.explain) j["explanation"] = explanation;
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return blocked ? 3 : 0;
  }
  // A blocked command never reaches stdout, so `eval "$(pensieve cmd ...)"` cannot run it.
  if (blocked) std::fprintf(stderr, "pensieve cmd: blocked, not printed: %s\n", command.c_str());
  else std::printf("%s\n", command.c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "%s\n", one_line_verdict(verdict).c_str());
  if (a.explain) std::fprintf(stderr, "%s\n", explanation.c_str());
  if (blocked) return 3;
  if (a.run) return confirm_and_run(command, a.target);
  return 0;
}

PENSIEVE_COMMAND("cmd", "turn a request into one shell command, rated for safety (--run asks, then runs it)", run_cmd);

}  // namespace pensieve::cli
