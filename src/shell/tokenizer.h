// Shell-word tokenizer for cmd's safety validator: splits one command line (POSIX sh / bash syntax)
// into simple commands with their words and redirections. It does not execute or expand anything:
// quotes and backslashes are removed, while $VAR, ${VAR}, ~, globs, $(...) and backticks stay in the
// word text as written (the rater decides what they may mean). The text inside every $(...),
// backtick pair and <(...) / >(...) is collected so that it can be analysed on its own, recursively.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pensieve::shell {

struct Redirection {
  std::string fd;      // "" (the operator's default), a number ("2"), or "&" for &> and &>>
  std::string op;      // ">", ">>", ">|", "<", "<<", "<<-", "<<<", "<>", ">&", "<&"
  std::string target;  // the word after the operator, quotes removed
};

struct SimpleCommand {
  std::vector<std::string> words;  // after quote removal; assignments (X=1) included
  std::vector<Redirection> redirections;
  int subshell_depth = 0;          // how many ( ) groups enclose it
};

// Commands joined by | (or |&). `next` is how the list continues after it: ";" (also a newline),
// "&&", "||", "&" (run in the background), or "" at the end of the line.
struct Pipeline {
  std::vector<SimpleCommand> commands;
  std::string next;
};

struct Script {
  std::vector<Pipeline> pipelines;
  std::vector<std::string> substitutions;  // inner text of $(...), `...`, <(...), >(...)
  std::vector<std::string> function_names;  // names defined with name() { ... }
  bool ok = true;
  std::string error;  // why the line does not parse (unbalanced quotes, a stray ')', ...)
};

// Splits `line`. On a syntax error `ok` is false, `error` says why, and `pipelines` holds
// everything read up to that point (the rater still rates it).
Script tokenize(std::string_view line);

// Index of the ')' that closes the '(' at `open` (quotes, escapes and nesting respected), or npos.
size_t matching_paren(std::string_view s, size_t open);

}  // namespace pensieve::shell
