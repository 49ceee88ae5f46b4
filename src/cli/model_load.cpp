// Loading a model from the command line with progress and a summary: the file is read through
// once before the engine maps it (so a cold model's disk time lands in the load, not in the first
// prompt's timing), with a progress line on a terminal for files over 1 GB (bytes read, then the
// layers as the engine binds them to the device: on a GPU, the upload), then one summary line.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/engine_args.h"
#include "engine/device.h"

namespace pensieve::cli {
namespace {

// Files from this size on get a progress line on a terminal (PENSIEVE_PROGRESS_MIN_MB overrides
// it, for tests).
int64_t progress_min_bytes() {
  const char* mb = std::getenv("PENSIEVE_PROGRESS_MIN_MB");
  return mb && *mb ? std::atoll(mb) << 20 : 1LL << 30;
}

std::string gib(int64_t bytes) {
  char buf[32];
  if (bytes >= (1LL << 30))
    std::snprintf(buf, sizeof buf, "%.2f GiB", double(bytes) / double(1LL << 30));
  else
    std::snprintf(buf, sizeof buf, "%.1f MiB", double(bytes) / double(1LL << 20));
  return buf;
}

// Reads the file once (into the page cache), reporting progress on a terminal. Skipped when the
// file would not fit in free memory: then the pages could not stay cached anyway.
void read_through(const std::string& path, int64_t size, bool show) {
  if (size <= 0 || size > engine::host_available_bytes()) return;  // -1: unknown
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  std::vector<char> buf(16 << 20);
  const std::string name = std::filesystem::path(path).filename().string();
  int64_t done = 0;
  int last_pct = -1;
  for (ssize_t n; (n = read(fd, buf.data(), buf.size())) > 0;) {
    done += n;
    const int pct = static_cast<int>(done * 100 / size);
    if (show && pct != last_pct) {
      std::fprintf(stderr, "\r\033[Kloading %s: %3d%% (%s of %s)", name.c_str(), pct, gib(done).c_str(),
                   gib(size).c_str());
      last_pct = pct;
    }
  }
  close(fd);
}

}  // namespace

std::string params_text(int64_t n, int decimals) {
  char buf[32];
  const char* unit = n >= 1000000000 ? "B" : n >= 1000000 ? "M" : "K";
  const double v = n >= 1000000000 ? n / 1e9 : n >= 1000000 ? n / 1e6 : n / 1e3;
  std::snprintf(buf, sizeof buf, "%.*f %s", decimals, v, unit);
  return buf;
}

Result<double> load_model(engine::InferenceBackend& be, const engine::LoadOptions& lo, bool quiet) {
  const auto t0 = std::chrono::steady_clock::now();
  std::error_code ec;
  const int64_t size = static_cast<int64_t>(std::filesystem::file_size(lo.model_path, ec));
  const bool show = !quiet && !ec && size >= progress_min_bytes() && isatty(STDERR_FILENO);
  if (!ec) read_through(lo.model_path, size, show);
  engine::LoadOptions o = lo;
  o.quiet = o.quiet || quiet;
  if (show) {  // then the weights are bound layer by layer (on a GPU: uploaded)
    const std::string name = std::filesystem::path(lo.model_path).filename().string();
    o.on_progress = [name](int done, int total) {
      std::fprintf(stderr, "\r\033[Kloading %s: binding the weights to the device, layer %d of %d", name.c_str(), done,
                   total);
    };
  }
  const Status st = be.load(o);
  if (show) std::fputs("\r\033[K", stderr);
  if (!st.ok()) return st.error();
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (!quiet) {
    const engine::ModelInfo& info = be.info();
    std::fprintf(stderr, "pensieve: loaded %s (%s, %s params, %s) on %s in %.0f ms, context %d tokens\n",
                 std::filesystem::path(lo.model_path).filename().c_str(), be.variant().c_str(),
                 params_text(info.n_params, 1).c_str(), gib(size).c_str(), be.device().c_str(), ms, info.n_ctx);
  }
  return ms;
}

}  // namespace pensieve::cli
