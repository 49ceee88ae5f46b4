// The integer dot products of the decode mat-vec (src/backend/cuda/vecdot_q8.cuh) run here on
// the host (no GPU needed): per weight type, the sum over all blocks and parts of VecDot::dot
// must equal the dot of dequantize_row(weights) with the dequantized 8-bit activations.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "backend/cuda/vecdot_q8.cuh"
#include "cuda_test_util.h"
#include "quant/quant.h"

namespace pensieve::testing {
namespace {

namespace q8 = cuda::q8;

struct QuantActs {
  std::vector<int8_t> q;
  std::vector<float> ds;
  std::vector<float> deq;  // q * d
};

QuantActs quantize_acts(const std::vector<float>& x) {
  QuantActs a{std::vector<int8_t>(x.size()), std::vector<float>(x.size() / 16), std::vector<float>(x.size())};
  for (size_t b = 0; b < x.size() / 32; ++b) {
    q8::quantize_block_ref(x.data() + 32 * b, a.q.data() + 32 * b, a.ds.data() + 2 * b);
    for (size_t i = 0; i < 32; ++i) a.deq[32 * b + i] = float(a.q[32 * b + i]) * a.ds[2 * b];
  }
  return a;
}

TEST(VecDotHost, PrimitivesMatchTheirDefinition) {
  for (uint32_t v = 0; v < 128; v += 3)
    for (uint32_t k : {0u, 16u, 32u, 127u}) {
      const uint32_t word = v | ((127 - v) << 8) | ((v / 2) << 16) | (v % 7) << 24;
      const uint32_t got = q8::sub_bytes(word, k * 0x01010101u);
      for (int i = 0; i < 4; ++i)
        EXPECT_EQ(int(int8_t(got >> (8 * i))), int(int8_t(((word >> (8 * i)) & 0xFF) - k)));
    }
  for (uint32_t bits = 0; bits < 16; ++bits) {
    const uint32_t got = q8::spread4_to_bit4(bits | 0xFFF0u);  // bits above the low 4 are ignored
    for (int i = 0; i < 4; ++i) EXPECT_EQ((got >> (8 * i)) & 0xFF, ((bits >> i) & 1) << 4);
  }
  EXPECT_EQ(q8::dp4a(int(0x80FF017Fu), int(0x7F02FF80u), 5), 5 + 127 * -128 + 1 * -1 + -1 * 2 + -128 * 127);
}

TEST(VecDotHost, ActivationQuantizationIsWithinHalfAStep) {
  std::vector<float> x = random_floats(32 * 8, 3, 2.0f);
  for (int i = 32; i < 64; ++i) x[size_t(i)] = 0.0f;  // an all-zero block: d = 0, no NaN
  const QuantActs a = quantize_acts(x);
  for (size_t b = 0; b < 8; ++b) {
    const float d = a.ds[2 * b];
    int sum = 0;
    for (size_t i = 32 * b; i < 32 * b + 32; ++i) {
      EXPECT_LE(std::fabs(a.deq[i] - x[i]), 0.5f * d * 1.0001f + 1e-30f);
      sum += a.q[i];
    }
    EXPECT_FLOAT_EQ(a.ds[2 * b + 1], d * float(sum));
  }
  EXPECT_EQ(a.ds[2], 0.0f);
}

// `offset`: where the weights start in a 16-byte aligned buffer (2 for the 2-byte aligned block
// types: the loaders' aligned loads and shifts then run with the other shift). The buffer has
// 16 bytes of padding, as the device weights do (aligned word loads may read past the end).
template <GgmlType T>
void check_type(int64_t n_cols, uint32_t seed, size_t offset = 0) {
  using V = q8::VecDot<T>;
  const int64_t n_rows = 5;
  const std::vector<float> w = random_floats(size_t(n_cols * n_rows), seed, 0.3f);
  const size_t row_bytes = ggml_row_size(T, uint64_t(n_cols));
  std::vector<uint32_t> storage((offset + row_bytes * size_t(n_rows) + 16 + 3) / 4);  // 4-byte aligned
  uint8_t* const wq = reinterpret_cast<uint8_t*>(storage.data()) + offset;
  std::vector<float> wd(w.size());
  for (int64_t r = 0; r < n_rows; ++r) {
    quantize_row(T, w.data() + r * n_cols, wq + r * row_bytes, n_cols);
    dequantize_row(T, wq + r * row_bytes, wd.data() + r * n_cols, n_cols);
  }
  std::vector<float> x = random_floats(size_t(n_cols), seed + 1, 1.0f);
  for (int64_t i = 0; i < n_cols; i += 37) x[size_t(i)] *= 20.0f;  // outliers: uneven block scales
  const QuantActs a = quantize_acts(x);
  for (int64_t r = 0; r < n_rows; ++r) {
    double ref = 0, mag = 0;
    for (int64_t k = 0; k < n_cols; ++k) {
      ref += double(wd[size_t(r * n_cols + k)]) * a.deq[size_t(k)];
      mag += std::fabs(double(wd[size_t(r * n_cols + k)]) * a.deq[size_t(k)]);
    }
    double got = 0;
    for (int64_t blk = 0; blk < n_cols / V::kBlockElems; ++blk) {
      const uint8_t* b = wq + size_t(r) * row_bytes + size_t(blk) * V::kBytes;
      for (int p = 0; p < V::kParts; ++p) {
        const typename V::Frag f = V::load(b, p);
        got += V::dot(f, p, a.q.data() + blk * V::kBlockElems, a.ds.data() + blk * V::kBlockElems / 16);
      }
    }
    EXPECT_NEAR(got, ref, 2e-6 * mag + 1e-9) << ggml_type_name(T) << " row " << r << " n_cols " << n_cols
                                             << " offset " << offset;
  }
}

TEST(VecDotHost, Q8_0) {
  check_type<GgmlType::Q8_0>(96, 1);
  check_type<GgmlType::Q8_0>(4096, 2);
  check_type<GgmlType::Q8_0>(896, 9, 2);
}
TEST(VecDotHost, Q5_0) {
  check_type<GgmlType::Q5_0>(96, 3);
  check_type<GgmlType::Q5_0>(896, 4);
  check_type<GgmlType::Q5_0>(160, 10, 2);
}
TEST(VecDotHost, Q4_K) {
  check_type<GgmlType::Q4_K>(256, 5);
  check_type<GgmlType::Q4_K>(4864, 6);
}
TEST(VecDotHost, Q6_K) {
  check_type<GgmlType::Q6_K>(256, 7);
  check_type<GgmlType::Q6_K>(4096, 8);
  check_type<GgmlType::Q6_K>(768, 11, 2);
}

// The unaligned word loader at every 2-byte alignment: aligned loads and shifts, as on the GPU.
TEST(VecDotHost, UnalignedWordsAreTheBytesAtTheAddress) {
  alignas(16) uint8_t buf[48];
  for (int i = 0; i < 48; ++i) buf[i] = uint8_t(i * 37 + 5);
  for (int off = 0; off < 16; off += 2) {
    uint32_t w[4];
    q8::ld_words_a2<4>(buf + off, w);
    for (int i = 0; i < 4; ++i) {
      uint32_t want;
      std::memcpy(&want, buf + off + 4 * i, 4);
      EXPECT_EQ(w[i], want) << "offset " << off << " word " << i;
    }
  }
}

}  // namespace
}  // namespace pensieve::testing
