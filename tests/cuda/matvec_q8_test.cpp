// The integer decode mat-vec (src/backend/cuda/matvec_q8.cuh) called directly, against a host
// reference: dequantize_row(weights) . (the 8-bit activations, dequantized) in double. Row counts
// that are not multiples of anything the kernel groups by, up to 4097 rows of 14336 columns (more
// rows than one wave of warp groups: every group walks several rows), 1..8 tokens, biases,
// three outputs in one launch, y over the float activations x was quantized from, PDL off, the
// row-stream kernel (variant 1) on the same data, and rows too wide for the staged kernel's ring.
#include <cuda_runtime_api.h>

#include "backend/cuda/act_quant.cuh"
#include "backend/cuda/matvec_q8.cuh"
#include "backend/cuda/pdl.cuh"
#include "cuda_test_util.h"
#include "quant/quant.h"

namespace pensieve::testing {
namespace {

// Device memory with 64 bytes of padding (as the weights have), freed on scope exit.
struct DeviceBuf {
  void* p = nullptr;
  explicit DeviceBuf(size_t bytes) {
    EXPECT_EQ(cudaMalloc(&p, bytes + 64), cudaSuccess);
    cudaMemset(p, 0, bytes + 64);
  }
  DeviceBuf(const void* host, size_t bytes) : DeviceBuf(bytes) {
    EXPECT_EQ(cudaMemcpy(p, host, bytes, cudaMemcpyHostToDevice), cudaSuccess);
  }
  ~DeviceBuf() { cudaFree(p); }
  DeviceBuf(const DeviceBuf&) = delete;
  DeviceBuf& operator=(const DeviceBuf&) = delete;
  template <class T>
  T* as() const {
    return static_cast<T*>(p);
  }
};

// A quantized matrix of n_rows rows, made of kDistinct random rows repeated (quantizing 4097 x
// 14336 values per type would take long): row r is distinct row r % kDistinct, a prime, so rows
// a kernel might confuse (r +- a multiple of its group count) still differ.
constexpr int64_t kDistinct = 509;

// deq holds the distinct rows.
QuantMatrix make_repeated_matrix(GgmlType type, int64_t n_cols, int64_t n_rows, uint32_t seed) {
  QuantMatrix m = make_matrix(type, n_cols, std::min(n_rows, kDistinct), seed);
  const int64_t distinct = m.n_rows;
  const size_t row_bytes = ggml_row_size(type, uint64_t(n_cols));
  const std::vector<uint8_t> rows = std::move(m.bytes);
  m.bytes.assign(row_bytes * size_t(n_rows), 0);
  for (int64_t r = 0; r < n_rows; ++r)
    std::copy_n(rows.data() + (r % distinct) * row_bytes, row_bytes, m.bytes.data() + r * row_bytes);
  m.n_rows = n_rows;
  return m;
}

// n_tokens rows of n_cols activations with outliers, quantized as the device does.
struct Acts {
  std::vector<float> x;
  std::vector<int8_t> q;
  std::vector<float> ds;
  std::vector<float> deq;
};

Acts make_acts(int64_t n_cols, int n_tokens, uint32_t seed) {
  Acts a;
  a.x = random_floats(size_t(n_cols * n_tokens), seed);
  for (size_t i = 0; i < a.x.size(); i += 61) a.x[i] *= 30.0f;
  a.q.resize(a.x.size());
  a.ds.resize(a.x.size() / 16);
  a.deq.resize(a.x.size());
  for (size_t b = 0; b < a.x.size() / 32; ++b) {
    cuda::q8::quantize_block_ref(a.x.data() + 32 * b, a.q.data() + 32 * b, a.ds.data() + 2 * b);
    for (size_t i = 0; i < 32; ++i) a.deq[32 * b + i] = float(a.q[32 * b + i]) * a.ds[2 * b];
  }
  return a;
}

// y[t][r] for r < n_rows (rows repeat with period kDistinct).
std::vector<float> reference(const QuantMatrix& m, const Acts& a, int n_tokens, int64_t n_rows, const float* bias) {
  const int64_t distinct = std::min(m.n_rows, kDistinct);
  std::vector<double> dots(size_t(n_tokens * distinct));
  for (int t = 0; t < n_tokens; ++t)
    for (int64_t r = 0; r < std::min(n_rows, distinct); ++r) {
      double acc = 0;
      for (int64_t k = 0; k < m.n_cols; ++k) acc += double(m.deq[size_t(r * m.n_cols + k)]) * a.deq[size_t(t * m.n_cols + k)];
      dots[size_t(t * distinct + r)] = acc;
    }
  std::vector<float> y(size_t(n_tokens * n_rows));
  for (int t = 0; t < n_tokens; ++t)
    for (int64_t r = 0; r < n_rows; ++r)
      y[size_t(t * n_rows + r)] = float(dots[size_t(t * distinct + r % distinct)] + (bias ? bias[r] : 0.0));
  return y;
}

std::vector<float> download(const float* d, size_t n) {
  std::vector<float> v(n);
  EXPECT_EQ(cudaMemcpy(v.data(), d, n * 4, cudaMemcpyDeviceToHost), cudaSuccess);
  return v;
}

// Runs y = W x (+ bias) for the first n_rows rows and the first n_tokens tokens; checks it.
void check_one(const QuantMatrix& m, const DeviceBuf& w, const Acts& a, const DeviceBuf& xq, const DeviceBuf& xds,
               int n_tokens, int64_t n_rows, const std::vector<float>* bias, const DeviceBuf* dbias,
               const std::string& what) {
  DeviceBuf y(size_t(n_tokens * n_rows) * 4);
  cudaMemset(y.p, 0xFF, size_t(n_tokens * n_rows) * 4);  // NaN: a row never written fails
  const cuda::ActQ8 act{xq.as<int8_t>(), xds.as<float>()};
  ASSERT_TRUE(cuda::matvec_q8(m.type, w.p, m.n_cols, n_rows, act, n_tokens, y.as<float>(),
                              dbias ? dbias->as<float>() : nullptr, nullptr));
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess) << what;
  ASSERT_EQ(cudaGetLastError(), cudaSuccess) << what;
  const std::vector<float> got = download(y.as<float>(), size_t(n_tokens * n_rows));
  const std::vector<float> ref = reference(m, a, n_tokens, n_rows, bias ? bias->data() : nullptr);
  EXPECT_LT(nmse(got, ref), 1e-10) << what;
  // Every element, not just on average (a single wrong row of 4097 hides in the nmse): a wrong
  // row or token is off by about the rms of y, rounding by ~1e-5 of it.
  double ss = 0;
  for (float v : ref) ss += double(v) * v;
  const double tol = 1e-3 * std::sqrt(ss / double(ref.size())) + 1e-6;
  size_t bad = 0;
  for (size_t i = 0; i < ref.size(); ++i)
    if (!(std::fabs(double(got[i]) - ref[i]) <= tol)) ++bad;
  EXPECT_EQ(bad, 0u) << what << " (elements off)";
}

class MatvecQ8 : public ::testing::TestWithParam<GgmlType> {};

TEST_P(MatvecQ8, RowsTokensWidthsMatchReference) {
  PS_REQUIRE_CUDA();
  const GgmlType type = GetParam();
  const int64_t min_cols = (type == GgmlType::Q8_0 || type == GgmlType::Q5_0) ? 32 : 256;
  const int64_t max_rows = 4097;
  for (int64_t n_cols : {min_cols, int64_t(4096), int64_t(14336)}) {
    ASSERT_TRUE(cuda::matvec_q8_supported(type, n_cols));
    const QuantMatrix m = make_repeated_matrix(type, n_cols, max_rows, uint32_t(n_cols) + 31 * uint32_t(type));
    const DeviceBuf w(m.bytes.data(), m.bytes.size());
    const Acts a = make_acts(n_cols, 8, 77 + uint32_t(n_cols));
    const DeviceBuf xq(a.q.data(), a.q.size()), xds(a.ds.data(), a.ds.size() * 4);
    const std::vector<float> bias = random_floats(size_t(max_rows), 5);
    const DeviceBuf dbias(bias.data(), bias.size() * 4);
    for (int64_t n_rows : {int64_t(1), int64_t(3), int64_t(33), max_rows})
      for (int n_tokens : {1, 2, 5, 8}) {
        const bool with_bias = n_tokens % 2 == 1 || n_rows == 33;
        check_one(m, w, a, xq, xds, n_tokens, n_rows, with_bias ? &bias : nullptr, with_bias ? &dbias : nullptr,
                  std::string(ggml_type_name(type)) + " cols " + std::to_string(n_cols) + " rows " +
                      std::to_string(n_rows) + " tokens " + std::to_string(n_tokens));
      }
  }
}

// Each kernel on its own (variant 1: the row stream, 2: the staged kernel) and the default
// choice, also with PDL off.
TEST_P(MatvecQ8, PreviousKernelAndPlainLaunchMatchReference) {
  PS_REQUIRE_CUDA();
  const GgmlType type = GetParam();
  const int64_t n_cols = 4608, n_rows = 1000;
  const QuantMatrix m = make_repeated_matrix(type, n_cols, n_rows, 3 + uint32_t(type));
  const DeviceBuf w(m.bytes.data(), m.bytes.size());
  const Acts a = make_acts(n_cols, 8, 9);
  const DeviceBuf xq(a.q.data(), a.q.size()), xds(a.ds.data(), a.ds.size() * 4);
  for (int variant : {1, 2, 0}) {
    cuda::set_matvec_q8_variant(variant);
    for (int n_tokens : {1, 5, 8})
      check_one(m, w, a, xq, xds, n_tokens, n_rows, nullptr, nullptr,
                std::string(ggml_type_name(type)) + " variant " + std::to_string(variant) + " tokens " +
                    std::to_string(n_tokens));
  }
  const bool pdl = cuda::pdl_enabled();
  cuda::set_pdl_enabled(false);
  check_one(m, w, a, xq, xds, 3, 77, nullptr, nullptr, std::string(ggml_type_name(type)) + " no PDL");
  cuda::set_pdl_enabled(pdl);
}

// Rows wider than the staged kernel's shared-memory ring fall back to the row stream (Q8_0 at
// 49152 columns: 52 KB rows); the other types at that width still fit it (Q6_K: 40 KB rows).
TEST_P(MatvecQ8, WideRowsMatchReference) {
  PS_REQUIRE_CUDA();
  const GgmlType type = GetParam();
  const int64_t n_cols = 49152, n_rows = 19;
  const QuantMatrix m = make_repeated_matrix(type, n_cols, n_rows, 61 + uint32_t(type));
  const DeviceBuf w(m.bytes.data(), m.bytes.size());
  const Acts a = make_acts(n_cols, 8, 63);
  const DeviceBuf xq(a.q.data(), a.q.size()), xds(a.ds.data(), a.ds.size() * 4);
  for (int n_tokens : {1, 3, 8})
    check_one(m, w, a, xq, xds, n_tokens, n_rows, nullptr, nullptr,
              std::string(ggml_type_name(type)) + " wide rows, tokens " + std::to_string(n_tokens));
}

// Three outputs of different row counts (q, k, v shapes) and biases (one without) in one launch,
// with the staged kernel (tiles must not straddle outputs) and the default choice.
TEST_P(MatvecQ8, ThreeOutputsInOneLaunch) {
  PS_REQUIRE_CUDA();
  const GgmlType type = GetParam();
  for (int64_t n_cols : {int64_t(256), int64_t(4096)}) {
    const int64_t rows[3] = {4097, 33, 1};
    std::vector<QuantMatrix> mats;
    std::vector<std::unique_ptr<DeviceBuf>> ws, ys, bs;
    std::vector<std::vector<float>> biases;
    const Acts a = make_acts(n_cols, 8, 11);
    const DeviceBuf xq(a.q.data(), a.q.size()), xds(a.ds.data(), a.ds.size() * 4);
    for (int i = 0; i < 3; ++i) {
      mats.push_back(make_repeated_matrix(type, n_cols, rows[i], 100 + uint32_t(i) + uint32_t(n_cols)));
      ws.push_back(std::make_unique<DeviceBuf>(mats.back().bytes.data(), mats.back().bytes.size()));
      biases.push_back(random_floats(size_t(rows[i]), 200 + uint32_t(i)));
      bs.push_back(std::make_unique<DeviceBuf>(biases.back().data(), biases.back().size() * 4));
      ys.push_back(std::make_unique<DeviceBuf>(size_t(rows[i]) * 8 * 4));
    }
    for (int variant : {2, 0})
    for (int n_tokens : {1, 2, 5, 8}) {
      cuda::set_matvec_q8_variant(variant);
      cuda::MatvecQ8Output outs[3];
      for (int i = 0; i < 3; ++i) {
        cudaMemset(ys[size_t(i)]->p, 0xFF, size_t(rows[i]) * 8 * 4);
        outs[i] = {ws[size_t(i)]->p, ys[size_t(i)]->as<float>(), i == 1 ? nullptr : bs[size_t(i)]->as<float>(),
                   rows[i]};
      }
      const cuda::ActQ8 act{xq.as<int8_t>(), xds.as<float>()};
      ASSERT_TRUE(cuda::matvec_q8_multi(type, n_cols, outs, 3, act, n_tokens, nullptr));
      ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
      for (int i = 0; i < 3; ++i) {
        const auto got = download(ys[size_t(i)]->as<float>(), size_t(n_tokens * rows[i]));
        const auto ref = reference(mats[size_t(i)], a, n_tokens, rows[i], i == 1 ? nullptr : biases[size_t(i)].data());
        EXPECT_LT(nmse(got, ref), 1e-10) << ggml_type_name(type) << " cols " << n_cols << " output " << i
                                         << " tokens " << n_tokens;
        EXPECT_LT(max_abs_diff(got, ref), 1e-3 * (1.0 + max_abs_diff(ref, std::vector<float>(ref.size()))))
            << ggml_type_name(type) << " output " << i;
      }
      // Two outputs on the same weights give the same bits.
      const cuda::MatvecQ8Output same[2] = {{ws[0]->p, ys[0]->as<float>(), nullptr, 5},
                                            {ws[0]->p, ys[1]->as<float>(), nullptr, 5}};
      ASSERT_TRUE(cuda::matvec_q8_multi(type, n_cols, same, 2, act, n_tokens, nullptr));
      ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
      EXPECT_EQ(download(ys[0]->as<float>(), size_t(5 * n_tokens)), download(ys[1]->as<float>(), size_t(5 * n_tokens)));
    }
  }
}

// y may be the float activations x was quantized from (the kernel reads only x.q / x.ds), as the
// CUDA ops do when a mat-vec overwrites its own input.
TEST_P(MatvecQ8, OutputOverTheFloatInput) {
  PS_REQUIRE_CUDA();
  const GgmlType type = GetParam();
  const int64_t n_cols = 4096, n_rows = 33;
  const QuantMatrix m = make_repeated_matrix(type, n_cols, n_rows, 41);
  const DeviceBuf w(m.bytes.data(), m.bytes.size());
  for (int n_tokens : {1, 8}) {
    const Acts a = make_acts(n_cols, n_tokens, 43);
    const DeviceBuf x(a.x.data(), a.x.size() * 4), xq(a.q.size()), xds(a.ds.size() * 4);
    const cuda::ActQ8 act{xq.as<int8_t>(), xds.as<float>()};
    cuda::quantize_act(x.as<float>(), int64_t(a.x.size()), act, nullptr);
    ASSERT_TRUE(cuda::matvec_q8(type, w.p, n_cols, n_rows, act, n_tokens, x.as<float>(), nullptr, nullptr));
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    const auto got = download(x.as<float>(), size_t(n_tokens * n_rows));
    EXPECT_LT(nmse(got, reference(m, a, n_tokens, n_rows, nullptr)), 1e-10) << ggml_type_name(type);
  }
}

TEST(MatvecQ8Api, RejectsWhatItCannotDo) {
  PS_REQUIRE_CUDA();
  const cuda::ActQ8 act{};
  EXPECT_FALSE(cuda::matvec_q8_supported(GgmlType::Q4_K, 128));
  EXPECT_FALSE(cuda::matvec_q8_supported(GgmlType::Q8_0, 48));
  EXPECT_FALSE(cuda::matvec_q8_supported(GgmlType::F16, 4096));
  EXPECT_FALSE(cuda::matvec_q8(GgmlType::Q4_K, nullptr, 128, 4, act, 1, nullptr, nullptr, nullptr));
  EXPECT_TRUE(cuda::matvec_q8(GgmlType::Q8_0, nullptr, 4096, 0, act, 1, nullptr, nullptr, nullptr));  // no rows
  EXPECT_TRUE(cuda::matvec_q8(GgmlType::Q8_0, nullptr, 4096, 4, act, 0, nullptr, nullptr, nullptr));  // no tokens
  const cuda::MatvecQ8Output empty{nullptr, nullptr, nullptr, 0};
  EXPECT_FALSE(cuda::matvec_q8_multi(GgmlType::Q8_0, 4096, &empty, 1, act, 1, nullptr));
  EXPECT_FALSE(cuda::matvec_q8_multi(GgmlType::Q8_0, 4096, &empty, cuda::kMatvecQ8MaxOutputs + 1, act, 1, nullptr));
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
}

INSTANTIATE_TEST_SUITE_P(Types, MatvecQ8,
                         ::testing::Values(GgmlType::Q8_0, GgmlType::Q5_0, GgmlType::Q4_K, GgmlType::Q6_K),
                         [](const auto& info) { return std::string(ggml_type_name(info.param)); });

}  // namespace
}  // namespace pensieve::testing
