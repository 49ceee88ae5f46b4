#include "cli/shipped_model.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <system_error>

// Set by CMakeLists.txt for this file only (a define on every CLI file would defeat the shared
// compiler cache across checkouts).
#ifndef PENSIEVE_SOURCE_DIR
#define PENSIEVE_SOURCE_DIR ""
#endif
#ifndef PENSIEVE_INSTALL_PREFIX
#define PENSIEVE_INSTALL_PREFIX "/usr/local"
#endif

namespace pensieve::cli {

namespace fs = std::filesystem;

std::vector<std::string> shipped_model_candidates() {
  if (const char* env = std::getenv("PENSIEVE_CMD_MODEL"); env && *env) return {env};
  std::vector<std::string> out;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path dir = exe.parent_path();
    out.push_back((dir.parent_path() / "models" / kShippedModelFile).string());  // <checkout>/build/pensieve
    out.push_back((dir.parent_path() / "share/pensieve/models" / kShippedModelFile).string());  // <prefix>/bin/pensieve
  }
  if (*PENSIEVE_SOURCE_DIR) out.push_back((fs::path(PENSIEVE_SOURCE_DIR) / "models" / kShippedModelFile).string());
  out.push_back((fs::path(PENSIEVE_INSTALL_PREFIX) / "share/pensieve/models" / kShippedModelFile).string());
  // Drop repeats (a binary installed into the prefix it was configured with).
  std::vector<std::string> unique;
  for (const auto& p : out) {
    bool seen = false;
    for (const auto& u : unique) seen = seen || fs::path(u).lexically_normal() == fs::path(p).lexically_normal();
    if (!seen) unique.push_back(fs::path(p).lexically_normal().string());
  }
  return unique;
}

std::string find_shipped_model(std::string* searched) {
  std::string where;
  for (const auto& p : shipped_model_candidates()) {
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) return p;
    where += (where.empty() ? "" : ", ") + p;
  }
  if (searched) *searched = where;
  return "";
}

bool use_shipped_model(std::string& model_path, const char* command) {
  std::string searched;
  model_path = find_shipped_model(&searched);
  if (model_path.empty()) {
    std::fprintf(stderr,
                 "pensieve %s: no model given (-m FILE.gguf) and the shipped model %s is missing "
                 "(looked in: %s; $PENSIEVE_CMD_MODEL overrides)\n",
                 command, kShippedModelFile, searched.c_str());
    return false;
  }
  std::fprintf(stderr,
               "pensieve %s: no -m given, using the shipped model %s: it only knows how to turn a request into a "
               "shell command (pensieve cmd); for anything else pass a real model: -m FILE.gguf\n",
               command, model_path.c_str());
  return true;
}

}  // namespace pensieve::cli
