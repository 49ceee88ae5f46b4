// End to end: quantize real GGUF fixtures and a synthetic model, re-open the output with the
// GGUF reader, and check the type mixture, the metadata and the weights.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

#include "gguf/gguf.h"
#include "gguf/keys.h"
#include "quant/quant.h"
#include "quant/quantize_model.h"
#include "test_util.h"

namespace pensieve {
namespace {

namespace fs = std::filesystem;
using T = GgmlType;
using QT = QuantizeTarget;

class QuantizeModel : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pensieve-quant-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

std::string fixture(const std::string& rel) { return testing::fixtures_dir() + "/" + rel; }

std::unique_ptr<GgufFile> open_or_die(const std::string& p) {
  auto f = GgufFile::open(p);
  EXPECT_TRUE(f.ok()) << (f.ok() ? "" : f.error().message);
  return f.ok() ? std::move(*f) : nullptr;
}

std::vector<float> to_floats(const GgufTensorInfo& t) {
  std::vector<float> out(t.n_elements);
  dequantize_row(t.type, t.data, out.data(), static_cast<int64_t>(t.n_elements));
  return out;
}

double relative_rmse(const std::vector<float>& ref, const std::vector<float>& got) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    num += static_cast<double>(ref[i] - got[i]) * (ref[i] - got[i]);
    den += static_cast<double>(ref[i]) * ref[i];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

// Relative RMS error allowed per output type on roughly Gaussian weights: a b-bit grid over
// a block spanning about +-2.5 sigma errs by 5 / (2^b sqrt(12)) RMS; 1.5x for scale rounding.
double error_bound(T type) {
  int bits = 0;
  switch (type) {
    case T::F32: return 0;
    case T::F16: return 1e-3;
    case T::BF16: return 4e-3;
    case T::Q8_0: bits = 8; break;
    case T::Q6_K: bits = 6; break;
    case T::Q5_0: case T::Q5_1: case T::Q5_K: bits = 5; break;
    case T::Q4_0: case T::Q4_1: case T::Q4_K: bits = 4; break;
    case T::Q3_K: bits = 3; break;
    case T::Q2_K: bits = 2; break;
    default: return 1.0;
  }
  return 1.5 * 5.0 / (std::pow(2.0, bits) * std::sqrt(12.0));
}

bool same_value(const GgufValue& a, const GgufValue& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case GgufType::STRING: return a.str == b.str;
    case GgufType::BOOL: return a.b == b.b;
    case GgufType::FLOAT32: case GgufType::FLOAT64: return a.f == b.f;
    case GgufType::ARRAY:
      if (a.elem_type != b.elem_type || a.arr.size() != b.arr.size()) return false;
      for (size_t i = 0; i < a.arr.size(); ++i) {
        if (!same_value(a.arr[i], b.arr[i])) return false;
      }
      return true;
    default: return a.as_int() == b.as_int();
  }
}

// The type each output tensor must have, written out by hand for the model under test (never
// taken from plan_tensor_types(), the code under test).
using ExpectedType = std::function<T(const std::string& name)>;

bool is_norm(const std::string& name) { return name.find("_norm.") != std::string::npos; }
int layer_of(const std::string& name) { return name.rfind("blk.", 0) == 0 ? std::stoi(name.substr(4)) : -1; }
bool is_v_or_down(const std::string& name) {
  return name.find(".attn_v.") != std::string::npos || name.find(".ffn_down.") != std::string::npos;
}

// ref-llama (width 64, FFN 128, 2 layers): rows of 64 or 128 values fit no 256-value k-quant
// super-block, so llama.cpp's fallbacks apply (Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0);
// output.weight wants Q6_K (-> Q8_0) for every quantized target; the _M mixes give attn_v and
// ffn_down of llama.cpp's "more bits" layers (layer 1 of 2) Q6_K (-> Q8_0); norms stay F32.
T ref_llama_type(QT target, const std::string& name) {
  if (is_norm(name)) return T::F32;
  switch (target) {
    case QT::F32: return T::F32;
    case QT::F16: return T::F16;
    case QT::BF16: return T::BF16;
    default: break;
  }
  if (name == "output.weight") return T::Q8_0;
  switch (target) {
    case QT::Q8_0: return T::Q8_0;
    case QT::Q4_0: return T::Q4_0;
    case QT::Q4_1: return T::Q4_1;
    case QT::Q5_0: return T::Q5_0;
    case QT::Q5_1: return T::Q5_1;
    case QT::Q6_K: return T::Q8_0;
    case QT::Q4_K_M: return is_v_or_down(name) && layer_of(name) == 1 ? T::Q8_0 : T::Q5_0;
    case QT::Q5_K_M: return is_v_or_down(name) && layer_of(name) == 1 ? T::Q8_0 : T::Q5_1;
    default: ADD_FAILURE() << "no expectation for this target"; return T::F32;
  }
}

// Output vs input: same tensors in the same order and shapes, the expected types, every metadata
// key carried over, file type set, weights within the bound of their type.
void check_output(const GgufFile& in, const GgufFile& out, QT target, const ExpectedType& expected_type) {
  ASSERT_EQ(in.tensors().size(), out.tensors().size());
  int n_kv_in = 0;
  for (const GgufKV& kv : in.metadata()) {
    if (kv.key == keys::kFileType || kv.key == keys::kQuantizationVersion) continue;
    ++n_kv_in;
    const GgufValue* v = out.find(kv.key);
    ASSERT_NE(v, nullptr) << "missing key " << kv.key;
    EXPECT_TRUE(same_value(kv.value, *v)) << "changed key " << kv.key;
  }
  EXPECT_GE(n_kv_in, 4);
  EXPECT_EQ(out.get_int(keys::kFileType), static_cast<int64_t>(quantize_target_file_type(target)));
  EXPECT_EQ(out.get_int(keys::kQuantizationVersion), 2);
  for (size_t i = 0; i < in.tensors().size(); ++i) {
    const GgufTensorInfo& a = in.tensors()[i];
    const GgufTensorInfo& b = out.tensors()[i];
    SCOPED_TRACE(std::string(a.name));
    ASSERT_EQ(a.name, b.name);
    ASSERT_EQ(a.ne, b.ne);
    EXPECT_EQ(ggml_type_name(b.type), ggml_type_name(expected_type(std::string(a.name))));
    if (a.type == b.type) {  // kept: copied byte for byte
      EXPECT_EQ(0, std::memcmp(a.data, b.data, a.n_bytes));
      continue;
    }
    // The source may itself be lossy: measure against its own values.
    EXPECT_LE(relative_rmse(to_floats(a), to_floats(b)), error_bound(b.type) + 1e-12)
        << ggml_type_name(b.type);
  }
}

TEST_F(QuantizeModel, EveryTargetOnTheReferenceLlama) {
  PS_REQUIRE_FIXTURES();
  const std::string in_path = fixture("reference/ref-llama.gguf");
  auto in = open_or_die(in_path);
  ASSERT_TRUE(in);
  for (QT target : {QT::Q8_0, QT::Q4_0, QT::Q4_K_M, QT::Q5_K_M, QT::Q6_K, QT::F16, QT::BF16, QT::F32, QT::Q4_1,
                    QT::Q5_0, QT::Q5_1}) {
    SCOPED_TRACE(std::string(quantize_target_name(target)));
    const std::string out_path = path(std::string(quantize_target_name(target)) + ".gguf");
    QuantizeSummary sum;
    Status st = quantize_model(in_path, out_path, target, 2, {}, &sum);
    ASSERT_TRUE(st.ok()) << st.error().message;
    auto out = open_or_die(out_path);
    ASSERT_TRUE(out);
    check_output(*in, *out, target, [target](const std::string& n) { return ref_llama_type(target, n); });
    EXPECT_EQ(sum.output_bytes, fs::file_size(out_path));
    EXPECT_EQ(sum.n_tensors, in->tensors().size());
    if (target != QT::F32) {
      EXPECT_LT(sum.output_bytes, sum.input_bytes);
    }
  }
  // Hand-checked mixture for Q4_K_M on this model (width 64, FFN 128, 2 layers): no row fits
  // a 256 super-block, so Q4_K falls back to Q5_0 and Q6_K to Q8_0; layer 1 is a
  // "more bits" layer (i >= 7 * 2 / 8), layer 0 is not.
  auto q = open_or_die(path("Q4_K_M.gguf"));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->tensor("output.weight")->type, T::Q8_0);
  EXPECT_EQ(q->tensor("token_embd.weight")->type, T::Q5_0);
  EXPECT_EQ(q->tensor("blk.0.attn_v.weight")->type, T::Q5_0);
  EXPECT_EQ(q->tensor("blk.1.attn_v.weight")->type, T::Q8_0);
  EXPECT_EQ(q->tensor("blk.1.ffn_down.weight")->type, T::Q8_0);
  EXPECT_EQ(q->tensor("blk.0.attn_q.weight")->type, T::Q5_0);
  EXPECT_EQ(q->tensor("blk.0.attn_norm.weight")->type, T::F32);
}

// Writes a llama-shaped F32 model whose rows are 256 wide, so the k-quants are used as such.
void write_synthetic_model(const std::string& p, int n_layer, uint64_t embd, uint64_t ff, uint64_t vocab) {
  GgufWriter w;
  w.set_string(std::string(keys::kArchitecture), "llama");
  w.set_string(std::string(keys::kName), "synthetic");
  w.set_u32("llama.block_count", static_cast<uint32_t>(n_layer));
  w.set_u32("llama.embedding_length", static_cast<uint32_t>(embd));
  w.set_f32_array("test.some_floats", {1.5f, -2.0f});
  w.set_u32(std::string(keys::kFileType), 0);
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  auto add = [&](const std::string& name, std::vector<uint64_t> ne) {
    uint64_t n = 1;
    for (uint64_t d : ne) n *= d;
    std::vector<float> v(n);
    for (auto& x : v) x = ne.size() == 1 ? 1.0f + normal(rng) : normal(rng);
    auto bytes = std::make_shared<std::vector<uint8_t>>(n * 4);
    std::memcpy(bytes->data(), v.data(), n * 4);
    w.add_tensor(name, T::F32, ne, [bytes](uint8_t* dst) {
      std::memcpy(dst, bytes->data(), bytes->size());
      return ok_status();
    });
  };
  add("token_embd.weight", {embd, vocab});
  for (int i = 0; i < n_layer; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    add(b + "attn_norm.weight", {embd});
    add(b + "attn_q.weight", {embd, embd});
    add(b + "attn_k.weight", {embd, embd / 2});
    add(b + "attn_v.weight", {embd, embd / 2});
    add(b + "attn_output.weight", {embd, embd});
    add(b + "ffn_norm.weight", {embd});
    add(b + "ffn_gate.weight", {embd, ff});
    add(b + "ffn_up.weight", {embd, ff});
    add(b + "ffn_down.weight", {ff, embd});
  }
  add("output_norm.weight", {embd});
  add("output.weight", {embd, vocab});
  Status st = w.write(p);
  ASSERT_TRUE(st.ok()) << st.error().message;
}

std::vector<char> read_all(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

TEST_F(QuantizeModel, KQuantMixtureOnWideRowsThreadsAndProgress) {
  const std::string in_path = path("synthetic.gguf");
  write_synthetic_model(in_path, 4, 256, 256, 256);
  auto in = open_or_die(in_path);
  ASSERT_TRUE(in);
  for (QT target : {QT::Q4_K_M, QT::Q5_K_M, QT::Q6_K}) {
    const std::string out1 = path("one.gguf"), out4 = path("four.gguf");
    std::vector<std::string> seen;
    size_t reported_count = 0;
    auto progress = [&](const QuantizeProgress& p) {
      EXPECT_EQ(p.index, seen.size());
      seen.emplace_back(p.name);
      reported_count = p.count;
    };
    ASSERT_TRUE(quantize_model(in_path, out1, target, 1, progress).ok());
    ASSERT_EQ(seen.size(), in->tensors().size());
    EXPECT_EQ(reported_count, in->tensors().size());
    for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], in->tensors()[i].name);
    ASSERT_TRUE(quantize_model(in_path, out4, target, 4).ok());
    EXPECT_EQ(read_all(out1), read_all(out4)) << "threads changed the output";
    auto out = open_or_die(out4);
    ASSERT_TRUE(out);
    // Rows of 256: the k-quants fit. The _M mixes give attn_v and ffn_down of llama.cpp's "more
    // bits" layers (use_more_bits(i, 4): layers 2 and 3) Q6_K, and output.weight is Q6_K.
    const T base = target == QT::Q4_K_M ? T::Q4_K : target == QT::Q5_K_M ? T::Q5_K : T::Q6_K;
    check_output(*in, *out, target, [base](const std::string& n) {
      if (is_norm(n)) return T::F32;
      if (n == "output.weight" || (is_v_or_down(n) && layer_of(n) >= 2)) return T::Q6_K;
      return base;
    });
    if (target == QT::Q4_K_M) {
      // use_more_bits(i, 4): i >= 3 or i % 3 == 2 -> layers 2 and 3 get Q6_K.
      for (int i = 0; i < 4; ++i) {
        const T want = (i >= 2) ? T::Q6_K : T::Q4_K;
        const std::string b = "blk." + std::to_string(i) + ".";
        EXPECT_EQ(out->tensor(b + "attn_v.weight")->type, want) << i;
        EXPECT_EQ(out->tensor(b + "ffn_down.weight")->type, want) << i;
        EXPECT_EQ(out->tensor(b + "ffn_up.weight")->type, T::Q4_K) << i;
      }
      EXPECT_EQ(out->tensor("output.weight")->type, T::Q6_K);
      EXPECT_EQ(out->tensor("token_embd.weight")->type, T::Q4_K);
      EXPECT_EQ(out->get_string(keys::kName), "synthetic");
    }
  }
}

// The 2-5 bit k-quant mixes on 256-wide rows (4 layers, one query head per KV head), each tensor
// within its type's error bound; the types per tensor written out from llama.cpp's rules.
TEST_F(QuantizeModel, LowBitKQuantMixes) {
  const std::string in_path = path("synthetic.gguf");
  write_synthetic_model(in_path, 4, 256, 256, 256);
  auto in = open_or_die(in_path);
  ASSERT_TRUE(in);
  auto is = [](const std::string& n, const char* what) { return n.find(what) != std::string::npos; };
  struct Case {
    QT target;
    ExpectedType type;
  };
  const std::vector<Case> cases = {
      {QT::Q2_K, [&](const std::string& n) {
         return is(n, ".attn_v.") || is(n, ".ffn_down.") || is(n, ".attn_output.") ? T::Q3_K : T::Q2_K;
       }},
      {QT::Q3_K_S, [&](const std::string&) { return T::Q3_K; }},
      {QT::Q3_K_M, [&](const std::string& n) {
         if (is(n, ".attn_v.")) return layer_of(n) < 2 ? T::Q5_K : T::Q4_K;
         return is(n, ".ffn_down.") || is(n, ".attn_output.") ? T::Q4_K : T::Q3_K;
       }},
      {QT::Q3_K_L, [&](const std::string& n) {
         return is(n, ".attn_v.") || is(n, ".ffn_down.") || is(n, ".attn_output.") ? T::Q5_K : T::Q3_K;
       }},
      {QT::Q4_K_S, [&](const std::string& n) { return is(n, ".attn_v.") ? T::Q5_K : T::Q4_K; }},
      {QT::Q5_K_S, [&](const std::string&) { return T::Q5_K; }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(quantize_target_name(c.target)));
    const std::string out_path = path(std::string(quantize_target_name(c.target)) + ".gguf");
    QuantizeSummary sum;
    ASSERT_TRUE(quantize_model(in_path, out_path, c.target, 2, {}, &sum).ok());
    auto out = open_or_die(out_path);
    ASSERT_TRUE(out);
    check_output(*in, *out, c.target, [&c](const std::string& n) {
      if (is_norm(n)) return T::F32;
      if (n == "output.weight") return T::Q6_K;
      return c.type(n);
    });
    EXPECT_EQ(sum.n_fallback, 0u);
  }
  // smaller files for fewer bits
  EXPECT_LT(fs::file_size(path("Q2_K.gguf")), fs::file_size(path("Q3_K_S.gguf")));
  EXPECT_LT(fs::file_size(path("Q3_K_S.gguf")), fs::file_size(path("Q3_K_M.gguf")));
  EXPECT_LT(fs::file_size(path("Q3_K_M.gguf")), fs::file_size(path("Q3_K_L.gguf")));
  EXPECT_LT(fs::file_size(path("Q4_K_S.gguf")), fs::file_size(path("Q5_K_S.gguf")));
}

TEST_F(QuantizeModel, QuantizedAndHalfSources) {
  PS_REQUIRE_FIXTURES();
  const std::string ref = fixture("reference/ref-llama.gguf");
  auto orig = open_or_die(ref);
  ASSERT_TRUE(orig);
  // F32 -> Q8_0 -> Q4_0 and F32 -> BF16 -> Q8_0: quantized and bf16 sources are dequantized.
  ASSERT_TRUE(quantize_model(ref, path("q8.gguf"), QT::Q8_0, 2).ok());
  ASSERT_TRUE(quantize_model(path("q8.gguf"), path("q8-q4.gguf"), QT::Q4_0, 2).ok());
  ASSERT_TRUE(quantize_model(ref, path("bf16.gguf"), QT::BF16, 2).ok());
  ASSERT_TRUE(quantize_model(path("bf16.gguf"), path("bf16-q8.gguf"), QT::Q8_0, 2).ok());
  auto q8 = open_or_die(path("q8.gguf"));
  auto q4 = open_or_die(path("q8-q4.gguf"));
  auto bq = open_or_die(path("bf16-q8.gguf"));
  ASSERT_TRUE(q8 && q4 && bq);
  check_output(*q8, *q4, QT::Q4_0, [](const std::string& n) { return ref_llama_type(QT::Q4_0, n); });
  const GgufTensorInfo* a = orig->tensor("blk.0.ffn_up.weight");
  const GgufTensorInfo* b = q4->tensor("blk.0.ffn_up.weight");
  ASSERT_EQ(b->type, T::Q4_0);
  EXPECT_LT(relative_rmse(to_floats(*a), to_floats(*b)), error_bound(T::Q4_0) + error_bound(T::Q8_0));
  const GgufTensorInfo* c = bq->tensor("blk.1.attn_q.weight");
  ASSERT_EQ(c->type, T::Q8_0);
  EXPECT_LT(relative_rmse(to_floats(*orig->tensor("blk.1.attn_q.weight")), to_floats(*c)),
            error_bound(T::Q8_0) + error_bound(T::BF16));

  // An F16 model whose rows are 8 wide (FFN 32): nothing else fits a block and stays F16 as is.
  const std::string tiny = fixture("models/llama-2-tiny-random.gguf");
  ASSERT_TRUE(quantize_model(tiny, path("tiny.gguf"), QT::Q4_K_M, 2).ok());
  auto tin = open_or_die(tiny);
  auto tout = open_or_die(path("tiny.gguf"));
  ASSERT_TRUE(tin && tout);
  // Its one layer is a "more bits" layer (use_more_bits(0, 1)): ffn_down (rows of FFN 32) wants
  // Q6_K and gets its fallback Q8_0, whose 32-value block fits; every other row is 8 wide.
  check_output(*tin, *tout, QT::Q4_K_M, [](const std::string& n) {
    return is_norm(n) ? T::F32 : n == "blk.0.ffn_down.weight" ? T::Q8_0 : T::F16;
  });
  EXPECT_EQ(tout->tensor("blk.0.attn_q.weight")->type, T::F16);

  // stories260K: FFN width 172 is not a multiple of 32, so ffn_down (rows of 172) stays F16.
  const std::string stories = fixture("models/stories260K.gguf");
  ASSERT_TRUE(quantize_model(stories, path("stories.gguf"), QT::Q4_K_M, 2).ok());
  auto sin = open_or_die(stories);
  auto sout = open_or_die(path("stories.gguf"));
  ASSERT_TRUE(sin && sout);
  // stories260K (F16 matrices, width 64, FFN 172, 5 layers): rows of 64 fit Q5_0 (Q4_K's
  // fallback), rows of 172 (ffn_down) fit no block and stay F16; attn_v of the "more bits"
  // layers (use_more_bits(i, 5): layers 2 and 4) wants Q6_K, whose fallback is Q8_0.
  check_output(*sin, *sout, QT::Q4_K_M, [](const std::string& n) {
    if (is_norm(n)) return T::F32;
    if (n.find(".ffn_down.") != std::string::npos) return T::F16;
    if (n == "output.weight") return T::Q8_0;
    if (n.find(".attn_v.") != std::string::npos && (layer_of(n) == 2 || layer_of(n) == 4)) return T::Q8_0;
    return T::Q5_0;
  });
  EXPECT_EQ(sout->tensor("blk.0.ffn_down.weight")->type, T::F16);
  EXPECT_EQ(sout->tensor("blk.0.ffn_up.weight")->type, T::Q5_0);
}

TEST_F(QuantizeModel, ErrorsAreClearAndLeaveNoOutput) {
  Status missing = quantize_model(path("nope.gguf"), path("out.gguf"), QT::Q8_0, 1);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("nope.gguf"), std::string::npos) << missing.error().message;

  const std::string in_path = path("synthetic.gguf");
  write_synthetic_model(in_path, 1, 64, 64, 32);
  Status same = quantize_model(in_path, in_path, QT::Q8_0, 1);
  ASSERT_FALSE(same.ok());
  Status no_dir = quantize_model(in_path, path("no/such/dir/out.gguf"), QT::Q8_0, 1);
  ASSERT_FALSE(no_dir.ok());
  EXPECT_FALSE(fs::exists(path("no/such/dir/out.gguf")));

  // A tensor in a format pensieve cannot dequantize: refused before anything is written.
  GgufWriter w;
  w.set_string(std::string(keys::kArchitecture), "llama");
  std::vector<uint8_t> iq(66 * 2, 0);
  w.add_tensor("blk.0.attn_q.weight", T::IQ2_XXS, {256, 2}, std::span<const uint8_t>(iq));
  ASSERT_TRUE(w.write(path("iq.gguf")).ok());
  Status iq_st = quantize_model(path("iq.gguf"), path("iq-out.gguf"), QT::Q8_0, 1);
  ASSERT_FALSE(iq_st.ok());
  EXPECT_NE(iq_st.error().message.find("blk.0.attn_q.weight"), std::string::npos) << iq_st.error().message;
  EXPECT_NE(iq_st.error().message.find("iq2_xxs"), std::string::npos) << iq_st.error().message;
  EXPECT_FALSE(fs::exists(path("iq-out.gguf")));
  EXPECT_FALSE(fs::exists(path("iq-out.gguf.tmp")));

  // NaN in a weight: a clear error naming the tensor and row, and no output file.
  GgufWriter nan_model;
  nan_model.set_string(std::string(keys::kArchitecture), "llama");
  std::vector<float> vals(64, 0.5f);
  vals[40] = std::nanf("");
  std::vector<uint8_t> bytes(vals.size() * 4);
  std::memcpy(bytes.data(), vals.data(), bytes.size());
  nan_model.add_tensor("blk.0.ffn_up.weight", T::F32, {32, 2}, std::span<const uint8_t>(bytes));
  ASSERT_TRUE(nan_model.write(path("nan.gguf")).ok());
  Status nan_st = quantize_model(path("nan.gguf"), path("nan-out.gguf"), QT::Q8_0, 2);
  ASSERT_FALSE(nan_st.ok());
  EXPECT_NE(nan_st.error().message.find("blk.0.ffn_up.weight"), std::string::npos) << nan_st.error().message;
  EXPECT_NE(nan_st.error().message.find("row 1"), std::string::npos) << nan_st.error().message;
  EXPECT_FALSE(fs::exists(path("nan-out.gguf")));
}

}  // namespace
}  // namespace pensieve
