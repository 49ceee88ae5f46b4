#include "shell/validator.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "shell/rules.h"

namespace pensieve::shell {

const char* risk_name(Risk risk) {
  switch (risk) {
    case Risk::safe: return "safe";
    case Risk::caution: return "caution";
    case Risk::dangerous: return "dangerous";
    case Risk::blocked: return "blocked";
  }
  return "unknown";
}

void Verdict::add(Risk r, std::string reason) {
  if (r > risk) risk = r;
  if (reason.empty() || std::find(reasons.begin(), reasons.end(), reason) != reasons.end()) return;
  reasons.push_back(std::move(reason));
}

ShellContext current_context() {
  ShellContext ctx;
  if (const char* home = std::getenv("HOME"); home && *home) ctx.home = home;
  char buf[4096];
  if (getcwd(buf, sizeof(buf))) ctx.cwd = buf;
  return ctx;
}

namespace detail {

namespace {

// NAME() { ... NAME | NAME & ... }: a function that pipes itself into itself in the background.
bool is_fork_bomb(std::string_view line, const std::vector<std::string>& functions) {
  std::string s;
  for (char c : line) {
    if (c != ' ' && c != '\t' && c != '\n') s += c;
  }
  for (const auto& f : functions) {
    if (s.find(f + "|" + f) != std::string::npos || s.find(f + "&" + f) != std::string::npos) return true;
  }
  return s.find(":(){:|:&};:") != std::string::npos;
}

}  // namespace

void rate_line(std::string_view line, RateState& st, Verdict& v) {
  const Script script = tokenize(line);
  if (is_fork_bomb(line, script.function_names)) v.add(Risk::blocked, "fork bomb: a function that spawns itself endlessly");
  if (!script.ok) v.add(Risk::dangerous, "does not parse as a shell command: " + script.error);
  if (st.depth >= 8 && !script.substitutions.empty()) {
    v.add(Risk::dangerous, "command substitutions nested too deeply to analyse");
  } else {
    for (const auto& sub : script.substitutions) {
      RateState inner = st;
      ++inner.depth;
      rate_line(sub, inner, v);
    }
  }
  for (const auto& p : script.pipelines) {
    bool download = false;
    for (size_t k = 0; k < p.commands.size(); ++k) {
      const auto& cmd = p.commands[k];
      rate_simple(cmd, k > 0, download, st, v);
      download = download || is_downloader(cmd);
    }
  }
}

}  // namespace detail

Verdict rate_command(std::string_view command, const ShellContext& ctx) {
  Verdict v;
  detail::RateState st{ctx.cwd, ctx.home, 0};
  detail::rate_line(command, st, v);
  return v;
}

}  // namespace pensieve::shell
