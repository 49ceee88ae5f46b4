// `pensieve chat`: interactive multi-turn chat with the model's template. Each turn re-renders
// the whole conversation; prefix reuse in the engine makes that cost only the new tokens.
// On a terminal the prompt is a line editor (cli/line_editor.h) with history; Alt-Enter or a
// """ block writes several lines. Commands: /help /bye /exit /clear /save /load /set /system.
// Ctrl-C stops a reply (at the prompt it clears the line); Ctrl-D or /bye quits.
#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <termios.h>
#include <unistd.h>

#include "cli/command.h"
#include "cli/compat.h"
#include "cli/engine_args.h"
#include "cli/line_editor.h"
#include "cli/shipped_model.h"
#include "engine/sampling_limits.h"
#include "text/chat_template.h"

namespace pensieve::cli {
namespace {

std::atomic<bool> g_generating{false};
std::atomic<bool> g_interrupted{false};
bool g_tty = false;  // a terminal session, set once the model is loaded

// While a reply streams, Ctrl-C stops it. At a terminal's prompt the editor reads Ctrl-C as a
// key; in the moments between two prompts (the terminal in its normal mode) it is ignored, as the
// terminal drops the half-typed line itself. With input from a pipe (or while loading) it quits
// as a shell would.
void on_sigint(int) {
  if (g_generating.load()) {
    g_interrupted.store(true);
    return;
  }
  if (g_tty) return;
  const char nl = '\n';
  (void)!write(STDOUT_FILENO, &nl, 1);
  _exit(130);
}

constexpr const char* kHelp =
    "  /help               this list\n"
    "  /bye, /exit         quit (Ctrl-D too)\n"
    "  /clear              forget the conversation (the system message stays)\n"
    "  /save FILE          write the conversation to FILE (JSON)\n"
    "  /load FILE          continue a conversation /save wrote\n"
    "  /set                show the sampling settings\n"
    "  /set NAME VALUE     change one: temp, top_k, top_p, min_p, repeat_penalty, frequency_penalty,\n"
    "                      presence_penalty, seed, n_predict\n"
    "  /system TEXT        set the system message (/system alone removes it)\n"
    "  \"\"\"                 start or end a message of several lines (or Alt-Enter for a newline)\n"
    "  Ctrl-C              stop a reply; at the prompt, clear the line\n";

struct Chat {
  engine::GenerateOptions gen;
  std::string system;
  nlohmann::json messages = nlohmann::json::array();  // user/assistant turns

  nlohmann::json conversation() const {
    nlohmann::json all = nlohmann::json::array();
    if (!system.empty()) all.push_back({{"role", "system"}, {"content", system}});
    for (const auto& m : messages) all.push_back(m);
    return all;
  }
};

void note(const std::string& s) { std::fprintf(stderr, "[%s]\n", s.c_str()); }

std::string settings_text(const engine::GenerateOptions& g) {
  const engine::SamplingParams& s = g.sampling;
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "temp %g, top_k %d, top_p %g, min_p %g, repeat_penalty %g, frequency_penalty %g, "
                "presence_penalty %g, seed %s, n_predict %d",
                s.temperature, s.top_k, s.top_p, s.min_p, s.repeat_penalty, s.frequency_penalty, s.presence_penalty,
                s.seed ? std::to_string(*s.seed).c_str() : "random", g.max_tokens);
  return buf;
}

// /set NAME VALUE, checked against the same ranges as the command-line flags.
void set_option(Chat& chat, const std::string& name, const std::string& value) {
  using K = engine::SamplingKnob;
  engine::SamplingParams& s = chat.gen.sampling;
  struct Knob {
    const char* name;
    K knob;
    float* f;
    int* i;
  };
  const Knob knobs[] = {
      {"temp", K::temperature, &s.temperature, nullptr},       {"temperature", K::temperature, &s.temperature, nullptr},
      {"top_k", K::top_k, nullptr, &s.top_k},                 {"top_p", K::top_p, &s.top_p, nullptr},
      {"min_p", K::min_p, &s.min_p, nullptr},                 {"repeat_penalty", K::repeat_penalty, &s.repeat_penalty, nullptr},
      {"frequency_penalty", K::frequency_penalty, &s.frequency_penalty, nullptr},
      {"presence_penalty", K::presence_penalty, &s.presence_penalty, nullptr},
  };
  std::string key = name;
  for (char& c : key) c = c == '-' ? '_' : c;
  double v = 0;
  const bool number = !value.empty() && CLI::detail::lexical_cast(value, v);
  for (const Knob& k : knobs) {
    if (key != k.name) continue;
    if (!number) return note(key + " needs a number, e.g. /set " + key + " 0.7");
    if (std::string why = engine::check_sampling_value(k.knob, v, value); !why.empty())
      return note(key + ": " + why);
    if (k.f) *k.f = static_cast<float>(v);
    else *k.i = static_cast<int>(v);
    return note(key + " = " + value);
  }
  if (key == "seed") {
    if (!number || v < 0 || v != static_cast<double>(static_cast<uint64_t>(v))) return note("seed: an integer >= 0");
    s.seed = static_cast<uint64_t>(v);
    return note("seed = " + value);
  }
  if (key == "n_predict" || key == "num_predict") {
    if (!number || v < -1 || v != static_cast<int>(v)) return note("n_predict: an integer >= -1 (-1: until the context is full)");
    chat.gen.max_tokens = static_cast<int>(v);
    return note("n_predict = " + value);
  }
  note("unknown setting '" + name + "': temp, top_k, top_p, min_p, repeat_penalty, frequency_penalty, "
       "presence_penalty, seed, n_predict");
}

bool save(const Chat& chat, const std::string& path) {
  std::ofstream f(path, std::ios::binary);
  if (!f) return false;
  f << nlohmann::json{{"system", chat.system}, {"messages", chat.messages}}.dump(2) << "\n";
  return static_cast<bool>(f);
}

// A file /save wrote (or a bare array of {role, content} messages).
std::string load(Chat& chat, const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return "cannot read " + path;
  nlohmann::json j = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return path + " is not JSON";
  nlohmann::json msgs = j.is_array() ? j : j.value("messages", nlohmann::json());
  if (!msgs.is_array()) return path + ": expected {\"messages\": [...]}";
  for (const auto& m : msgs) {
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !m.contains("content") ||
        !m["content"].is_string())
      return path + ": each message needs a string role and content";
    const std::string role = m["role"];
    if (role != "user" && role != "assistant") return path + ": role '" + role + "' (user or assistant expected)";
  }
  chat.messages = msgs;
  if (j.is_object() && j.contains("system") && j["system"].is_string()) chat.system = j["system"];
  return "";
}

// While a reply streams the terminal does not echo what is typed (type-ahead is kept for the next
// prompt, which draws it) nor ^C itself: the chat prints "^C" after the last token it showed, so
// nothing can land after it.
class QuietTerminal {
 public:
  explicit QuietTerminal(bool tty) {
    if (!tty || tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios t = saved_;
    t.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHOCTL);
    ok_ = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
  }
  ~QuietTerminal() {
    if (ok_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }

 private:
  termios saved_{};
  bool ok_ = false;
};

enum class Action { next, quit };

Action command(Chat& chat, const std::string& line) {
  std::istringstream in(line);
  std::string cmd;
  in >> cmd;
  std::string rest;
  std::getline(in, rest);
  const size_t start = rest.find_first_not_of(' ');
  rest = start == std::string::npos ? "" : rest.substr(start);
  if (cmd == "/bye" || cmd == "/exit" || cmd == "/quit") return Action::quit;
  if (cmd == "/help" || cmd == "/?") {
    std::fputs(kHelp, stderr);
  } else if (cmd == "/clear") {
    chat.messages = nlohmann::json::array();
    note("conversation cleared");
  } else if (cmd == "/save") {
    if (rest.empty()) note("usage: /save FILE");
    else if (save(chat, rest)) note("saved " + std::to_string(chat.messages.size()) + " messages to " + rest);
    else note("cannot write " + rest);
  } else if (cmd == "/load") {
    if (rest.empty()) {
      note("usage: /load FILE");
    } else if (std::string err = load(chat, rest); !err.empty()) {
      note(err);
    } else {
      note("loaded " + std::to_string(chat.messages.size()) + " messages from " + rest);
    }
  } else if (cmd == "/set") {
    std::istringstream args(rest);
    std::string name, value;
    args >> name >> value;
    if (name.empty()) note(settings_text(chat.gen));
    else set_option(chat, name, value);
  } else if (cmd == "/system") {
    chat.system = rest;
    note(rest.empty() ? "system message removed" : "system message set");
  } else {
    note("unknown command " + cmd + ": /help lists the commands");
  }
  return Action::next;
}

// One message from the user: a line, a """ block, or an Alt-Enter multi-line text. nullopt at
// the end of the input.
class Input {
 public:
  explicit Input(bool tty) : tty_(tty) {}
  std::optional<std::string> next() {
    for (;;) {
      std::string line;
      if (!read(block_.empty() ? ">>> " : "... ", line)) return std::nullopt;
      if (interrupted_) {  // Ctrl-C at the prompt: the line (and a """ block) is dropped
        interrupted_ = false;
        if (line.empty() && block_.empty()) std::fputs("(Ctrl-D or /bye quits)\n", stdout), std::fflush(stdout);
        block_.clear();
        in_block_ = false;
        continue;
      }
      if (!in_block_ && line.rfind("\"\"\"", 0) == 0) {
        in_block_ = true;
        line = line.substr(3);
        if (line.size() >= 3 && line.compare(line.size() - 3, 3, "\"\"\"") == 0) {  // """one line"""
          in_block_ = false;
          return line.substr(0, line.size() - 3);
        }
        block_ = line;
        started_ = !line.empty();
        continue;
      }
      if (in_block_) {
        const bool closes = line.size() >= 3 && line.compare(line.size() - 3, 3, "\"\"\"") == 0;
        if (closes) line = line.substr(0, line.size() - 3);
        if (started_) block_ += "\n";
        block_ += line;
        started_ = true;
        if (!closes) continue;
        in_block_ = false;
        started_ = false;
        std::string msg = std::move(block_);
        block_.clear();
        return msg;
      }
      return line;
    }
  }
  void add_history(const std::string& s) { editor_.add_history(s); }

 private:
  bool read(const std::string& prompt, std::string& line) {
    if (!tty_) return static_cast<bool>(std::getline(std::cin, line));
    switch (editor_.read_line(prompt, "... ", line)) {
      case LineEditor::Status::line: return true;
      case LineEditor::Status::interrupted: interrupted_ = true; return true;
      case LineEditor::Status::eof: return false;
    }
    return false;
  }
  bool tty_;
  LineEditor editor_;
  std::string block_;
  bool in_block_ = false, started_ = false, interrupted_ = false;
};

}  // namespace

int run_chat(int argc, char** argv) {
  CLI::App app{"Chat with a model interactively (/help lists the commands; Ctrl-C stops a reply; /bye or Ctrl-D quits)"};
  app.name("pensieve chat");
  engine::LoadOptions lo;
  Chat chat;
  chat.gen.max_tokens = -1;
  bool verbose = false, allow_ctx_extension = false;
  add_load_options(app, lo, &allow_ctx_extension);
  add_sampling_options(app, chat.gen.sampling);
  app.add_option("-n,--n-predict", chat.gen.max_tokens, "tokens per reply at most, >= -1 (-1: until the context is full)")
      ->check(n_predict_range());
  app.add_option("--system,--system-prompt", chat.system, "system message (llama.cpp's -sys)");
  app.add_flag("-v,--verbose", verbose, "also print the seed when given and the sampling settings");
  add_accepted_llama_flags(app, /*server=*/false);
  if (auto code = parse_or_usage(app, argc, argv)) return *code;
  if (lo.model_path.empty() && !use_shipped_model(lo.model_path, "chat")) return 1;
  if (!std::filesystem::exists(lo.model_path)) {
    std::fprintf(stderr, "pensieve: model file not found: %s\n", lo.model_path.c_str());
    return 1;
  }
  if (int rc = check_ctx(lo.model_path, lo.n_ctx, allow_ctx_extension); rc != 0) return rc;
  choose_seed(chat.gen.sampling, /*quiet=*/false, verbose);
  std::signal(SIGINT, on_sigint);
  engine::InferenceBackend be;
  if (auto ms = load_model(be, lo, /*quiet=*/false); !ms) {
    std::fprintf(stderr, "pensieve: cannot load %s: %s\n", lo.model_path.c_str(), ms.error().message.c_str());
    return load_failure_exit_code(ms.error());
  }
  if (be.info().chat_template == text::chatml_template())
    std::fprintf(stderr, "pensieve: warning: the model has no chat template; using ChatML, which it may not follow\n");
  std::fprintf(stderr, "[%s on %s, context %d tokens; /help for commands, /bye to quit]\n", be.variant().c_str(),
               be.device().c_str(), be.info().n_ctx);
  chat.gen.should_stop = [] { return g_interrupted.load(); };

  const bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
  g_tty = tty;  // loading is over: from here Ctrl-C never kills a terminal session
  Input input(tty);
  for (;;) {
    std::optional<std::string> line = input.next();
    if (!line) break;
    if (line->empty()) continue;
    input.add_history(*line);
    if ((*line)[0] == '/') {
      if (command(chat, *line) == Action::quit) break;
      continue;
    }
    chat.messages.push_back({{"role", "user"}, {"content", *line}});
    auto prompt = render_chat(be, chat.conversation());
    if (!prompt) {
      std::fprintf(stderr, "pensieve: chat template: %s\n", prompt.error().message.c_str());
      return 1;
    }
    std::string shown;  // what reached the screen: a stopped reply is kept as far as it was seen
    g_interrupted = false;
    g_generating = true;
    Result<engine::Generation> reply = make_error(ErrorKind::internal, "not run");
    {
      QuietTerminal quiet(tty);
      reply = be.stream(*prompt, chat.gen, [&shown](std::string_view text, engine::token_id) {
        if (g_interrupted.load()) return false;  // nothing after Ctrl-C reaches the screen
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
        shown.append(text);
        return true;
      });
    }
    g_generating = false;
    std::fputs(g_interrupted.load() ? "^C\n" : "\n", stdout);
    std::fflush(stdout);
    if (!reply) {
      std::fprintf(stderr, "pensieve: %s\n", reply.error().message.c_str());
      chat.messages.erase(chat.messages.end() - 1);
      continue;
    }
    if (reply->finish == engine::FinishReason::cancelled) note("stopped");
    if (reply->finish == engine::FinishReason::context_full) note("the context is full: /clear starts over");
    chat.messages.push_back({{"role", "assistant"},
                             {"content", reply->finish == engine::FinishReason::cancelled ? shown : reply->text}});
  }
  return 0;
}

PENSIEVE_COMMAND("chat", "interactive multi-turn chat with a model (/help inside)", run_chat);

}  // namespace pensieve::cli
