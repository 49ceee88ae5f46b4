// GPU benchmark (runs only when PENSIEVE_CUDA_BENCH names GGUF files, comma-separated):
// prompt processing of 512 tokens (pp512) and generation of 128 tokens (tg128) through the
// same model::Context::decode path the engine uses, like llama-bench's tests. One JSON line
// per measurement on stdout, then where the GPU time of a decode step and of one 512-token prefill
// step goes (op by op). scripts/gpu-check.sh runs it.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <sstream>
#include <vector>

#include "backend/cuda/gemm.h"
#include "backend/cuda/matmul_mma.cuh"
#include "backend/cuda/matvec.cuh"
#include "backend/cuda/matvec_q8.cuh"
#include "cuda_test_util.h"
#include "gguf/gguf.h"
#include "model/context.h"
#include "model/model.h"

namespace pensieve::testing {
namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void bench_model(const std::string& path) {
  auto file = GgufFile::open(path);
  ASSERT_TRUE(file.ok()) << file.error().message;
  cuda::CudaOpsOptions options;
  if (const char* v = std::getenv("PENSIEVE_CUDA_INT8"); v && *v == '0') options.int8_matvec = false;
  auto ops_r = cuda::CudaOps::create(0, options);
  ASSERT_TRUE(ops_r.ok()) << ops_r.error().message;
  cuda::CudaOps& ops = **ops_r;
  const double t_load = now_s();
  auto m = model::load_model(**file, ops);
  ASSERT_TRUE(m.ok()) << m.error().message;
  model::ContextOptions co;
  co.n_ctx = 1024;
  co.max_step_tokens = 512;
  co.max_outputs = 1;
  auto ctx = model::Context::create(**m, ops, co);
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  const double load_s = now_s() - t_load;
  const int nv = (*m)->hp.n_vocab;
  std::vector<float> logits(size_t(nv), 0.0f);
  std::vector<int32_t> prompt(512);
  for (int i = 0; i < 512; ++i) prompt[size_t(i)] = (i * 7919 + 13) % nv;
  const std::string name = path.substr(path.find_last_of('/') + 1);
  const std::string gpu = ops.context().info().name;

  // pp512: 1 warm-up + 3 timed prefills of a fresh sequence.
  std::vector<double> pp;
  for (int rep = 0; rep < 4; ++rep) {
    model::SequenceKv seq((*ctx)->pool());
    const double t0 = now_s();
    ASSERT_TRUE((*ctx)->decode(seq, prompt, false, logits.data()).ok());
    if (rep > 0) pp.push_back(512.0 / (now_s() - t0));
  }
  // tg128: 128 single-token greedy steps after a 1-token prompt (decode graphs replay).
  std::vector<double> tg;
  for (int rep = 0; rep < 3; ++rep) {
    model::SequenceKv seq((*ctx)->pool());
    ASSERT_TRUE((*ctx)->decode(seq, std::vector<int32_t>{1}, false, logits.data()).ok());
    int32_t tok = 1;
    const double t0 = now_s();
    for (int i = 0; i < 128; ++i) {
      tok = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
      ASSERT_TRUE((*ctx)->decode(seq, std::vector<int32_t>{tok}, false, logits.data()).ok());
    }
    if (rep > 0) tg.push_back(128.0 / (now_s() - t0));
  }
  // Where a decode step's GPU time goes: 32 more steps op by op with event timers.
  ops.set_profiling(true);
  {
    model::SequenceKv seq((*ctx)->pool());
    ASSERT_TRUE((*ctx)->decode(seq, std::vector<int32_t>{1}, false, logits.data()).ok());
    for (int i = 0; i < 32; ++i) ASSERT_TRUE((*ctx)->decode(seq, std::vector<int32_t>{i + 2}, false, logits.data()).ok());
  }
  const auto profile = ops.op_profile();
  ops.set_profiling(false);
  ASSERT_TRUE(ops.status().ok()) << ops.status().error().message;
  // Where a 512-token prefill step's GPU time goes: one step op by op (prefill steps never replay
  // graphs), and inside the gemm op the split between conversion, dequantize and cuBLAS GEMM.
  ops.set_profiling(true);
  cuda::gemm_timing_enable(true);
  double prefill_wall_ms = 0;
  {
    model::SequenceKv seq((*ctx)->pool());
    const double t0 = now_s();
    ASSERT_TRUE((*ctx)->decode(seq, prompt, false, logits.data()).ok());
    prefill_wall_ms = 1000 * (now_s() - t0);
  }
  cuda::gemm_timing_enable(false);
  const auto gemm_split = cuda::gemm_timing_collect();
  const auto prefill_profile = ops.op_profile();
  ops.set_profiling(false);
  ASSERT_TRUE(ops.status().ok()) << ops.status().error().message;
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const auto gs = ops.graph_stats();
  std::printf("{\"bench\":\"cuda\",\"gpu\":\"%s\",\"model\":\"%s\",\"test\":\"pp512\",\"tokens_per_s\":%.1f}\n",
              gpu.c_str(), name.c_str(), median(pp));
  std::printf("{\"bench\":\"cuda\",\"gpu\":\"%s\",\"model\":\"%s\",\"test\":\"tg128\",\"tokens_per_s\":%.1f,"
              "\"graphs_replayed\":%lld,\"load_s\":%.2f,\"weights_mib\":%lld}\n",
              gpu.c_str(), name.c_str(), median(tg), (long long)gs.replayed, load_s,
              (long long)(ops.context().weights().bytes() >> 20));
  std::string prof;
  for (const auto& [kind, t] : profile)
    prof += (prof.empty() ? "" : ",") + std::string("\"") + kind + "\":[" + std::to_string(t.ms * 1000 / 33) + "," +
            std::to_string(double(t.count) / 33) + "]";
  std::printf("{\"bench\":\"cuda-profile\",\"model\":\"%s\",\"int8\":%d,\"us_and_launches_per_token\":{%s}}\n",
              name.c_str(), int(options.int8_matvec), prof.c_str());
  std::string pprof, split;
  double gpu_ms = 0;
  for (const auto& [kind, t] : prefill_profile) {
    pprof += (pprof.empty() ? "" : ",") + std::string("\"") + kind + "\":[" + std::to_string(t.ms) + "," +
             std::to_string(t.count) + "]";
    gpu_ms += t.ms;
  }
  for (const auto& [kind, t] : gemm_split)
    split += (split.empty() ? "" : ",") + std::string("\"") + kind + "\":[" + std::to_string(t.first) + "," +
             std::to_string(t.second) + "]";
  const char* chunk_env = std::getenv("PENSIEVE_GEMM_CHUNK_MB");
  std::printf("{\"bench\":\"cuda-prefill-profile\",\"model\":\"%s\",\"tokens\":512,\"wall_ms\":%.2f,"
              "\"gpu_ms\":%.2f,\"ms_and_launches\":{%s},\"gemm_split_ms_and_launches\":{%s},"
              "\"gemm_chunk_mb\":\"%s\"}\n",
              name.c_str(), prefill_wall_ms, gpu_ms, pprof.c_str(), split.c_str(), chunk_env ? chunk_env : "default");
  std::fflush(stdout);
}

// Batched decode (PENSIEVE_CUDA_BENCH_BATCH=model.gguf): N sequences of 100 prompt tokens, then
// steps of one token per sequence with argmax on the device, as the engine's decode steps run:
// wall ms per step (graphs where the step size allows), then 4 steps op by op (where the GPU time
// goes, per step).
void bench_batched(const std::string& path) {
  auto file = GgufFile::open(path);
  ASSERT_TRUE(file.ok()) << file.error().message;
  cuda::CudaOpsOptions options;
  options.batch_invariant = std::getenv("PENSIEVE_BENCH_BATCH_INVARIANT") != nullptr;  // its cost
  auto ops_r = cuda::CudaOps::create(0, options);
  ASSERT_TRUE(ops_r.ok()) << ops_r.error().message;
  cuda::CudaOps& ops = **ops_r;
  auto m = model::load_model(**file, ops);
  ASSERT_TRUE(m.ok()) << m.error().message;
  const int max_n = 64;
  model::ContextOptions co;
  co.n_ctx = 512;
  co.n_seq_max = max_n;
  co.max_step_tokens = 512;
  co.max_outputs = max_n;
  auto ctx = model::Context::create(**m, ops, co);
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  const int nv = (*m)->hp.n_vocab;
  const std::string name = path.substr(path.find_last_of('/') + 1);
  for (int n : {1, 8, 16, 32, 64}) {
    std::vector<std::unique_ptr<model::SequenceKv>> seqs;
    std::vector<std::vector<int32_t>> prompts(size_t(n), std::vector<int32_t>(100));
    std::vector<int32_t> next(size_t(n), 0);
    for (int s = 0; s < n; ++s) {
      seqs.push_back(std::make_unique<model::SequenceKv>((*ctx)->pool()));
      for (int i = 0; i < 100; ++i) prompts[size_t(s)][size_t(i)] = (i * 7919 + s * 131 + 13) % nv;
      model::SeqStep st{seqs.back().get(), prompts[size_t(s)], 1};
      ASSERT_TRUE((*ctx)->step(std::span<const model::SeqStep>(&st, 1), nullptr, &next[size_t(s)]).ok());
    }
    std::vector<int32_t> toks(static_cast<size_t>(n));
    // PENSIEVE_BENCH_MASKS=1: every row under a token mask (half the vocabulary allowed), as
    // grammar-constrained greedy rows run: the cost of staging, uploading and reading the masks.
    std::vector<uint64_t> masks;
    if (std::getenv("PENSIEVE_BENCH_MASKS") != nullptr)
      masks.assign(size_t(n) * size_t(backend::allowed_words(nv)), 0x5555555555555555ull);
    auto run_steps = [&](int steps) {
      for (int i = 0; i < steps; ++i) {
        std::vector<model::SeqStep> batch;
        for (int s = 0; s < n; ++s) {
          toks[size_t(s)] = next[size_t(s)];
          batch.push_back(model::SeqStep{seqs[size_t(s)].get(), std::span<const int32_t>(&toks[size_t(s)], 1), 1});
        }
        const backend::MaskSource source = [&] { return masks.data(); };
        ASSERT_TRUE((*ctx)->step(batch, nullptr, next.data(), nullptr, masks.empty() ? nullptr : &source).ok());
      }
    };
    run_steps(4);  // warm-up (graph capture)
    const double t0 = now_s();
    run_steps(24);
    const double step_ms = 1000 * (now_s() - t0) / 24;
    ops.set_profiling(true);
    run_steps(4);
    const auto prof = ops.op_profile();
    ops.set_profiling(false);
    std::string p;
    double gpu = 0;
    for (const auto& [kind, t] : prof) {
      p += (p.empty() ? "" : ",") + std::string("\"") + kind + "\":" + std::to_string(t.ms / 4);
      gpu += t.ms / 4;
    }
    std::printf("{\"bench\":\"cuda-batched\",\"model\":\"%s\",\"masks\":%d,\"batch_invariant\":%d,\"seqs\":%d,\"step_ms\":%.3f,\"tokens_per_s\":%.1f,"
                "\"op_by_op_gpu_ms\":%.3f,\"ms_per_step\":{%s}}\n",
                name.c_str(), int(!masks.empty()), int(options.batch_invariant), n, step_ms, n * 1000.0 / step_ms, gpu, p.c_str());
    std::fflush(stdout);
  }
}

// A step after a long cached prefix (PENSIEVE_CUDA_BENCH_LONG=model.gguf[:prefix_tokens]): one
// sequence holds the prefix (prefilled in 512-token chunks, as the engine's chunked prefill does);
// then steps of 103 new tokens of it beside one decode token of a second sequence, the step a
// returning conversation's first token waits for (the prefix-cache TTFT). Wall ms per step, then
// one step op by op with the gemm split.
void bench_long_prefix(const std::string& arg) {
  const size_t colon = arg.find(':');
  const std::string path = arg.substr(0, colon);
  const int n_prefix = colon == std::string::npos ? 25056 : std::atoi(arg.c_str() + colon + 1);
  auto file = GgufFile::open(path);
  ASSERT_TRUE(file.ok()) << file.error().message;
  auto ops_r = cuda::CudaOps::create(0, cuda::CudaOpsOptions{});
  ASSERT_TRUE(ops_r.ok()) << ops_r.error().message;
  cuda::CudaOps& ops = **ops_r;
  auto m = model::load_model(**file, ops);
  ASSERT_TRUE(m.ok()) << m.error().message;
  model::ContextOptions co;
  co.n_ctx = n_prefix + 4096;
  co.n_seq_max = 2;
  co.max_step_tokens = 512;
  co.max_outputs = 2;
  auto ctx = model::Context::create(**m, ops, co);
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  const int nv = (*m)->hp.n_vocab;
  model::SequenceKv a((*ctx)->pool()), b((*ctx)->pool());
  std::vector<int32_t> toks(size_t(n_prefix) + 4096);
  for (size_t i = 0; i < toks.size(); ++i) toks[i] = int32_t((i * 7919 + 13) % size_t(nv));
  int32_t next[2] = {0, 0};
  const double t0 = now_s();
  for (int p = 0; p < n_prefix; p += 512) {
    const int n = std::min(512, n_prefix - p);
    model::SeqStep st{&a, std::span<const int32_t>(toks.data() + p, size_t(n)), 1};
    ASSERT_TRUE((*ctx)->step(std::span<const model::SeqStep>(&st, 1), nullptr, next).ok());
  }
  const double prefill_s = now_s() - t0;
  {
    model::SeqStep st{&b, std::span<const int32_t>(toks.data(), 1), 1};
    ASSERT_TRUE((*ctx)->step(std::span<const model::SeqStep>(&st, 1), nullptr, next).ok());
  }
  int pos = n_prefix;
  const int32_t btok = 7;
  auto one_step = [&](int n_new, bool with_b) {
    std::vector<model::SeqStep> batch;
    batch.push_back(model::SeqStep{&a, std::span<const int32_t>(toks.data() + pos, size_t(n_new)), 1});
    if (with_b) batch.push_back(model::SeqStep{&b, std::span<const int32_t>(&btok, 1), 1});
    pos += n_new;
    return (*ctx)->step(batch, nullptr, next);
  };
  const std::string name = path.substr(path.find_last_of('/') + 1);
  for (int n_new : {103, 1, 511}) {
    const double w0 = now_s();
    ASSERT_TRUE(one_step(n_new, true).ok());  // warm-up (first use of the shape)
    const double first_ms = 1000 * (now_s() - w0);
    std::vector<double> ms;
    for (int r = 0; r < 3; ++r) {
      const double s0 = now_s();
      ASSERT_TRUE(one_step(n_new, true).ok());
      ms.push_back(1000 * (now_s() - s0));
    }
    ops.set_profiling(true);
    cuda::gemm_timing_enable(true);
    ASSERT_TRUE(one_step(n_new, true).ok());
    cuda::gemm_timing_enable(false);
    const auto split = cuda::gemm_timing_collect();
    const auto prof = ops.op_profile();
    ops.set_profiling(false);
    std::string p;
    for (const auto& [kind, t] : prof) p += (p.empty() ? "" : ",") + std::string("\"") + kind + "\":" + std::to_string(t.ms);
    std::string g;
    for (const auto& [kind, t] : split)
      g += (g.empty() ? "" : ",") + std::string("\"") + kind + "\":" + std::to_string(t.first);
    std::printf("{\"bench\":\"cuda-long-prefix\",\"model\":\"%s\",\"prefix\":%d,\"prefill_s\":%.2f,\"new_tokens\":%d,"
                "\"first_ms\":%.2f,\"step_ms\":[%.2f,%.2f,%.2f],\"op_ms\":{%s},\"gemm_ms\":{%s}}\n",
                name.c_str(), n_prefix, prefill_s, n_new, first_ms, ms[0], ms[1], ms[2], p.c_str(), g.c_str());
    std::fflush(stdout);
  }
  ASSERT_TRUE(ops.status().ok()) << ops.status().error().message;
}

TEST(CudaBench, LongPrefixStep) {
  const char* env = std::getenv("PENSIEVE_CUDA_BENCH_LONG");
  if (env == nullptr || *env == 0) GTEST_SKIP() << "skipped: set PENSIEVE_CUDA_BENCH_LONG=model.gguf[:prefix_tokens]";
  PS_REQUIRE_CUDA();
  bench_long_prefix(env);
}

TEST(CudaBench, BatchedDecode) {
  const char* env = std::getenv("PENSIEVE_CUDA_BENCH_BATCH");
  if (env == nullptr || *env == 0) GTEST_SKIP() << "skipped: set PENSIEVE_CUDA_BENCH_BATCH=model.gguf";
  PS_REQUIRE_CUDA();
  bench_batched(env);
}

TEST(CudaBench, Models) {
  const char* env = std::getenv("PENSIEVE_CUDA_BENCH");
  if (env == nullptr || *env == 0) GTEST_SKIP() << "skipped: set PENSIEVE_CUDA_BENCH=model.gguf[,more.gguf]";
  PS_REQUIRE_CUDA();
  std::stringstream ss(env);
  std::string path;
  while (std::getline(ss, path, ','))
    if (!path.empty()) bench_model(path);
}

}  // namespace
}  // namespace pensieve::testing

namespace pensieve::testing {
namespace {

// Mat-vec bandwidth per weight type on decode-sized shapes (PENSIEVE_CUDA_BENCH_KERNELS=1), one
// token, back to back (with PDL where enabled, as in a decode step): paths f32 (matvec.cuh),
// int8 (matvec_q8, default kernel choice), int8_old (variant 1: the row stream, the previous
// default) and int8_staged (variant 2: the staged kernel); then the multi-output launches of a
// llama-8b layer on the same three int8 paths.
// Microseconds per call of run(i): one warm-up pass over the `copies` weight sets, then 4 timed
// passes (the weights rotate, so they stream from HBM rather than L2).
template <class Fn>
double time_launches_us(cudaStream_t s, int copies, const Fn& run) {
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  for (int i = 0; i < copies; ++i) run(i);
  const int iters = copies * 4;
  cudaEventRecord(e0, s);
  for (int i = 0; i < iters; ++i) run(i);
  cudaEventRecord(e1, s);
  cudaEventSynchronize(e1);
  float ms = 0;
  cudaEventElapsedTime(&ms, e0, e1);
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  return 1000.0 * ms / iters;
}

// The tensor-core batched matmul on llama-8b shapes (PENSIEVE_CUDA_BENCH_KERNELS=1): microseconds
// per launch and weight GB/s at 8, 16 and 32 tokens (the bound is HBM bandwidth, ~4.5 TB/s).
TEST(CudaBench, MmaShapes) {
  if (std::getenv("PENSIEVE_CUDA_BENCH_KERNELS") == nullptr) GTEST_SKIP() << "skipped: set PENSIEVE_CUDA_BENCH_KERNELS=1";
  PS_REQUIRE_CUDA();
  auto ops = make_cuda_ops();
  ASSERT_TRUE(ops);
  cudaStream_t s = ops->context().stream();
  const std::pair<int64_t, int64_t> shapes[] = {{4096, 4096}, {4096, 1024}, {4096, 14336}, {14336, 4096}};
  float *x = nullptr, *y = nullptr, *part = nullptr;
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&x), 64 * 14336 * 4), cudaSuccess);
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&y), 64 * 14336 * 4), cudaSuccess);
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&part), size_t(64) << 22), cudaSuccess);
  cudaMemset(x, 0, 64 * 14336 * 4);
  for (GgmlType type : {GgmlType::Q4_K, GgmlType::Q6_K, GgmlType::Q8_0}) {
    for (auto [n_cols, n_rows] : shapes) {
      const int64_t bytes = int64_t(ggml_row_size(type, uint64_t(n_cols))) * n_rows;
      const int copies = int(std::max<int64_t>(4, (int64_t(512) << 20) / bytes));
      std::vector<void*> w(static_cast<size_t>(copies));
      for (auto& p : w) {
        ASSERT_EQ(cudaMalloc(&p, size_t(bytes) + 64), cudaSuccess);
        cudaMemset(p, 0x11, size_t(bytes));
      }
      for (int n_tokens : {8, 16, 32}) {
        ASSERT_LE(cuda::matmul_mma_partial_floats(n_cols, n_rows, n_tokens) * 4, int64_t(64) << 22);
        auto run = [&](int i) {
          cuda::matmul_mma(type, w[size_t(i % copies)], n_cols, n_rows, x, n_tokens, y, nullptr, part, s);
        };
        const double us = time_launches_us(s, copies, run);
        std::printf("{\"bench\":\"cuda-mma\",\"type\":\"%s\",\"n_cols\":%lld,\"n_rows\":%lld,\"tokens\":%d,"
                    "\"us\":%.2f,\"GBps\":%.0f}\n",
                    std::string(ggml_type_name(type)).c_str(), (long long)n_cols, (long long)n_rows, n_tokens, us,
                    double(bytes) / (us * 1e3));
      }
      for (auto p : w) cudaFree(p);
    }
  }
  cudaFree(x);
  cudaFree(y);
  cudaFree(part);
}

TEST(CudaBench, MatvecBandwidth) {
  if (std::getenv("PENSIEVE_CUDA_BENCH_KERNELS") == nullptr) GTEST_SKIP() << "skipped: set PENSIEVE_CUDA_BENCH_KERNELS=1";
  PS_REQUIRE_CUDA();
  auto ops = make_cuda_ops();
  ASSERT_TRUE(ops);
  cudaStream_t s = ops->context().stream();
  const std::pair<int64_t, int64_t> shapes[] = {{4096, 4096}, {4096, 14336}, {14336, 4096}, {896, 4864}, {4864, 896}, {896, 896}};
  int8_t* xq = nullptr;
  float* xds = nullptr;
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&xq), 14336), cudaSuccess);
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&xds), 14336 / 16 * 4), cudaSuccess);
  cudaMemset(xq, 1, 14336);
  cudaMemset(xds, 0, 14336 / 16 * 4);
  const cuda::ActQ8 act{xq, xds};
  for (GgmlType type : {GgmlType::Q4_K, GgmlType::Q6_K, GgmlType::Q8_0, GgmlType::Q5_0, GgmlType::F16}) {
    for (auto [n_cols, n_rows] : shapes) {
      if (!cuda::matvec_supported(type, n_cols)) continue;
      const int64_t bytes = int64_t(ggml_row_size(type, uint64_t(n_cols))) * n_rows;
      // Several copies so that the timed loop streams from HBM, not L2.
      const int copies = int(std::max<int64_t>(4, (int64_t(512) << 20) / bytes));
      std::vector<void*> w(static_cast<size_t>(copies));
      for (auto& p : w) {
        ASSERT_EQ(cudaMalloc(&p, size_t(bytes) + 64), cudaSuccess);
        cudaMemset(p, 0x11, size_t(bytes));
      }
      float *x, *y;
      cudaMalloc(reinterpret_cast<void**>(&x), size_t(n_cols) * 4);
      cudaMalloc(reinterpret_cast<void**>(&y), size_t(n_rows) * 4);
      cudaMemset(x, 0, size_t(n_cols) * 4);
      for (int path : {0, 1, 2, 3}) {  // float, int8 (default), int8_old (row stream), int8_staged
        const bool int8 = path > 0;
        if (int8 && !cuda::matvec_q8_supported(type, n_cols)) continue;
        cuda::set_matvec_q8_variant(path == 2 ? 1 : path == 3 ? 2 : 0);
        auto run = [&](int i) {
          if (int8) cuda::matvec_q8(type, w[size_t(i % copies)], n_cols, n_rows, act, 1, y, nullptr, s);
          else cuda::matvec(type, w[size_t(i % copies)], n_cols, n_rows, x, 1, y, nullptr, s);
        };
        const double us = time_launches_us(s, copies, run);
        std::printf("{\"bench\":\"cuda-matvec\",\"type\":\"%s\",\"path\":\"%s\",\"n_cols\":%lld,\"n_rows\":%lld,"
                    "\"us\":%.2f,\"GBps\":%.0f}\n",
                    std::string(ggml_type_name(type)).c_str(), path == 0 ? "f32" : path == 1 ? "int8" : path == 2 ? "int8_old" : "int8_staged", (long long)n_cols,
                    (long long)n_rows, us, double(bytes) / (us * 1e3));
      }
      for (auto p : w) cudaFree(p);
      cudaFree(x);
      cudaFree(y);
    }
  }
  // The launches of a llama-8b layer that batch several outputs: q / k / v (4096 -> 4096 + 1024
  // + 1024) and gate / up (4096 -> 2 x 14336), through matvec_q8_multi.
  struct Multi {
    const char* name;
    int64_t n_cols;
    std::vector<int64_t> rows;
  };
  const Multi multis[] = {{"qkv", 4096, {4096, 1024, 1024}}, {"gate_up", 4096, {14336, 14336}}};
  for (GgmlType type : {GgmlType::Q4_K, GgmlType::Q6_K, GgmlType::Q8_0}) {
    for (const Multi& mu : multis) {
      const int64_t row_bytes = int64_t(ggml_row_size(type, uint64_t(mu.n_cols)));
      int64_t bytes = 0, max_rows = 0;
      for (int64_t r : mu.rows) bytes += row_bytes * r, max_rows = std::max(max_rows, r);
      const int copies = int(std::max<int64_t>(4, (int64_t(512) << 20) / bytes));
      const size_t n_out = mu.rows.size();
      std::vector<void*> w(size_t(copies) * n_out);
      for (size_t i = 0; i < w.size(); ++i) {
        const size_t b = size_t(row_bytes * mu.rows[i % n_out]);
        ASSERT_EQ(cudaMalloc(&w[i], b + 64), cudaSuccess);
        cudaMemset(w[i], 0x11, b);
      }
      std::vector<float*> y(n_out);
      for (auto& p : y) ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&p), size_t(max_rows) * 4), cudaSuccess);
      for (int variant : {0, 1, 2}) {
        cuda::set_matvec_q8_variant(variant);
        auto run = [&](int i) {
          cuda::MatvecQ8Output outs[cuda::kMatvecQ8MaxOutputs];
          for (size_t m = 0; m < n_out; ++m)
            outs[m] = {w[size_t(i % copies) * n_out + m], y[m], nullptr, mu.rows[m]};
          cuda::matvec_q8_multi(type, mu.n_cols, outs, int(n_out), act, 1, s);
        };
        const double us = time_launches_us(s, copies, run);
        std::printf("{\"bench\":\"cuda-matvec\",\"type\":\"%s\",\"path\":\"%s\",\"n_cols\":%lld,\"shape\":\"%s\","
                    "\"us\":%.2f,\"GBps\":%.0f}\n",
                    std::string(ggml_type_name(type)).c_str(), variant == 0 ? "int8" : variant == 1 ? "int8_old" : "int8_staged",
                    (long long)mu.n_cols, mu.name, us, double(bytes) / (us * 1e3));
      }
      ASSERT_EQ(cudaGetLastError(), cudaSuccess);
      for (auto p : w) cudaFree(p);
      for (auto p : y) cudaFree(p);
    }
  }
  cuda::set_matvec_q8_variant(0);
  cudaFree(xq);
  cudaFree(xds);
  std::fflush(stdout);
}

}  // namespace
}  // namespace pensieve::testing
