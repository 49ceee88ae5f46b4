#include "shell/paths.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

namespace pensieve::shell {

namespace {

// Directories that are the system: the directory itself and everything under it.
constexpr std::array<std::string_view, 16> kSystemTrees = {
    "bin", "boot", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "sys", "usr",
    "System", "Library", "efi", "initrd"};
// Top-level directories that are protected themselves (deleting one wipes many users' data);
// paths under them are ordinary.
constexpr std::array<std::string_view, 16> kTopLevel = {
    "home", "root", "var", "opt", "srv", "tmp", "mnt", "media", "snap", "run", "Users", "Applications",
    "Volumes", "private", "cdrom", "nix"};
// Whole disks and partitions.
constexpr std::array<std::string_view, 13> kBlockDevices = {
    "/dev/sd", "/dev/hd", "/dev/vd", "/dev/xvd", "/dev/nvme", "/dev/mmcblk", "/dev/disk", "/dev/rdisk",
    "/dev/md", "/dev/dm-", "/dev/mapper/", "/dev/loop", "/dev/root"};
constexpr std::array<std::string_view, 9> kSinks = {
    "/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "/dev/zero", "/dev/fd/", "/dev/random",
    "/dev/urandom", "/proc/self/fd/"};
constexpr std::array<std::string_view, 8> kHistoryFiles = {
    ".bash_history", ".zsh_history", ".sh_history", ".history", ".zhistory", ".ash_history",
    ".python_history", "fish_history"};

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Replaces $NAME / ${NAME} (not followed by a name character) with `value`.
void replace_var(std::string& s, std::string_view name, std::string_view value) {
  const std::string braced = "${" + std::string(name) + "}";
  for (size_t at; (at = s.find(braced)) != std::string::npos;) s.replace(at, braced.size(), value);
  // ${HOME:?msg}, ${HOME:-default}, ${HOME-x}: still the home directory when it is set.
  for (const std::string& open : {"${" + std::string(name) + ":", "${" + std::string(name) + "-"}) {
    for (size_t at; (at = s.find(open)) != std::string::npos;) {
      const size_t close = s.find('}', at);
      if (close == std::string::npos) break;
      s.replace(at, close - at + 1, value);
    }
  }
  const std::string plain = "$" + std::string(name);
  for (size_t at = 0; (at = s.find(plain, at)) != std::string::npos;) {
    const size_t after = at + plain.size();
    if (after < s.size() && (std::isalnum(static_cast<unsigned char>(s[after])) || s[after] == '_')) {
      at = after;
      continue;
    }
    s.replace(at, plain.size(), value);
    at += value.size();
  }
}

bool is_glob_all(std::string_view c) { return c == "*" || c == ".*" || c == "*.*" || c == "{*,.*}" || c == "**"; }
bool has_glob(std::string_view c) { return c.find_first_of("*?[") != std::string_view::npos; }

std::string parent_of(const std::string& p) {
  const size_t slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return p.substr(0, slash);
}

bool under(std::string_view path, std::string_view dir) {
  if (dir == "/") return starts_with(path, "/");
  return path == dir || (starts_with(path, dir) && path.size() > dir.size() && path[dir.size()] == '/');
}

PathClass classify_normal(const std::string& p, std::string_view cwd, std::string_view home, bool all_of) {
  if (p == "/") return PathClass::root;
  if (p == home) return PathClass::home;
  if (p[0] == '/') {
    for (auto s : kSinks) {
      if (p == s || (s.back() == '/' && starts_with(p, s))) return PathClass::sink;
    }
    for (auto d : kBlockDevices) {
      if (starts_with(p, d)) return PathClass::block_device;
    }
    const size_t slash = p.find('/', 1);
    const std::string_view top = std::string_view(p).substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
    if (std::find(kSystemTrees.begin(), kSystemTrees.end(), top) != kSystemTrees.end()) return PathClass::system;
    if (slash == std::string::npos && std::find(kTopLevel.begin(), kTopLevel.end(), top) != kTopLevel.end())
      return PathClass::system;
    if (under(home, p)) return PathClass::system;  // an ancestor of the home directory (/home, /Users)
  }
  const std::string name = p.substr(p.rfind('/') + 1);
  if (!all_of && std::find(kHistoryFiles.begin(), kHistoryFiles.end(), name) != kHistoryFiles.end())
    return PathClass::history;
  if (p[0] != '/') return starts_with(p, "..") ? PathClass::outside : PathClass::tree;
  if (!cwd.empty() && cwd[0] == '/' && cwd != "/" && under(p, cwd)) return PathClass::tree;
  return PathClass::outside;
}

}  // namespace

std::optional<std::string> normalize_path(std::string_view word, std::string_view cwd, std::string_view home) {
  std::string s(word);
  if (s == "~" || starts_with(s, "~/")) {
    s.replace(0, 1, home);
  } else if (starts_with(s, "~")) {  // ~user
    const size_t slash = s.find('/');
    const std::string user = s.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
    s.replace(0, 1 + user.size(), user == "root" ? std::string("/root") : "/home/" + user);
  }
  replace_var(s, "HOME", home);
  replace_var(s, "PWD", cwd);
  if (s.find('$') != std::string::npos || s.find('`') != std::string::npos) return std::nullopt;
  if (s.empty()) return std::nullopt;
  if (s[0] != '/' && !cwd.empty() && cwd[0] == '/') s = std::string(cwd) + "/" + s;
  const bool absolute = s[0] == '/';
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t next = s.find('/', pos);
    if (next == std::string::npos) next = s.size();
    std::string part = s.substr(pos, next - pos);
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") parts.pop_back();
      else if (!absolute) parts.push_back(part);
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    pos = next + 1;
  }
  std::string out = absolute ? "/" : "";
  for (size_t k = 0; k < parts.size(); ++k) {
    if (k) out += '/';
    out += parts[k];
  }
  if (out.empty()) out = ".";
  return out;
}

namespace {

// How sensitive a class is, for picking the worst of several alternatives (0 = most).
int severity_rank(PathClass c) {
  switch (c) {
    case PathClass::root: return 0;
    case PathClass::home: return 1;
    case PathClass::system: return 2;
    case PathClass::block_device: return 3;
    case PathClass::history: return 4;
    case PathClass::variable: return 5;
    case PathClass::outside: return 6;
    case PathClass::tree: return 7;
    case PathClass::sink: return 8;
  }
  return 8;
}

PathClass classify_one(std::string_view word, std::string_view cwd, std::string_view home);

// Brace expansion: /{bin,etc} is /bin and /etc; the most sensitive alternative wins.
std::optional<PathClass> classify_braces(std::string_view word, std::string_view cwd, std::string_view home) {
  for (size_t open = word.find('{'); open != std::string_view::npos; open = word.find('{', open + 1)) {
    if (open > 0 && word[open - 1] == '$') continue;
    const size_t close = word.find('}', open);
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view body = word.substr(open + 1, close - open - 1);
    if (body.find(',') == std::string_view::npos) continue;
    std::optional<PathClass> worst;
    size_t start = 0;
    while (start <= body.size()) {
      size_t comma = body.find(',', start);
      if (comma == std::string_view::npos) comma = body.size();
      std::string alt(word.substr(0, open));
      alt.append(body.substr(start, comma - start));
      alt.append(word.substr(close + 1));
      const PathClass c = classify_path(alt, cwd, home);
      if (!worst || severity_rank(c) < severity_rank(*worst)) worst = c;
      start = comma + 1;
    }
    return worst;
  }
  return std::nullopt;
}

}  // namespace

bool in_system_tree(std::string_view normalized) {
  if (normalized.size() < 2 || normalized[0] != '/') return false;
  const size_t slash = normalized.find('/', 1);
  const std::string_view top = normalized.substr(1, slash == std::string_view::npos ? std::string_view::npos : slash - 1);
  return std::find(kSystemTrees.begin(), kSystemTrees.end(), top) != kSystemTrees.end();
}

PathClass classify_path(std::string_view word, std::string_view cwd, std::string_view home) {
  if (auto c = classify_braces(word, cwd, home)) return *c;
  return classify_one(word, cwd, home);
}

namespace {

PathClass classify_one(std::string_view word, std::string_view cwd, std::string_view home) {
  if (!word.empty() && word[0] == '&') return PathClass::sink;  // >&2
  auto norm = normalize_path(word, cwd, home);
  if (!norm) return PathClass::variable;
  std::string p = *norm;
  std::string normal_home = normalize_path(home, "/", "/").value_or(std::string(home));
  const size_t slash = p.rfind('/');
  const std::string last = p.substr(slash == std::string::npos ? 0 : slash + 1);
  if (has_glob(last)) {
    std::string parent = parent_of(p);
    if (parent == ".") parent = std::string(cwd);
    if (is_glob_all(last)) {  // every entry of the parent: as sensitive as the parent itself
      auto c = classify_normal(parent, cwd, normal_home, true);
      return c == PathClass::history ? PathClass::outside : c;
    }
    p = parent == "/" ? "/x" : parent + "/x";
  }
  return classify_normal(p, cwd, normal_home, false);
}

}  // namespace

const char* describe(PathClass c) {
  switch (c) {
    case PathClass::root: return "the root filesystem";
    case PathClass::home: return "the home directory";
    case PathClass::system: return "a system directory";
    case PathClass::block_device: return "a block device";
    case PathClass::history: return "the shell history";
    case PathClass::sink: return "a special file";
    case PathClass::variable: return "a path that depends on a variable";
    case PathClass::outside: return "a path outside the working tree";
    case PathClass::tree: return "a path inside the working tree";
  }
  return "a path";
}

}  // namespace pensieve::shell
