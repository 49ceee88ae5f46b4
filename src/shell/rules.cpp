// The validator's rule tables and the walk over one simple command: assignments, wrappers
// (sudo, env, command, xargs, ...), redirections, then the command's own rules.
#include <algorithm>
#include <array>

#include "shell/rules.h"

namespace pensieve::shell::detail {

namespace {

// ---- wrappers: programs that run another program given as their arguments ----
struct Wrapper {
  std::string_view name;
  std::string_view options_with_value;  // space-separated options that take the next word
  int positionals;                      // leading non-option words before the command (timeout's duration)
  Risk risk;
  std::string_view reason;
};
constexpr Wrapper kWrappers[] = {
    {"sudo", "-u -g -h -p -C -D -r -t -U -T --user --group --host --prompt --chdir", 0, Risk::caution,
     "runs with root privileges (sudo)"},
    {"doas", "-u -C", 0, Risk::caution, "runs with root privileges (doas)"},
    {"command", "", 0, Risk::safe, ""},
    {"builtin", "", 0, Risk::safe, ""},
    {"exec", "-a", 0, Risk::safe, ""},
    {"env", "-u -C -S --unset --chdir --split-string", 0, Risk::safe, ""},
    {"nohup", "", 0, Risk::safe, ""},
    {"time", "-f -o --format --output", 0, Risk::safe, ""},
    {"nice", "-n --adjustment", 0, Risk::safe, ""},
    {"ionice", "-c -n -p -t", 0, Risk::safe, ""},
    {"timeout", "-s -k --signal --kill-after", 1, Risk::safe, ""},
    {"stdbuf", "-i -o -e", 0, Risk::safe, ""},
    {"chroot", "--userspec --groups", 1, Risk::caution, "runs in another root directory (chroot)"},
    {"busybox", "", 0, Risk::safe, ""},
    {"xargs", "-I -i -n -P -d -L -l -s -E -e -a --max-args --max-procs --delimiter --arg-file --replace", 0,
     Risk::safe, ""},
    {"watch", "-n -d --interval", 0, Risk::safe, ""},
    {"strace", "-e -o -p", 0, Risk::safe, ""},
    {"unbuffer", "", 0, Risk::safe, ""},
    {"caffeinate", "", 0, Risk::safe, ""},
};

// Shell words that open or close a compound command; the simple command starts after them.
constexpr std::string_view kReserved[] = {"{", "}", "!", "do", "then", "else", "elif", "if", "while",
                                          "until", "done", "fi", "esac", "time"};
// Lines whose words are not a command to run (loop headers).
constexpr std::string_view kHeaders[] = {"for", "case", "select", "in", "function"};

// ---- rules by command name alone ----
struct FixedRule {
  std::string_view name;
  Risk risk;
  std::string_view reason;
  std::string_view unless_flag;  // a flag that makes it harmless (fdisk -l)
};
constexpr FixedRule kFixedRules[] = {
    {"mkfs", Risk::blocked, "formats a filesystem (mkfs), erasing it", ""},
    {"mke2fs", Risk::blocked, "formats a filesystem (mke2fs), erasing it", ""},
    {"mkswap", Risk::blocked, "formats a swap area (mkswap) over a device", ""},
    {"wipefs", Risk::blocked, "wipes filesystem signatures (wipefs)", ""},
    {"newfs", Risk::blocked, "formats a filesystem (newfs), erasing it", ""},
    {"shutdown", Risk::blocked, "shuts down or reboots the machine", ""},
    {"reboot", Risk::blocked, "shuts down or reboots the machine", ""},
    {"halt", Risk::blocked, "shuts down or reboots the machine", ""},
    {"poweroff", Risk::blocked, "shuts down or reboots the machine", ""},
    {"kexec", Risk::blocked, "shuts down or reboots the machine", ""},
    {"fdisk", Risk::dangerous, "edits a partition table", "-l"},
    {"sfdisk", Risk::dangerous, "edits a partition table", "-l"},
    {"gdisk", Risk::dangerous, "edits a partition table", "-l"},
    {"cfdisk", Risk::dangerous, "edits a partition table", ""},
    {"parted", Risk::dangerous, "edits a partition table", "-l"},
    {"sgdisk", Risk::dangerous, "edits a partition table", "-p"},
    {"pkill", Risk::dangerous, "kills processes (pkill)", ""},
    {"killall", Risk::dangerous, "kills processes (killall)", ""},
    {"killall5", Risk::blocked, "kills every process (killall5)", ""},
    {"skill", Risk::dangerous, "kills processes (skill)", ""},
    {"xkill", Risk::dangerous, "kills processes (xkill)", ""},
    {"su", Risk::caution, "switches to another user (su)", ""},
    {"passwd", Risk::dangerous, "changes account passwords", ""},
    {"userdel", Risk::dangerous, "changes user accounts", ""},
    {"deluser", Risk::dangerous, "changes user accounts", ""},
    {"usermod", Risk::dangerous, "changes user accounts", ""},
    {"groupdel", Risk::dangerous, "changes user accounts", ""},
    {"iptables", Risk::caution, "changes the firewall", "-L"},
    {"ip6tables", Risk::caution, "changes the firewall", "-L"},
    {"nft", Risk::caution, "changes the firewall", ""},
    {"ufw", Risk::caution, "changes the firewall", "status"},
    {"mount", Risk::caution, "mounts a filesystem", ""},
    {"umount", Risk::caution, "unmounts a filesystem", ""},
    {"swapoff", Risk::caution, "turns swap off", ""},
    {"chattr", Risk::caution, "changes file attributes", ""},
    {"rsync", Risk::caution, "copies files with rsync (may overwrite)", ""},
    {"scp", Risk::caution, "copies files over the network (may overwrite)", ""},
    {"unzip", Risk::caution, "extracts an archive (may overwrite files)", "-l"},
    {"rmdir", Risk::caution, "removes directories", ""},
    {"mv", Risk::caution, "moves or renames files (may overwrite)", ""},
    {"cp", Risk::caution, "copies files (may overwrite)", ""},
    {"ln", Risk::caution, "creates links (may replace files)", ""},
    {"install", Risk::caution, "installs files (may overwrite)", ""},
    {"patch", Risk::caution, "patches files in place", "--dry-run"},
};

// ---- rules by command and subcommand (the first word that is not an option) and flag ----
struct SubRule {
  std::string_view name;
  std::string_view sub;   // "" = any
  std::string_view flag;  // "" = the default row for name+sub when no flagged row matches
  Risk risk;
  std::string_view reason;
};
constexpr SubRule kSubRules[] = {
    {"git", "push", "--force", Risk::dangerous, "git push --force rewrites the remote's history"},
    {"git", "push", "-f", Risk::dangerous, "git push --force rewrites the remote's history"},
    {"git", "push", "--force-with-lease", Risk::dangerous, "git push --force rewrites the remote's history"},
    {"git", "push", "+*", Risk::dangerous, "git push +REF force-pushes (rewrites the remote's history)"},
    {"git", "push", "--mirror", Risk::dangerous, "git push --mirror overwrites every remote ref"},
    {"git", "push", "--delete", Risk::dangerous, "git push --delete deletes remote branches"},
    {"git", "push", "", Risk::caution, "pushes commits to a remote"},
    {"git", "reset", "--hard", Risk::dangerous, "git reset --hard discards uncommitted changes"},
    {"git", "reset", "", Risk::caution, "changes the repository (git reset)"},
    {"git", "clean", "-f", Risk::dangerous, "git clean -f deletes untracked files"},
    {"git", "clean", "--force", Risk::dangerous, "git clean -f deletes untracked files"},
    {"git", "clean", "", Risk::caution, "git clean lists untracked files to delete"},
    {"git", "checkout", "--", Risk::caution, "discards local changes (git checkout --)"},
    {"git", "checkout", "", Risk::caution, "changes the working tree (git checkout)"},
    {"git", "restore", "", Risk::caution, "discards local changes (git restore)"},
    {"git", "switch", "", Risk::caution, "changes the working tree (git switch)"},
    {"git", "branch", "-D", Risk::caution, "force-deletes a branch"},
    {"git", "branch", "-d", Risk::caution, "deletes a branch"},
    {"git", "stash", "clear", Risk::dangerous, "git stash clear drops every stash"},
    {"git", "stash", "drop", Risk::caution, "drops a stash"},
    {"git", "stash", "", Risk::caution, "changes the working tree (git stash)"},
    {"git", "filter-branch", "", Risk::dangerous, "rewrites the repository's history"},
    {"git", "filter-repo", "", Risk::dangerous, "rewrites the repository's history"},
    {"git", "rebase", "", Risk::caution, "rewrites commits (git rebase)"},
    {"git", "commit", "", Risk::caution, "writes to the repository (git commit)"},
    {"git", "add", "", Risk::caution, "writes to the repository (git add)"},
    {"git", "rm", "", Risk::caution, "deletes files in the working tree (git rm)"},
    {"git", "mv", "", Risk::caution, "moves files in the working tree (git mv)"},
    {"git", "merge", "", Risk::caution, "changes the working tree (git merge)"},
    {"git", "pull", "", Risk::caution, "changes the working tree (git pull)"},
    {"git", "cherry-pick", "", Risk::caution, "writes to the repository (git cherry-pick)"},
    {"git", "revert", "", Risk::caution, "writes to the repository (git revert)"},
    {"git", "apply", "", Risk::caution, "patches files in place (git apply)"},
    {"git", "am", "", Risk::caution, "writes to the repository (git am)"},
    {"git", "gc", "--prune", Risk::caution, "prunes unreachable objects"},
    {"git", "reflog", "expire", Risk::dangerous, "expires the reflog (loses recovery points)"},
    // package managers
    {"apt", "install", "", Risk::caution, "installs packages"},
    {"apt", "upgrade", "", Risk::caution, "installs packages"},
    {"apt", "full-upgrade", "", Risk::caution, "installs packages"},
    {"apt", "dist-upgrade", "", Risk::caution, "installs packages"},
    {"apt", "remove", "", Risk::dangerous, "removes packages"},
    {"apt", "purge", "", Risk::dangerous, "removes packages"},
    {"apt", "autoremove", "", Risk::dangerous, "removes packages"},
    {"dnf", "install", "", Risk::caution, "installs packages"},
    {"dnf", "upgrade", "", Risk::caution, "installs packages"},
    {"dnf", "remove", "", Risk::dangerous, "removes packages"},
    {"zypper", "install", "", Risk::caution, "installs packages"},
    {"zypper", "in", "", Risk::caution, "installs packages"},
    {"zypper", "remove", "", Risk::dangerous, "removes packages"},
    {"pacman", "", "-S", Risk::caution, "installs packages"},
    {"pacman", "", "-U", Risk::caution, "installs packages"},
    {"pacman", "", "-R", Risk::dangerous, "removes packages"},
    {"apk", "add", "", Risk::caution, "installs packages"},
    {"apk", "del", "", Risk::dangerous, "removes packages"},
    {"brew", "install", "", Risk::caution, "installs packages"},
    {"brew", "upgrade", "", Risk::caution, "installs packages"},
    {"brew", "reinstall", "", Risk::caution, "installs packages"},
    {"brew", "uninstall", "", Risk::caution, "removes packages"},
    {"port", "install", "", Risk::caution, "installs packages"},
    {"snap", "install", "", Risk::caution, "installs packages"},
    {"snap", "remove", "", Risk::dangerous, "removes packages"},
    {"flatpak", "install", "", Risk::caution, "installs packages"},
    {"pip", "install", "", Risk::caution, "installs packages"},
    {"pip", "uninstall", "", Risk::caution, "removes packages"},
    {"pipx", "install", "", Risk::caution, "installs packages"},
    {"conda", "install", "", Risk::caution, "installs packages"},
    {"conda", "remove", "", Risk::caution, "removes packages"},
    {"npm", "install", "", Risk::caution, "installs packages"},
    {"npm", "i", "", Risk::caution, "installs packages"},
    {"npm", "ci", "", Risk::caution, "installs packages"},
    {"npm", "uninstall", "", Risk::caution, "removes packages"},
    {"npm", "publish", "", Risk::caution, "publishes a package"},
    {"yarn", "add", "", Risk::caution, "installs packages"},
    {"yarn", "install", "", Risk::caution, "installs packages"},
    {"yarn", "global", "", Risk::caution, "installs packages"},
    {"pnpm", "add", "", Risk::caution, "installs packages"},
    {"pnpm", "install", "", Risk::caution, "installs packages"},
    {"gem", "install", "", Risk::caution, "installs packages"},
    {"cargo", "install", "", Risk::caution, "installs packages"},
    {"go", "install", "", Risk::caution, "installs packages"},
    {"dpkg", "", "-i", Risk::caution, "installs packages"},
    {"dpkg", "", "-r", Risk::dangerous, "removes packages"},
    {"dpkg", "", "-P", Risk::dangerous, "removes packages"},
    {"rpm", "", "-i", Risk::caution, "installs packages"},
    {"rpm", "", "-U", Risk::caution, "installs packages"},
    {"rpm", "", "-e", Risk::dangerous, "removes packages"},
    // services, containers, clusters
    {"systemctl", "poweroff", "", Risk::blocked, "shuts down or reboots the machine"},
    {"systemctl", "reboot", "", Risk::blocked, "shuts down or reboots the machine"},
    {"systemctl", "halt", "", Risk::blocked, "shuts down or reboots the machine"},
    {"systemctl", "kexec", "", Risk::blocked, "shuts down or reboots the machine"},
    {"systemctl", "stop", "", Risk::dangerous, "stops services"},
    {"systemctl", "kill", "", Risk::dangerous, "kills processes (systemctl kill)"},
    {"systemctl", "disable", "", Risk::dangerous, "disables services"},
    {"systemctl", "mask", "", Risk::dangerous, "disables services"},
    {"systemctl", "start", "", Risk::caution, "starts or restarts services"},
    {"systemctl", "restart", "", Risk::caution, "starts or restarts services"},
    {"systemctl", "reload", "", Risk::caution, "starts or restarts services"},
    {"systemctl", "enable", "", Risk::caution, "enables services"},
    {"systemctl", "suspend", "", Risk::caution, "suspends the machine"},
    {"service", "", "stop", Risk::dangerous, "stops services"},
    {"service", "", "restart", Risk::caution, "starts or restarts services"},
    {"service", "", "start", Risk::caution, "starts or restarts services"},
    {"init", "0", "", Risk::blocked, "shuts down or reboots the machine"},
    {"init", "6", "", Risk::blocked, "shuts down or reboots the machine"},
    {"telinit", "0", "", Risk::blocked, "shuts down or reboots the machine"},
    {"telinit", "6", "", Risk::blocked, "shuts down or reboots the machine"},
    {"docker", "rm", "", Risk::dangerous, "removes containers"},
    {"docker", "rmi", "", Risk::dangerous, "removes images"},
    {"docker", "kill", "", Risk::dangerous, "kills containers"},
    {"docker", "stop", "", Risk::dangerous, "stops containers"},
    {"docker", "", "prune", Risk::dangerous, "prunes containers, images or volumes"},
    {"docker", "volume", "rm", Risk::dangerous, "removes volumes"},
    {"docker", "run", "", Risk::caution, "runs a container"},
    {"docker", "exec", "", Risk::caution, "runs a command in a container"},
    {"docker", "compose", "down", Risk::caution, "stops containers (docker compose down)"},
    {"docker", "compose", "up", Risk::caution, "runs containers"},
    {"podman", "rm", "", Risk::dangerous, "removes containers"},
    {"podman", "rmi", "", Risk::dangerous, "removes images"},
    {"podman", "run", "", Risk::caution, "runs a container"},
    {"kubectl", "delete", "", Risk::dangerous, "deletes cluster resources"},
    {"kubectl", "apply", "", Risk::caution, "changes cluster resources"},
    {"rsync", "", "--delete*", Risk::dangerous, "rsync --delete removes files at the destination"},
    {"rsync", "", "--remove-source-files", Risk::caution, "rsync deletes the copied source files"},
    {"sort", "", "-o", Risk::caution, "writes its output over a file (sort -o)"},
    {"crontab", "", "-r", Risk::dangerous, "removes every cron job (crontab -r)"},
    {"crontab", "", "-e", Risk::caution, "edits cron jobs"},
    // shell history
    {"history", "", "-c", Risk::blocked, "wipes the shell history (history -c)"},
    {"history", "", "-w", Risk::caution, "rewrites the shell history file"},
    {"history", "", "-d", Risk::caution, "deletes shell history entries"},
    {"unset", "HISTFILE", "", Risk::dangerous, "stops recording the shell history"},
    {"set", "+o", "history", Risk::dangerous, "stops recording the shell history"},
};

// History-related assignments (HISTFILE=/dev/null, HISTSIZE=0, also after export/declare).
constexpr std::string_view kHistoryAssignments[] = {"HISTFILE=/dev/null", "HISTFILE=", "HISTSIZE=0",
                                                    "HISTFILESIZE=0", "SAVEHIST=0"};

// Programs that run a script given as text (sh -c STR, eval STR) or read from stdin.
constexpr std::string_view kShells[] = {"sh", "bash", "zsh", "dash", "ksh", "fish", "csh", "tcsh", "ash"};
constexpr std::string_view kInterpreters[] = {"sh", "bash", "zsh", "dash", "ksh", "fish", "csh", "tcsh",
                                              "ash", "python", "python2", "python3", "perl", "ruby",
                                              "node", "php", "source", ".", "eval"};
constexpr std::string_view kDownloaders[] = {"curl", "wget", "fetch", "aria2c", "http", "https"};

template <typename T, size_t N>
bool contains(const T (&table)[N], std::string_view s) {
  return std::find(std::begin(table), std::end(table), s) != std::end(table);
}

bool is_assignment(std::string_view w) {
  const size_t eq = w.find('=');
  if (eq == 0 || eq == std::string_view::npos) return false;
  for (size_t k = 0; k < eq; ++k) {
    const char c = w[k];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return !std::isdigit(static_cast<unsigned char>(w[0]));
}

void rate_assignment(std::string_view w, Verdict& v) {
  for (auto h : kHistoryAssignments) {
    if (w == h) v.add(Risk::dangerous, "stops recording the shell history (" + std::string(w) + ")");
  }
}

void rate_redirections(const std::vector<Redirection>& rs, const RateState& st, Verdict& v) {
  for (const auto& r : rs) {
    const bool out = r.op == ">" || r.op == ">|" || r.op == ">>" || (r.op == ">&" && r.fd == "&");
    const bool dup_to_file = r.op == ">&" && !r.target.empty() && r.target != "-" &&
                             !std::all_of(r.target.begin(), r.target.end(), ::isdigit);
    if (!out && !dup_to_file && r.op != "<>") continue;
    const bool overwrite = r.op != ">>" && r.op != "<>";
    const PathClass c = classify_path(r.target, st.cwd, st.home);
    if (overwrite && (c == PathClass::tree || c == PathClass::outside || c == PathClass::variable))
      v.add(Risk::dangerous, "overwrites " + r.target + " with >");
    else
      rate_write(overwrite ? ">" : ">>", r.target, overwrite, st, v);
  }
}

std::string first_operand(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a.empty() || a[0] != '-') return a;
  }
  return "";
}

// python -c / perl -e / ruby -e / node -e code that calls the shell (os.system, subprocess,
// system(), backticks): every quoted string in it is rated as a command line.
void rate_inline_code(const CommandView& c, RateState& st, Verdict& v) {
  if (contains(kShells, c.name) || st.depth >= 8) return;
  for (size_t k = 0; k + 1 < c.args.size(); ++k) {
    if (c.args[k] != "-c" && c.args[k] != "-e" && c.args[k] != "-E" && c.args[k] != "--eval") continue;
    const std::string& code = c.args[k + 1];
    static constexpr std::string_view kCalls[] = {"system", "subprocess", "popen", "exec", "spawn", "`", "unlink", "rmtree", "remove"};
    if (std::none_of(std::begin(kCalls), std::end(kCalls), [&](std::string_view w) { return code.find(w) != std::string::npos; }))
      continue;
    v.add(Risk::caution, c.name + " runs inline code that can run commands or delete files");
    // rmtree('/x') / remove('x'): the quoted strings are paths to delete, not command lines.
    const bool tree_delete = code.find("rmtree") != std::string::npos || code.find("rm_rf") != std::string::npos;
    const bool file_delete = code.find("remove") != std::string::npos || code.find("unlink") != std::string::npos;
    for (size_t open = code.find_first_of("'\"`"); open != std::string::npos; open = code.find_first_of("'\"`", open + 1)) {
      const size_t close = code.find(code[open], open + 1);
      if (close == std::string::npos) break;
      RateState inner = st;
      ++inner.depth;
      const std::string quoted = code.substr(open + 1, close - open - 1);
      if (tree_delete || file_delete) {
        CommandView flags;
        rate_words({"rm", tree_delete ? "-rf" : "-f", "--", quoted}, flags, inner, v);
      } else {
        rate_line(quoted, inner, v);
      }
      open = close;
    }
  }
}

void apply_tables(const CommandView& c, RateState& st, Verdict& v) {
  for (const auto& r : kFixedRules) {
    const bool match = c.name == r.name || (r.name == "mkfs" && c.name.rfind("mkfs.", 0) == 0);
    if (match && (r.unless_flag.empty() || !any_flag(c.args, r.unless_flag))) v.add(r.risk, std::string(r.reason));
  }
  const std::string sub = first_operand(c.args);
  std::string name = c.name;
  if (name == "apt-get" || name == "aptitude") name = "apt";
  if (name == "yum") name = "dnf";
  if (name == "pip3" || name == "uv") name = "pip";
  bool flagged = false;
  const SubRule* fallback = nullptr;
  for (const auto& r : kSubRules) {
    if (r.name != name || (!r.sub.empty() && r.sub != sub)) continue;
    if (r.flag.empty()) {
      if (!fallback) fallback = &r;
    } else if (any_flag(c.args, r.flag)) {
      v.add(r.risk, std::string(r.reason));
      flagged = true;
    }
  }
  if (!flagged && fallback) v.add(fallback->risk, std::string(fallback->reason));
  for (const auto& a : c.args) {
    if ((name == "export" || name == "declare" || name == "typeset") && is_assignment(a)) rate_assignment(a, v);
  }
  if (contains(kInterpreters, c.name)) {
    bool fetched = c.piped_from_download;
    for (const auto& a : c.args) {
      for (auto d : kDownloaders) {
        if (a.find(std::string(d) + " ") != std::string::npos && a.find_first_of("$`<") != std::string::npos)
          fetched = true;
      }
    }
    if (fetched) v.add(Risk::dangerous, "runs a script downloaded from the network (curl | sh)");
    const bool script_operand = std::any_of(c.args.begin(), c.args.end(), [](const std::string& a) { return a.empty() || a[0] != '-'; });
    if (c.piped_in && !fetched && contains(kShells, c.name) && !script_operand)
      v.add(Risk::dangerous, "runs commands piped into a shell, which cannot be checked");
    rate_inline_code(c, st, v);
  }
  if (auto h = find_handler(c.name)) h(c, st, v);
}

}  // namespace

std::string basename_of(std::string_view word) {
  const size_t slash = word.rfind('/');
  if (slash == std::string_view::npos || slash + 1 == word.size()) return std::string(word);
  return std::string(word.substr(slash + 1));
}

bool has_flag(std::string_view w, std::string_view flag) {
  if (w == flag) return true;
  if (flag.size() > 1 && flag.back() == '*') return w.substr(0, flag.size() - 1) == flag.substr(0, flag.size() - 1);
  if (flag.size() > 2 && flag.substr(0, 2) == "--")
    return w.size() > flag.size() && w.substr(0, flag.size()) == flag && w[flag.size()] == '=';
  if (flag.size() == 2 && flag[0] == '-' && w.size() > 2 && w[0] == '-' && w[1] != '-')
    return w.find(flag[1], 1) != std::string_view::npos;
  return false;
}

bool any_flag(const std::vector<std::string>& args, std::string_view flag) {
  return std::any_of(args.begin(), args.end(), [&](const std::string& a) { return has_flag(a, flag); });
}

void rate_write(std::string_view who, std::string_view target, bool overwrite, const RateState& st, Verdict& v) {
  const std::string t(target);
  const std::string w(who);
  switch (classify_path(target, st.cwd, st.home)) {
    case PathClass::block_device:
      v.add(Risk::blocked, w + " writes to a block device (" + t + ")");
      break;
    case PathClass::history:
      if (overwrite) v.add(Risk::blocked, w + " wipes the shell history (" + t + ")");
      else v.add(Risk::caution, w + " writes to the shell history (" + t + ")");
      break;
    case PathClass::system: {
      const auto norm = normalize_path(target, st.cwd, st.home).value_or(t);
      const bool etc = norm.rfind("/etc", 0) == 0 || norm.rfind("/boot", 0) == 0 || norm.rfind("/private/etc", 0) == 0;
      if (overwrite && etc) v.add(Risk::blocked, w + " overwrites a system file in /etc or /boot (" + t + ")");
      else if (in_system_tree(norm)) v.add(Risk::dangerous, w + " writes into a system directory (" + t + ")");
      else v.add(Risk::caution, w + " writes into " + t);
      break;
    }
    case PathClass::root:
    case PathClass::home:
      v.add(Risk::dangerous, w + " writes to " + t + " (" + describe(classify_path(target, st.cwd, st.home)) + ")");
      break;
    case PathClass::sink:
      break;
    case PathClass::variable:
      v.add(Risk::caution, w + " writes to " + t + " (a path that depends on a variable)");
      break;
    case PathClass::outside:
      v.add(Risk::caution, w + " writes " + t + " (outside the working tree)");
      break;
    case PathClass::tree:
      v.add(Risk::caution, w + " writes " + t);
      break;
  }
}

void rate_words(std::vector<std::string> words, CommandView flags, RateState& st, Verdict& v) {
  size_t k = 0;
  while (k < words.size() && (is_assignment(words[k]) || contains(kReserved, words[k]))) {
    if (is_assignment(words[k])) rate_assignment(words[k], v);
    ++k;
  }
  if (k < words.size() && contains(kHeaders, words[k])) return;
  // Peel wrappers: sudo -u x env FOO=1 command nice -n 5 rm ...
  while (k < words.size()) {
    const std::string name = basename_of(words[k]);
    const Wrapper* w = nullptr;
    for (const auto& cand : kWrappers) {
      if (cand.name == name) w = &cand;
    }
    if (!w) break;
    if (!w->reason.empty()) v.add(w->risk, std::string(w->reason));
    if (name == "xargs") flags.args_from_stdin = true;
    if (name == "command" && k + 1 < words.size() && (words[k + 1] == "-v" || words[k + 1] == "-V")) return;
    ++k;
    int positionals = w->positionals;
    while (k < words.size()) {
      const std::string& a = words[k];
      if (a == "--") {
        ++k;
        break;
      }
      if (name == "env" && is_assignment(a)) {
        rate_assignment(a, v);
        ++k;
      } else if (a.size() > 1 && a[0] == '-') {
        const bool takes_value = (" " + std::string(w->options_with_value) + " ").find(" " + a + " ") != std::string::npos;
        k += takes_value ? 2 : 1;
      } else if (positionals > 0) {
        --positionals;
        ++k;
      } else {
        break;
      }
    }
  }
  if (k >= words.size()) return;
  CommandView c = flags;
  c.name = basename_of(words[k]);
  c.args.assign(words.begin() + k + 1, words.end());
  // Scripts given as text: sh -c STR, eval STR, su -c STR.
  if (st.depth < 8) {
    const bool shell = contains(kShells, c.name) || c.name == "su";
    for (size_t a = 0; shell && a + 1 < c.args.size(); ++a) {
      if (c.args[a] == "-c" || (c.args[a].size() > 2 && c.args[a][0] == '-' && c.args[a].back() == 'c' && c.args[a][1] != '-')) {
        RateState inner = st;
        ++inner.depth;
        rate_line(c.args[a + 1], inner, v);
        break;
      }
    }
    // ssh HOST COMMAND...: the remote command line is rated like a local one.
    if (c.name == "ssh") {
      static constexpr std::string_view kSshValue[] = {"-p", "-i", "-l", "-o", "-F", "-J", "-L", "-R", "-D",
                                                       "-E", "-b", "-c", "-e", "-m", "-O", "-Q", "-S", "-W", "-w"};
      size_t a = 0;
      while (a < c.args.size() && c.args[a].size() > 1 && c.args[a][0] == '-') a += contains(kSshValue, c.args[a]) ? 2 : 1;
      std::string remote;
      for (size_t r = a + 1; r < c.args.size(); ++r) remote += (remote.empty() ? "" : " ") + c.args[r];
      if (!remote.empty()) {
        RateState inner{"$REMOTE", "$REMOTE_HOME", st.depth + 1};
        inner.home = "/root";  // unknown remote home: ~ still names a home directory
        rate_line(remote, inner, v);
      }
    }
    if (c.name == "eval" && !c.args.empty()) {
      std::string text;
      for (const auto& a : c.args) text += (text.empty() ? "" : " ") + a;
      RateState inner = st;
      ++inner.depth;
      rate_line(text, inner, v);
    }
  }
  apply_tables(c, st, v);
}

void rate_simple(const SimpleCommand& cmd, bool piped_in, bool piped_from_download, RateState& st, Verdict& v) {
  rate_redirections(cmd.redirections, st, v);
  CommandView flags;
  flags.piped_in = piped_in;
  // A shell reading its script from a here-string or here-document: rate the string; a
  // here-document body is not kept by the tokenizer, so it cannot be checked.
  const auto prog = std::find_if(cmd.words.begin(), cmd.words.end(), [](const std::string& w) { return !is_assignment(w); });
  if (prog != cmd.words.end() && contains(kShells, basename_of(*prog)) && st.depth < 8) {
    for (const auto& r : cmd.redirections) {
      if (r.op == "<<<") {
        RateState inner = st;
        ++inner.depth;
        rate_line(r.target, inner, v);
      } else if (r.op == "<<" || r.op == "<<-") {
        v.add(Risk::dangerous, "runs a here-document in a shell, which cannot be checked");
      }
    }
  }
  flags.piped_from_download = piped_from_download;
  rate_words(cmd.words, flags, st, v);
}

bool is_downloader(const SimpleCommand& cmd) {
  for (const auto& w : cmd.words) {
    const std::string b = basename_of(w);
    if (contains(kDownloaders, b)) return true;
  }
  return false;
}

}  // namespace pensieve::shell::detail
