// Corrupted and hostile files: every validation rule of the reader, each made by mutating a real
// fixture's bytes or by crafting bytes, must produce a model_load_failed error naming the file
// and the problem -- never a crash, hang or out-of-bounds read.
#include <functional>
#include <limits>

#include "gguf/gguf.h"
#include "gguf/keys.h"
#include "gguf_test_util.h"
#include "test_util.h"

namespace pensieve {
namespace {

using testing::ByteBuilder;
using testing::Bytes;
using testing::patch;

constexpr uint32_t kTypeU32 = 4, kTypeBool = 7, kTypeString = 8, kTypeArray = 9;
const char* const kName = "corrupt.gguf";

Bytes fixture(const std::string& rel) { return testing::read_bytes(testing::fixtures_dir() + "/" + rel); }

// Offset of the field right after the tensor info name / metadata key `s` (n_dims, or the type).
size_t field(const Bytes& b, std::string_view s) {
  const size_t at = testing::after_gguf_string(b, s);
  EXPECT_NE(at, std::string::npos) << s;
  return at;
}

// Tensor info fields of a 1-D or 2-D tensor in a fixture.
size_t ne_at(const Bytes& b, std::string_view name, int d) { return field(b, name) + 4 + 8 * d; }
size_t type_at(const Bytes& b, std::string_view name) {
  const size_t p = field(b, name);
  return p + 4 + 8 * testing::peek<uint32_t>(b, p);
}
size_t offset_at(const Bytes& b, std::string_view name) { return type_at(b, name) + 4; }

struct Case {
  const char* what;
  std::function<Bytes()> make;
  std::string expect;  // a substring of the error message
};

// A small valid crafted file: one u32 key, one 1-D F32 tensor of 8 elements.
ByteBuilder crafted_prefix(uint64_t n_tensors, uint64_t n_kv) {
  ByteBuilder b;
  b.header(n_tensors, n_kv);
  return b;
}

std::vector<Case> cases() {
  const std::string stories = "models/stories260K.gguf";
  auto mutate = [stories](std::function<void(Bytes&)> f, std::string rel = "") {
    return [f, rel, stories]() {
      Bytes b = fixture(rel.empty() ? stories : rel);
      f(b);
      return b;
    };
  };
  std::vector<Case> c;
  c.push_back({"bad magic", mutate([](Bytes& b) { b[0] = 'X'; }), "bad magic: expected 'GGUF'"});
  c.push_back({"version 4", mutate([](Bytes& b) { patch<uint32_t>(b, 4, 4); }), "unsupported GGUF version 4"});
  c.push_back({"version 0", mutate([](Bytes& b) { patch<uint32_t>(b, 4, 0); }), "unsupported GGUF version 0"});
  c.push_back({"big-endian", mutate([](Bytes& b) { patch<uint32_t>(b, 4, 0x03000000u); }),
               "big-endian GGUF files are not supported"});
  c.push_back({"huge n_tensors", mutate([](Bytes& b) { patch<uint64_t>(b, 8, 1ull << 40); }), "tensor count 1099511627776"});
  c.push_back({"huge n_kv", mutate([](Bytes& b) { patch<uint64_t>(b, 16, ~0ull); }), "metadata count"});
  c.push_back({"huge key length", mutate([](Bytes& b) { patch<uint64_t>(b, 24, 1ull << 50); }), "string length"});
  c.push_back({"unknown value type", mutate([](Bytes& b) { patch<uint32_t>(b, field(b, "llama.block_count"), 13); }),
               "unknown metadata value type 13 (in metadata entry"});
  c.push_back({"unknown array element type",
               mutate([](Bytes& b) { patch<uint32_t>(b, field(b, "tokenizer.ggml.tokens") + 4, 99); }),
               "unknown array element type 99"});
  c.push_back({"huge array length",
               mutate([](Bytes& b) { patch<uint64_t>(b, field(b, "tokenizer.ggml.tokens") + 8, 1ull << 40); }),
               "array of 1099511627776 str elements cannot fit"});
  c.push_back({"huge string in array",
               mutate([](Bytes& b) { patch<uint64_t>(b, field(b, "tokenizer.ggml.tokens") + 16, 1ull << 40); }),
               "string length 1099511627776 of array string"});
  c.push_back({"duplicate key", mutate([](Bytes& b) { b[field(b, "tokenizer.ggml.bos_token_id") - 12] = 'e'; }),
               "duplicate metadata key 'tokenizer.ggml.eos_token_id'"});
  c.push_back({"duplicate tensor name", mutate([](Bytes& b) { b[field(b, "blk.0.attn_q.weight") - 8] = 'k'; }),
               "duplicate tensor name 'blk.0.attn_k.weight'"});
  c.push_back({"n_dims 5", mutate([](Bytes& b) { patch<uint32_t>(b, field(b, "output_norm.weight"), 5); }),
               "n_dims = 5 (at most 4 supported) (in tensor info 1 'output_norm.weight')"});
  c.push_back({"zero dim", mutate([](Bytes& b) { patch<uint64_t>(b, ne_at(b, "output_norm.weight", 0), 0); }),
               "dimension 0 is zero"});
  c.push_back({"negative dim", mutate([](Bytes& b) { patch<int64_t>(b, ne_at(b, "token_embd.weight", 1), -1); }),
               "dimension 1 is negative (-1)"});
  c.push_back({"ne product overflow", mutate([](Bytes& b) {
                 patch<uint64_t>(b, ne_at(b, "token_embd.weight", 0), 1ull << 32);
                 patch<uint64_t>(b, ne_at(b, "token_embd.weight", 1), 1ull << 32);
               }),
               "element count overflows"});
  c.push_back({"n_bytes overflow", mutate([](Bytes& b) {
                 patch<uint64_t>(b, ne_at(b, "token_embd.weight", 0), 1ull << 31);
                 patch<uint64_t>(b, ne_at(b, "token_embd.weight", 1), 1ull << 31);
               }),
               "byte size overflows"});
  c.push_back({"ne[0] not a multiple of the block size",
               mutate([](Bytes& b) { patch<uint32_t>(b, type_at(b, "output_norm.weight"), 12); }),
               "ne[0] = 64 is not a multiple of the q4_K block size 256"});
  c.push_back({"retired tensor type", mutate([](Bytes& b) { patch<uint32_t>(b, type_at(b, "output_norm.weight"), 4); }),
               "unknown tensor type id 4"});
  c.push_back({"unknown tensor type", mutate([](Bytes& b) { patch<uint32_t>(b, type_at(b, "output_norm.weight"), 1000); }),
               "unknown tensor type id 1000"});
  c.push_back({"misaligned offset", mutate([](Bytes& b) {
                 const size_t p = offset_at(b, "output_norm.weight");
                 patch<uint64_t>(b, p, testing::peek<uint64_t>(b, p) + 4);
               }),
               "is not a multiple of the alignment 32"});
  c.push_back({"offset past the end", mutate([](Bytes& b) { patch<uint64_t>(b, offset_at(b, "output.weight"), 1ull << 40); }),
               "tensor data out of bounds"});
  c.push_back({"offset that would wrap", mutate([](Bytes& b) { patch<uint64_t>(b, offset_at(b, "output.weight"), ~31ull); }),
               "tensor data out of bounds"});
  c.push_back({"overlapping tensors", mutate([](Bytes& b) {
                 patch<uint64_t>(b, offset_at(b, "output_norm.weight"), testing::peek<uint64_t>(b, offset_at(b, "token_embd.weight")));
               }),
               "overlaps tensor"});
  c.push_back({"alignment 48", mutate([](Bytes& b) { patch<uint32_t>(b, field(b, "general.alignment") + 4, 48); },
                                      "reference/ref-llama.gguf"),
               "general.alignment 48 is not a power of two"});
  c.push_back({"alignment 0", mutate([](Bytes& b) { patch<uint32_t>(b, field(b, "general.alignment") + 4, 0); },
                                     "reference/ref-llama.gguf"),
               "general.alignment 0 is not a power of two"});
  c.push_back({"header cut short", mutate([](Bytes& b) { b.resize(20); }), "truncated file: metadata count"});
  c.push_back({"3 bytes", mutate([](Bytes& b) { b.resize(3); }), "file too small to be a GGUF file (3 bytes)"});
  c.push_back({"data section missing", mutate([](Bytes& b) { b.resize(14176 - 16); }),
               "the tensor data section starts at offset 14176"});
  c.push_back({"last tensor cut", mutate([](Bytes& b) { b.pop_back(); }), "tensor data out of bounds"});
  // Crafted files for what a mutation of the fixtures cannot express.
  c.push_back({"empty key", [] { return crafted_prefix(0, 1).key("", kTypeU32).u32(1).b; }, "empty metadata key"});
  c.push_back({"empty tensor name", [] { return crafted_prefix(1, 0).str("").u32(1).u64(8).u32(0).u64(0).b; },
               "empty tensor name"});
  c.push_back({"bool value 2", [] { return crafted_prefix(0, 1).key("x", kTypeBool).pod<uint8_t>(2).b; },
               "invalid bool value 2"});
  c.push_back({"alignment as a string", [] { return crafted_prefix(0, 1).key("general.alignment", kTypeString).str("32").b; },
               "general.alignment must be an unsigned integer, found str"});
  c.push_back({"arrays nested 9 deep", [] {
                 ByteBuilder b = crafted_prefix(0, 1);
                 b.key("deep", kTypeArray);
                 for (int i = 0; i < 9; ++i) b.u32(kTypeArray).u64(1);
                 return b.u32(kTypeU32).u64(0).b;
               },
               "arrays nested more than 8 levels deep"});
  c.push_back({"array of strings claims more than the file", [] {
                 return crafted_prefix(0, 1).key("a", kTypeArray).u32(kTypeString).u64(3).str("x").b;
               },
               "array of 3 str elements cannot fit"});
  return c;
}

TEST(GgufCorrupt, EveryValidationRuleHasAClearError) {
  PS_REQUIRE_FIXTURES();
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.what);
    const Bytes b = c.make();
    auto r = GgufFile::parse(b, kName);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::model_load_failed);
    EXPECT_EQ(r.error().message.rfind(std::string(kName) + ": ", 0), 0u) << "names the file: " << r.error().message;
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos) << r.error().message;
    if (std::getenv("PS_PRINT_ERRORS")) std::printf("%-40s %s\n", c.what, r.error().message.c_str());
  }
}

TEST(GgufCorrupt, CraftedMinimalFileIsValid) {
  // The crafted cases above differ from this valid file only in the broken field.
  ByteBuilder b = crafted_prefix(1, 2);
  b.key("general.alignment", kTypeU32).u32(16);
  b.key("flag", kTypeBool).pod<uint8_t>(1);
  b.str("t").u32(1).u64(8).u32(0).u64(0);
  b.pad_to(16);
  for (int i = 0; i < 8; ++i) b.pod<float>(static_cast<float>(i));
  auto r = GgufFile::parse(b.b, kName);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->alignment(), 16u);
  EXPECT_EQ((*r)->get_bool("flag"), true);
  ASSERT_NE((*r)->tensor("t"), nullptr);
  EXPECT_EQ(reinterpret_cast<const float*>((*r)->tensor("t")->data)[7], 7.0f);
}

TEST(GgufCorrupt, Version2IsAccepted) {
  PS_REQUIRE_FIXTURES();
  Bytes b = fixture("models/stories260K.gguf");
  patch<uint32_t>(b, 4, 2);
  auto r = GgufFile::parse(b, kName);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->version(), 2u);
  EXPECT_EQ((*r)->tensors().size(), 48u);
}

TEST(GgufCorrupt, OpenReportsThePathOfACorruptFile) {
  PS_REQUIRE_FIXTURES();
  testing::TempDir dir;
  Bytes b = fixture("models/stories260K.gguf");
  b[0] = 'X';
  const std::string path = dir.file("bad-magic.gguf");
  testing::write_bytes(path, b);
  auto r = GgufFile::open(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind(path + ": bad magic", 0), 0u) << r.error().message;
  testing::write_bytes(path, {});
  auto e = GgufFile::open(path);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("file is empty"), std::string::npos) << e.error().message;
}

// Parses every prefix of `b` shorter than `needed` and expects a truncation error each time.
void expect_every_prefix_fails(const Bytes& b, size_t from, size_t needed) {
  for (size_t n = from; n < needed; ++n) {
    auto r = GgufFile::parse(std::span<const uint8_t>(b.data(), n), kName);
    ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes parsed";
    const std::string& m = r.error().message;
    ASSERT_TRUE(m.find("truncated") != std::string::npos || m.find("too small") != std::string::npos)
        << "prefix " << n << ": " << m;
  }
}

TEST(GgufCorrupt, EveryPrefixOfASmallFileFailsCleanly) {
  testing::TempDir dir;
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.block_count", 2);
  w.set_f64("x.f64", 0.5);
  w.set_bool("x.bool", true);
  w.set_string_array("tokenizer.ggml.tokens", {"a", "bb", "ccc"});
  GgufValue inner;
  inner.type = GgufType::ARRAY;
  inner.elem_type = GgufType::INT16;
  inner.arr.resize(2);
  for (auto& e : inner.arr) e.type = GgufType::INT16;
  GgufValue outer;
  outer.type = GgufType::ARRAY;
  outer.elem_type = GgufType::ARRAY;
  outer.arr = {inner, inner};
  w.set_value("x.nested", outer);
  const std::vector<uint8_t> d(64 * 4 + 34 * 2);
  w.add_tensor("a", GgmlType::F32, {64}, std::span<const uint8_t>(d.data(), 256));
  w.add_tensor("b", GgmlType::Q8_0, {32, 2}, std::span<const uint8_t>(d.data() + 256, 68));
  const std::string path = dir.file("small.gguf");
  ASSERT_TRUE(w.write(path).ok());
  const Bytes b = testing::read_bytes(path);
  auto full = GgufFile::parse(b, kName);
  ASSERT_TRUE(full.ok());
  const GgufTensorInfo& last = (*full)->tensors().back();
  const size_t needed = (*full)->data_offset() + last.offset + last.n_bytes;
  expect_every_prefix_fails(b, 0, needed);
  for (size_t n = needed; n <= b.size(); ++n) {
    EXPECT_TRUE(GgufFile::parse(std::span<const uint8_t>(b.data(), n), kName).ok()) << "only padding is missing";
  }
}

TEST(GgufCorrupt, EveryPrefixOfStories260KHeaderFailsCleanly) {
  PS_REQUIRE_FIXTURES();
  const Bytes b = fixture("models/stories260K.gguf");
  // Every cut inside the header and the start of the data, then a sample of cuts in the data.
  expect_every_prefix_fails(b, 0, 14176 + 64);
  for (size_t n = 14176 + 64; n < b.size(); n += 4093) expect_every_prefix_fails(b, n, n + 1);
  expect_every_prefix_fails(b, b.size() - 1, b.size());
}

}  // namespace
}  // namespace pensieve
