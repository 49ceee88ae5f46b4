// Helpers of the CUDA tests: skip visibly without a GPU, run the same op sequence on the CPU and
// the CUDA Ops and compare, random data.
#pragma once

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/cuda/context.h"
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/vecdot_q8.cuh"
#include "quant/quant.h"
#include "test_util.h"

#define PS_REQUIRE_CUDA()                                                           \
  do {                                                                             \
    if (::pensieve::cuda::device_count() == 0) GTEST_SKIP() << "skipped: no CUDA device"; \
  } while (0)

namespace pensieve::testing {

inline std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// A weight matrix of random values quantized to `type`, and what its bytes decode to (the
// reference operand of the kernel tests).
struct QuantMatrix {
  std::vector<uint8_t> bytes;
  std::vector<float> deq;
  int64_t n_cols, n_rows;
  GgmlType type;
  backend::Weight host() const { return backend::Weight{type, bytes.data(), n_cols, n_rows}; }
};

inline QuantMatrix make_matrix(GgmlType type, int64_t n_cols, int64_t n_rows, uint32_t seed, float scale = 0.5f) {
  QuantMatrix m{{}, {}, n_cols, n_rows, type};
  const std::vector<float> src = random_floats(size_t(n_cols * n_rows), seed, scale);
  const size_t row_bytes = ggml_row_size(type, uint64_t(n_cols));
  m.bytes.resize(row_bytes * size_t(n_rows));
  m.deq.resize(src.size());
  for (int64_t r = 0; r < n_rows; ++r) {
    quantize_row(type, src.data() + r * n_cols, m.bytes.data() + r * row_bytes, n_cols);
    dequantize_row(type, m.bytes.data() + r * row_bytes, m.deq.data() + r * n_cols, n_cols);
  }
  return m;
}

// Normalized mean squared error of `got` against `ref` (ggml test-backend-ops' metric).
inline double nmse(const std::vector<float>& got, const std::vector<float>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    num += (double(got[i]) - ref[i]) * (double(got[i]) - ref[i]);
    den += double(ref[i]) * ref[i];
  }
  return den == 0 ? num : num / den;
}

inline double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(double(a[i]) - b[i]));
  return m;
}

// x with each 32-block rounded as the integer mat-vec rounds its activations (8 bits).
inline std::vector<float> quantized_acts(const std::vector<float>& x) {
  std::vector<float> out(x.size());
  int8_t q[32];
  float ds[2];
  for (size_t b = 0; b < x.size() / 32; ++b) {
    cuda::q8::quantize_block_ref(x.data() + 32 * b, q, ds);
    for (size_t i = 0; i < 32; ++i) out[32 * b + i] = float(q[i]) * ds[0];
  }
  return out;
}

inline std::unique_ptr<cuda::CudaOps> make_cuda_ops(cuda::CudaOpsOptions o = {}) {
  auto ops = cuda::CudaOps::create(0, o);
  EXPECT_TRUE(ops.ok()) << (ops.ok() ? "" : ops.error().message);
  return ops.ok() ? std::move(*ops) : nullptr;
}

// A fresh activation buffer of `ops` holding `host` (device memory for the CUDA ops).
inline float* upload_activation(backend::Ops& ops, const std::vector<float>& host) {
  float* p = ops.alloc(static_cast<int64_t>(host.size()));
  if (p == nullptr) return nullptr;
  if (dynamic_cast<cuda::CudaOps*>(&ops) != nullptr) {
    EXPECT_EQ(cudaMemcpy(p, host.data(), host.size() * 4, cudaMemcpyHostToDevice), cudaSuccess);
  } else {
    std::copy(host.begin(), host.end(), p);
  }
  return p;
}

inline std::vector<float> read_back(backend::Ops& ops, const float* p, size_t n) {
  std::vector<float> v(n);
  ops.read(p, static_cast<int64_t>(n), v.data());
  return v;
}

}  // namespace pensieve::testing
