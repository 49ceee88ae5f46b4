// Loader errors (missing tensor, wrong shape, unknown architecture), hparams and rope tables,
// the KV block pool, and the debug hook.
#include <cmath>
#include <filesystem>
#include <set>

#include "gguf/keys.h"
#include "model/hparams.h"
#include "model/kv_cache.h"
#include "model_test_util.h"

namespace pensieve::testing {
namespace {

std::string tmp_path(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("pensieve-model-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

// Copies `src` with one tensor left out (or reshaped) or the architecture renamed.
std::string write_variant(const std::string& src, const std::string& out_name, const std::string& drop,
                          const std::string& arch = "") {
  auto f = GgufFile::open(src);
  EXPECT_TRUE(f.ok());
  GgufWriter w;
  for (const GgufKV& kv : (*f)->metadata()) w.set_value(std::string(kv.key), kv.value);
  if (!arch.empty()) w.set_string(std::string(keys::kArchitecture), arch);
  for (const GgufTensorInfo& t : (*f)->tensors()) {
    if (t.name == drop) continue;
    w.add_tensor(std::string(t.name), t.type, t.ne, std::span<const uint8_t>(t.data, t.n_bytes));
  }
  const std::string path = tmp_path(out_name);
  EXPECT_TRUE(w.write(path).ok());
  return path;
}

Error load_error_of(const std::string& path) {
  auto f = GgufFile::open(path);
  EXPECT_TRUE(f.ok());
  auto ops = cpu::make_cpu_ops(1);
  auto m = model::load_model(**f, *ops);
  EXPECT_FALSE(m.ok());
  return m.ok() ? Error{} : m.error();
}

TEST(ModelLoad, MissingTensorIsNamed) {
  PS_REQUIRE_FIXTURES();
  const std::string src = fixtures_dir() + "/reference/ref-qwen3.gguf";
  for (const char* name : {"blk.1.ffn_up.weight", "blk.0.attn_k_norm.weight", "output_norm.weight"}) {
    const Error e = load_error_of(write_variant(src, "missing.gguf", name));
    EXPECT_EQ(e.kind, ErrorKind::model_load_failed);
    EXPECT_NE(e.message.find(name), std::string::npos) << e.message;
  }
}

TEST(ModelLoad, UnknownArchitectureIsRefused) {
  PS_REQUIRE_FIXTURES();
  const Error e = load_error_of(write_variant(fixtures_dir() + "/reference/ref-llama.gguf", "arch.gguf", "", "gpt2"));
  EXPECT_EQ(e.kind, ErrorKind::model_load_failed);
  EXPECT_NE(e.message.find("gpt2"), std::string::npos) << e.message;
}

TEST(ModelLoad, QwenShapesAndTiedEmbeddings) {
  PS_REQUIRE_FIXTURES();
  auto q3 = load_for_test(fixtures_dir() + "/reference/ref-qwen3.gguf");
  ASSERT_TRUE(q3);
  EXPECT_EQ(q3->model->hp.head_dim, 32);  // key_length, not 64 / 4
  EXPECT_FALSE(q3->model->hp.tied_embeddings);
  EXPECT_EQ(q3->model->rope.style, backend::RopeStyle::neox);
  auto q2 = load_for_test(fixtures_dir() + "/reference/ref-qwen2.gguf");
  ASSERT_TRUE(q2);
  EXPECT_TRUE(q2->model->hp.tied_embeddings);
  EXPECT_FALSE(q2->model->w.layers[0].bq.empty());
  auto st = load_for_test(fixtures_dir() + "/models/stories260K.gguf");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->model->rope.style, backend::RopeStyle::normal);
  EXPECT_EQ(st->model->hp.n_head_kv, 4);
}

TEST(RopeTable, ScalingSchemes) {
  model::HParams hp;
  hp.n_rot = 64;
  hp.head_dim = 64;
  hp.rope_freq_base = 10000;
  hp.n_ctx_train = 8192;
  hp.rope_orig_ctx = 8192;
  const auto plain = model::make_rope_table(hp, backend::RopeStyle::neox, nullptr);
  EXPECT_FLOAT_EQ(plain.inv_freq[0], 1.0f);
  EXPECT_NEAR(plain.inv_freq[1], std::pow(10000.0, -2.0 / 64), 1e-7);

  hp.rope_scaling = model::RopeScaling::linear;
  hp.rope_factor = 4;
  const auto lin = model::make_rope_table(hp, backend::RopeStyle::neox, nullptr);
  for (int i = 0; i < 32; ++i) EXPECT_FLOAT_EQ(lin.inv_freq[i], plain.inv_freq[i] / 4);

  hp.rope_scaling = model::RopeScaling::yarn;  // fast dims extrapolate, slow dims interpolate
  const auto yarn = model::make_rope_table(hp, backend::RopeStyle::neox, nullptr);
  EXPECT_FLOAT_EQ(yarn.inv_freq[0], plain.inv_freq[0]);
  EXPECT_FLOAT_EQ(yarn.inv_freq[31], plain.inv_freq[31] / 4);
  EXPECT_NEAR(yarn.mscale, 1 + 0.1 * std::log(4.0), 1e-6);

  hp.rope_scaling = model::RopeScaling::llama3;  // short wavelengths kept, long ones divided
  const auto l3 = model::make_rope_table(hp, backend::RopeStyle::normal, nullptr);
  EXPECT_FLOAT_EQ(l3.inv_freq[0], plain.inv_freq[0]);
  EXPECT_FLOAT_EQ(l3.inv_freq[31], plain.inv_freq[31] / 4);
  std::vector<float> factors(32, 2.0f);  // rope_freqs.weight takes precedence
  const auto l3f = model::make_rope_table(hp, backend::RopeStyle::normal, factors.data());
  EXPECT_FLOAT_EQ(l3f.inv_freq[5], plain.inv_freq[5] / 2);
}

TEST(KvCache, BlockPoolRefCountsAndFreeList) {
  model::BlockPool pool(4, 16);
  std::set<int> got;
  for (int i = 0; i < 4; ++i) got.insert(pool.allocate());
  EXPECT_EQ(got, (std::set<int>{0, 1, 2, 3}));
  EXPECT_EQ(pool.allocate(), -1);
  pool.retain(2);
  pool.release(2);
  EXPECT_EQ(pool.n_available(), 0);  // still referenced once
  pool.release(2);
  EXPECT_EQ(pool.n_available(), 1);
  EXPECT_EQ(pool.allocate(), 2);
}

TEST(KvCache, SequenceReserveTruncate) {
  model::BlockPool pool(3, 4);
  {
    model::SequenceKv seq(pool);
    EXPECT_TRUE(seq.reserve(9));  // 3 blocks
    EXPECT_EQ(pool.n_available(), 0);
    EXPECT_FALSE(seq.reserve(13));  // would need a 4th: refused, nothing changed
    EXPECT_EQ(seq.block_table().size(), 3u);
    seq.set_n_tokens(9);
    EXPECT_EQ(seq.slot(5), seq.block_table()[1] * 4 + 1);
    seq.truncate(4);
    EXPECT_EQ(seq.n_tokens(), 4);
    EXPECT_EQ(pool.n_available(), 2);
  }
  EXPECT_EQ(pool.n_available(), 3);  // the destructor returns everything
}

TEST(Context, RefusesPastContextAndKeepsState) {
  PS_REQUIRE_FIXTURES();
  auto lm = load_for_test(fixtures_dir() + "/models/stories260K.gguf", backend::KvType::f32, 1, 1, /*n_ctx=*/8, 8);
  ASSERT_TRUE(lm);
  std::vector<float> logits(lm->n_vocab());
  ASSERT_TRUE(lm->ctx->decode(*lm->seq, std::vector<int32_t>{1, 2, 3, 4, 5, 6}, false, logits.data()).ok());
  const Status st = lm->ctx->decode(*lm->seq, std::vector<int32_t>{1, 2, 3}, false, logits.data());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(lm->seq->n_tokens(), 6);
  EXPECT_FALSE(lm->ctx->decode(*lm->seq, std::vector<int32_t>{9999}, false, logits.data()).ok());
}

TEST(DebugHook, NamesEveryLayerActivation) {
  PS_REQUIRE_FIXTURES();
  auto lm = load_for_test(fixtures_dir() + "/reference/ref-llama.gguf");
  ASSERT_TRUE(lm);
  std::map<std::string, std::vector<float>> seen;
  model::Observer obs = [&](std::string_view name, int layer, const float* data, int64_t rows, int width) {
    seen[std::string(name) + "-" + std::to_string(layer)] = std::vector<float>(data, data + rows * width);
  };
  std::vector<float> logits(lm->n_vocab());
  ASSERT_TRUE(lm->ctx->decode(*lm->seq, std::vector<int32_t>{1, 365, 375}, false, logits.data(), &obs).ok());
  for (const char* n : {"inp_embd--1", "attn_norm-0", "Qcur-1", "kq_out-1", "ffn_out-0", "l_out-1", "result_output--1"})
    EXPECT_TRUE(seen.count(n)) << n;
  EXPECT_EQ(seen["attn_norm-0"].size(), 3u * 64);
  // The dumped logits are the logits the step returned.
  EXPECT_EQ(seen["result_output--1"], logits);
  // l_out of a layer = its ffn_inp + ffn_out (the residual), checked from the dump alone.
  for (size_t i = 0; i < seen["l_out-0"].size(); ++i)
    EXPECT_NEAR(seen["l_out-0"][i], seen["ffn_inp-0"][i] + seen["ffn_out-0"][i], 1e-6);
}

}  // namespace
}  // namespace pensieve::testing
