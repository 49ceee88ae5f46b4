// Internal to the validator: the rule tables (rules.cpp) and the per-command handlers (handlers.cpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "shell/paths.h"
#include "shell/tokenizer.h"
#include "shell/validator.h"

namespace pensieve::shell::detail {

struct RateState {
  std::string cwd;   // where relative paths resolve now (follows `cd`); may be "." (unknown)
  std::string home;
  int depth = 0;     // nesting of $(...), sh -c, eval, find -exec
};

// One simple command after its wrappers (sudo, env, command, xargs, ...) are peeled off.
struct CommandView {
  std::string name;                 // basename of the program, backslash and path removed
  std::vector<std::string> args;    // the words after it
  bool args_from_stdin = false;     // run by xargs: more arguments come from the input
  bool implied_recursive = false;   // run by find -exec over a tree
  bool piped_from_download = false; // an earlier command of its pipeline is curl/wget
  bool piped_in = false;            // its standard input is a pipe
};

using Handler = void (*)(const CommandView& c, RateState& st, Verdict& v);

// Rates one line (recursively for substitutions, sh -c, eval).
void rate_line(std::string_view line, RateState& st, Verdict& v);
// Rates one simple command of a pipeline.
void rate_simple(const SimpleCommand& cmd, bool piped_in, bool piped_from_download, RateState& st, Verdict& v);
// Rates a command given as words (find -exec, xargs): wrappers peeled, rules applied.
void rate_words(std::vector<std::string> words, CommandView flags, RateState& st, Verdict& v);

// Handlers (handlers.cpp); nullptr when the command has none.
Handler find_handler(std::string_view name);

// A write (overwrite or append) of `target` by `who`: rated by the path's class.
void rate_write(std::string_view who, std::string_view target, bool overwrite, const RateState& st, Verdict& v);

// Is `w` the option `flag`? "-f" matches -f and clusters like -fd; "--force" matches --force and
// --force=...; "+*" matches any word starting with "+"; anything else matches itself exactly.
bool has_flag(std::string_view w, std::string_view flag);
bool any_flag(const std::vector<std::string>& args, std::string_view flag);

std::string basename_of(std::string_view word);
// Does the command run curl/wget (or another downloader)?
bool is_downloader(const SimpleCommand& cmd);

}  // namespace pensieve::shell::detail
