// `pensieve bench`: prompt processing and generation speed, like llama-bench (pp N / tg N,
// tokens/s as mean ± sd over repetitions), plus time to first token, load time and peak RSS.
// -p, -n and -t take comma-separated lists (each thread count loads the model once and runs every
// test); -o md (an aligned table, the default), csv, json (one array) or jsonl (one object per
// line, llama-bench's keys; --json is -o jsonl). --parallel N,M,... keeps llama-batched-bench's
// aggregate mode (with the first -p and -n).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <thread>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
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
  int threads = 0;
  double load_ms = 0;
};

// Parses "1,8,32" into counts >= `min` (at most 1e6 each); nullopt on anything else.
std::optional<std::vector<int>> parse_list(const std::string& list, int min) {
  std::vector<int> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    const size_t end = std::min(list.find(',', pos), list.size());
    const std::string item = list.substr(pos, end - pos);
    if (item.empty() || item.size() > 7 || item.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    const int n = std::stoi(item);
    if (n < min) return std::nullopt;
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

std::string size_text(int64_t bytes) {
  char buf[32];
  if (bytes >= (1LL << 30)) std::snprintf(buf, sizeof buf, "%.2f GiB", double(bytes) / double(1LL << 30));
  else std::snprintf(buf, sizeof buf, "%.2f MiB", double(bytes) / double(1LL << 20));
  return buf;
}


struct ModelFacts {
  std::string file, variant, device;
  int64_t size = 0, n_params = 0;
};

nlohmann::json to_json(const ModelFacts& mf, const Measurement& m, int64_t rss) {
  const Stats ts = stats(m.ts);
  nlohmann::json j = {{"model_filename", mf.file}, {"model_type", mf.variant},   {"model_size", mf.size},
                      {"model_n_params", mf.n_params}, {"device", mf.device},   {"n_threads", m.threads},
                      {"test", m.test},           {"n_prompt", m.n_prompt},     {"n_gen", m.n_gen},
                      {"avg_ts", ts.mean},        {"stddev_ts", ts.sd},         {"samples_ts", m.ts},
                      {"load_ms", m.load_ms},     {"peak_rss_bytes", rss}};
  if (!m.ts_pp.empty()) {
    const Stats pp = stats(m.ts_pp);
    j["n_parallel"] = m.n_parallel;
    j["avg_pp_ts"] = pp.mean;
    j["stddev_pp_ts"] = pp.sd;
    j["samples_pp_ts"] = m.ts_pp;
  } else {
    j["ttft_ms"] = stats(m.ttft).mean;
  }
  return j;
}

// A Markdown table whose columns are as wide as their widest cell; numbers right-aligned.
void print_table(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right) {
  std::vector<size_t> width(rows[0].size(), 0);
  auto cells = [](const std::string& s) {  // display width: UTF-8 characters ("±" is one)
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  };
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], cells(r[i]));
  for (size_t k = 0; k < rows.size(); ++k) {
    std::string line = "|";
    for (size_t i = 0; i < rows[k].size(); ++i) {
      const std::string pad(width[i] - cells(rows[k][i]), ' ');
      line += " " + (right[i] ? pad + rows[k][i] : rows[k][i] + pad) + " |";
    }
    std::printf("%s\n", line.c_str());
    if (k == 0) {
      line = "|";
      for (size_t i = 0; i < width.size(); ++i) line += right[i] ? " " + std::string(width[i] - 1, '-') + ": |" : " " + std::string(width[i], '-') + " |";
      std::printf("%s\n", line.c_str());
    }
  }
}

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

int run_bench(int argc, char** argv) {
  CLI::App app{"Measure prompt processing and generation speed (llama-bench style)"};
  app.name("pensieve bench");
  engine::LoadOptions lo;
  int reps = 5;
  bool json = false;
  std::string parallel, prompts = "512", gens = "128", threads_list = "0", output = "md";
  add_load_options(app, lo);
  app.remove_option(app.get_option("--threads"));  // a list here: -t 1,2,4
  app.add_option("-t,--threads", threads_list, "CPU thread counts, comma-separated (0: physical cores)");
  app.add_option("--parallel", parallel,
                 "comma-separated sequence counts (e.g. 1,8,32): N prompts of -p tokens decoded together, -n tokens each");
  app.add_option("-p,--n-prompt", prompts, "prompt tokens of the pp tests, comma-separated (0: none)");
  app.add_option("-n,--n-gen", gens, "generated tokens of the tg tests, comma-separated (0: none)");
  app.add_option("-r,--repetitions", reps, "repetitions of each test")->check(CLI::PositiveNumber);
  app.add_option("-o,--output", output, "md (aligned table), csv, json (an array) or jsonl (one object per line)")
      ->check(CLI::IsMember({"md", "csv", "json", "jsonl"}));
  app.add_flag("--json", json, "the same as -o jsonl");
  if (auto code = parse_or_usage(app, argc, argv)) return *code;
  if (json) output = "jsonl";
  const auto p_list = parse_list(prompts, 0), n_list = parse_list(gens, 0);
  const auto t_list = parse_list(threads_list, 0);
  for (const auto& [name, value, ok] : {std::tuple{"-p", prompts, bool(p_list)}, std::tuple{"-n", gens, bool(n_list)},
                                      std::tuple{"-t", threads_list, bool(t_list)}}) {
    if (!ok) {
      std::fprintf(stderr, "pensieve bench: %s takes a comma-separated list of counts (e.g. 128,512), not '%s'\n", name,
                   value.c_str());
      return 2;
    }
  }
  if (lo.model_path.empty() && !use_shipped_model(lo.model_path, "bench")) return 1;
  if (!std::filesystem::exists(lo.model_path)) {
    std::fprintf(stderr, "pensieve: model file not found: %s\n", lo.model_path.c_str());
    return 1;
  }
  const int max_p = *std::max_element(p_list->begin(), p_list->end());
  const int max_n = *std::max_element(n_list->begin(), n_list->end());
  if (lo.n_ctx == 0) lo.n_ctx = std::max(max_p + max_n + 16, 512);
  const std::optional<std::vector<int>> counts = parallel.empty() ? std::vector<int>{} : parse_list(parallel, 1);
  if (!counts) {
    std::fprintf(stderr, "pensieve: --parallel takes a comma-separated list of counts 1..9999, not '%s'\n", parallel.c_str());
    return 2;
  }
  if (!counts->empty()) lo.n_parallel = *std::max_element(counts->begin(), counts->end());
  lo.quiet = true;

  ModelFacts mf;
  mf.file = std::filesystem::path(lo.model_path).filename().string();
  mf.size = static_cast<int64_t>(std::filesystem::file_size(lo.model_path));
  std::vector<Measurement> results;
  for (int t : *t_list) {
    lo.threads = t;
    const auto t0 = std::chrono::steady_clock::now();
    engine::InferenceBackend be;
    if (Status st = be.load(lo); !st.ok()) {
      std::fprintf(stderr, "pensieve: cannot load %s: %s\n", lo.model_path.c_str(), st.error().message.c_str());
      return load_failure_exit_code(st.error());
    }
    const double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const int n_vocab = be.tokenizer().n_vocab();
    const int threads = t > 0 ? t : ThreadPool::physical_cores();
    mf.variant = be.variant();
    mf.device = be.device();
    mf.n_params = be.info().n_params;

    engine::GenerateOptions go;
    go.sampling.temperature = 0;  // greedy: sampling cost stays out of the numbers
    go.ignore_eos = true;
    // Warm-up, as llama-bench does: one full-size prompt pass and a few decode steps (pages in the
    // weights, wakes the threads, lets a GPU pick its GEMM kernels and capture its graphs).
    go.max_tokens = 4;
    if (auto w = be.infer(random_prompt(std::max(max_p, 16), n_vocab, 999), go); !w) {
      std::fprintf(stderr, "pensieve: %s\n", w.error().message.c_str());
      return 1;
    }
    auto fail = [](const Error& e) {
      std::fprintf(stderr, "pensieve: %s\n", e.message.c_str());
      return 1;
    };
    if (!counts->empty()) {  // the aggregate mode: the first -p and -n
      const int n_prompt = p_list->front(), n_gen = n_list->front();
      for (int n_seq : *counts) {
        Measurement m{"pp" + std::to_string(n_prompt) + "+tg" + std::to_string(n_gen) + " x" + std::to_string(n_seq),
                      n_prompt, n_gen, {}, {}, n_seq, {}, threads, load_ms};
        for (int r = 0; r < reps; ++r) {
          auto res = run_parallel(be, n_seq, n_prompt, n_gen, n_vocab, 5000 + 100000ull * r + 1000ull * n_seq);
          if (!res) return fail(res.error());
          m.ts_pp.push_back(res->first);
          m.ts.push_back(res->second);
        }
        results.push_back(m);
      }
      continue;
    }
    for (int n_prompt : *p_list) {
      if (n_prompt == 0) continue;
      Measurement m{"pp" + std::to_string(n_prompt), n_prompt, 0, {}, {}, 1, {}, threads, load_ms};
      go.max_tokens = 0;
      for (int r = 0; r < reps; ++r) {
        auto g = be.infer(random_prompt(n_prompt, n_vocab, 1000 + r), go);
        if (!g) return fail(g.error());
        m.ts.push_back(n_prompt * 1000.0 / g->prefill_ms);
        m.ttft.push_back(g->ttft_ms);
      }
      results.push_back(m);
    }
    for (int n_gen : *n_list) {
      if (n_gen == 0) continue;
      Measurement m{"tg" + std::to_string(n_gen), 0, n_gen, {}, {}, 1, {}, threads, load_ms};
      go.max_tokens = n_gen;
      for (int r = 0; r < reps; ++r) {
        // One prompt token, then n_gen tokens: n_gen forward passes, as llama-bench's tg test.
        auto g = be.infer(random_prompt(1, n_vocab, 2000 + r), go);
        if (!g) return fail(g.error());
        m.ts.push_back(g->n_generated * 1000.0 / (g->prefill_ms + g->decode_ms));
        m.ttft.push_back(g->ttft_ms);
      }
      results.push_back(m);
    }
  }

  const int64_t rss = peak_rss_bytes();
  if (output == "jsonl") {
    for (const Measurement& m : results) std::printf("%s\n", to_json(mf, m, rss).dump().c_str());
  } else if (output == "json") {
    nlohmann::json all = nlohmann::json::array();
    for (const Measurement& m : results) all.push_back(to_json(mf, m, rss));
    std::printf("%s\n", all.dump(2).c_str());
  } else if (output == "csv") {
    std::printf("model_filename,model_type,model_size,model_n_params,device,n_threads,test,n_prompt,n_gen,n_parallel,"
                "avg_ts,stddev_ts,ttft_ms,avg_pp_ts,load_ms\n");
    for (const Measurement& m : results) {
      const Stats ts = stats(m.ts), ttft = stats(m.ttft), pp = stats(m.ts_pp);
      std::printf("%s,%s,%lld,%lld,%s,%d,%s,%d,%d,%d,%.4f,%.4f,%.3f,%.4f,%.1f\n", csv_cell(mf.file).c_str(),
                  csv_cell(mf.variant).c_str(), static_cast<long long>(mf.size), static_cast<long long>(mf.n_params),
                  csv_cell(mf.device).c_str(), m.threads, m.test.c_str(), m.n_prompt, m.n_gen, m.n_parallel, ts.mean,
                  ts.sd, ttft.mean, pp.mean, m.load_ms);
    }
  } else {
    const bool par = !counts->empty();
    std::vector<std::vector<std::string>> rows = {{"model", "size", "params", "variant", "device", "threads", "test",
                                                   par ? "decode t/s (sum)" : "t/s", par ? "prefill t/s" : "ttft ms"}};
    for (const Measurement& m : results) {
      const Stats ts = stats(m.ts);
      char tsbuf[64], last[64];
      std::snprintf(tsbuf, sizeof tsbuf, "%.2f ± %.2f", ts.mean, ts.sd);
      std::snprintf(last, sizeof last, "%.1f", par ? stats(m.ts_pp).mean : stats(m.ttft).mean);
      rows.push_back({mf.file, size_text(mf.size), params_text(mf.n_params, 2), mf.variant, mf.device,
                      std::to_string(m.threads), par ? "x" + std::to_string(m.n_parallel) : m.test, tsbuf, last});
    }
    print_table(rows, {false, true, true, false, false, true, true, true, true});
    std::printf("\nload %.0f ms, peak RSS %.1f MiB\n", results.empty() ? 0.0 : results.back().load_ms, rss / 1048576.0);
  }
  return 0;
}

PENSIEVE_COMMAND("bench", "measure prompt and generation speed (llama-bench style)", run_bench);

}  // namespace pensieve::cli
