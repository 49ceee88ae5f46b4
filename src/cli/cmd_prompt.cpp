#include "cli/cmd_prompt.h"

#include <sys/utsname.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace pensieve::cli {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool is_fence(std::string_view line) { return line.substr(0, 3) == "```"; }

// One line of a reply as a command: surrounding `...` or ```...``` and a "$ " prompt removed.
std::string clean_line(std::string_view line) {
  line = trim(line);
  for (std::string_view tick : {"```", "`"}) {
    if (line.size() >= 2 * tick.size() && line.substr(0, tick.size()) == tick &&
        line.substr(line.size() - tick.size()) == tick) {
      line = trim(line.substr(tick.size(), line.size() - 2 * tick.size()));
      break;
    }
  }
  if (line.substr(0, 2) == "$ ") line = trim(line.substr(2));
  return std::string(line);
}

// Each line of `text` that ends in '\n' (all of them when `complete`), in order.
std::vector<std::string_view> lines_of(std::string_view text, bool complete) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string_view::npos; start = nl + 1)
    out.push_back(text.substr(start, nl - start));
  if (complete && start < text.size()) out.push_back(text.substr(start));
  return out;
}

std::string first_command(std::string_view text, bool complete) {
  for (std::string_view line : lines_of(text, complete)) {
    const std::string_view t = trim(line);
    if (t.empty()) continue;
    // "```bash" opens a block (the command follows); "```ls```" is a command in fences.
    if (is_fence(t) && (t.size() < 6 || t.substr(t.size() - 3) != "```")) continue;
    std::string c = clean_line(t);
    if (!c.empty()) return c;
  }
  return "";
}

}  // namespace

std::string default_shell() {
  const char* env = std::getenv("SHELL");
  std::string_view s = env ? env : "";
  if (auto slash = s.rfind('/'); slash != std::string_view::npos) s.remove_prefix(slash + 1);
  if (s == "bash" || s == "zsh" || s == "fish" || s == "sh") return std::string(s);
  if (s == "dash" || s == "ash" || s == "ksh" || s == "mksh" || s == "busybox") return "sh";
  return "bash";
}

std::string current_os() {
  struct utsname u {};
  if (uname(&u) != 0) return "linux";
  const std::string_view sys = u.sysname;
  if (sys == "Darwin" || sys.find("BSD") != std::string_view::npos || sys == "DragonFly") return "macos";
  return "linux";
}

nlohmann::json cmd_messages(std::string_view request, const CmdTarget& target, bool shipped_model) {
  nlohmann::json messages = nlohmann::json::array();
  if (shipped_model) {
    messages.push_back({{"role", "system"}, {"content", "shell=" + target.shell + " os=" + target.os}});
    messages.push_back({{"role", "user"}, {"content", std::string(request)}});
    return messages;
  }
  const std::string os = target.os == "macos" ? "macOS (BSD userland: BSD flags for find, sed, stat, date, ...)"
                                              : "Linux (GNU coreutils, findutils, sed, grep)";
  const std::string system =
      "You translate a request into exactly one " + target.shell + " command for " + os +
      ". Reply with the command only, on a single line: no explanation, no code fences, no leading $, "
      "no placeholders. Paths are relative to the current directory unless the request names another place. "
      "Prefer standard tools; chain with pipes or && when one program is not enough.";
  messages.push_back({{"role", "system"}, {"content", system}});
  // Two example turns show the shape of an answer (one line, nothing around it).
  messages.push_back({{"role", "user"}, {"content", "show the 5 largest files in this folder"}});
  messages.push_back({{"role", "assistant"}, {"content", "ls -S | head -n 5"}});
  messages.push_back({{"role", "user"}, {"content", "how many lines does notes.txt have"}});
  messages.push_back({{"role", "assistant"}, {"content", "wc -l < notes.txt"}});
  messages.push_back({{"role", "user"}, {"content", std::string(request)}});
  return messages;
}

std::string extract_command(std::string_view reply) { return first_command(reply, /*complete=*/true); }

bool reply_has_command_line(std::string_view text) { return !first_command(text, /*complete=*/false).empty(); }

}  // namespace pensieve::cli
