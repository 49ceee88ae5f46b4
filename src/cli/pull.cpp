// pensieve pull hf:OWNER/REPO[:QUANT] | URL [NAME]: download a model into the store
// (src/store/pull.h). A progress bar with speed and ETA on a terminal, plain lines otherwise.
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "cli/command.h"
#include "store/pull.h"

namespace pensieve::cli {

namespace {

std::string mb(int64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", n / 1048576.0);
  return buf;
}

std::string duration(double s) {
  char buf[32];
  if (s < 0 || s > 360000) return "--:--";
  const int t = static_cast<int>(s + 0.5);
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%d:%02d", t / 60, t % 60);
  return buf;
}

// Redraws one line on a terminal; elsewhere prints a line per status change and per 10 %.
struct ProgressPrinter {
  bool tty = ::isatty(STDERR_FILENO) == 1;
  std::string last_status;
  int last_decile = -1;

  void operator()(const store::PullProgress& p) {
    if (p.status != "downloading") {
      if (tty && last_status == "downloading") std::fputc('\n', stderr);
      std::fprintf(stderr, "%s\n", p.status.c_str());
      last_status = p.status;
      last_decile = -1;
      return;
    }
    last_status = p.status;
    const double frac = p.total > 0 ? static_cast<double>(p.completed) / p.total : 0;
    const double eta = p.bytes_per_s > 0 && p.total > 0 ? (p.total - p.completed) / p.bytes_per_s : -1;
    if (tty) {
      const int width = 30, filled = static_cast<int>(frac * width);
      std::string bar(filled, '#');
      bar.resize(width, '.');
      std::fprintf(stderr, "\rdownloading [%s] %3d%% %s/%s %.1f MB/s ETA %s   ", bar.c_str(),
                   static_cast<int>(frac * 100), mb(p.completed).c_str(), p.total > 0 ? mb(p.total).c_str() : "?",
                   p.bytes_per_s / 1048576.0, duration(eta).c_str());
      return;
    }
    const int decile = static_cast<int>(frac * 10);
    if (decile == last_decile) return;
    last_decile = decile;
    std::fprintf(stderr, "downloading %d%% %s of %s, %.1f MB/s, ETA %s\n", decile * 10, mb(p.completed).c_str(),
                 p.total > 0 ? mb(p.total).c_str() : "?", p.bytes_per_s / 1048576.0, duration(eta).c_str());
  }
};

int run_pull(int argc, char** argv) {
  CLI::App app{"Download a GGUF model into the store: hf:OWNER/REPO[:QUANT] or an https:// URL"};
  app.name("pensieve pull");
  std::string spec, name, dir;
  store::PullOptions o;
  app.add_option("source", spec, "hf:OWNER/REPO[:QUANT] (e.g. hf:Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF:Q4_K_M) or a URL")
      ->required();
  app.add_option("name", name, "store name (default: from the repository and quant, e.g. qwen2.5-coder-1.5b-instruct:q4_k_m)");
  app.add_option("--models", dir, "the model store folder (default: $PENSIEVE_MODELS or ~/.local/share/pensieve/models)");
  app.add_option("--revision", o.revision, "hub branch, tag or commit");
  if (auto rc = parse_or_usage(app, argc, argv, "usage: pensieve pull hf:OWNER/REPO[:QUANT]|URL [NAME]\n")) return *rc;
  store::Store s(dir.empty() ? store::Store::default_root() : std::filesystem::path(dir));
  ProgressPrinter printer;
  o.on_progress = [&printer](const store::PullProgress& p) { printer(p); };
  auto m = store::pull_model(s, spec, name, o);
  if (!m) {
    if (printer.tty && printer.last_status == "downloading") std::fputc('\n', stderr);
    std::fprintf(stderr, "pensieve: pull failed: %s\n", m.error().message.c_str());
    return m.error().kind == ErrorKind::invalid_request ? 2 : 1;
  }
  std::printf("pulled %s (%s, %s %s, sha256 %s)\n", m->name.c_str(), mb(m->size).c_str(), m->architecture.c_str(),
              m->quant.c_str(), m->sha256.substr(0, 12).c_str());
  return 0;
}

}  // namespace

PENSIEVE_COMMAND("pull", "download a model into the store (hf:OWNER/REPO[:QUANT] or a URL)", run_pull);

}  // namespace pensieve::cli
