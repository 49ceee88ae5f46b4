// Attention kernels over a long context (PENSIEVE_CUDA_BENCH_KERNELS=1): llama-8b's shape (32
// query heads, 8 kv heads, head_dim 128, F16 cache in 16-token blocks), one sequence of 25k
// cached keys. Microseconds per launch and the K/V bandwidth they reach (HBM is ~4.5 TB/s on an
// H200): the decode kernel (attention.cuh) for 1 and 2 tokens at several split counts, and the
// tensor-core prefill kernel (attention_prefill.cuh) for a 103-token part at its split counts.
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <cstdio>
#include <numeric>

#include "backend/cuda/attention.cuh"
#include "backend/cuda/attention_prefill.cuh"
#include "cuda_test_util.h"

namespace pensieve::testing {
namespace {

TEST(CudaBench, AttentionLongContext) {
  if (std::getenv("PENSIEVE_CUDA_BENCH_KERNELS") == nullptr) GTEST_SKIP() << "skipped: set PENSIEVE_CUDA_BENCH_KERNELS=1";
  PS_REQUIRE_CUDA();
  constexpr int kHeads = 32, kKvHeads = 8, kD = 128, kBlock = 16, kCtx = 25056 + 128;
  const int n_blocks = kCtx / kBlock + 1;
  const size_t pool = size_t(n_blocks) * kBlock * kKvHeads * kD;
  cuda::KvLayout kv;
  ASSERT_EQ(cudaMalloc(&kv.k, pool * 2), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&kv.v, pool * 2), cudaSuccess);
  cudaMemset(kv.k, 0x21, pool * 2);  // small finite halves
  cudaMemset(kv.v, 0x21, pool * 2);
  kv.f16 = true;
  kv.block_size = kBlock;
  kv.n_kv_heads = kKvHeads;
  kv.head_dim = kD;
  std::vector<int32_t> table(static_cast<size_t>(n_blocks), 0);
  std::iota(table.begin(), table.end(), 0);
  const int max_tokens = 104;
  float *q = nullptr, *out = nullptr, *partial = nullptr;
  int32_t *positions = nullptr, *seq_ids = nullptr, *bt = nullptr;
  int* counters = nullptr;
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&q), size_t(max_tokens) * kHeads * kD * 4), cudaSuccess);
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&out), size_t(max_tokens) * kHeads * kD * 4), cudaSuccess);
  const int64_t part_floats = cuda::attention_partial_floats(max_tokens, kHeads, kD, cuda::kAttnMaxSplits);
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&partial), size_t(part_floats) * 4), cudaSuccess);
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&positions), max_tokens * 4), cudaSuccess);
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&seq_ids), max_tokens * 4), cudaSuccess);
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&bt), table.size() * 4), cudaSuccess);
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&counters), max_tokens * kKvHeads * 4), cudaSuccess);
  cudaMemset(q, 0, size_t(max_tokens) * kHeads * kD * 4);
  cudaMemset(counters, 0, max_tokens * kKvHeads * 4);
  cudaMemset(seq_ids, 0, max_tokens * 4);
  cudaMemcpy(bt, table.data(), table.size() * 4, cudaMemcpyHostToDevice);
  cudaStream_t s = nullptr;
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  auto time_us = [&](const auto& launch) {
    launch();
    cudaEventRecord(e0, s);
    for (int i = 0; i < 20; ++i) launch();
    cudaEventRecord(e1, s);
    cudaEventSynchronize(e1);
    float ms = 0;
    cudaEventElapsedTime(&ms, e0, e1);
    return 1000.0 * ms / 20;
  };
  const double kv_bytes = double(25056) * kKvHeads * kD * 2 * 2;  // K and V of the sequence, F16
  auto args = [&](int n_tokens) {
    std::vector<int32_t> pos(static_cast<size_t>(n_tokens), 0);
    std::iota(pos.begin(), pos.end(), 25056 - n_tokens);
    cudaMemcpy(positions, pos.data(), pos.size() * 4, cudaMemcpyHostToDevice);
    cuda::AttentionArgs a;
    a.q = q;
    a.out = out;
    a.n_tokens = n_tokens;
    a.n_heads = kHeads;
    a.scale = 1.0f / std::sqrt(float(kD));
    a.positions = positions;
    a.seq_ids = seq_ids;
    a.block_tables = bt;
    a.bt_stride = n_blocks;
    a.partial = partial;
    a.counters = counters;
    return a;
  };
  for (int n_tokens : {1, 2}) {
    for (int splits : {1, 8, 16, 32, 64}) {
      cuda::AttentionArgs a = args(n_tokens);
      a.n_splits = splits;
      const double us = time_us([&] { cuda::attention(kv, a, s); });
      std::printf("{\"bench\":\"cuda-attn-decode\",\"keys\":25056,\"tokens\":%d,\"splits\":%d,\"us\":%.1f,\"GBps\":%.0f}\n",
                  n_tokens, splits, us, kv_bytes / (us * 1e3));
    }
  }
  for (int n_tokens : {1, 103}) {
    for (int splits : {1, 4, 8, 16, 32, 64}) {
      cuda::AttentionArgs a = args(n_tokens);
      a.n_splits = splits;
      a.split_keys = cuda::attention_prefill_split_keys(25056, splits);
      const double us = time_us([&] { ASSERT_TRUE(cuda::attention_prefill(kv, a, s)); });
      std::printf("{\"bench\":\"cuda-attn-prefill\",\"keys\":25056,\"tokens\":%d,\"splits\":%d,\"default_splits\":%d,"
                  "\"us\":%.1f,\"GBps\":%.0f,\"TFLOPs\":%.1f}\n",
                  n_tokens, splits, cuda::attention_prefill_splits(n_tokens, kHeads, kKvHeads, 25056, 132), us,
                  kv_bytes / (us * 1e3), 4.0 * n_tokens * kHeads * 25056.0 * kD / (us * 1e6));
    }
  }
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  for (void* p : {static_cast<void*>(q), static_cast<void*>(out), static_cast<void*>(partial),
                  static_cast<void*>(positions), static_cast<void*>(seq_ids), static_cast<void*>(bt),
                  static_cast<void*>(counters), kv.k, kv.v})
    cudaFree(p);
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
}

}  // namespace
}  // namespace pensieve::testing
