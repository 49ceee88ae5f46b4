#include "cli/cmd_explain.h"

#include <cstring>
#include <string>
#include <vector>

#include "shell/tokenizer.h"

namespace pensieve::cli {

namespace {

// A flag and what it does; "{}" in the text stands for the flag's value (the next word, or what
// follows "=" in --flag=value).
struct FlagDoc {
  const char* flag;
  const char* text;
};

// `clustered`: single-letter flags may be combined (-la is -l -a). Flags whose text has "{}"
// take a value.
struct ProgramDoc {
  const char* name;  // "git log" for a subcommand
  const char* what;
  bool clustered;
  std::vector<FlagDoc> flags;
};

const std::vector<ProgramDoc>& programs() {
  static const std::vector<ProgramDoc> table = {
      {"find", "search a directory tree", false,
       {{"-name", "names matching {}"}, {"-iname", "names matching {} (any case)"},
        {"-path", "paths matching {}"}, {"-type", "entries of type {} (f file, d directory, l link)"},
        {"-mtime", "modified {} days ago (-N within N, +N over N)"},
        {"-mmin", "modified {} minutes ago (-N within N, +N over N)"},
        {"-newer", "modified after {}"}, {"-size", "size {} (+N bigger, -N smaller; k, M, G)"},
        {"-maxdepth", "at most {} levels down"}, {"-mindepth", "at least {} levels down"},
        {"-empty", "empty files or directories"}, {"-delete", "DELETES what matches"},
        {"-exec", "runs a command on each match"}, {"-print0", "NUL-separated output"},
        {"-user", "owned by {}"}, {"-perm", "permissions {}"}, {"-not", "negates the next test"},
        {"-o", "or"}, {"-ls", "lists matches in ls -l form"}, {"-printf", "prints in format {}"}}},
      {"grep", "search text for a pattern", true,
       {{"-r", "recursively"}, {"-R", "recursively, following links"}, {"-i", "ignoring case"},
        {"-n", "with line numbers"}, {"-l", "only the names of matching files"},
        {"-L", "only the names of files without a match"}, {"-c", "counts matches"},
        {"-v", "lines that do NOT match"}, {"-E", "extended regular expressions"}, {"-F", "fixed strings"},
        {"-w", "whole words"}, {"-x", "whole lines"}, {"-o", "only the matching part"},
        {"-h", "without file names"}, {"-H", "with file names"}, {"-q", "quietly (exit status only)"},
        {"-A", "{} lines after"}, {"-B", "{} lines before"}, {"-C", "{} lines around"},
        {"--include", "only files matching {}"}, {"--exclude", "skipping files matching {}"},
        {"--exclude-dir", "skipping directories {}"}, {"-e", "pattern {}"}}},
      {"ls", "list directory contents", true,
       {{"-l", "long format"}, {"-a", "including hidden entries"}, {"-A", "including hidden entries but . and .."},
        {"-h", "human-readable sizes"}, {"-t", "newest first"}, {"-S", "largest first"}, {"-r", "reversed order"},
        {"-R", "recursively"}, {"-1", "one per line"}, {"-d", "directories themselves, not their contents"}}},
      {"du", "disk usage of files and directories", true,
       {{"-s", "one total per argument"}, {"-h", "human-readable sizes"}, {"-a", "files too"},
        {"-c", "with a grand total"}, {"-d", "at most {} levels deep"}, {"--max-depth", "at most {} levels deep"}}},
      {"df", "free space per filesystem", true, {{"-h", "human-readable sizes"}, {"-T", "with filesystem types"}}},
      {"wc", "count lines, words and bytes", true,
       {{"-l", "lines"}, {"-w", "words"}, {"-c", "bytes"}, {"-m", "characters"}}},
      {"head", "first lines", true, {{"-n", "the first {}"}, {"-c", "the first {} bytes"}}},
      {"tail", "last lines", true,
       {{"-n", "the last {} (+N: from line N)"}, {"-c", "the last {} bytes"}, {"-f", "following new output"}}},
      {"sort", "sort lines", true,
       {{"-n", "numerically"}, {"-h", "by human-readable sizes"}, {"-r", "in reverse"}, {"-u", "dropping repeats"},
        {"-k", "by field {}"}, {"-t", "fields separated by {}"}, {"-f", "ignoring case"},
        {"-V", "by version number"}, {"-o", "writing to {}"}}},
      {"uniq", "collapse adjacent repeated lines", true,
       {{"-c", "with counts"}, {"-d", "only repeated lines"}, {"-u", "only unique lines"}, {"-i", "ignoring case"}}},
      {"cut", "cut fields out of lines", true,
       {{"-d", "fields separated by {}"}, {"-f", "fields {}"}, {"-c", "characters {}"}}},
      {"tr", "translate or delete characters", true, {{"-d", "deleting"}, {"-s", "squeezing repeats"}}},
      {"sed", "edit text with a script", true,
       {{"-i", "IN PLACE (changes the files)"}, {"-n", "printing only what the script prints"},
        {"-E", "extended regular expressions"}, {"-e", "script {}"}}},
      {"awk", "process text by fields", false, {{"-F", "fields separated by {}"}, {"-v", "variable {}"}}},
      {"cat", "print files", true, {{"-n", "numbering lines"}}},
      {"echo", "print text", false, {}},
      {"printf", "print formatted text", false, {}},
      {"tar", "pack or unpack archives", true,
       {{"-c", "create"}, {"-x", "extract"}, {"-t", "list contents"}, {"-z", "gzip"}, {"-j", "bzip2"},
        {"-J", "xz"}, {"-v", "verbosely"}, {"-f", "archive {}"}, {"-C", "in directory {}"},
        {"--exclude", "skipping {}"}}},
      {"gzip", "compress files (replacing them)", true,
       {{"-d", "decompress"}, {"-k", "keeping the originals"}, {"-r", "recursively"}, {"-c", "to stdout"},
        {"-l", "list sizes"}, {"-9", "best compression"}}},
      {"gunzip", "decompress .gz files", true, {{"-k", "keeping the originals"}, {"-c", "to stdout"}}},
      {"zip", "create a zip archive", true, {{"-r", "recursively"}, {"-q", "quietly"}, {"-9", "best compression"}}},
      {"unzip", "extract a zip archive", true,
       {{"-l", "list contents only"}, {"-d", "into {}"}, {"-o", "overwriting files"}, {"-q", "quietly"}}},
      {"chmod", "change permissions", true, {{"-R", "recursively"}, {"-v", "verbosely"}}},
      {"chown", "change owner", true, {{"-R", "recursively"}}},
      {"ln", "make links", true, {{"-s", "symbolic"}, {"-f", "replacing existing ones"}}},
      {"mkdir", "create directories", true, {{"-p", "with parents, no error if present"}}},
      {"cp", "copy files", true,
       {{"-r", "recursively"}, {"-R", "recursively"}, {"-a", "preserving everything"}, {"-i", "asking before overwriting"},
        {"-n", "never overwriting"}, {"-v", "verbosely"}, {"-p", "preserving times and modes"}}},
      {"mv", "move or rename", true, {{"-i", "asking before overwriting"}, {"-n", "never overwriting"}, {"-v", "verbosely"}}},
      {"rm", "DELETE files", true,
       {{"-r", "recursively"}, {"-R", "recursively"}, {"-f", "without asking"}, {"-i", "asking first"}, {"-v", "verbosely"}}},
      {"rmdir", "remove empty directories", true, {{"-p", "and empty parents"}}},
      {"touch", "create files or update their times", true, {{"-d", "to date {}"}, {"-t", "to time {}"}}},
      {"date", "print or set the date", false, {{"-d", "of {}"}, {"+%s", "as seconds since 1970"}, {"-u", "in UTC"}}},
      {"ps", "list processes", false, {{"aux", "all processes with owners"}, {"-ef", "all processes, full format"}}},
      {"kill", "signal processes", false, {{"-9", "SIGKILL (cannot be caught)"}, {"-15", "SIGTERM"}}},
      {"pkill", "signal processes by name", true, {{"-f", "matching the whole command line"}}},
      {"pgrep", "find processes by name", true, {{"-f", "matching the whole command line"}, {"-l", "with names"}}},
      {"xargs", "run a command on the words of its input", true,
       {{"-0", "NUL-separated input"}, {"-I", "replacing {} in the command"}, {"-n", "{} arguments per run"},
        {"-r", "not at all for empty input"}, {"-P", "{} runs in parallel"}}},
      {"curl", "transfer a URL", true,
       {{"-O", "saving under the remote name"}, {"-o", "saving to {}"}, {"-L", "following redirects"},
        {"-s", "silently"}, {"-S", "still showing errors"}, {"-f", "failing on HTTP errors"}, {"-I", "headers only"},
        {"-X", "method {}"}, {"-d", "sending data {}"}, {"-H", "header {}"}}},
      {"wget", "download a URL", true, {{"-O", "saving to {}"}, {"-q", "quietly"}, {"-c", "resuming"}}},
      {"ssh", "log in or run a command on another machine", true, {{"-p", "port {}"}, {"-i", "key {}"}}},
      {"scp", "copy files between machines", true, {{"-r", "recursively"}, {"-P", "port {}"}}},
      {"rsync", "synchronise files", true,
       {{"-a", "archive mode"}, {"-v", "verbosely"}, {"-z", "compressing"}, {"-n", "dry run"},
        {"--delete", "DELETING extra files in the destination"}}},
      {"jq", "query JSON", true, {{"-r", "raw strings"}, {"-c", "compact output"}, {"-s", "slurping all inputs"}}},
      {"stat", "file status", false, {{"-c", "format {}"}, {"-f", "format {}"}}},
      {"file", "guess file types", false, {}},
      {"diff", "compare files", true, {{"-u", "unified format"}, {"-r", "recursively"}, {"-q", "only whether they differ"}}},
      {"basename", "strip directory (and suffix) from a name", false, {}},
      {"dirname", "the directory part of a name", false, {}},
      {"realpath", "absolute path", false, {}},
      {"sudo", "run as root", false, {}},
      {"git status", "show the working tree's state", true, {{"-s", "short format"}}},
      {"git log", "show commits", false,
       {{"--oneline", "one line each"}, {"-n", "the last {}"}, {"--since", "since {}"}, {"--author", "by {}"},
        {"--stat", "with changed files"}}},
      {"git diff", "show changes", false, {{"--stat", "as a summary"}, {"--cached", "of staged files"}, {"--name-only", "names only"}}},
      {"git add", "stage changes", false, {{"-A", "all of them"}}},
      {"git commit", "record staged changes", true, {{"-m", "with message {}"}, {"-a", "staging tracked files"}}},
      {"git branch", "list or create branches", true, {{"-a", "all, remote ones too"}, {"-d", "delete {}"}}},
      {"git checkout", "switch branches or restore files", true, {{"-b", "creating branch {}"}}},
      {"git switch", "switch branches", true, {{"-c", "creating branch {}"}}},
      {"git push", "upload commits", false, {{"--force", "OVERWRITING the remote history"}, {"-f", "OVERWRITING the remote history"}}},
      {"git pull", "fetch and merge", false, {}},
      {"git clone", "copy a repository", false, {}},
      {"git stash", "shelve changes", false, {}},
      {"git tag", "list or create tags", false, {}},
      {"git rm", "remove tracked files", false, {{"--cached", "from the index only"}}},
      {"git ls-files", "list tracked files", false, {}},
      {"git show", "show a commit", false, {{"--stat", "with changed files"}}},
      {"git reset", "move HEAD or unstage", false, {{"--hard", "DISCARDING local changes"}}},
      {"docker ps", "list containers", true, {{"-a", "stopped ones too"}, {"-q", "ids only"}}},
      {"docker images", "list images", false, {}},
      {"docker run", "start a container", true,
       {{"-d", "in the background"}, {"-it", "interactively"}, {"-p", "publishing port {}"}, {"--rm", "removed on exit"},
        {"-v", "mounting {}"}, {"--name", "named {}"}}},
      {"docker stop", "stop containers", false, {}},
      {"docker rm", "remove containers", true, {{"-f", "forcibly"}}},
      {"docker logs", "show a container's output", true, {{"-f", "following it"}}},
      {"docker exec", "run a command in a container", false, {}},
      {"systemctl status", "show a service's state", false, {}},
      {"systemctl start", "start a service", false, {}},
      {"systemctl stop", "stop a service", false, {}},
      {"systemctl restart", "restart a service", false, {}},
      {"systemctl enable", "start a service at boot", false, {{"--now", "and now"}}},
      {"systemctl disable", "no longer start a service at boot", false, {}},
  };
  return table;
}

const ProgramDoc* find_program(const std::string& name) {
  for (const ProgramDoc& p : programs())
    if (name == p.name) return &p;
  return nullptr;
}

const FlagDoc* find_flag(const ProgramDoc& p, std::string_view flag) {
  for (const FlagDoc& f : p.flags)
    if (flag == f.flag) return &f;
  return nullptr;
}

bool takes_value(const FlagDoc& f) { return std::strstr(f.text, "{}") != nullptr; }

// find's tests whose value reads differently by its sign: -mtime -1 is "within the last 1 day".
std::string find_value_text(std::string_view flag, const std::string& value) {
  if (value.empty()) return "";
  const char sign = value[0] == '+' || value[0] == '-' ? value[0] : 0;
  const std::string n = sign ? value.substr(1) : value;
  if (flag == "-mtime" || flag == "-mmin" || flag == "-atime" || flag == "-ctime") {
    const std::string unit = flag == "-mmin" ? " minute(s)" : " day(s)";
    const std::string what = flag == "-atime" ? "read" : flag == "-ctime" ? "changed" : "modified";
    if (sign == '-') return what + " within the last " + n + unit;
    if (sign == '+') return what + " more than " + n + unit + " ago";
    return what + " " + n + unit + " ago";
  }
  if (flag == "-size") {
    std::string num = n, unit = " blocks of 512 bytes";
    if (!num.empty()) {
      switch (num.back()) {
        case 'c': unit = " bytes"; break;
        case 'k': unit = " KiB"; break;
        case 'M': unit = " MiB"; break;
        case 'G': unit = " GiB"; break;
        default: break;
      }
      if (std::string("ckMG").find(num.back()) != std::string::npos) num.pop_back();
    }
    return std::string(sign == '+' ? "bigger than " : sign == '-' ? "smaller than " : "of size ") + num + unit;
  }
  if (flag == "-type") {
    if (value == "f") return "regular files";
    if (value == "d") return "directories";
    if (value == "l") return "symbolic links";
  }
  return "";
}

std::string fill(const FlagDoc& f, const std::string& value) {
  if (std::string special = find_value_text(f.flag, value); !special.empty()) return special;
  std::string t = f.text;
  if (auto pos = t.find("{}"); pos != std::string::npos) t.replace(pos, 2, value);
  return t;
}

// One simple command: "program: what it does; flag: meaning; ...".
std::string explain_simple(const shell::SimpleCommand& cmd) {
  const auto& w = cmd.words;
  size_t i = 0;
  while (i < w.size() && w[i].find('=') != std::string::npos && w[i][0] != '-') ++i;  // X=1 assignments
  if (i >= w.size()) return "sets variables";
  std::string prog = w[i];
  if (auto slash = prog.rfind('/'); slash != std::string::npos) prog = prog.substr(slash + 1);
  ++i;
  const ProgramDoc* doc = nullptr;
  if ((prog == "git" || prog == "docker" || prog == "systemctl") && i < w.size()) {
    doc = find_program(prog + " " + w[i]);
    if (doc) prog += " " + w[i++];
  }
  if (!doc) doc = find_program(prog);
  std::string out = prog + ": " + (doc ? doc->what : "(not in the explanation table)");
  std::vector<std::string> unknown;
  std::vector<std::string> operands;
  for (; i < w.size(); ++i) {
    const std::string& word = w[i];
    const FlagDoc* f = doc ? find_flag(*doc, word) : nullptr;
    std::string value;
    if (!f && doc && word.rfind("--", 0) == 0 && word.find('=') != std::string::npos) {
      f = find_flag(*doc, word.substr(0, word.find('=')));
      value = word.substr(word.find('=') + 1);
      if (f && !takes_value(*f)) f = nullptr;
    }
    if (f) {
      if (takes_value(*f) && value.empty() && i + 1 < w.size()) value = w[++i];
      out += "; " + std::string(f->flag) + (value.empty() ? "" : " " + value) + ": " + fill(*f, value);
      continue;
    }
    // -la is -l -a for programs whose one-letter flags combine.
    if (doc && doc->clustered && word.size() > 2 && word[0] == '-' && word[1] != '-') {
      std::string parts;
      bool all_known = true;
      for (size_t k = 1; k < word.size() && all_known; ++k) {
        const FlagDoc* one = find_flag(*doc, std::string("-") + word[k]);
        if (!one) {
          all_known = false;
        } else if (takes_value(*one)) {
          // The rest of the word (or the next word) is the value: -n5, -fname.tar.
          std::string v = k + 1 < word.size() ? word.substr(k + 1) : (i + 1 < w.size() ? w[++i] : "");
          parts += (parts.empty() ? "" : ", ") + fill(*one, v);
          break;
        } else {
          parts += (parts.empty() ? "" : ", ") + std::string(one->text);
        }
      }
      if (all_known) {
        out += "; " + word + ": " + parts;
        continue;
      }
    }
    if (word.size() > 1 && word[0] == '-') unknown.push_back(word);
    else operands.push_back(word);
  }
  if (!operands.empty()) {
    out += "; on";
    for (const auto& o : operands) out += " " + o;
  }
  if (!unknown.empty()) {
    out += "; other options:";
    for (const auto& u : unknown) out += " " + u;
  }
  for (const auto& r : cmd.redirections) {
    if (r.op == ">" || r.op == ">|") out += "; writes (replacing) " + r.target;
    else if (r.op == ">>") out += "; appends to " + r.target;
    else if (r.op == "<") out += "; reads " + r.target;
  }
  return out;
}

}  // namespace

std::string explain_command(std::string_view command) {
  const shell::Script script = shell::tokenize(command);
  std::string out;
  std::string joiner;
  for (const auto& p : script.pipelines) {
    for (size_t k = 0; k < p.commands.size(); ++k) {
      if (!out.empty()) out += "\n";
      out += (k > 0 ? "  | " : joiner.empty() ? "  " : "  " + joiner + " ") + explain_simple(p.commands[k]);
    }
    joiner = p.next == "&&" ? "then, if it worked," : p.next == "||" ? "else" : p.next == "&" ? "(in the background) then" : "then";
  }
  if (!script.ok) out += (out.empty() ? "" : "\n") + std::string("  (does not parse: ") + script.error + ")";
  return out;
}

}  // namespace pensieve::cli
