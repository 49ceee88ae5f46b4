// The batching engine's CPU promise at the kernel level: a token's output row of matmul() is the
// same bits whether the token is alone (decode tiles) or one of many (self-blocking GEMM tiles).
// Holds for every type at the scalar and AVX2 levels (PENSIEVE_CPU_ISA=avx2 runs this test with
// all types) and for the float types everywhere; the AVX-512 integer kernels still sum a row's
// blocks in a different order per token count (bench/RESULTS.md, the batching section), so at
// that level only the float types are checked until they are made to agree.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/matmul.h"
#include "quant/quant.h"
#include "util/thread_pool.h"

namespace pensieve::cpu {
namespace {

// n_rows rows of n_cols normal values (sd 0.1) in `type`.
std::vector<uint8_t> random_matrix(GgmlType type, int64_t n_cols, int64_t n_rows, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.0f, 0.1f);
  std::vector<float> wf(n_cols * n_rows);
  for (float& f : wf) f = dist(rng);
  const size_t row = ggml_row_size(type, n_cols);
  std::vector<uint8_t> w(row * n_rows);
  for (int64_t r = 0; r < n_rows; ++r) quantize_row(type, wf.data() + r * n_cols, w.data() + r * row, n_cols);
  return w;
}

TEST(CpuBatchInvariance, RowsDoNotDependOnTheOtherTokens) {
  std::printf("kernel level: %s\n", cpu_kernel_isa());
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const int64_t n_cols = 512, n_rows = 80;
  ThreadPool pool(2);
  std::vector<GgmlType> types = {GgmlType::F32, GgmlType::F16, GgmlType::BF16};
  if (active_cpu_isa() <= CpuIsa::avx2)
    for (GgmlType t : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q2_K,
                       GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K})
      types.push_back(t);
  for (GgmlType type : types) {
    const std::vector<uint8_t> w = random_matrix(type, n_cols, n_rows, rng);
    const WeightView view{type, w.data(), n_cols, n_rows};
    for (int n_tokens : {2, 5, 6, 16, 37}) {
      std::vector<float> x(n_cols * n_tokens);
      for (float& f : x) f = dist(rng);
      std::vector<float> batch(n_rows * n_tokens);
      matmul(view, x.data(), n_tokens, batch.data(), &pool);
      int differ = 0;
      for (int t = 0; t < n_tokens; ++t) {
        std::vector<float> one(n_rows);
        matmul(view, x.data() + t * n_cols, 1, one.data(), &pool);
        for (int64_t r = 0; r < n_rows; ++r) differ += one[r] != batch[t * n_rows + r];
      }
      EXPECT_EQ(differ, 0) << ggml_type_name(type) << ": " << differ << " of " << n_rows * n_tokens
                           << " outputs differ in a batch of " << n_tokens;
    }
  }
}


// The premise of SchedulerOptions::min_prefill_part: at every kernel level, a token's row is the
// same bits in every call of 6 or more tokens (the prompt parts the scheduler makes), for every
// weight type; so a prompt's K/V does not depend on its chunking or its prefix-cache hit.
TEST(CpuBatchInvariance, CallsOfSixOrMoreTokensAgreeForEveryType) {
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const int64_t n_cols = 512, n_rows = 48;
  ThreadPool pool(2);
  for (GgmlType type : {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0,
                        GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K,
                        GgmlType::Q5_K, GgmlType::Q6_K}) {
    const std::vector<uint8_t> w = random_matrix(type, n_cols, n_rows, rng);
    const WeightView view{type, w.data(), n_cols, n_rows};
    std::vector<float> x(n_cols * 64);
    for (float& f : x) f = dist(rng);
    std::vector<float> ref(n_rows * 64);
    matmul(view, x.data(), 64, ref.data(), &pool);
    for (int n_tokens : {6, 7, 8, 13, 37}) {
      std::vector<float> y(n_rows * n_tokens);
      matmul(view, x.data(), n_tokens, y.data(), &pool);
      int differ = 0;
      for (int64_t i = 0; i < n_rows * n_tokens; ++i) differ += y[i] != ref[i];
      EXPECT_EQ(differ, 0) << ggml_type_name(type) << ": a call of " << n_tokens << " tokens vs one of 64";
    }
  }
}

}  // namespace
}  // namespace pensieve::cpu
