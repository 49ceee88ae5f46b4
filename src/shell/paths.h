// Path arithmetic and path classes for the validator (lexical only; nothing touches the disk).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pensieve::shell {

// What a path argument is, from the most to the least sensitive.
enum class PathClass {
  root,          // "/" itself, or every entry of it ("/*")
  home,          // the home directory itself or all of it ("~", "~/*", "$HOME")
  system,        // a system directory or anything under it (/etc, /usr, /bin, /boot, ...) or a
                 // top-level directory itself (/home, /var, /opt, /tmp, ...)
  block_device,  // /dev/sda, /dev/nvme0n1, /dev/mmcblk0, /dev/disk2, ...
  history,       // a shell history file (~/.bash_history, ~/.zsh_history, ...)
  sink,          // /dev/null, /dev/stdout, /dev/stderr, /dev/tty, a descriptor (&1)
  variable,      // depends on a variable or substitution we cannot resolve
  outside,       // somewhere else outside the working tree
  tree,          // inside the working tree
};

// Lexical normalisation: "~", "$HOME", "${HOME}" -> home; relative -> joined to cwd (when cwd is
// absolute); "//", "/./", trailing "/" and ".." folded. Returns nullopt when an unknown variable or a
// substitution makes the path unknowable.
std::optional<std::string> normalize_path(std::string_view word, std::string_view cwd, std::string_view home);

PathClass classify_path(std::string_view word, std::string_view cwd, std::string_view home);

// Is a normalized absolute path inside one of the system trees (/etc, /usr, /bin, /boot, ...), as
// opposed to a top-level directory such as /tmp or /opt, whose contents are ordinary?
bool in_system_tree(std::string_view normalized);

// A short human description of a path class ("the root filesystem", "a system directory", ...).
const char* describe(PathClass c);

}  // namespace pensieve::shell
