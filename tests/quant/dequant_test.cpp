// Dequantization is bit-exact with the GGUF/ggml block formats. Blocks are filled with random
// bit patterns and decoded here, element by element, straight from the format description
// (byte offsets, not the structs of quant/blocks.h), with an fp16 decoder of our own.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "gguf/gguf.h"
#include "quant/quant.h"
#include "test_util.h"

namespace pensieve {
namespace {

// IEEE binary16 -> float, from the definition (not util/fp16.h).
float half_to_float(uint16_t h) {
  const int sign = h >> 15, exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
  float v;
  if (exp == 0) {
    v = std::ldexp(static_cast<float>(mant), -24);
  } else if (exp == 31) {
    v = mant ? std::nanf("") : INFINITY;
  } else {
    v = std::ldexp(static_cast<float>(mant | 0x400), exp - 25);
  }
  return sign ? -v : v;
}

uint16_t rd16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
float rdh(const uint8_t* p) { return half_to_float(rd16(p)); }

// One decoder per format: value of element e (0-based) of the block starting at b.
float ref_q4_0(const uint8_t* b, int e) {
  const float d = rdh(b);
  const int q = e < 16 ? (b[2 + e] & 0xF) : (b[2 + e - 16] >> 4);
  return (q - 8) * d;
}
float ref_q4_1(const uint8_t* b, int e) {
  const float d = rdh(b), m = rdh(b + 2);
  const int q = e < 16 ? (b[4 + e] & 0xF) : (b[4 + e - 16] >> 4);
  return q * d + m;
}
int fifth_bit(const uint8_t* qh, int e) { return (qh[e / 8] >> (e % 8)) & 1; }
float ref_q5_0(const uint8_t* b, int e) {
  const float d = rdh(b);
  const int lo = e < 16 ? (b[6 + e] & 0xF) : (b[6 + e - 16] >> 4);
  return ((lo | (fifth_bit(b + 2, e) << 4)) - 16) * d;
}
float ref_q5_1(const uint8_t* b, int e) {
  const float d = rdh(b), m = rdh(b + 2);
  const int lo = e < 16 ? (b[8 + e] & 0xF) : (b[8 + e - 16] >> 4);
  return (lo | (fifth_bit(b + 4, e) << 4)) * d + m;
}
float ref_q8_0(const uint8_t* b, int e) { return static_cast<int8_t>(b[2 + e]) * rdh(b); }
float ref_q8_1(const uint8_t* b, int e) { return static_cast<int8_t>(b[4 + e]) * rdh(b); }

// K-quants. A 2-bit plane byte covers elements l, l+32, l+64, l+96 of a 128-element half.
int plane2(const uint8_t* qs, int e) { return (qs[(e / 128) * 32 + e % 32] >> (2 * ((e % 128) / 32))) & 3; }

float ref_q2_K(const uint8_t* b, int e) {  // scales[16] qs[64] d dmin
  const uint8_t sc = b[e / 16];
  const float d = rdh(b + 80), dmin = rdh(b + 82);
  return (d * (sc & 0xF)) * plane2(b + 16, e) - dmin * (sc >> 4);
}
float ref_q3_K(const uint8_t* b, int e) {  // hmask[32] qs[64] scales[12] d
  const uint8_t* s = b + 96;
  const int j = e / 16;
  const int low4 = j < 8 ? (s[j] & 0xF) : (s[j - 8] >> 4);
  const int high2 = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
  const int scale = (low4 | (high2 << 4)) - 32;
  const int hbit = (b[e % 32] >> (e / 32)) & 1;
  const int q = (plane2(b + 32, e) | (hbit << 2)) - 4;
  return (rdh(b + 108) * scale) * q;
}
// 6-bit scale and min j of the 12-byte Q4_K/Q5_K table.
void scale_min6(const uint8_t* s, int j, int* sc, int* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
    *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}
int nibble64(const uint8_t* qs, int e) {  // 64-element chunks: low nibbles then high nibbles
  const uint8_t byte = qs[(e / 64) * 32 + e % 32];
  return (e % 64) < 32 ? (byte & 0xF) : (byte >> 4);
}
float ref_q4_K(const uint8_t* b, int e) {  // d dmin scales[12] qs[128]
  int sc, m;
  scale_min6(b + 4, e / 32, &sc, &m);
  return (rdh(b) * sc) * nibble64(b + 16, e) - rdh(b + 2) * m;
}
float ref_q5_K(const uint8_t* b, int e) {  // d dmin scales[12] qh[32] qs[128]
  int sc, m;
  scale_min6(b + 4, e / 32, &sc, &m);
  const int q = nibble64(b + 48, e) + 16 * ((b[16 + e % 32] >> (e / 32)) & 1);
  return (rdh(b) * sc) * q - rdh(b + 2) * m;
}
float ref_q6_K(const uint8_t* b, int e) {  // ql[128] qh[64] scales[16] d
  const int h = e / 128, quarter = (e % 128) / 32, l = e % 32;
  const uint8_t lbyte = b[h * 64 + (quarter % 2) * 32 + l];
  const int low = quarter < 2 ? (lbyte & 0xF) : (lbyte >> 4);
  const int high = (b[128 + h * 32 + l] >> (2 * quarter)) & 3;
  const int scale = static_cast<int8_t>(b[192 + e / 16]);
  return (rdh(b + 208) * scale) * ((low | (high << 4)) - 32);
}
float ref_q8_K(const uint8_t* b, int e) {  // float d, qs[256], bsums
  float d;
  std::memcpy(&d, b, 4);
  return d * static_cast<int8_t>(b[4 + e]);
}

struct Format {
  GgmlType type;
  float (*ref)(const uint8_t*, int);
  std::vector<int> fp16_offsets;  // where the block's fp16 fields are
};

const std::vector<Format>& formats() {
  static const std::vector<Format> f = {
      {GgmlType::Q4_0, ref_q4_0, {0}},          {GgmlType::Q4_1, ref_q4_1, {0, 2}},
      {GgmlType::Q5_0, ref_q5_0, {0}},          {GgmlType::Q5_1, ref_q5_1, {0, 2}},
      {GgmlType::Q8_0, ref_q8_0, {0}},          {GgmlType::Q8_1, ref_q8_1, {0, 2}},
      {GgmlType::Q2_K, ref_q2_K, {80, 82}},     {GgmlType::Q3_K, ref_q3_K, {108}},
      {GgmlType::Q4_K, ref_q4_K, {0, 2}},       {GgmlType::Q5_K, ref_q5_K, {0, 2}},
      {GgmlType::Q6_K, ref_q6_K, {208}},        {GgmlType::Q8_K, ref_q8_K, {}},
  };
  return f;
}

// A random finite half: normal numbers of moderate size, sometimes subnormal, zero or negative.
uint16_t random_half(std::mt19937& rng) {
  const uint32_t r = rng();
  const uint16_t sign = (r & 1) ? 0x8000 : 0;
  const uint16_t mant = static_cast<uint16_t>((r >> 1) & 0x3FF);
  switch ((r >> 11) % 16) {
    case 0: return sign;                  // +-0
    case 1: return sign | mant;           // subnormal
    default: return static_cast<uint16_t>(sign | ((3 + (r >> 16) % 26) << 10) | mant);
  }
}

uint32_t bits(float f) { return std::bit_cast<uint32_t>(f); }

TEST(Dequantize, RandomBlocksMatchTheFormatBitForBit) {
  std::mt19937 rng(1234);
  for (const Format& f : formats()) {
    const QuantTraits& tr = quant_traits(f.type);
    SCOPED_TRACE(std::string(ggml_type_name(f.type)));
    ASSERT_NE(tr.to_float, nullptr);
    const int nblocks = 37;
    std::vector<uint8_t> data(static_cast<size_t>(nblocks) * tr.type_size);
    for (auto& byte : data) byte = static_cast<uint8_t>(rng());
    for (int b = 0; b < nblocks; ++b) {
      uint8_t* blk = data.data() + static_cast<size_t>(b) * tr.type_size;
      for (int off : f.fp16_offsets) {
        const uint16_t h = random_half(rng);
        std::memcpy(blk + off, &h, 2);
      }
      if (f.type == GgmlType::Q8_K) {
        const float d = std::ldexp(static_cast<float>(rng() % 1000 + 1), -static_cast<int>(rng() % 30)) *
                        ((rng() & 1) ? -1.f : 1.f);
        std::memcpy(blk, &d, 4);
      }
    }
    const int64_t n = static_cast<int64_t>(nblocks) * tr.block_size;
    std::vector<float> out(static_cast<size_t>(n));
    dequantize_row(f.type, data.data(), out.data(), n);
    int mismatches = 0;
    for (int64_t i = 0; i < n && mismatches < 5; ++i) {
      const uint8_t* blk = data.data() + (i / tr.block_size) * tr.type_size;
      const float want = f.ref(blk, static_cast<int>(i % tr.block_size));
      if (bits(want) != bits(out[static_cast<size_t>(i)])) {
        ++mismatches;
        ADD_FAILURE() << "element " << i << ": got " << out[static_cast<size_t>(i)] << " want " << want;
      }
    }
  }
}

TEST(Dequantize, EveryHalfAndBfloat16Value) {
  std::vector<uint16_t> all(65536);
  for (int i = 0; i < 65536; ++i) all[i] = static_cast<uint16_t>(i);
  std::vector<float> out(65536);
  dequantize_row(GgmlType::F16, all.data(), out.data(), 65536);
  for (int i = 0; i < 65536; ++i) {
    const float want = half_to_float(static_cast<uint16_t>(i));
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(out[i])) << i;
    } else {
      ASSERT_EQ(bits(want), bits(out[i])) << "half 0x" << std::hex << i;
    }
  }
  dequantize_row(GgmlType::BF16, all.data(), out.data(), 65536);
  for (int i = 0; i < 65536; ++i) {
    ASSERT_EQ(static_cast<uint32_t>(i) << 16, bits(out[i])) << "bf16 0x" << std::hex << i;
  }
}

// Converting float -> half/bf16 rounds to nearest even: check against the decoded neighbours.
TEST(Quantize, HalfAndBfloat16RoundToNearestEven) {
  std::mt19937 rng(7);
  std::vector<float> x(4096);
  for (auto& v : x) v = std::ldexp(std::uniform_real_distribution<float>(-1, 1)(rng), static_cast<int>(rng() % 20) - 10);
  std::vector<uint16_t> h(x.size()), b(x.size());
  quantize_row(GgmlType::F16, x.data(), h.data(), static_cast<int64_t>(x.size()));
  quantize_row(GgmlType::BF16, x.data(), b.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    const float fh = half_to_float(h[i]);
    // No other half is strictly closer (compare with both neighbours in magnitude).
    for (int step : {-1, 1}) {
      const uint16_t nb = static_cast<uint16_t>(h[i] + step);
      if ((nb & 0x7C00) == 0x7C00 || (h[i] & 0x7FFF) == 0 ) continue;
      EXPECT_LE(std::fabs(fh - x[i]), std::fabs(half_to_float(nb) - x[i])) << x[i];
    }
    const float fb = std::bit_cast<float>(static_cast<uint32_t>(b[i]) << 16);
    EXPECT_LE(std::fabs(fb - x[i]), std::fabs(x[i]) * (1.0f / 256)) << x[i];
  }
}

// Real data: every F16 tensor of a real GGUF file decodes to the values of its halves.
TEST(Dequantize, RealF16TensorsFromAGgufFile) {
  PS_REQUIRE_FIXTURES();
  auto file = GgufFile::open(testing::fixtures_dir() + "/models/llama-2-tiny-random.gguf");
  ASSERT_TRUE(file.ok()) << file.error().message;
  int n_f16 = 0;
  for (const GgufTensorInfo& t : (*file)->tensors()) {
    if (t.type != GgmlType::F16) continue;
    ++n_f16;
    std::vector<float> out(t.n_elements);
    dequantize_row(GgmlType::F16, t.data, out.data(), static_cast<int64_t>(t.n_elements));
    for (uint64_t i = 0; i < t.n_elements; ++i) {
      ASSERT_EQ(bits(half_to_float(rd16(t.data + 2 * i))), bits(out[i])) << t.name << " element " << i;
    }
  }
  EXPECT_GE(n_f16, 8);
}

TEST(Traits, TableDescribesEveryComputableType) {
  struct Row {
    GgmlType type;
    int block, bytes;
    GgmlType vec_dot;
  };
  const Row rows[] = {
      {GgmlType::F32, 1, 4, GgmlType::F32},      {GgmlType::F16, 1, 2, GgmlType::F16},
      {GgmlType::BF16, 1, 2, GgmlType::BF16},    {GgmlType::Q4_0, 32, 18, GgmlType::Q8_0},
      {GgmlType::Q4_1, 32, 20, GgmlType::Q8_1},  {GgmlType::Q5_0, 32, 22, GgmlType::Q8_0},
      {GgmlType::Q5_1, 32, 24, GgmlType::Q8_1},  {GgmlType::Q8_0, 32, 34, GgmlType::Q8_0},
      {GgmlType::Q2_K, 256, 84, GgmlType::Q8_K}, {GgmlType::Q3_K, 256, 110, GgmlType::Q8_K},
      {GgmlType::Q4_K, 256, 144, GgmlType::Q8_K}, {GgmlType::Q5_K, 256, 176, GgmlType::Q8_K},
      {GgmlType::Q6_K, 256, 210, GgmlType::Q8_K},
  };
  for (const Row& r : rows) {
    const QuantTraits& t = quant_traits(r.type);
    SCOPED_TRACE(std::string(ggml_type_name(r.type)));
    EXPECT_EQ(t.type, r.type);
    EXPECT_EQ(t.block_size, r.block);
    EXPECT_EQ(t.type_size, r.bytes);
    EXPECT_EQ(t.vec_dot_type, r.vec_dot);
    EXPECT_TRUE(can_dequantize(r.type));
    EXPECT_TRUE(can_quantize(r.type));
  }
  EXPECT_TRUE(can_dequantize(GgmlType::Q8_K));
  EXPECT_FALSE(can_dequantize(GgmlType::IQ2_XXS));
  EXPECT_FALSE(can_quantize(GgmlType::IQ4_NL));
  EXPECT_EQ(quant_traits(GgmlType::IQ2_XXS).type_size, 66);  // layout still known
  EXPECT_EQ(quant_traits(static_cast<GgmlType>(1000)).to_float, nullptr);
}

}  // namespace
}  // namespace pensieve
