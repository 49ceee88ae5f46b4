// Our quantizers write the same bytes as llama.cpp's. tests/quant/golden/ggml_quant.bin holds
// golden_input() quantized by ggml's own reference quantizers (quantize_row_*_ref of
// libggml-base.so, node-llama-cpp 3.22.1 prebuilt; made by make_ggml_golden.cpp beside this
// file), so the expected bytes come from llama.cpp, not from the code under test.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "quant/golden_input.h"
#include "quant/quant.h"
#include "test_util.h"

namespace pensieve {
namespace {

struct GoldenEntry {
  GgmlType type;
  std::vector<uint8_t> bytes;
};

std::vector<GoldenEntry> read_golden(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::vector<uint8_t> all{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
  std::vector<GoldenEntry> out;
  size_t pos = 0;
  while (pos + 8 <= all.size()) {
    uint32_t type, n;
    std::memcpy(&type, all.data() + pos, 4);
    std::memcpy(&n, all.data() + pos + 4, 4);
    pos += 8;
    if (pos + n > all.size()) break;
    out.push_back({static_cast<GgmlType>(type), std::vector<uint8_t>(all.begin() + pos, all.begin() + pos + n)});
    pos += n;
  }
  return out;
}

TEST(GgmlGolden, QuantizersMatchLlamaCppByteForByte) {
  const std::vector<GoldenEntry> golden =
      read_golden(testing::source_dir() + "/tests/quant/golden/ggml_quant.bin");
  ASSERT_EQ(golden.size(), 12u) << "golden file missing or truncated";
  const std::vector<float> x = testing::golden_input();
  for (const GoldenEntry& g : golden) {
    SCOPED_TRACE(std::string(ggml_type_name(g.type)));
    const QuantTraits& tr = quant_traits(g.type);
    ASSERT_TRUE(can_quantize(g.type));
    std::vector<uint8_t> ours(x.size() / tr.block_size * tr.type_size);
    ASSERT_EQ(ours.size(), g.bytes.size());
    quantize_row(g.type, x.data(), ours.data(), static_cast<int64_t>(x.size()));
    int differing = 0;
    for (size_t b = 0; b < ours.size() / tr.type_size; ++b) {
      if (std::memcmp(ours.data() + b * tr.type_size, g.bytes.data() + b * tr.type_size, tr.type_size) != 0) {
        if (++differing <= 3) ADD_FAILURE() << "block " << b << " differs from ggml's";
      }
    }
    EXPECT_EQ(differing, 0);
  }
}

}  // namespace
}  // namespace pensieve
