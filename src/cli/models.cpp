// pensieve list | show NAME | rm NAME | import FILE.gguf [NAME] | cp FROM TO: the model store
// (src/store/store.h) from the command line. Every command takes --models DIR (default:
// $PENSIEVE_MODELS, else ~/.local/share/pensieve/models).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/command.h"
#include "store/store.h"

namespace pensieve::cli {

namespace {

std::string human_bytes(int64_t n) {
  char buf[32];
  if (n >= (1LL << 30)) std::snprintf(buf, sizeof buf, "%.1f GB", n / 1073741824.0);
  else if (n >= (1LL << 20)) std::snprintf(buf, sizeof buf, "%.1f MB", n / 1048576.0);
  else if (n >= 1024) std::snprintf(buf, sizeof buf, "%.1f KB", n / 1024.0);
  else std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(n));
  return buf;
}

void add_store_option(CLI::App& app, std::string& dir) {
  app.add_option("--models", dir, "the model store folder (default: $PENSIEVE_MODELS or ~/.local/share/pensieve/models)");
}

store::Store open_store(const std::string& dir) {
  return store::Store(dir.empty() ? store::Store::default_root() : std::filesystem::path(dir));
}

int fail(const Error& e) {
  std::fprintf(stderr, "pensieve: %s\n", e.message.c_str());
  return e.kind == ErrorKind::invalid_request ? 2 : 1;
}

int run_list(int argc, char** argv) {
  CLI::App app{"List the models in the store"};
  app.name("pensieve list");
  std::string dir;
  bool as_json = false;
  add_store_option(app, dir);
  app.add_flag("--json", as_json, "one JSON array of manifests");
  if (auto rc = parse_or_usage(app, argc, argv, "usage: pensieve list [--json] [--models DIR]\n")) return *rc;
  store::Store s = open_store(dir);
  std::vector<std::string> warnings;
  auto models = s.list(&warnings);
  for (const auto& w : warnings) std::fprintf(stderr, "pensieve: warning: skipping %s\n", w.c_str());
  if (as_json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& m : models) arr.push_back(m.to_json());
    std::printf("%s\n", arr.dump(2).c_str());
    return 0;
  }
  std::printf("%-44s %-14s %-8s %-10s %-9s %s\n", "NAME", "ID", "ARCH", "QUANT", "SIZE", "MODIFIED");
  for (const auto& m : models)
    std::printf("%-44s %-14s %-8s %-10s %-9s %s\n", m.name.c_str(), m.sha256.substr(0, 12).c_str(),
                m.architecture.c_str(), m.quant.c_str(), human_bytes(m.size).c_str(), m.modified.c_str());
  return 0;
}

int run_show(int argc, char** argv) {
  CLI::App app{"Show a stored model: its manifest, then what `pensieve info` says about its file"};
  app.name("pensieve show");
  std::string dir, name;
  bool as_json = false;
  add_store_option(app, dir);
  app.add_option("name", name, "model name (name[:tag])")->required();
  app.add_flag("--json", as_json, "the manifest and the file's info as one JSON object");
  if (auto rc = parse_or_usage(app, argc, argv, "usage: pensieve show NAME [--json] [--models DIR]\n")) return *rc;
  store::Store s = open_store(dir);
  auto m = s.find(name);
  if (!m) return fail(m.error());
  const std::string path = s.blob_path(*m).string();
  if (!as_json) {
    std::printf("name:          %s\nfile:          %s\nsha256:        %s\nsize:          %s (%lld bytes)\n"
                "source:        %s\nmodified:      %s\n\n",
                m->name.c_str(), path.c_str(), m->sha256.c_str(), human_bytes(m->size).c_str(),
                static_cast<long long>(m->size), m->source.c_str(), m->modified.c_str());
    std::fflush(stdout);
  }
  // The file's own description comes from `pensieve info` (one place that reads GGUF metadata).
  for (const Command& c : commands()) {
    if (std::string_view(c.name) != "info") continue;
    std::vector<std::string> args = {"info", path};
    if (as_json) args.push_back("--json");
    std::vector<char*> av;
    for (auto& a : args) av.push_back(a.data());
    av.push_back(nullptr);
    if (as_json) {
      std::printf("{\"manifest\": %s, \"info\": ", m->to_json().dump().c_str());
      std::fflush(stdout);
      int rc = c.run(static_cast<int>(args.size()), av.data());
      std::printf("}\n");
      return rc;
    }
    return c.run(static_cast<int>(args.size()), av.data());
  }
  return 0;
}

int run_rm(int argc, char** argv) {
  CLI::App app{"Remove models from the store (their files too, when no other name uses them)"};
  app.name("pensieve rm");
  std::string dir;
  std::vector<std::string> names;
  add_store_option(app, dir);
  app.add_option("names", names, "model names")->required();
  if (auto rc = parse_or_usage(app, argc, argv, "usage: pensieve rm NAME... [--models DIR]\n")) return *rc;
  store::Store s = open_store(dir);
  int rc = 0;
  for (const auto& n : names) {
    Status st = s.remove(n);
    if (!st.ok()) rc = fail(st.error());
    else std::printf("deleted '%s'\n", n.c_str());
  }
  return rc;
}

int run_import(int argc, char** argv) {
  CLI::App app{"Copy a GGUF file into the store under a name"};
  app.name("pensieve import");
  std::string dir, file, name;
  add_store_option(app, dir);
  app.add_option("file", file, "GGUF file")->required();
  app.add_option("name", name, "model name (default: the file name without .gguf, tag latest)");
  if (auto rc = parse_or_usage(app, argc, argv, "usage: pensieve import FILE.gguf [NAME] [--models DIR]\n")) return *rc;
  if (name.empty()) {
    name = std::filesystem::path(file).stem().string();
    for (char& c : name)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '-';
  }
  store::Store s = open_store(dir);
  auto m = s.import_file(file, name, "import:" + std::filesystem::absolute(file).string());
  if (!m) return fail(m.error());
  std::printf("imported %s as %s (%s, %s %s, sha256 %s)\n", file.c_str(), m->name.c_str(), human_bytes(m->size).c_str(),
              m->architecture.c_str(), m->quant.c_str(), m->sha256.substr(0, 12).c_str());
  return 0;
}

int run_cp(int argc, char** argv) {
  CLI::App app{"Give a stored model a second name"};
  app.name("pensieve cp");
  std::string dir, from, to;
  add_store_option(app, dir);
  app.add_option("from", from, "existing name")->required();
  app.add_option("to", to, "new name")->required();
  if (auto rc = parse_or_usage(app, argc, argv, "usage: pensieve cp FROM TO [--models DIR]\n")) return *rc;
  auto m = open_store(dir).copy(from, to);
  if (!m) return fail(m.error());
  std::printf("copied '%s' to '%s'\n", from.c_str(), m->name.c_str());
  return 0;
}

}  // namespace

PENSIEVE_COMMAND("list", "list the models in the store (pull, import)", run_list);
PENSIEVE_COMMAND("show", "show a stored model's manifest and file info", run_show);
PENSIEVE_COMMAND("rm", "remove models from the store", run_rm);
PENSIEVE_COMMAND("import", "copy a GGUF file into the store under a name", run_import);
PENSIEVE_COMMAND("cp", "give a stored model a second name", run_cp);

}  // namespace pensieve::cli
