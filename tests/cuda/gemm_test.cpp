// The prefill GEMM's chunking (backend/cuda/gemm.h): chunk sizes on host, quantized products whose
// rows span several chunks against dequantize_row + a double-precision reference, and a benchmark of the 8B model's
// matmul shapes over chunk sizes (PENSIEVE_CUDA_BENCH_GEMM=1) to pick the default.
#include <cuda_runtime_api.h>

#include <cstdio>

#include "backend/cuda/gemm.h"
#include "cuda_test_util.h"
#include "quant/quant.h"

namespace pensieve::testing {
namespace {

TEST(CudaGemmChunks, RowsPerChunk) {  // host only: no device needed
  cuda::Gemm g;
  g.set_chunking(int64_t(16) << 20);
  EXPECT_EQ(g.chunk_rows(4096, 14336), 2048);  // ffn_gate/up of an 8B model: 7 chunks of 16 MiB
  EXPECT_EQ(g.chunk_rows(4096, 4096), 2048);
  EXPECT_EQ(g.chunk_rows(4096, 1024), 1024);   // k/v: one chunk
  EXPECT_EQ(g.chunk_rows(14336, 4096), 1024);  // ffn_down: at least kMinChunkRows rows
  EXPECT_EQ(g.chunk_rows(512, 300), 300);
  g.set_chunking(int64_t(1) << 20);
  EXPECT_EQ(g.chunk_rows(512, 2500), 896);  // 3 equal chunks rounded to 128 rows (last: 708)
  g.set_chunking(int64_t(128) << 20);
  EXPECT_EQ(g.chunk_rows(4096, 14336), 14336);  // the old behaviour: one chunk
}

TEST(CudaGemmChunks, ChunkedProductsMatchReference) {
  PS_REQUIRE_CUDA();
  auto ops = make_cuda_ops();
  ASSERT_TRUE(ops);
  cudaStream_t s = ops->context().stream();
  const int64_t n_cols = 512, n_rows = 2500;  // 1 MiB chunks: 896 + 896 + 708 rows
  for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q6_K, GgmlType::Q4_0}) {
    const QuantMatrix m = make_matrix(type, n_cols, n_rows, 7 + uint32_t(type));
    void* dw = nullptr;
    ASSERT_EQ(cudaMalloc(&dw, m.bytes.size()), cudaSuccess);
    ASSERT_EQ(cudaMemcpy(dw, m.bytes.data(), m.bytes.size(), cudaMemcpyHostToDevice), cudaSuccess);
    for (int n_tokens : {9, 64}) {
      const std::vector<float> x = random_floats(size_t(n_tokens * n_cols), 500 + n_tokens);
      std::vector<float> ref(size_t(n_tokens * n_rows));
      for (int t = 0; t < n_tokens; ++t)
        for (int64_t r = 0; r < n_rows; ++r) {
          double acc = 0;
          for (int64_t k = 0; k < n_cols; ++k) acc += double(m.deq[size_t(r * n_cols + k)]) * x[size_t(t * n_cols + k)];
          ref[size_t(t * n_rows + r)] = float(acc);
        }
      float *dx = nullptr, *dy = nullptr;
      ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&dx), x.size() * 4), cudaSuccess);
      ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&dy), ref.size() * 4), cudaSuccess);
      ASSERT_EQ(cudaMemcpy(dx, x.data(), x.size() * 4, cudaMemcpyHostToDevice), cudaSuccess);
      for (int64_t chunk_bytes : {int64_t(1) << 20, int64_t(128) << 20}) {
        cuda::Gemm g;
        ASSERT_TRUE(g.init(s, &ops->context().pool()).ok());
        g.set_chunking(chunk_bytes);
        ASSERT_TRUE(g.reserve(type, n_cols, n_rows, n_tokens).ok());
        cudaMemsetAsync(dy, 0xff, ref.size() * 4, s);  // NaNs: every row must be written
        // Twice: the second call's dequantize reuses the buffer the first call's GEMMs read.
        for (int rep = 0; rep < 2; ++rep) ASSERT_TRUE(g.matmul(type, dw, n_cols, n_rows, dx, n_tokens, dy).ok());
        ASSERT_EQ(cudaStreamSynchronize(s), cudaSuccess);
        std::vector<float> got(ref.size());
        ASSERT_EQ(cudaMemcpy(got.data(), dy, got.size() * 4, cudaMemcpyDeviceToHost), cudaSuccess);
        // F16 activations and weights, F32 accumulation (as kernels_test's GEMM bound).
        EXPECT_LT(nmse(got, ref), 3e-6) << ggml_type_name(type) << " tokens " << n_tokens << " chunk "
                                        << chunk_bytes;
      }
      cudaFree(dx);
      cudaFree(dy);
    }
    cudaFree(dw);
  }
}

// ms per layer of an 8B llama's seven matmuls at 512 tokens, per chunk size.
TEST(CudaGemmChunks, BenchLlama8bShapes) {
  if (std::getenv("PENSIEVE_CUDA_BENCH_GEMM") == nullptr) GTEST_SKIP() << "skipped: set PENSIEVE_CUDA_BENCH_GEMM=1";
  PS_REQUIRE_CUDA();
  auto ops = make_cuda_ops();
  ASSERT_TRUE(ops);
  cudaStream_t s = ops->context().stream();
  const int n_tokens = 512, n_layers = 4;  // distinct layers so that weights stream from HBM
  const std::pair<int64_t, int64_t> shapes[] = {{4096, 4096}, {4096, 1024},  {4096, 1024}, {4096, 4096},
                                                {4096, 14336}, {4096, 14336}, {14336, 4096}};  // (cols, rows)
  float *dx = nullptr, *dy = nullptr;
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&dx), size_t(n_tokens) * 14336 * 4), cudaSuccess);
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&dy), size_t(n_tokens) * 14336 * 4), cudaSuccess);
  cudaMemset(dx, 0, size_t(n_tokens) * 14336 * 4);
  double flops = 0;
  for (auto [c, r] : shapes) flops += 2.0 * double(c) * double(r) * n_tokens;
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q6_K}) {
    std::vector<void*> w;
    for (int l = 0; l < n_layers; ++l)
      for (auto [c, r] : shapes) {
        const size_t bytes = ggml_row_size(type, uint64_t(c)) * size_t(r);
        void* p = nullptr;
        ASSERT_EQ(cudaMalloc(&p, bytes), cudaSuccess);
        cudaMemset(p, 0x11, bytes);  // finite scales and quants
        w.push_back(p);
      }
    for (int chunk_mb : {8, 12, 16, 24, 32, 64, 128}) {
      cuda::Gemm g;
      ASSERT_TRUE(g.init(s, &ops->context().pool()).ok());
      g.set_chunking(int64_t(chunk_mb) << 20);
      for (auto [c, r] : shapes) ASSERT_TRUE(g.reserve(type, c, r, n_tokens).ok());
      auto layer = [&](int l) {
        for (size_t i = 0; i < std::size(shapes); ++i)
          ASSERT_TRUE(g.matmul(type, w[size_t(l) * std::size(shapes) + i], shapes[i].first, shapes[i].second, dx,
                               n_tokens, dy).ok());
      };
      for (int l = 0; l < n_layers; ++l) layer(l);  // warm-up (cuBLAS heuristics, pool)
      const int reps = 3;
      cudaEventRecord(e0, s);
      for (int i = 0; i < reps * n_layers; ++i) layer(i % n_layers);
      cudaEventRecord(e1, s);
      ASSERT_EQ(cudaEventSynchronize(e1), cudaSuccess);
      float ms = 0;
      cudaEventElapsedTime(&ms, e0, e1);
      const double per_layer = ms / (reps * n_layers);
      std::printf("{\"bench\":\"cuda-gemm\",\"type\":\"%s\",\"tokens\":%d,\"chunk_mb\":%d,"
                  "\"ms_per_layer\":%.3f,\"ms_per_32_layers\":%.2f,\"tflops\":%.0f}\n",
                  std::string(ggml_type_name(type)).c_str(), n_tokens, chunk_mb, per_layer,
                  per_layer * 32, flops / (per_layer * 1e9));
    }
    for (void* p : w) cudaFree(p);
  }
  cudaFree(dx);
  cudaFree(dy);
  std::fflush(stdout);
}

}  // namespace
}  // namespace pensieve::testing
