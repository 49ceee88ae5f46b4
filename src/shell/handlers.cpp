// Per-command handlers: the rules that depend on a command's own options and path operands
// (rm, find, chmod/chown, dd, mv/cp/ln/tee/truncate, sed -i, kill, curl/wget -o, tar, cd).
#include <algorithm>

#include "shell/rules.h"

namespace pensieve::shell::detail {

namespace {

bool is_option(const std::string& a) { return a.size() > 1 && a[0] == '-'; }

// Operands: words that are not options (everything after "--" counts).
std::vector<std::string> operands(const std::vector<std::string>& args,
                                  std::initializer_list<std::string_view> with_value = {}) {
  std::vector<std::string> out;
  bool done = false;
  for (size_t k = 0; k < args.size(); ++k) {
    if (!done && args[k] == "--") {
      done = true;
    } else if (!done && is_option(args[k])) {
      if (std::find(with_value.begin(), with_value.end(), args[k]) != with_value.end()) ++k;
    } else {
      out.push_back(args[k]);
    }
  }
  return out;
}

bool protected_class(PathClass c) {
  return c == PathClass::root || c == PathClass::home || c == PathClass::system || c == PathClass::block_device;
}

std::string where(const std::string& t, PathClass c) { return t + " (" + describe(c) + ")"; }

void rate_delete(const std::string& who, const std::string& t, bool recursive, const RateState& st, Verdict& v) {
  const PathClass c = classify_path(t, st.cwd, st.home);
  if (c == PathClass::history) return v.add(Risk::blocked, who + " wipes the shell history (" + t + ")");
  if (protected_class(c)) {
    return v.add(Risk::blocked, (recursive ? who + " -r: recursive delete of " : who + " deletes ") + where(t, c));
  }
  if (recursive) {
    if (c == PathClass::variable)
      return v.add(Risk::dangerous, "recursive delete of " + t + " (an unset variable could make it /)");
    return v.add(Risk::dangerous, "recursive delete of " + t);
  }
  if (c == PathClass::variable) return v.add(Risk::dangerous, who + " deletes " + where(t, c));
  if (c == PathClass::outside) return v.add(Risk::caution, who + " deletes " + where(t, c));
  v.add(Risk::caution, who + " deletes " + t);
}

void handle_rm(const CommandView& c, RateState& st, Verdict& v) {
  bool recursive = c.implied_recursive;
  bool options = true;
  std::vector<std::string> targets;
  for (const auto& a : c.args) {
    if (options && a == "--") {
      options = false;
    } else if (options && a.rfind("--", 0) == 0) {
      if (a == "--recursive") recursive = true;
      if (a == "--no-preserve-root") v.add(Risk::blocked, "rm --no-preserve-root: deletes the root filesystem");
    } else if (options && is_option(a)) {
      if (a.find_first_of("rR") != std::string::npos) recursive = true;
    } else {
      targets.push_back(a);
    }
  }
  if (targets.empty() && c.args_from_stdin) {
    v.add(Risk::dangerous, recursive ? "recursive delete of the paths read from input (xargs rm -r)"
                                     : "deletes the files named on its input (xargs rm)");
  }
  for (const auto& t : targets) rate_delete(c.name, t, recursive, st, v);
}

void handle_unlink(const CommandView& c, RateState& st, Verdict& v) {
  for (const auto& t : operands(c.args)) rate_delete(c.name, t, false, st, v);
}

void handle_shred(const CommandView& c, RateState& st, Verdict& v) {
  for (const auto& t : operands(c.args, {"-n", "-s", "--iterations", "--size"})) {
    const PathClass pc = classify_path(t, st.cwd, st.home);
    if (pc == PathClass::history) v.add(Risk::blocked, "shred wipes the shell history (" + t + ")");
    else if (protected_class(pc)) v.add(Risk::blocked, "shred destroys " + where(t, pc));
    else v.add(Risk::dangerous, "shred destroys " + t + " beyond recovery");
  }
  if (c.args_from_stdin) v.add(Risk::dangerous, "shred destroys the files named on its input");
}

void handle_find(const CommandView& c, RateState& st, Verdict& v) {
  std::vector<std::string> roots;
  size_t k = 0;
  for (; k < c.args.size(); ++k) {
    const std::string& a = c.args[k];
    if (a == "-H" || a == "-L" || a == "-P") continue;
    if (a.empty() || a[0] == '-' || a == "(" || a == "!" || a == "\\(") break;
    roots.push_back(a);
  }
  if (roots.empty()) roots.push_back(".");
  for (; k < c.args.size(); ++k) {
    const std::string& a = c.args[k];
    if (a == "-delete") {
      for (const auto& r : roots) {
        const PathClass pc = classify_path(r, st.cwd, st.home);
        if (protected_class(pc)) v.add(Risk::blocked, "find -delete: recursive delete under " + where(r, pc));
        else v.add(Risk::dangerous, "find -delete: recursive delete of every match under " + r);
      }
    } else if (a == "-exec" || a == "-execdir" || a == "-ok" || a == "-okdir") {
      std::vector<std::string> inner;
      for (++k; k < c.args.size() && c.args[k] != ";" && c.args[k] != "+"; ++k) inner.push_back(c.args[k]);
      if (inner.empty() || st.depth >= 8) continue;
      const std::string prog = basename_of(inner[0]);
      for (const auto& r : roots) {
        std::vector<std::string> words = inner;
        for (auto& w : words) {
          for (size_t at; (at = w.find("{}")) != std::string::npos;) w.replace(at, 2, r);
        }
        CommandView flags;
        flags.implied_recursive = true;
        RateState inner_state = st;
        ++inner_state.depth;
        rate_words(words, flags, inner_state, v);
      }
      (void)prog;
    } else if (a == "-fprint" || a == "-fprintf" || a == "-fls") {
      if (k + 1 < c.args.size()) rate_write("find " + a, c.args[k + 1], true, st, v);
    }
  }
}

// chmod / chown / chgrp: the first operand is the mode or owner, the rest are paths.
void handle_perms(const CommandView& c, RateState& st, Verdict& v) {
  bool recursive = c.implied_recursive;
  bool have_spec = false;
  std::vector<std::string> targets;
  for (const auto& a : c.args) {
    if (a == "-R" || a == "--recursive" || (is_option(a) && a[1] != '-' && a.find('R') != std::string::npos &&
                                             c.name != "chmod")) {
      recursive = true;
    } else if (c.name == "chmod" && is_option(a) && a.find_first_not_of("-rwxXst") == std::string::npos && !have_spec) {
      have_spec = true;  // chmod -x FILE: a mode, not an option
    } else if (c.name == "chmod" && is_option(a) && a.find('R') != std::string::npos && a[1] != '-') {
      recursive = true;
    } else if (is_option(a) || a.rfind("--reference", 0) == 0) {
      if (a.rfind("--reference", 0) == 0) have_spec = true;
    } else if (!have_spec) {
      have_spec = true;
    } else {
      targets.push_back(a);
    }
  }
  const std::string what = c.name == "chmod" ? "permissions" : "ownership";
  for (const auto& t : targets) {
    const PathClass pc = classify_path(t, st.cwd, st.home);
    if (recursive && protected_class(pc)) {
      v.add(Risk::blocked, c.name + " -R changes " + what + " of everything under " + where(t, pc));
    } else if (recursive) {
      v.add(Risk::dangerous, c.name + " -R changes " + what + " recursively (" + t + ")");
    } else if (protected_class(pc) || pc == PathClass::history) {
      v.add(Risk::dangerous, c.name + " changes " + what + " of " + where(t, pc));
    } else {
      v.add(Risk::caution, c.name + " changes " + what + " of " + t);
    }
  }
  if (targets.empty() && c.args_from_stdin)
    v.add(recursive ? Risk::dangerous : Risk::caution, c.name + " changes " + what + " of the files named on its input");
}

void handle_dd(const CommandView& c, RateState& st, Verdict& v) {
  for (const auto& a : c.args) {
    if (a.rfind("of=", 0) == 0) rate_write("dd", a.substr(3), true, st, v);
  }
}

// cp / mv / ln / install: the last operand (or -t DIR) is written; mv also removes its sources.
void handle_copy(const CommandView& c, RateState& st, Verdict& v) {
  std::vector<std::string> ops = operands(c.args, {"-t", "--target-directory", "-S", "--suffix", "-m", "-o", "-g"});
  std::string dest;
  for (size_t k = 0; k + 1 < c.args.size(); ++k) {
    if (c.args[k] == "-t" || c.args[k] == "--target-directory") dest = c.args[k + 1];
  }
  if (dest.empty() && !ops.empty() && !c.args_from_stdin) {
    dest = ops.back();
    ops.pop_back();
  }
  if (c.name == "mv") {
    for (const auto& s : ops) {
      const PathClass pc = classify_path(s, st.cwd, st.home);
      if (protected_class(pc) || pc == PathClass::history) v.add(Risk::blocked, "mv moves away " + where(s, pc));
    }
    if (!dest.empty() && classify_path(dest, st.cwd, st.home) == PathClass::sink && dest != "&1")
      v.add(Risk::dangerous, "mv to " + dest + " destroys the files moved");
  }
  if (!dest.empty()) rate_write(c.name, dest, true, st, v);
}

void handle_tee(const CommandView& c, RateState& st, Verdict& v) {
  const bool append = any_flag(c.args, "-a") || any_flag(c.args, "--append");
  for (const auto& t : operands(c.args)) {
    const PathClass pc = classify_path(t, st.cwd, st.home);
    if (!append && (pc == PathClass::tree || pc == PathClass::outside || pc == PathClass::variable))
      v.add(Risk::dangerous, "tee overwrites " + t);
    else
      rate_write("tee", t, !append, st, v);
  }
}

void handle_truncate(const CommandView& c, RateState& st, Verdict& v) {
  for (const auto& t : operands(c.args, {"-s", "--size", "-r", "--reference"})) rate_write("truncate", t, true, st, v);
}

// sed -i / perl -i: edits files in place.
void handle_in_place(const CommandView& c, RateState& st, Verdict& v) {
  bool in_place = false;
  for (const auto& a : c.args) {
    if (a.rfind("--in-place", 0) == 0 || (is_option(a) && a[1] != '-' && a.find('i') != std::string::npos &&
                                           (c.name == "perl" || a[1] == 'i' || a.size() <= 4)))
      in_place = true;
  }
  if (!in_place) return;
  bool any = false;
  for (const auto& t : operands(c.args, {"-e", "-f", "--expression", "--file"})) {
    const PathClass pc = classify_path(t, st.cwd, st.home);
    if (pc == PathClass::history) v.add(Risk::blocked, c.name + " -i rewrites the shell history (" + t + ")");
    else if (protected_class(pc)) v.add(Risk::dangerous, c.name + " -i edits " + where(t, pc) + " in place");
    any = true;
  }
  if (any || c.args_from_stdin) v.add(Risk::caution, c.name + " -i edits files in place");
}

void handle_kill(const CommandView& c, RateState& st, Verdict& v) {
  bool signal_seen = false;
  for (size_t k = 0; k < c.args.size(); ++k) {
    const std::string& a = c.args[k];
    if (a == "-l" || a == "-L") return;  // lists signals
    if (a == "-s" || a == "-n") {
      ++k;
      signal_seen = true;
      continue;
    }
    if (is_option(a) && !signal_seen) {
      signal_seen = true;
      continue;
    }
    if (a == "-1") v.add(Risk::blocked, "kill -1 kills every process you can signal");
    if (a == "1") v.add(Risk::blocked, "kills init (PID 1), bringing the machine down");
  }
  v.add(Risk::dangerous, "kills processes (" + c.name + ")");
}

// curl -o FILE / wget -O FILE: a new file in the tree is fine; elsewhere it is a write.
void handle_download(const CommandView& c, RateState& st, Verdict& v) {
  for (size_t k = 0; k + 1 < c.args.size(); ++k) {
    const std::string& a = c.args[k];
    const bool out = (c.name == "curl" && (a == "-o" || a == "--output")) ||
                     (c.name == "wget" && (a == "-O" || a == "--output-document"));
    if (!out || c.args[k + 1] == "-") continue;
    const PathClass pc = classify_path(c.args[k + 1], st.cwd, st.home);
    if (pc != PathClass::tree) rate_write(c.name, c.args[k + 1], true, st, v);
  }
}

void handle_tar(const CommandView& c, RateState& st, Verdict& v) {
  bool extract = false;
  for (size_t k = 0; k < c.args.size(); ++k) {
    const std::string& a = c.args[k];
    if (a == "--extract" || a == "--get" || (k == 0 && a.rfind("--", 0) != 0 && a.find('x') != std::string::npos) ||
        (is_option(a) && a[1] != '-' && a.find('x') != std::string::npos))
      extract = true;
  }
  if (!extract) return;
  v.add(Risk::caution, "extracts an archive (may overwrite files)");
  for (size_t k = 0; k + 1 < c.args.size(); ++k) {
    if (c.args[k] == "-C" || c.args[k] == "--directory") {
      const PathClass pc = classify_path(c.args[k + 1], st.cwd, st.home);
      if (pc == PathClass::root || pc == PathClass::system)
        v.add(Risk::dangerous, "extracts an archive into " + where(c.args[k + 1], pc));
    }
  }
}

// cd changes where later relative paths point (cd / && rm -rf * is rm -rf /*).
void handle_cd(const CommandView& c, RateState& st, Verdict& v) {
  const auto ops = operands(c.args);
  if (ops.empty() || ops[0] == "~") {
    st.cwd = st.home;
    return;
  }
  if (ops[0] == "-") {
    st.cwd = "$OLDPWD";
    return;
  }
  auto norm = normalize_path(ops[0], st.cwd, st.home);
  st.cwd = norm ? *norm : "$UNKNOWN";
}

struct HandlerRow {
  std::string_view name;
  Handler fn;
};
constexpr HandlerRow kHandlers[] = {
    {"rm", handle_rm},          {"unlink", handle_unlink},     {"shred", handle_shred},
    {"find", handle_find},      {"chmod", handle_perms},       {"chown", handle_perms},
    {"chgrp", handle_perms},    {"dd", handle_dd},             {"cp", handle_copy},
    {"mv", handle_copy},        {"ln", handle_copy},           {"install", handle_copy},
    {"tee", handle_tee},        {"truncate", handle_truncate}, {"sed", handle_in_place},
    {"perl", handle_in_place},  {"kill", handle_kill},         {"curl", handle_download},
    {"wget", handle_download},  {"tar", handle_tar},           {"cd", handle_cd},
    {"pushd", handle_cd},
};

}  // namespace

Handler find_handler(std::string_view name) {
  for (const auto& h : kHandlers) {
    if (h.name == name) return h.fn;
  }
  return nullptr;
}

}  // namespace pensieve::shell::detail
