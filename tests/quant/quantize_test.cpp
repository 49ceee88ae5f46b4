// Quantization quality and structure: error bounds from llama.cpp's own test, round trips,
// rows of many lengths, degenerate inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "quant/quant.h"

namespace pensieve {
namespace {

// Bounds from llama.cpp tests/test-quantize-fns.cpp (ggml-org/llama.cpp):
//   MAX_QUANTIZATION_TOTAL_ERROR       = 0.002f   (every type not listed below)
//   MAX_QUANTIZATION_TOTAL_ERROR_2BITS = 0.0075f  (Q2_K)
//   MAX_QUANTIZATION_TOTAL_ERROR_3BITS = 0.0040f  (Q3_K)
// measured, as there, by array_rmse = sqrt(sum of squared differences) / n on
// test_size = 32 * 128 values of generate_data(0): x[i] = 0.1 + 2 * cos(i).
constexpr float kMaxTotalError = 0.002f;
constexpr float kMaxTotalError2Bits = 0.0075f;
constexpr float kMaxTotalError3Bits = 0.0040f;

std::vector<float> cos_signal(size_t n, float offset = 0.0f, float amplitude = 2.0f) {
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = 0.1f + amplitude * std::cos(static_cast<float>(i) + offset);
  return x;
}

float llama_cpp_total_error(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += static_cast<double>(a[i] - b[i]) * (a[i] - b[i]);
  return static_cast<float>(std::sqrt(sum) / static_cast<double>(a.size()));
}

double relative_rmse(const std::vector<float>& ref, const std::vector<float>& got) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    num += static_cast<double>(ref[i] - got[i]) * (ref[i] - got[i]);
    den += static_cast<double>(ref[i]) * ref[i];
  }
  return std::sqrt(num / den);
}

std::vector<uint8_t> quantize(GgmlType t, const std::vector<float>& x) {
  const QuantTraits& tr = quant_traits(t);
  std::vector<uint8_t> q(x.size() / tr.block_size * tr.type_size);
  quantize_row(t, x.data(), q.data(), static_cast<int64_t>(x.size()));
  return q;
}

std::vector<float> dequantize(GgmlType t, const std::vector<uint8_t>& q, size_t n) {
  std::vector<float> y(n);
  dequantize_row(t, q.data(), y.data(), static_cast<int64_t>(n));
  return y;
}

std::vector<float> round_trip(GgmlType t, const std::vector<float>& x) { return dequantize(t, quantize(t, x), x.size()); }

const GgmlType kWeightTypes[] = {GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q4_1,
                                 GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q2_K,
                                 GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};

TEST(QuantizeError, WithinLlamaCppBoundsOnItsTestSignal) {
  const std::vector<float> x = cos_signal(32 * 128);
  for (GgmlType t : kWeightTypes) {
    const float bound = t == GgmlType::Q2_K ? kMaxTotalError2Bits
                        : t == GgmlType::Q3_K ? kMaxTotalError3Bits
                                              : kMaxTotalError;
    const float err = llama_cpp_total_error(x, round_trip(t, x));
    EXPECT_LT(err, bound) << ggml_type_name(t);
  }
}

TEST(QuantizeError, MoreBitsGiveLessErrorOnGaussianWeights) {
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> x(256 * 64);
  for (auto& v : x) v = normal(rng);
  // Ordered from fewest to most bits per weight.
  const GgmlType order[] = {GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K,
                            GgmlType::Q6_K, GgmlType::Q8_0, GgmlType::F16};
  double prev = 1.0;
  for (GgmlType t : order) {
    const double e = relative_rmse(x, round_trip(t, x));
    EXPECT_LT(e, prev) << ggml_type_name(t);
    prev = e;
  }
  // The uniform-grid bound: a b-bit grid over the block range errs by at most half a step;
  // a Gaussian block of 32 spans about +-2.5 sigma, so the relative RMS error of b bits is
  // about 5 / (2^b * sqrt(12)) (0.09 at 4 bits). Allow 1.5x for scale rounding.
  auto grid_bound = [](int bits) { return 1.5 * 5.0 / (std::pow(2.0, bits) * std::sqrt(12.0)); };
  EXPECT_LT(relative_rmse(x, round_trip(GgmlType::Q4_0, x)), grid_bound(4));
  EXPECT_LT(relative_rmse(x, round_trip(GgmlType::Q4_1, x)), grid_bound(4));
  EXPECT_LT(relative_rmse(x, round_trip(GgmlType::Q5_0, x)), grid_bound(5));
  EXPECT_LT(relative_rmse(x, round_trip(GgmlType::Q5_1, x)), grid_bound(5));
  EXPECT_LT(relative_rmse(x, round_trip(GgmlType::Q4_K, x)), grid_bound(4));
  EXPECT_LT(relative_rmse(x, round_trip(GgmlType::Q6_K, x)), grid_bound(6));
  EXPECT_LT(relative_rmse(x, round_trip(GgmlType::Q8_0, x)), grid_bound(8));
}

// The k-quant scale search must do at least as well as the plain absmax/min-max grid of the
// same bit width: Q4_K vs Q4_1 on data with outliers, where the search pays off most.
TEST(QuantizeError, KQuantSearchBeatsPlainGridWithOutliers) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(256 * 32);
  for (auto& v : x) v = normal(rng);
  for (size_t i = 0; i < x.size(); i += 97) x[i] *= 6.0f;
  EXPECT_LT(relative_rmse(x, round_trip(GgmlType::Q4_K, x)), relative_rmse(x, round_trip(GgmlType::Q4_1, x)));
  EXPECT_LT(relative_rmse(x, round_trip(GgmlType::Q5_K, x)), relative_rmse(x, round_trip(GgmlType::Q5_1, x)));
}

// Symmetric 32-element formats are fixed points after one round: the largest magnitude maps
// to an exact grid point, so quantize(dequantize(q)) == q byte for byte.
TEST(QuantizeRoundTrip, SymmetricFormatsAreStable) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> uni(-3.0f, 3.0f);
  std::vector<float> x(32 * 100);
  for (auto& v : x) v = uni(rng);
  for (GgmlType t : {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q5_0}) {
    const std::vector<uint8_t> q1 = quantize(t, x);
    const std::vector<uint8_t> q2 = quantize(t, dequantize(t, q1, x.size()));
    EXPECT_EQ(q1, q2) << ggml_type_name(t);
  }
}

// Values already on a Q8_0 grid come back exactly.
TEST(QuantizeRoundTrip, Q8_0GridValuesAreExact) {
  std::vector<float> x(64);
  for (int i = 0; i < 64; ++i) x[i] = static_cast<float>((i * 37) % 255 - 127) * 0.25f;
  x[5] = 127 * 0.25f;
  x[40] = -127 * 0.25f;
  EXPECT_EQ(round_trip(GgmlType::Q8_0, x), x);
}

// The largest error each format allows for one element, from the format itself (not from this
// quantizer): round-to-nearest on a grid of step d errs by at most d/2, and the fp16 scale (and
// min) of a block are themselves rounded, by at most 2^-11 relative, which moves a value q*d by
// |q| * d * 2^-11.
//   F16 / BF16: 10 / 7 mantissa bits: |x| * 2^-11 / |x| * 2^-8.
//   Q8_0: d = amax/127, q in -127..127, no clipping: amax/254 + amax * 2^-11.
//   Q4_0 / Q5_0: d = (signed max)/-8 or /-16, q in -8..7 / -16..15: values of the other sign
//     than the largest clip to 7d / 15d, so one full step d = amax/8 / amax/16 (+ the scale term).
//   Q4_1 / Q5_1: min + d*q, d = range/15 / range/31: d/2, plus |min| * 2^-11 and range * 2^-11.
//   K-quants (super-blocks of 256, sub-block scales themselves quantized to 4-8 bits): every
//     sub-block grid is at least as fine as one b-bit grid over the whole super-block's range, and
//     the quantized sub-scale costs at most another such step: 2 * range / (2^b - 1).
void expect_within_format_error(GgmlType t, const std::vector<float>& x, const std::vector<float>& y) {
  ASSERT_EQ(x.size(), y.size());
  constexpr double kHalfEps = 1.0 / 2048;  // fp16 rounding, relative
  const int block = quant_traits(t).block_size == 1 ? 1 : quant_traits(t).block_size;
  for (size_t b0 = 0; b0 < x.size(); b0 += block) {
    const size_t b1 = std::min(x.size(), b0 + block);
    double amax = 0, lo = x[b0], hi = x[b0];
    for (size_t i = b0; i < b1; ++i) {
      amax = std::max(amax, std::fabs(static_cast<double>(x[i])));
      lo = std::min(lo, static_cast<double>(x[i]));
      hi = std::max(hi, static_cast<double>(x[i]));
    }
    const double range = hi - lo;
    for (size_t i = b0; i < b1; ++i) {
      double bound = 0;
      switch (t) {
        case GgmlType::F16: bound = std::fabs(x[i]) * kHalfEps; break;
        case GgmlType::BF16: bound = std::fabs(x[i]) / 256; break;
        case GgmlType::Q8_0: bound = amax / 254 + amax * kHalfEps; break;
        case GgmlType::Q4_0: bound = amax / 8 + amax * kHalfEps; break;
        case GgmlType::Q5_0: bound = amax / 16 + amax * kHalfEps; break;
        case GgmlType::Q4_1: bound = range / 30 + (std::fabs(lo) + range) * kHalfEps; break;
        case GgmlType::Q5_1: bound = range / 62 + (std::fabs(lo) + range) * kHalfEps; break;
        case GgmlType::Q2_K: bound = 2 * range / 3; break;
        case GgmlType::Q3_K: bound = 2 * range / 7; break;
        case GgmlType::Q4_K: bound = 2 * range / 15; break;
        case GgmlType::Q5_K: bound = 2 * range / 31; break;
        case GgmlType::Q6_K: bound = 2 * range / 63; break;
        default: FAIL() << "no error bound for " << ggml_type_name(t);
      }
      ASSERT_LE(std::fabs(static_cast<double>(y[i]) - x[i]), bound * (1 + 1e-6) + 1e-12)
          << ggml_type_name(t) << " element " << i << ": " << x[i] << " came back as " << y[i];
    }
  }
}

// Every block is quantized on its own: a row of k blocks equals k one-block rows, nothing is
// written past the row, and dequantization writes exactly n floats.
TEST(QuantizeRows, ManyLengthsAreBlockLocal) {
  const std::vector<float> signal = cos_signal(256 * 9, 0.5f, 1.3f);
  for (GgmlType t : kWeightTypes) {
    const QuantTraits& tr = quant_traits(t);
    const int qk = tr.block_size == 1 ? 32 : tr.block_size;  // plain types: rows of any length
    for (int nblocks : {1, 2, 3, 5, 8}) {
      const int64_t n = static_cast<int64_t>(nblocks) * qk + (tr.block_size == 1 ? 3 : 0);
      SCOPED_TRACE(std::string(ggml_type_name(t)) + " n=" + std::to_string(n));
      const size_t bytes = static_cast<size_t>(n / tr.block_size * tr.type_size);
      std::vector<uint8_t> whole(bytes + 64, 0xA5);
      quantize_row(t, signal.data(), whole.data(), n);
      for (size_t i = bytes; i < whole.size(); ++i) ASSERT_EQ(whole[i], 0xA5) << "wrote past the row";
      if (tr.block_size > 1) {
        for (int b = 0; b < nblocks; ++b) {
          std::vector<uint8_t> one(tr.type_size);
          quantize_row(t, signal.data() + b * qk, one.data(), qk);
          ASSERT_EQ(0, std::memcmp(one.data(), whole.data() + b * tr.type_size, tr.type_size)) << "block " << b;
        }
      }
      std::vector<float> out(static_cast<size_t>(n) + 16, 12345.0f);
      dequantize_row(t, whole.data(), out.data(), n);
      for (size_t i = static_cast<size_t>(n); i < out.size(); ++i) ASSERT_EQ(out[i], 12345.0f);
      for (int64_t i = 0; i < n; ++i) ASSERT_TRUE(std::isfinite(out[static_cast<size_t>(i)]));
      std::vector<float> ref(signal.begin(), signal.begin() + n);
      std::vector<float> got(out.begin(), out.begin() + n);
      expect_within_format_error(t, ref, got);
    }
  }
}

TEST(QuantizeRows, ZeroAndConstantBlocks) {
  for (GgmlType t : kWeightTypes) {
    SCOPED_TRACE(std::string(ggml_type_name(t)));
    const std::vector<float> zeros(512, 0.0f);
    for (float v : round_trip(t, zeros)) ASSERT_EQ(v, 0.0f);
    // A constant block: every value must come back close (no NaN from a zero range).
    const std::vector<float> constant(512, -0.75f);
    for (float v : round_trip(t, constant)) ASSERT_NEAR(v, -0.75f, 0.75f * 0.05f);
    // Tiny and huge magnitudes stay finite.
    std::vector<float> tiny(512), huge(512);
    for (int i = 0; i < 512; ++i) {
      tiny[i] = 1e-30f * static_cast<float>(i % 7 - 3);
      huge[i] = 1e4f * static_cast<float>(i % 5 - 2);
    }
    for (float v : round_trip(t, tiny)) ASSERT_TRUE(std::isfinite(v));
    const std::vector<float> h = round_trip(t, huge);
    // Five levels over a range of 4e4: allow one grid step of the format's bit width (Q4_0's
    // grid -8..7 clips +2e4 to 7 * 2500, one step).
    const int bits = t == GgmlType::Q2_K ? 2 : t == GgmlType::Q3_K ? 3
                   : (t == GgmlType::Q4_0 || t == GgmlType::Q4_1 || t == GgmlType::Q4_K) ? 4
                   : (t == GgmlType::Q5_0 || t == GgmlType::Q5_1 || t == GgmlType::Q5_K) ? 5
                   : t == GgmlType::Q6_K ? 6 : 8;
    const float tol = 4e4f / static_cast<float>((1 << bits) - 1);
    for (size_t i = 0; i < h.size(); ++i) ASSERT_NEAR(h[i], huge[i], tol) << i;
  }
}

// Q4_0 by hand: the largest magnitude is -1.6, so d = -1.6 / -8 = 0.2 and x = 0.2 * (q - 8).
TEST(QuantizeFormats, Q4_0KnownBlock) {
  std::vector<float> x(32);
  for (int i = 0; i < 32; ++i) x[i] = 0.2f * static_cast<float>(i % 16 - 8);
  const std::vector<uint8_t> q = quantize(GgmlType::Q4_0, x);
  const uint16_t d = static_cast<uint16_t>(q[0] | (q[1] << 8));
  EXPECT_EQ(d, 0x3266);  // 0.2 as an IEEE half
  // Element i = 0.2 * (i % 16 - 8) is stored as q = i % 16; element j + 16 has the same value.
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(q[2 + j] & 0xF, j);
    EXPECT_EQ(q[2 + j] >> 4, j);
  }
}

}  // namespace
}  // namespace pensieve
