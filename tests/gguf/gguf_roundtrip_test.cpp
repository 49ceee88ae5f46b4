// Writer -> reader round trips: every value type, nested arrays, tensors, alignment, and
// byte-identical rewrites of real fixture files (written by llama.cpp / gguf-py tooling).
#include <cmath>
#include <limits>

#include "gguf/gguf.h"
#include "gguf/keys.h"
#include "gguf_test_util.h"
#include "test_util.h"

namespace pensieve {
namespace {

using testing::Bytes;
using testing::TempDir;

std::unique_ptr<GgufFile> open_ok(const std::string& path) {
  auto r = GgufFile::open(path);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r).value() : nullptr;
}

GgufValue scalar(GgufType t, uint64_t u, int64_t i, double f) {
  GgufValue v;
  v.type = t;
  v.u = u;
  v.i = i;
  v.f = f;
  return v;
}

GgufValue array_of(GgufType elem, std::vector<GgufValue> items) {
  GgufValue v;
  v.type = GgufType::ARRAY;
  v.elem_type = elem;
  v.arr = std::move(items);
  return v;
}

TEST(GgufRoundTrip, EveryScalarTypeKeepsItsTypeAndValue) {
  TempDir dir;
  GgufWriter w;
  w.set_u8("t.u8", 255);
  w.set_i8("t.i8", -128);
  w.set_u16("t.u16", 65535);
  w.set_i16("t.i16", -32768);
  w.set_u32("t.u32", 4294967295u);
  w.set_i32("t.i32", std::numeric_limits<int32_t>::min());
  w.set_u64("t.u64", std::numeric_limits<uint64_t>::max());
  w.set_i64("t.i64", std::numeric_limits<int64_t>::min());
  w.set_f32("t.f32", 1.5e-5f);
  w.set_f64("t.f64", -3.25e300);
  w.set_bool("t.true", true);
  w.set_bool("t.false", false);
  w.set_string("t.str", "héllo\nworld");
  w.set_string("t.empty", "");
  std::string with_nul("a\0b", 3);
  w.set_string("t.nul", with_nul);
  const std::string path = dir.file("scalars.gguf");
  ASSERT_TRUE(w.write(path).ok());

  auto f = open_ok(path);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->metadata().size(), 15u);
  struct Expect {
    const char* key;
    GgufType type;
  };
  const Expect types[] = {{"t.u8", GgufType::UINT8},     {"t.i8", GgufType::INT8},     {"t.u16", GgufType::UINT16},
                          {"t.i16", GgufType::INT16},   {"t.u32", GgufType::UINT32},  {"t.i32", GgufType::INT32},
                          {"t.u64", GgufType::UINT64},  {"t.i64", GgufType::INT64},   {"t.f32", GgufType::FLOAT32},
                          {"t.f64", GgufType::FLOAT64}, {"t.true", GgufType::BOOL},   {"t.false", GgufType::BOOL},
                          {"t.str", GgufType::STRING},  {"t.empty", GgufType::STRING}, {"t.nul", GgufType::STRING}};
  for (size_t i = 0; i < std::size(types); ++i) {
    ASSERT_NE(f->find(types[i].key), nullptr) << types[i].key;
    EXPECT_EQ(f->find(types[i].key)->type, types[i].type) << types[i].key;
    EXPECT_EQ(f->metadata()[i].key, types[i].key) << "insertion order";
  }
  EXPECT_EQ(f->find("t.u8")->u, 255u);
  EXPECT_EQ(f->find("t.i8")->i, -128);
  EXPECT_EQ(f->find("t.u16")->u, 65535u);
  EXPECT_EQ(f->find("t.i16")->i, -32768);
  EXPECT_EQ(f->get_int("t.u32"), 4294967295);
  EXPECT_EQ(f->get_int("t.i32"), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(f->find("t.u64")->u, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(f->get_int("t.u64"), std::nullopt) << "u64 above INT64_MAX does not fit in int64";
  EXPECT_EQ(f->get_int("t.i64"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(f->get_float("t.f32"), static_cast<double>(1.5e-5f));
  EXPECT_EQ(f->get_float("t.f64"), -3.25e300);
  EXPECT_EQ(f->get_float("t.u16"), 65535.0) << "integers read as floats";
  EXPECT_EQ(f->get_bool("t.true"), true);
  EXPECT_EQ(f->get_bool("t.false"), false);
  EXPECT_EQ(f->get_string("t.str"), "héllo\nworld");
  EXPECT_EQ(f->get_string("t.empty"), "");
  EXPECT_EQ(f->get_string("t.nul"), with_nul);
  // Wrong-type and missing lookups.
  EXPECT_EQ(f->get_string("t.u8"), std::nullopt);
  EXPECT_EQ(f->get_int("t.str"), std::nullopt);
  EXPECT_EQ(f->get_int("t.f32"), std::nullopt);
  EXPECT_EQ(f->get_bool("t.u8"), std::nullopt);
  EXPECT_EQ(f->get_int("missing"), std::nullopt);
  EXPECT_EQ(f->find("missing"), nullptr);
}

TEST(GgufRoundTrip, ArraysOfEveryElementTypeAndNestedArrays) {
  TempDir dir;
  GgufWriter w;
  w.set_string_array("a.str", {"<unk>", "", "▁the", std::string(1000, 'x')});
  w.set_f32_array("a.f32", {0.0f, -1.5f, 3.0e38f});
  w.set_i32_array("a.i32", {2, -3, 6});
  w.set_i32_array("a.empty", {});
  w.set_value("a.u8", array_of(GgufType::UINT8, {scalar(GgufType::UINT8, 7, 0, 0), scalar(GgufType::UINT8, 200, 0, 0)}));
  w.set_value("a.i8", array_of(GgufType::INT8, {scalar(GgufType::INT8, 0, -7, 0)}));
  w.set_value("a.u16", array_of(GgufType::UINT16, {scalar(GgufType::UINT16, 60000, 0, 0)}));
  w.set_value("a.i16", array_of(GgufType::INT16, {scalar(GgufType::INT16, 0, -30000, 0)}));
  w.set_value("a.u32", array_of(GgufType::UINT32, {scalar(GgufType::UINT32, 4000000000u, 0, 0)}));
  w.set_value("a.u64", array_of(GgufType::UINT64, {scalar(GgufType::UINT64, 1ull << 40, 0, 0)}));
  w.set_value("a.i64", array_of(GgufType::INT64, {scalar(GgufType::INT64, 0, -(1ll << 40), 0)}));
  w.set_value("a.f64", array_of(GgufType::FLOAT64, {scalar(GgufType::FLOAT64, 0, 0, 0.125)}));
  GgufValue t, fl;
  t.type = fl.type = GgufType::BOOL;
  t.b = true;
  w.set_value("a.bool", array_of(GgufType::BOOL, {t, fl, t}));
  // [[1, 2], [], [[3]]]-like nesting: an array of arrays of u32, and one three levels deep.
  GgufValue inner1 = array_of(GgufType::UINT32, {scalar(GgufType::UINT32, 1, 0, 0), scalar(GgufType::UINT32, 2, 0, 0)});
  GgufValue inner2 = array_of(GgufType::UINT32, {});
  w.set_value("a.nested", array_of(GgufType::ARRAY, {inner1, inner2}));
  GgufValue strs;
  strs.type = GgufType::STRING;
  strs.str = "deep";
  GgufValue level2 = array_of(GgufType::STRING, {strs});
  GgufValue level1 = array_of(GgufType::ARRAY, {level2});
  w.set_value("a.deep", array_of(GgufType::ARRAY, {level1}));
  const std::string path = dir.file("arrays.gguf");
  ASSERT_TRUE(w.write(path).ok());

  auto f = open_ok(path);
  ASSERT_TRUE(f);
  auto s = f->get_string_array("a.str");
  ASSERT_TRUE(s);
  ASSERT_EQ(s->size(), 4u);
  EXPECT_EQ((*s)[0], "<unk>");
  EXPECT_EQ((*s)[1], "");
  EXPECT_EQ((*s)[2], "▁the");
  EXPECT_EQ((*s)[3], std::string(1000, 'x'));
  EXPECT_EQ(f->get_float_array("a.f32"), (std::vector<float>{0.0f, -1.5f, 3.0e38f}));
  EXPECT_EQ(f->get_int_array("a.i32"), (std::vector<int64_t>{2, -3, 6}));
  EXPECT_EQ(f->get_int_array("a.empty"), std::vector<int64_t>{});
  EXPECT_EQ(f->get_int_array("a.u8"), (std::vector<int64_t>{7, 200}));
  EXPECT_EQ(f->get_int_array("a.i8"), (std::vector<int64_t>{-7}));
  EXPECT_EQ(f->get_int_array("a.u16"), (std::vector<int64_t>{60000}));
  EXPECT_EQ(f->get_int_array("a.i16"), (std::vector<int64_t>{-30000}));
  EXPECT_EQ(f->get_int_array("a.u32"), (std::vector<int64_t>{4000000000ll}));
  EXPECT_EQ(f->get_int_array("a.u64"), (std::vector<int64_t>{1ll << 40}));
  EXPECT_EQ(f->get_int_array("a.i64"), (std::vector<int64_t>{-(1ll << 40)}));
  EXPECT_EQ(f->get_float_array("a.f64"), (std::vector<float>{0.125f}));
  EXPECT_EQ(f->get_int_array("a.f64"), std::nullopt) << "floats are not integers";
  EXPECT_EQ(f->get_string_array("a.i32"), std::nullopt);
  const GgufValue* b = f->find("a.bool");
  ASSERT_TRUE(b);
  ASSERT_EQ(b->elem_type, GgufType::BOOL);
  ASSERT_EQ(b->arr.size(), 3u);
  EXPECT_TRUE(b->arr[0].b);
  EXPECT_FALSE(b->arr[1].b);
  EXPECT_TRUE(b->arr[2].b);

  const GgufValue* n = f->find("a.nested");
  ASSERT_TRUE(n);
  ASSERT_EQ(n->elem_type, GgufType::ARRAY);
  ASSERT_EQ(n->arr.size(), 2u);
  EXPECT_EQ(n->arr[0].type, GgufType::ARRAY);
  EXPECT_EQ(n->arr[0].elem_type, GgufType::UINT32);
  ASSERT_EQ(n->arr[0].arr.size(), 2u);
  EXPECT_EQ(n->arr[0].arr[1].u, 2u);
  EXPECT_EQ(n->arr[1].elem_type, GgufType::UINT32);
  EXPECT_TRUE(n->arr[1].arr.empty());
  const GgufValue* d = f->find("a.deep");
  ASSERT_TRUE(d);
  ASSERT_EQ(d->arr.size(), 1u);
  ASSERT_EQ(d->arr[0].arr.size(), 1u);
  ASSERT_EQ(d->arr[0].arr[0].elem_type, GgufType::STRING);
  EXPECT_EQ(d->arr[0].arr[0].arr.at(0).str, "deep");
}

TEST(GgufRoundTrip, SetReplacesInPlaceAndRemoveDeletes) {
  TempDir dir;
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.block_count", 5);
  w.set_string("general.name", "x");
  w.set_f32("llama.block_count", 2.5f);  // replaces, keeps position 1, changes type
  w.remove("general.name");
  w.remove("not.there");
  const std::string path = dir.file("replace.gguf");
  ASSERT_TRUE(w.write(path).ok());
  auto f = open_ok(path);
  ASSERT_TRUE(f);
  ASSERT_EQ(f->metadata().size(), 2u);
  EXPECT_EQ(f->metadata()[0].key, "general.architecture");
  EXPECT_EQ(f->metadata()[1].key, "llama.block_count");
  EXPECT_EQ(f->metadata()[1].value.type, GgufType::FLOAT32);
  EXPECT_EQ(f->get_float("llama.block_count"), 2.5);
}

// Deterministic bytes for tensor `seed`: the reader must hand back exactly these.
std::vector<uint8_t> pattern(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& b : v) {
    x = x * 1664525u + 1013904223u;
    b = static_cast<uint8_t>(x >> 24);
  }
  return v;
}

void write_and_check_tensors(std::optional<uint32_t> alignment) {
  TempDir dir;
  GgufWriter w;
  w.set_string("general.architecture", "test");
  if (alignment) w.set_u32(std::string(keys::kAlignment), *alignment);
  struct Spec {
    const char* name;
    GgmlType type;
    std::vector<uint64_t> ne;
  };
  const std::vector<Spec> specs = {
      {"a.f32", GgmlType::F32, {3}},          // 12 bytes: forces padding
      {"b.f16", GgmlType::F16, {5, 3}},       // 30 bytes
      {"c.q8_0", GgmlType::Q8_0, {64, 2}},    // 2 rows of 2 blocks of 34 bytes
      {"d.q4_k", GgmlType::Q4_K, {256, 1, 1, 2}},
      {"e.bf16", GgmlType::BF16, {1}},
  };
  std::vector<std::vector<uint8_t>> data;
  for (size_t i = 0; i < specs.size(); ++i) {
    uint64_t n = 1;
    for (uint64_t d : specs[i].ne) n *= d;
    data.push_back(pattern(ggml_row_size(specs[i].type, n), static_cast<uint32_t>(i)));
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    if (i % 2 == 0) {
      w.add_tensor(specs[i].name, specs[i].type, specs[i].ne, data[i]);
    } else {
      const std::vector<uint8_t>& src = data[i];
      w.add_tensor(specs[i].name, specs[i].type, specs[i].ne, [&src](uint8_t* dst) {
        std::memcpy(dst, src.data(), src.size());
        return ok_status();
      });
    }
  }
  std::vector<std::string> reported;
  w.on_tensor_written = [&](size_t i, size_t n, std::string_view name) {
    EXPECT_EQ(n, specs.size());
    EXPECT_EQ(i, reported.size());
    reported.emplace_back(name);
  };
  const std::string path = dir.file("tensors.gguf");
  Status st = w.write(path);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_EQ(reported.size(), specs.size());

  auto f = open_ok(path);
  ASSERT_TRUE(f);
  const uint64_t align = alignment.value_or(32);
  EXPECT_EQ(f->alignment(), align);
  EXPECT_EQ(f->data_offset() % align, 0u);
  ASSERT_EQ(f->tensors().size(), specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    const GgufTensorInfo* t = f->tensor(specs[i].name);
    ASSERT_NE(t, nullptr) << specs[i].name;
    EXPECT_EQ(t, &f->tensors()[i]) << "tensors keep their order";
    EXPECT_EQ(t->type, specs[i].type);
    EXPECT_EQ(t->ne, specs[i].ne);
    EXPECT_EQ(t->offset % align, 0u);
    EXPECT_EQ(t->n_bytes, data[i].size());
    EXPECT_EQ(0, std::memcmp(t->data, data[i].data(), data[i].size())) << specs[i].name;
  }
  EXPECT_EQ(f->tensor("c.q8_0")->rows(), 2u);
  EXPECT_EQ(f->tensor("d.q4_k")->rows(), 2u);
  EXPECT_EQ(f->tensor("c.q8_0")->n_elements, 128u);
  // The file ends with the last tensor padded to the alignment, and padding is zeros.
  EXPECT_EQ(f->file_size() % align, 0u);
  const Bytes raw = testing::read_bytes(path);
  const GgufTensorInfo& first = f->tensors()[0];
  for (uint64_t p = f->data_offset() + first.n_bytes; p < f->data_offset() + f->tensors()[1].offset; ++p) {
    ASSERT_EQ(raw[p], 0) << "padding byte at " << p;
  }
  EXPECT_EQ(f->tensor("nope"), nullptr);
  f->prefetch();  // must not crash
}

TEST(GgufRoundTrip, TensorsDefaultAlignment) { write_and_check_tensors(std::nullopt); }
TEST(GgufRoundTrip, TensorsCustomAlignment) { write_and_check_tensors(64u); }
TEST(GgufRoundTrip, TensorsAlignmentOne) { write_and_check_tensors(1u); }

TEST(GgufRoundTrip, WriterRefusesBadInputAndLeavesNoFile) {
  TempDir dir;
  const std::string path = dir.file("bad.gguf");
  auto expect_refused = [&](GgufWriter& w, const std::string& needle) {
    Status st = w.write(path);
    ASSERT_FALSE(st.ok()) << needle;
    EXPECT_NE(st.error().message.find(needle), std::string::npos) << st.error().message;
    EXPECT_FALSE(std::filesystem::exists(path));
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  };
  {
    GgufWriter w;
    w.set_u32(std::string(keys::kAlignment), 48);
    expect_refused(w, "power of two");
  }
  {
    GgufWriter w;
    w.set_string(std::string(keys::kAlignment), "32");
    expect_refused(w, "general.alignment must be a u32");
  }
  {
    GgufWriter w;
    w.set_u64(std::string(keys::kAlignment), 32);
    expect_refused(w, "general.alignment must be a u32");
  }
  {
    GgufWriter w;
    const std::vector<uint8_t> d(4);
    w.add_tensor(std::string(64, 'n'), GgmlType::F32, {1}, d);
    expect_refused(w, "name longer than 63 bytes");
  }
  {
    GgufWriter w;
    const std::vector<uint8_t> d(8);
    w.add_tensor("x", GgmlType::F32, {2}, d);
    w.add_tensor("x", GgmlType::F32, {2}, d);
    expect_refused(w, "duplicate tensor name 'x'");
  }
  {
    GgufWriter w;
    const std::vector<uint8_t> d(18);
    w.add_tensor("q", GgmlType::Q4_0, {16}, d);
    expect_refused(w, "not a multiple of the block size 32");
  }
  {
    GgufWriter w;
    const std::vector<uint8_t> d(12);
    w.add_tensor("short", GgmlType::F32, {4}, d);
    expect_refused(w, "data has 12 bytes, the shape needs 16");
  }
  {
    GgufWriter w;
    w.add_tensor("five", GgmlType::F32, {1, 1, 1, 1, 1}, [](uint8_t*) { return ok_status(); });
    expect_refused(w, "1 to 4 dimensions");
  }
  {
    GgufWriter w;
    w.add_tensor("zero", GgmlType::F32, {4, 0}, [](uint8_t*) { return ok_status(); });
    expect_refused(w, "out of range");
  }
  {
    GgufWriter w;
    w.add_tensor("fails", GgmlType::F32, {4}, [](uint8_t*) -> Status {
      return make_error(ErrorKind::internal, "source tensor unreadable");
    });
    expect_refused(w, "tensor 'fails': source tensor unreadable");
  }
  {
    GgufWriter w;
    Status st = w.write(dir.file("no/such/dir/x.gguf"));
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().message.find("cannot create"), std::string::npos) << st.error().message;
  }
}

// Rewriting a fixture through GgufWriter (metadata via set_value, tensors as spans) must give
// back the identical bytes. The fixtures were written by llama.cpp / gguf-py tooling, so this
// checks that our writer follows the same layout rules (offsets relative to the aligned data
// section, zero padding, every tensor padded to the alignment).
void expect_identical_rewrite(const std::string& fixture) {
  PS_REQUIRE_FIXTURES();
  auto src = open_ok(testing::fixtures_dir() + "/" + fixture);
  ASSERT_TRUE(src);
  GgufWriter w;
  for (const GgufKV& kv : src->metadata()) w.set_value(std::string(kv.key), kv.value);
  for (const GgufTensorInfo& t : src->tensors()) {
    w.add_tensor(std::string(t.name), t.type, t.ne, std::span<const uint8_t>(t.data, t.n_bytes));
  }
  TempDir dir;
  const std::string out = dir.file("rewrite.gguf");
  Status st = w.write(out);
  ASSERT_TRUE(st.ok()) << st.error().message;
  const Bytes a = testing::read_bytes(testing::fixtures_dir() + "/" + fixture);
  const Bytes b = testing::read_bytes(out);
  ASSERT_EQ(a.size(), b.size()) << fixture;
  auto mismatch = std::mismatch(a.begin(), a.end(), b.begin());
  EXPECT_TRUE(mismatch.first == a.end()) << fixture << ": first difference at byte " << (mismatch.first - a.begin());
}

TEST(GgufRoundTrip, RewriteIsByteIdenticalStories260K) { expect_identical_rewrite("models/stories260K.gguf"); }
TEST(GgufRoundTrip, RewriteIsByteIdenticalTinyRandomF16) { expect_identical_rewrite("models/llama-2-tiny-random.gguf"); }
TEST(GgufRoundTrip, RewriteIsByteIdenticalRefQwen3) { expect_identical_rewrite("reference/ref-qwen3.gguf"); }
TEST(GgufRoundTrip, RewriteIsByteIdenticalVocabOnly) { expect_identical_rewrite("tokenizer/ggml-vocab-phi-3.gguf"); }

}  // namespace
}  // namespace pensieve
