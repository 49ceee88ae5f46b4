// The tensor-core batched matmul (backend/cuda/matmul_mma.cuh) against a double-precision host
// reference over the same F16-rounded operands, for the weight types of the quantized models,
// 1..64 tokens and row counts that do not fill the last block; and a token's result is the same
// bits whatever else shares the launch.
#include <cuda_runtime_api.h>

#include "backend/cuda/matmul_mma.cuh"
#include "cuda_test_util.h"
#include "util/fp16.h"

namespace pensieve::testing {
namespace {

float f16_round(float v) { return fp16_to_fp32(fp32_to_fp16(v)); }

struct Device {
  void* p = nullptr;
  explicit Device(size_t bytes) { EXPECT_EQ(cudaMalloc(&p, bytes), cudaSuccess); }
  ~Device() { cudaFree(p); }
  float* f() const { return static_cast<float*>(p); }
};

std::vector<float> run(const QuantMatrix& m, const void* dw, const std::vector<float>& x, int n_tokens, const float* bias) {
  Device dx(x.size() * 4), dy(size_t(n_tokens) * m.n_rows * 4);
  Device dp(size_t(std::max<int64_t>(1, cuda::matmul_mma_partial_floats(m.n_cols, m.n_rows, n_tokens))) * 4);
  cudaMemcpy(dx.p, x.data(), x.size() * 4, cudaMemcpyHostToDevice);
  cudaMemset(dy.p, 0xff, size_t(n_tokens) * m.n_rows * 4);  // NaNs: every output must be written
  EXPECT_TRUE(cuda::matmul_mma(m.type, dw, m.n_cols, m.n_rows, dx.f(), n_tokens, dy.f(), bias, dp.f(), nullptr));
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  std::vector<float> y(size_t(n_tokens) * m.n_rows);
  cudaMemcpy(y.data(), dy.p, y.size() * 4, cudaMemcpyDeviceToHost);
  return y;
}

TEST(CudaMatmulMma, SplitsDependOnTheShapeOnly) {  // host only
  // The F16 copy of x (2 halves per float), then the partials: 100 rows x 512 columns are 2 row
  // blocks, k split over its 4 tiles; the tokens change only the size.
  EXPECT_EQ(cuda::matmul_mma_partial_floats(512, 100, 1), 512 / 2 + 4 * 100);
  EXPECT_EQ(cuda::matmul_mma_partial_floats(512, 100, 64), 64 * 512 / 2 + 4 * 64 * 100);
  EXPECT_EQ(cuda::matmul_mma_partial_floats(4096, 128256, 32), 32 * 4096 / 2);  // enough row blocks: no split
}

TEST(CudaMatmulMma, MatchesReferenceOverTypesAndTokenCounts) {
  PS_REQUIRE_CUDA();
  const int64_t n_cols = 512, n_rows = 100;  // 100 rows: the last block is partial
  for (GgmlType type : {GgmlType::Q4_K, GgmlType::Q6_K, GgmlType::Q8_0, GgmlType::Q5_0, GgmlType::Q4_0, GgmlType::F16}) {
    const QuantMatrix m = make_matrix(type, n_cols, n_rows, 11 + uint32_t(type));
    Device dw(m.bytes.size() + 64);
    cudaMemcpy(dw.p, m.bytes.data(), m.bytes.size(), cudaMemcpyHostToDevice);
    const std::vector<float> bias = random_floats(size_t(n_rows), 3);
    Device db(bias.size() * 4);
    cudaMemcpy(db.p, bias.data(), bias.size() * 4, cudaMemcpyHostToDevice);
    for (int n_tokens : {1, 2, 9, 16, 33, 64}) {
      const std::vector<float> x = random_floats(size_t(n_tokens) * n_cols, 100 + n_tokens);
      std::vector<float> ref(size_t(n_tokens) * n_rows);
      for (int t = 0; t < n_tokens; ++t)
        for (int64_t r = 0; r < n_rows; ++r) {
          double acc = 0;
          for (int64_t k = 0; k < n_cols; ++k)
            acc += double(f16_round(m.deq[size_t(r * n_cols + k)])) * f16_round(x[size_t(t * n_cols + k)]);
          ref[size_t(t * n_rows + r)] = float(acc + bias[size_t(r)]);
        }
      const std::vector<float> got = run(m, dw.p, x, n_tokens, db.f());
      // Same F16 operands: only the F32 accumulation order differs from the double reference.
      EXPECT_LT(nmse(got, ref), 1e-10) << ggml_type_name(type) << " tokens " << n_tokens;
    }
  }
}

TEST(CudaMatmulMma, ATokenGetsTheSameBitsAloneOrInABatch) {
  PS_REQUIRE_CUDA();
  const int64_t n_cols = 1024, n_rows = 256;
  const QuantMatrix m = make_matrix(GgmlType::Q4_K, n_cols, n_rows, 5);
  Device dw(m.bytes.size() + 64);
  cudaMemcpy(dw.p, m.bytes.data(), m.bytes.size(), cudaMemcpyHostToDevice);
  const std::vector<float> batch = random_floats(size_t(64) * n_cols, 9);
  const std::vector<float> all = run(m, dw.p, batch, 64, nullptr);
  for (int t : {0, 17, 63}) {
    const std::vector<float> one_x(batch.begin() + t * n_cols, batch.begin() + (t + 1) * n_cols);
    const std::vector<float> one = run(m, dw.p, one_x, 1, nullptr);
    for (int64_t r = 0; r < n_rows; ++r) ASSERT_EQ(one[size_t(r)], all[size_t(t * n_rows + r)]) << "token " << t << " row " << r;
  }
}

}  // namespace
}  // namespace pensieve::testing
