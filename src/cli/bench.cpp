// `pensieve bench`: prompt processing and generation speed, like llama-bench (pp N / tg N,
// tokens/s as mean ± sd over repetitions), plus time to first token, load time and peak RSS.
// --json: one object per line per measurement with llama-bench's keys.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/engine_args.h"
#include "engine/sampler.h"
#include "util/thread_pool.h"

namespace pensieve::cli {
namespace {

struct Stats {
  double mean = 0, sd = 0;
};
Stats stats(const std::vector<double>& v) {
  Stats s;
  if (v.empty()) return s;
  for (double x : v) s.mean += x;
  s.mean /= v.size();
  if (v.size() > 1) {
    for (double x : v) s.sd += (x - s.mean) * (x - s.mean);
    s.sd = std::sqrt(s.sd / (v.size() - 1));
  }
  return s;
}

int64_t peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    int64_t kb;
    if (key == "VmHWM:" && in >> kb) return kb * 1024;
  }
  return 0;
}

// Random ids (never BOS/EOS-like low ids), different per repetition so no prefix is reused.
std::vector<engine::token_id> random_prompt(int n, int n_vocab, uint64_t seed) {
  engine::Rng rng(seed);
  std::vector<engine::token_id> ids(n);
  for (auto& t : ids) t = static_cast<engine::token_id>(3 + rng.next() % static_cast<uint64_t>(n_vocab - 3));
  return ids;
}

struct Measurement {
  std::string test;
  int n_prompt = 0, n_gen = 0;
  std::vector<double> ts, ttft;
};

}  // namespace

int run_bench(int argc, char** argv) {
  CLI::App app{"Measure prompt processing and generation speed"};
  app.name("pensieve bench");
  engine::LoadOptions lo;
  int n_prompt = 512, n_gen = 128, reps = 5;
  bool json = false;
  add_load_options(app, lo);
  app.add_option("-p,--n-prompt", n_prompt, "prompt tokens of the pp test (0: skip)")->check(CLI::NonNegativeNumber);
  app.add_option("-n,--n-gen", n_gen, "generated tokens of the tg test (0: skip)")->check(CLI::NonNegativeNumber);
  app.add_option("-r,--repetitions", reps, "repetitions of each test")->check(CLI::PositiveNumber);
  app.add_flag("--json", json, "one JSON object per line per measurement");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return e.get_exit_code() == 0 ? code : 2;
  }
  if (!std::filesystem::exists(lo.model_path)) {
    std::fprintf(stderr, "pensieve: model file not found: %s\n", lo.model_path.c_str());
    return 1;
  }
  if (lo.n_ctx == 0) lo.n_ctx = std::max(n_prompt + n_gen + 16, 512);
  const auto t0 = std::chrono::steady_clock::now();
  engine::InferenceBackend be;
  if (Status st = be.load(lo); !st.ok()) {
    std::fprintf(stderr, "pensieve: cannot load %s: %s\n", lo.model_path.c_str(), st.error().message.c_str());
    return load_failure_exit_code(st.error());
  }
  const double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const int n_vocab = be.tokenizer().n_vocab();
  const int threads = lo.threads > 0 ? lo.threads : ThreadPool::physical_cores();

  engine::GenerateOptions go;
  go.sampling.temperature = 0;  // greedy: sampling cost stays out of the numbers
  go.ignore_eos = true;
  // Warm-up, as llama-bench does: one full-size prompt pass and a few decode steps (pages in the
  // weights, wakes the threads, lets a GPU pick its GEMM kernels and capture its graphs).
  go.max_tokens = 4;
  if (auto w = be.infer(random_prompt(std::max(n_prompt, 16), n_vocab, 999), go); !w) {
    std::fprintf(stderr, "pensieve: %s\n", w.error().message.c_str());
    return 1;
  }
  std::vector<Measurement> results;
  if (n_prompt > 0) {
    Measurement m{"pp" + std::to_string(n_prompt), n_prompt, 0, {}, {}};
    go.max_tokens = 0;
    for (int r = 0; r < reps; ++r) {
      auto g = be.infer(random_prompt(n_prompt, n_vocab, 1000 + r), go);
      if (!g) return std::fprintf(stderr, "pensieve: %s\n", g.error().message.c_str()), 1;
      m.ts.push_back(n_prompt * 1000.0 / g->prefill_ms);
      m.ttft.push_back(g->ttft_ms);
    }
    results.push_back(m);
  }
  if (n_gen > 0) {
    Measurement m{"tg" + std::to_string(n_gen), 0, n_gen, {}, {}};
    go.max_tokens = n_gen;
    for (int r = 0; r < reps; ++r) {
      // One prompt token, then n_gen tokens: n_gen forward passes, as llama-bench's tg test.
      auto g = be.infer(random_prompt(1, n_vocab, 2000 + r), go);
      if (!g) return std::fprintf(stderr, "pensieve: %s\n", g.error().message.c_str()), 1;
      m.ts.push_back(g->n_generated * 1000.0 / (g->prefill_ms + g->decode_ms));
      m.ttft.push_back(g->ttft_ms);
    }
    results.push_back(m);
  }

  const std::string file = std::filesystem::path(lo.model_path).filename().string();
  const int64_t rss = peak_rss_bytes();
  if (!json) {
    std::printf("| %-28s | %-16s | %7s | %-6s | %8s | %18s | %9s |\n", "model", "variant", "threads", "device", "test",
                "t/s", "ttft ms");
    std::printf("|%s|%s|%s|%s|%s|%s|%s|\n", std::string(30, '-').c_str(), std::string(18, '-').c_str(),
                std::string(9, '-').c_str(), std::string(8, '-').c_str(), std::string(10, '-').c_str(),
                std::string(20, '-').c_str(), std::string(11, '-').c_str());
  }
  for (const Measurement& m : results) {
    const Stats ts = stats(m.ts), ttft = stats(m.ttft);
    if (json) {
      nlohmann::json j = {{"model_filename", file}, {"model_type", be.variant()}, {"device", be.device()},
                          {"n_threads", threads}, {"n_prompt", m.n_prompt}, {"n_gen", m.n_gen},
                          {"avg_ts", ts.mean}, {"stddev_ts", ts.sd}, {"samples_ts", m.ts},
                          {"ttft_ms", ttft.mean}, {"load_ms", load_ms}, {"peak_rss_bytes", rss}};
      std::printf("%s\n", j.dump().c_str());
    } else {
      char tsbuf[64];
      std::snprintf(tsbuf, sizeof tsbuf, "%.2f ± %.2f", ts.mean, ts.sd);
      std::printf("| %-28s | %-16s | %7d | %-6s | %8s | %18s | %9.1f |\n", file.c_str(), be.variant().c_str(), threads,
                  be.device().c_str(), m.test.c_str(), tsbuf, ttft.mean);
    }
  }
  if (!json) std::printf("\nload %.0f ms, peak RSS %.1f MiB\n", load_ms, rss / 1048576.0);
  return 0;
}

PENSIEVE_COMMAND("bench", "measure prompt and generation speed (llama-bench style)", run_bench);

}  // namespace pensieve::cli
