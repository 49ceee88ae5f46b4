// `pensieve bench`: prompt processing and generation speed, like llama-bench (pp N / tg N,
// tokens/s as mean ± sd over repetitions), plus time to first token, load time and peak RSS.
// --json: one object per line per measurement with llama-bench's keys.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/engine_args.h"
#include "cli/shipped_model.h"
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
  int n_parallel = 1;
  std::vector<double> ts_pp;  // --parallel: aggregate prefill t/s per repetition (ts: decode)
};

// Parses "1,8,32" into positive counts; empty on a malformed list.
std::vector<int> parse_counts(const std::string& list) {
  std::vector<int> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    const size_t end = std::min(list.find(',', pos), list.size());
    const std::string item = list.substr(pos, end - pos);
    if (item.empty() || item.size() > 4 || item.find_first_not_of("0123456789") != std::string::npos) return {};
    const int n = std::stoi(item);
    if (n < 1) return {};
    out.push_back(n);
    pos = end + 1;
  }
  return out;
}

// N sequences at once, each with its own n_prompt-token prompt, generating n_gen tokens (as
// llama-batched-bench): the prefill time is until the last sequence's first token, the decode
// time the rest; aggregate t/s = N x tokens / time.
Result<std::pair<double, double>> run_parallel(engine::InferenceBackend& be, int n_seq, int n_prompt, int n_gen,
                                               int n_vocab, uint64_t seed) {
  engine::GenerateOptions go;
  go.sampling.temperature = 0;
  go.ignore_eos = true;
  go.max_tokens = n_gen;
  std::vector<Result<engine::Generation>> out(n_seq, make_error(ErrorKind::internal, "not run"));
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < n_seq; ++i)
    threads.emplace_back([&, i] { out[i] = be.infer(random_prompt(std::max(n_prompt, 1), n_vocab, seed + i), go); });
  for (auto& t : threads) t.join();
  const double total_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  double pp_ms = 0;
  for (auto& r : out) {
    if (!r) return r.error();
    pp_ms = std::max(pp_ms, r->prefill_ms);
  }
  const double tg_ms = std::max(total_ms - pp_ms, 1e-3);
  return std::make_pair(double(n_seq) * n_prompt * 1000.0 / pp_ms, double(n_seq) * n_gen * 1000.0 / tg_ms);
}

}  // namespace

int run_bench(int argc, char** argv) {
  CLI::App app{"Measure prompt processing and generation speed"};
  app.name("pensieve bench");
  engine::LoadOptions lo;
  int n_prompt = 512, n_gen = 128, reps = 5;
  bool json = false;
  std::string parallel;
  add_load_options(app, lo);
  app.add_option("--parallel", parallel,
                 "comma-separated sequence counts (e.g. 1,8,32): N prompts of -p tokens decoded together, -n tokens each");
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
  if (lo.model_path.empty() && !use_shipped_model(lo.model_path, "bench")) return 1;
  if (!std::filesystem::exists(lo.model_path)) {
    std::fprintf(stderr, "pensieve: model file not found: %s\n", lo.model_path.c_str());
    return 1;
  }
  if (lo.n_ctx == 0) lo.n_ctx = std::max(n_prompt + n_gen + 16, 512);
  const std::vector<int> counts = parallel.empty() ? std::vector<int>{} : parse_counts(parallel);
  if (!parallel.empty() && counts.empty()) {
    std::fprintf(stderr, "pensieve: --parallel takes a comma-separated list of counts 1..9999, not '%s'\n", parallel.c_str());
    return 2;
  }
  if (!counts.empty()) lo.n_parallel = *std::max_element(counts.begin(), counts.end());
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
  for (int n_seq : counts) {
    Measurement m{"pp" + std::to_string(n_prompt) + "+tg" + std::to_string(n_gen) + " x" + std::to_string(n_seq),
                  n_prompt, n_gen, {}, {}, n_seq, {}};
    for (int r = 0; r < reps; ++r) {
      auto res = run_parallel(be, n_seq, n_prompt, n_gen, n_vocab, 5000 + 100000ull * r + 1000ull * n_seq);
      if (!res) return std::fprintf(stderr, "pensieve: %s\n", res.error().message.c_str()), 1;
      m.ts_pp.push_back(res->first);
      m.ts.push_back(res->second);
    }
    results.push_back(m);
  }
  if (!counts.empty()) n_prompt = n_gen = 0;  // the single-sequence tests are the x1 row
  if (n_prompt > 0) {
    Measurement m{"pp" + std::to_string(n_prompt), n_prompt, 0, {}, {}, 1, {}};
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
    Measurement m{"tg" + std::to_string(n_gen), 0, n_gen, {}, {}, 1, {}};
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
                counts.empty() ? "t/s" : "decode t/s (sum)", counts.empty() ? "ttft ms" : "prefill");
    std::printf("|%s|%s|%s|%s|%s|%s|%s|\n", std::string(30, '-').c_str(), std::string(18, '-').c_str(),
                std::string(9, '-').c_str(), std::string(8, '-').c_str(), std::string(10, '-').c_str(),
                std::string(20, '-').c_str(), std::string(11, '-').c_str());
  }
  for (const Measurement& m : results) {
    const Stats ts = stats(m.ts), ttft = stats(m.ttft), pp = stats(m.ts_pp);
    if (json && !m.ts_pp.empty()) {
      nlohmann::json j = {{"model_filename", file}, {"model_type", be.variant()}, {"device", be.device()},
                          {"n_threads", threads}, {"n_prompt", m.n_prompt}, {"n_gen", m.n_gen},
                          {"n_parallel", m.n_parallel}, {"avg_ts", ts.mean}, {"stddev_ts", ts.sd},
                          {"samples_ts", m.ts}, {"avg_pp_ts", pp.mean}, {"stddev_pp_ts", pp.sd},
                          {"samples_pp_ts", m.ts_pp}, {"load_ms", load_ms}, {"peak_rss_bytes", rss}};
      std::printf("%s\n", j.dump().c_str());
    } else if (!m.ts_pp.empty()) {
      char tsbuf[64], ppbuf[64];
      std::snprintf(tsbuf, sizeof tsbuf, "%.2f ± %.2f", ts.mean, ts.sd);
      std::snprintf(ppbuf, sizeof ppbuf, "%.1f", pp.mean);
      std::printf("| %-28s | %-16s | %7d | %-6s | %8s | %18s | %9s |\n", file.c_str(), be.variant().c_str(), threads,
                  be.device().c_str(), ("x" + std::to_string(m.n_parallel)).c_str(), tsbuf, ppbuf);
    } else if (json) {
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
