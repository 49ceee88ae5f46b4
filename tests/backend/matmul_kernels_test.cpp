// Every compiled kernel level (scalar, avx2, avx512 where this CPU has them) against the
// scalar references: tiles over many shapes and misaligned pointers, the activation
// quantizers byte for byte, and the public matmul()/get_row() with a thread pool.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/kernels_table.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/vec_dot.h"
#include "quant/quant.h"

namespace pensieve::cpu {
namespace {

const GgmlType kAllTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0,
                              GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                              GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K,
                              GgmlType::Q6_K};

std::vector<CpuIsa> available_isas() {
  std::vector<CpuIsa> out;
  for (int i = 0; i <= static_cast<int>(best_cpu_isa()); ++i) out.push_back(static_cast<CpuIsa>(i));
  return out;
}

std::vector<float> random_floats(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& f : v) f = dist(rng);
  return v;
}

// Weights with every bit pattern the format allows: random bytes, then sane fp16 scale fields
// (random bytes there could be inf/NaN). Float types get random values.
std::vector<uint8_t> random_weights(GgmlType type, int64_t n_cols, int64_t n_rows, std::mt19937& rng) {
  const size_t row = ggml_row_size(type, n_cols);
  std::vector<uint8_t> w(row * n_rows);
  if (type == GgmlType::F32 || type == GgmlType::F16 || type == GgmlType::BF16) {
    const auto f = random_floats(n_cols * n_rows, rng);
    quantize_row(type, f.data(), w.data(), n_cols * n_rows);
    return w;
  }
  for (auto& b : w) b = static_cast<uint8_t>(rng());
  std::vector<int> fp16_fields;  // byte offsets of fp16 scales in one block
  switch (type) {
    case GgmlType::Q4_0: case GgmlType::Q5_0: case GgmlType::Q8_0: fp16_fields = {0}; break;
    case GgmlType::Q4_1: case GgmlType::Q5_1: case GgmlType::Q4_K: case GgmlType::Q5_K: fp16_fields = {0, 2}; break;
    case GgmlType::Q2_K: fp16_fields = {80, 82}; break;
    case GgmlType::Q3_K: fp16_fields = {108}; break;
    case GgmlType::Q6_K: fp16_fields = {208}; break;
    default: break;
  }
  const size_t bs = ggml_type_info(type).type_size;
  std::uniform_real_distribution<float> scale(-0.05f, 0.05f);
  for (size_t off = 0; off < w.size(); off += bs)
    for (int f : fp16_fields) {
      const fp16_t h = fp32_to_fp16(scale(rng));
      std::memcpy(&w[off + f], &h, 2);
    }
  return w;
}

// Natural scale of the float error of dot(w_r, x_t): sum of |w_k x_k| of the dequantized rows.
std::vector<double> magnitudes(GgmlType type, const uint8_t* w, int64_t n, int nr, const float* x, int nt) {
  std::vector<double> mag(static_cast<size_t>(nr) * nt);
  std::vector<float> wf(n);
  const size_t row = ggml_row_size(type, n);
  for (int r = 0; r < nr; ++r) {
    dequantize_row(type, w + r * row, wf.data(), n);
    for (int t = 0; t < nt; ++t) {
      double m = 0;
      for (int64_t k = 0; k < n; ++k) m += std::fabs(static_cast<double>(wf[k]) * x[t * n + k]);
      mag[static_cast<size_t>(t) * nr + r] = m;
    }
  }
  return mag;
}

int64_t block_of(GgmlType type) { return ggml_type_info(type).block_size == 1 ? 16 : ggml_type_info(type).block_size; }

// Runs one tile of `isa` and compares with the reference dots.
void check_tile(CpuIsa isa, GgmlType type, int64_t n, int nr, int nt, int misalign, std::mt19937& rng) {
  const CpuKernelTable& table = kernel_table(isa);
  const GgmlType act = vec_dot_act_type(type);
  const size_t w_row = ggml_row_size(type, n);
  const size_t x_row = act == GgmlType::F32 ? n * 4 : ggml_row_size(act, n);
  const auto w = random_weights(type, n, nr, rng);
  const auto x = random_floats(n * nt, rng);
  // Copies at odd offsets: kernels must not assume alignment.
  std::vector<uint8_t> wbuf(w.size() + 64), xbuf(x_row * nt + 64);
  uint8_t* wp = wbuf.data() + misalign;
  uint8_t* xp = xbuf.data() + misalign;
  std::memcpy(wp, w.data(), w.size());
  for (int t = 0; t < nt; ++t) quantize_act_ref(act, x.data() + t * n, xp + t * x_row, n);
  const int64_t ldy = nr + 3;
  std::vector<float> y(ldy * nt, -12345.0f);
  table.tile[static_cast<int>(type)](n, wp, w_row, nr, xp, x_row, nt, y.data(), ldy);
  const auto mag = magnitudes(type, w.data(), n, nr, x.data(), nt);
  const VecDotFn ref = vec_dot_ref_fn(type);
  for (int t = 0; t < nt; ++t)
    for (int r = 0; r < nr; ++r) {
      const float want = ref(n, w.data() + r * w_row, xp + t * x_row);
      const float got = y[t * ldy + r];
      ASSERT_NEAR(got, want, 1e-5 * mag[static_cast<size_t>(t) * nr + r] + 1e-30)
          << cpu_isa_name(isa) << " " << ggml_type_name(type) << " n=" << n << " nr=" << nr
          << " nt=" << nt << " r=" << r << " t=" << t;
    }
  for (int t = 0; t < nt; ++t)  // nothing written outside the tile
    for (int64_t r = nr; r < ldy; ++r) ASSERT_EQ(y[t * ldy + r], -12345.0f);
}

TEST(MatmulKernels, TilesMatchReferenceOverShapes) {
  std::mt19937 rng(42);
  const int row_counts[] = {1, 2, 3, 4, 5, 7, 8, 16, 17, 33, 67};
  const int token_counts[] = {1, 2, 3, 4, 5, 7, 8, 11, 16, 17};
  for (CpuIsa isa : available_isas())
    for (GgmlType type : kAllTypes) {
      const int64_t blk = block_of(type);
      const int max_blocks = blk == 256 ? 3 : 6;
      for (int nb = 1; nb <= max_blocks; ++nb) {
        // Cover the shape grid without running every combination (keeps the test fast).
        for (size_t i = 0; i < std::size(row_counts); ++i) {
          const int nr = row_counts[i];
          const int nt = token_counts[(i + nb) % std::size(token_counts)];
          check_tile(isa, type, nb * blk, nr, nt, (nb + static_cast<int>(i)) % 4, rng);
          if (HasFatalFailure()) return;
        }
      }
      // Several full 16 x 16 tiles plus ragged edges (the AMX kernels' blocking).
      check_tile(isa, type, 2 * std::max<int64_t>(blk, 128), 50, 35, 1, rng);
      if (HasFatalFailure()) return;
      if (blk == 16)  // float types: lengths that are not a multiple of the vector width
        for (int64_t n : {1, 3, 15, 17, 31, 33, 63, 65, 100})
          for (int nt : {1, 5}) {
            check_tile(isa, type, n, 9, nt, static_cast<int>(n % 4), rng);
            if (HasFatalFailure()) return;
          }
    }
}

// The many-token (GEMM) tiles repack 32-row panels (16-row halves) and serve tokens in groups
// of 4-6: panel edges (exactly 16 rows, a lone short half, 32 + a few rows), token tails and
// several super-blocks / odd block counts along K.
TEST(MatmulKernels, GemmTilesMatchReferenceOverPanelShapes) {
  std::mt19937 rng(1234);
  const std::pair<int, int> shapes[] = {{16, 6}, {40, 13}, {33, 7}, {64, 25}, {5, 9}};
  for (CpuIsa isa : available_isas())
    for (GgmlType type : kAllTypes) {
      const int64_t blk = block_of(type);
      if (blk == 16) continue;  // float types have no GEMM path
      const int64_t n = blk == 256 ? 3 * 256 : 9 * 32;
      for (auto [nr, nt] : shapes) {
        check_tile(isa, type, n, nr, nt, nr % 4, rng);
        if (HasFatalFailure()) return;
      }
    }
}

TEST(MatmulKernels, ActivationQuantizersAreBitExact) {
  std::mt19937 rng(7);
  for (CpuIsa isa : available_isas())
    for (GgmlType act : {GgmlType::Q8_0, GgmlType::Q8_1, GgmlType::Q8_K}) {
      for (int64_t n : {256, 512, 1024 + 256}) {
        auto x = random_floats(n, rng);
        x[5] = 0.0f;
        for (int j = 32; j < 64; ++j) x[j] = 0.0f;                     // an all-zero block
        // A block with scale exactly 1 and values at .5: rounding ties (away from zero for
        // Q8_0/Q8_1; Q8_K rounds ties to even).
        x[64] = 127.0f;
        for (int j = 65; j < 96; ++j) x[j] = static_cast<float>(j - 80) + 0.5f;
        std::vector<uint8_t> want(ggml_row_size(act, n)), got(want.size() + 1);
        quantize_act_ref(act, x.data(), want.data(), n);
        kernel_table(isa).quantize[static_cast<int>(act)](x.data(), got.data() + 1, n);
        ASSERT_EQ(std::memcmp(want.data(), got.data() + 1, want.size()), 0)
            << cpu_isa_name(isa) << " " << ggml_type_name(act) << " n=" << n;
      }
    }
}

TEST(Matmul, PublicApiWithPoolMatchesReference) {
  std::mt19937 rng(9);
  ThreadPool pool(2);
  for (GgmlType type : kAllTypes) {
    const int64_t n = 512;
    for (auto [rows, tokens] : {std::pair<int64_t, int64_t>{37, 1}, {130, 3}, {70, 19}}) {
      const auto w = random_weights(type, n, rows, rng);
      const auto x = random_floats(n * tokens, rng);
      std::vector<float> y(rows * tokens), y_ref(rows * tokens);
      const WeightView view{type, w.data(), n, rows};
      matmul(view, x.data(), tokens, y.data(), &pool);
      matmul_ref(view, x.data(), tokens, y_ref.data());
      const auto mag = magnitudes(type, w.data(), n, static_cast<int>(rows), x.data(), static_cast<int>(tokens));
      for (size_t i = 0; i < y.size(); ++i)
        ASSERT_NEAR(y[i], y_ref[i], 1e-5 * mag[i] + 1e-30) << ggml_type_name(type) << " i=" << i;
      std::vector<float> y1(rows * tokens);
      matmul(view, x.data(), tokens, y1.data(), nullptr);  // no pool: same numbers
      for (size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y1[i], y[i], 1e-6 * mag[i] + 1e-30);
    }
  }
}

TEST(Matmul, GetRowMatchesDequantize) {
  std::mt19937 rng(11);
  for (GgmlType type : kAllTypes) {
    const int64_t n = 256, rows = 5;
    const auto w = random_weights(type, n, rows, rng);
    std::vector<float> got(n), want(n);
    const size_t row = ggml_row_size(type, n);
    for (int64_t r = 0; r < rows; ++r) {
      get_row(WeightView{type, w.data(), n, rows}, r, got.data());
      dequantize_row(type, w.data() + r * row, want.data(), n);
      ASSERT_EQ(std::memcmp(got.data(), want.data(), n * 4), 0) << ggml_type_name(type);
    }
  }
}

TEST(Matmul, SupportAndIsaName) {
  std::printf("best kernel level on this CPU: %s\n", cpu_isa_name(best_cpu_isa()));
  for (GgmlType type : kAllTypes) EXPECT_TRUE(matmul_supported(type)) << ggml_type_name(type);
  EXPECT_FALSE(matmul_supported(GgmlType::IQ2_XXS));
  EXPECT_FALSE(matmul_supported(GgmlType::Q8_K));
  const std::string isa = cpu_kernel_isa();
  EXPECT_TRUE(isa == "scalar" || isa == "avx2" || isa == "avx512-vnni" || isa == "avx512-vnni+amx") << isa;
}

}  // namespace
}  // namespace pensieve::cpu
