// The input of the ggml golden test (ggml_golden_test.cpp), shared with the program that made
// the golden bytes (make_ggml_golden.cpp). Exact integer/float arithmetic only (no libm), so
// every machine computes the same floats.
#pragma once

#include <cstdint>
#include <vector>

namespace pensieve::testing {

inline constexpr int64_t kGoldenElements = 256 * 16;

inline std::vector<float> golden_input() {
  std::vector<float> x(kGoldenElements);
  uint64_t s = 0x9E3779B97F4A7C15ull;
  auto uniform = [&s]() {  // in [0, 1), 24 bits
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<float>(s >> 40) * (1.0f / 16777216.0f);
  };
  for (int64_t i = 0; i < kGoldenElements; ++i) {
    // Roughly Gaussian (Irwin-Hall of 4), sigma about 0.02, a mean shift in every other
    // super-block, an outlier every 97 values, a zero run and a tiny-magnitude stretch.
    float v = (uniform() + uniform() + uniform() + uniform() - 2.0f) * 0.0346f;
    if ((i / 256) % 2 == 1) v += 0.01f;
    if (i % 97 == 0) v *= 8.0f;
    if (i >= 256 * 5 && i < 256 * 5 + 40) v = 0.0f;
    if (i >= 256 * 9 && i < 256 * 10) v *= 1e-6f;
    x[i] = v;
  }
  return x;
}

}  // namespace pensieve::testing
