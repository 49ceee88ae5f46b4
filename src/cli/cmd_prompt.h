// `pensieve cmd`'s conversation with the model: the target (shell, OS), the messages that ask for
// one command, and reading the one command back out of the reply.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace pensieve::cli {

struct CmdTarget {
  std::string shell = "bash";  // bash | zsh | fish | sh
  std::string os = "linux";    // linux | macos
};

// bash, zsh, fish or sh from $SHELL's basename (dash/ash/ksh count as sh; unset or other: bash).
std::string default_shell();
// linux or macos from uname (the BSDs answer macos: their tools take the same flags).
std::string current_os();

// [system, user] (plus a few example turns for a general model). The shipped model was trained
// on the terse system line "shell=<shell> os=<os>"; any other model gets a real instruction.
nlohmann::json cmd_messages(std::string_view request, const CmdTarget& target, bool shipped_model);

// The command in a model's reply: the first line that is not blank and not a ``` fence, without
// surrounding backticks, a leading "$ " prompt or surrounding blanks. "" when there is none.
std::string extract_command(std::string_view reply);

// True once `text` (a reply so far) holds a complete line with a command in it, so generation
// can stop: a lone opening fence or blank lines do not count.
bool reply_has_command_line(std::string_view text);

}  // namespace pensieve::cli
