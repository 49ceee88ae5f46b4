// Kernel lab: matvec GB/s and matmul GOPS of pensieve::cpu::matmul at real model shapes.
// Prints one JSON line per measurement. Build by hand (no CMake target):
//   g++ -O2 -std=c++20 -I src bench/kernels/matmul_bench.cpp \
//     build-kern2/libpensieve_backend.a build-kern2/libpensieve_quant.a \
//     build-kern2/libpensieve_gguf.a build-kern2/libpensieve_util.a -lpthread -o /tmp/matmul_bench
// Usage: matmul_bench [threads=2] [prefill_tokens=256] [type name, e.g. q8_0] [decode|hot|prefill|both]
//                     [decode_tokens=1]  (a batched decode step: a few sequences' tokens, weights from DRAM)
// Besides wall-clock rates it prints cpu_* rates (work / process CPU seconds): on a shared,
// loaded machine these show a kernel's efficiency per core while the wall clock cannot.
// Decode weights are cycled through >= 256 MiB of copies so they come from DRAM, as in a
// real decode step, not from cache.
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/matmul.h"
#include "quant/quant.h"

using namespace pensieve;
using namespace pensieve::cpu;

namespace {

struct Shape {
  const char* model;
  const char* name;
  int64_t n_cols, n_rows;
};

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double cpu_s() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

std::vector<uint8_t> make_weights(GgmlType type, int64_t n_cols, int64_t n_rows) {
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.0f, 0.02f);
  std::vector<float> row(n_cols);
  const size_t rb = ggml_row_size(type, n_cols);
  std::vector<uint8_t> w(rb * n_rows);
  // Quantize a few distinct rows and repeat them: quantizing 150k rows would take minutes.
  std::vector<std::vector<uint8_t>> distinct(8, std::vector<uint8_t>(rb));
  for (auto& d : distinct) {
    for (auto& f : row) f = dist(rng);
    quantize_row(type, row.data(), d.data(), n_cols);
  }
  for (int64_t r = 0; r < n_rows; ++r) std::memcpy(w.data() + r * rb, distinct[r % 8].data(), rb);
  return w;
}

// Read bandwidth of a plain sum over 256 MiB on the calling thread (wall and CPU-time based):
// the yardstick for the decode kernels' GB/s on this (possibly loaded) machine.
void print_read_bandwidth() {
  const size_t n = (256u << 20) / sizeof(uint64_t);
  std::vector<uint64_t> a(n, 1);
  uint64_t sum = 0;
  double best_wall = 1e9, best_cpu = 1e9;
  for (int pass = 0; pass < 4; ++pass) {
    const double t0 = now_s(), c0 = cpu_s();
    for (size_t i = 0; i < n; i += 8)
      sum += a[i] + a[i + 1] + a[i + 2] + a[i + 3] + a[i + 4] + a[i + 5] + a[i + 6] + a[i + 7];
    best_wall = std::min(best_wall, now_s() - t0);
    best_cpu = std::min(best_cpu, cpu_s() - c0);
  }
  std::printf("{\"membw_1thread_GBps\":%.2f,\"cpu_membw_GBps\":%.2f,\"checksum\":%llu}\n",
              n * 8 / best_wall / 1e9, n * 8 / best_cpu / 1e9, (unsigned long long)sum);
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int64_t prefill = argc > 2 ? std::atoll(argv[2]) : 256;
  const std::string filter = argc > 3 ? argv[3] : "";
  const std::string mode = argc > 4 ? argv[4] : "both";
  const int64_t decode_tokens = argc > 5 ? std::max(1LL, std::atoll(argv[5])) : 1;
  const bool do_decode = mode != "prefill", do_prefill = mode != "decode";
  ThreadPool pool(threads);
  const Shape shapes[] = {
      {"qwen2-0.5b", "attn_q", 896, 896},     {"qwen2-0.5b", "attn_kv", 896, 128},
      {"qwen2-0.5b", "ffn_up", 896, 4864},    {"qwen2-0.5b", "ffn_down", 4864, 896},
      {"qwen2-0.5b", "output", 896, 151936},  {"llama-1b", "attn_q", 2048, 2048},
      {"llama-1b", "ffn_up", 2048, 8192},     {"llama-1b", "ffn_down", 8192, 2048},
  };
  const GgmlType types[] = {GgmlType::Q8_0, GgmlType::Q5_0, GgmlType::Q4_0, GgmlType::Q4_K,
                            GgmlType::Q6_K, GgmlType::Q5_K, GgmlType::Q4_1, GgmlType::Q5_1,
                            GgmlType::Q3_K, GgmlType::Q2_K, GgmlType::F16,  GgmlType::BF16,
                            GgmlType::F32};
  std::printf("{\"isa\":\"%s\",\"threads\":%d}\n", cpu_kernel_isa(), threads);
  if (do_decode) print_read_bandwidth();
  for (GgmlType type : types) {
    const std::string tname(ggml_type_name(type));
    if (!filter.empty() && tname != filter) continue;
    for (const Shape& s : shapes) {
      if (s.n_cols % ggml_type_info(type).block_size != 0) continue;
      const auto w = make_weights(type, s.n_cols, s.n_rows);
      const size_t bytes = w.size();
      const int64_t max_tokens = std::max(prefill, decode_tokens);
      std::vector<float> x(s.n_cols * max_tokens), y(s.n_rows * max_tokens);
      for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.1 * i);
      double dt = 0, dcpu = 0;
      if (do_decode) {
        // Decode: cycle through copies so the weights stream from memory.
        // hot: reuse one copy (from cache when it fits): the kernel's compute ceiling.
        const size_t copies = mode == "hot" ? 1 : std::max<size_t>(1, (256u << 20) / bytes);
        std::vector<uint8_t> big(bytes * copies);
        for (size_t c = 0; c < copies; ++c) std::memcpy(big.data() + c * bytes, w.data(), bytes);
        int iters = 0;
        const double c0 = cpu_s();
        double t0 = now_s(), t1 = t0;
        while (t1 - t0 < 0.3 || iters < static_cast<int>(copies)) {
          const WeightView v{type, big.data() + (iters % copies) * bytes, s.n_cols, s.n_rows};
          matmul(v, x.data(), decode_tokens, y.data(), &pool);
          ++iters;
          t1 = now_s();
        }
        dt = (t1 - t0) / iters;
        dcpu = (cpu_s() - c0) / iters;
      }
      double pdt = 0, pcpu = 0;
      if (do_prefill && prefill > 0) {
        // Prefill: n tokens against the same weights.
        const WeightView v{type, w.data(), s.n_cols, s.n_rows};
        matmul(v, x.data(), prefill, y.data(), &pool);
        int piters = 0;
        const double c0 = cpu_s();
        double p0 = now_s(), p1 = p0;
        while (p1 - p0 < 0.5 || piters < 2) {
          matmul(v, x.data(), prefill, y.data(), &pool);
          ++piters;
          p1 = now_s();
        }
        pdt = (p1 - p0) / piters;
        pcpu = (cpu_s() - c0) / piters;
      }
      const double ops = 2.0 * s.n_cols * s.n_rows * prefill;
      std::printf("{\"decode_tokens\":%lld,\"type\":\"%s\",\"model\":\"%s\",\"tensor\":\"%s\",\"n_cols\":%lld,\"n_rows\":%lld,"
                  "\"matvec_us\":%.1f,\"matvec_GBps\":%.2f,\"cpu_matvec_GBps_per_core\":%.2f,"
                  "\"prefill_tokens\":%lld,\"matmul_ms\":%.2f,\"matmul_GOPS\":%.1f,\"cpu_GOPS_per_core\":%.1f}\n",
                  (long long)decode_tokens, tname.c_str(), s.model, s.name, (long long)s.n_cols, (long long)s.n_rows, dt * 1e6,
                  dt > 0 ? bytes / dt / 1e9 : 0.0, dcpu > 0 ? bytes / dcpu / 1e9 : 0.0, (long long)prefill,
                  pdt * 1e3, pdt > 0 ? ops / pdt / 1e9 : 0.0, pcpu > 0 ? ops / pcpu / 1e9 : 0.0);
      std::fflush(stdout);
    }
  }
  return 0;
}
