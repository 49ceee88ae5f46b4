// Whole models on the GPU: stories260K greedy equals the llama2.c golden ids, the reference
// llama / qwen2 / qwen3 models give the CPU's logits (per-type bounds) and the CPU's greedy
// tokens for 48 steps (decode steps replayed from CUDA graphs), and dropping the model returns
// its GPU memory.
#include <cuda_runtime_api.h>

#include <fstream>
#include <sstream>

#include "cuda_test_util.h"
#include "gguf/gguf.h"
#include "model/context.h"
#include "model/model.h"
#include "model/model_test_util.h"
#include "quant/quantize_model.h"

namespace pensieve::testing {
namespace {

using Loaded = LoadedModel;

std::unique_ptr<Loaded> load(const std::string& path, std::unique_ptr<backend::Ops> ops, backend::KvType kv) {
  return load_with_ops(path, std::move(ops), kv);
}

std::unique_ptr<Loaded> load_cuda(const std::string& path, backend::KvType kv) {
  auto ops = cuda::CudaOps::create(0);
  if (!ops.ok()) {
    ADD_FAILURE() << ops.error().message;
    return nullptr;
  }
  return load(path, std::move(*ops), kv);
}

std::unique_ptr<Loaded> load_cpu(const std::string& path, backend::KvType kv) {
  return load(path, cpu::make_cpu_ops(2), kv);
}

std::vector<int32_t> ids_of(const std::string& line) {
  std::istringstream in(line);
  std::vector<int32_t> v;
  int x;
  while (in >> x) v.push_back(x);
  return v;
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> v;
  std::string l;
  while (std::getline(in, l)) v.push_back(l);
  return v;
}

int argmax(const std::vector<float>& x) { return int(std::max_element(x.begin(), x.end()) - x.begin()); }

TEST(CudaModel, Stories260KGreedyEqualsGolden) {
  PS_REQUIRE_CUDA();
  PS_REQUIRE_FIXTURES();
  const auto expected = ids_of(lines_of(fixtures_dir() + "/golden/stories260K.greedy.256.ids").at(0));
  ASSERT_EQ(expected.size(), 256u);
  auto lm = load_cuda(fixtures_dir() + "/models/stories260K.gguf", backend::KvType::f32);
  ASSERT_TRUE(lm);
  EXPECT_EQ(greedy(*lm, {1}, 256), expected);
  auto* ops = dynamic_cast<cuda::CudaOps*>(lm->ops.get());
  EXPECT_TRUE(ops->status().ok());
  EXPECT_GT(ops->graph_stats().replayed, 200) << "decode steps should replay a CUDA graph";
  // With an F16 cache the GPU follows the CPU's F16-cache run token for token.
  auto cpu16 = load_cpu(fixtures_dir() + "/models/stories260K.gguf", backend::KvType::f16);
  auto gpu16 = load_cuda(fixtures_dir() + "/models/stories260K.gguf", backend::KvType::f16);
  ASSERT_TRUE(cpu16 && gpu16);
  EXPECT_EQ(greedy(*gpu16, {1}, 256), greedy(*cpu16, {1}, 256));
}

TEST(CudaModel, Stories260KLogitsFirst8Positions) {
  PS_REQUIRE_CUDA();
  PS_REQUIRE_FIXTURES();
  auto lm = load_cuda(fixtures_dir() + "/models/stories260K.gguf", backend::KvType::f32);
  ASSERT_TRUE(lm);
  int checked = 0;
  for (const std::string& line : lines_of(fixtures_dir() + "/golden/stories260K.logits.pos0-7.txt")) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream in(line);
    int pos, input, best;
    in >> pos >> input >> best;
    std::vector<float> ref;
    float v;
    while (in >> v) ref.push_back(v);
    const auto got = lm->run({input});
    ASSERT_EQ(got.size(), ref.size());
    EXPECT_LT(max_abs_diff(got, ref), 1e-4) << "position " << pos;
    EXPECT_EQ(argmax(got), best);
    ++checked;
  }
  EXPECT_EQ(checked, 8);
}

class CudaReference : public ::testing::TestWithParam<std::string> {};

TEST_P(CudaReference, LogitsMatchCpuPrefillAndDecode) {
  PS_REQUIRE_CUDA();
  PS_REQUIRE_FIXTURES();
  const std::string path = fixtures_dir() + "/reference/" + GetParam() + ".gguf";
  const auto prompt = ids_of(lines_of(fixtures_dir() + "/reference/" + GetParam() + ".greedy.txt").at(0));
  for (auto kv : {backend::KvType::f32, backend::KvType::f16}) {
    auto cpu = load_cpu(path, kv);
    auto gpu = load_cuda(path, kv);
    ASSERT_TRUE(cpu && gpu);
    // Prefill of the whole prompt (GEMM path when > 8 tokens), all rows' logits.
    std::vector<int32_t> ids = prompt;
    while (ids.size() < 20) ids.push_back(ids[ids.size() % prompt.size()]);
    const auto a = cpu->run(ids, true), b = gpu->run(ids, true);
    EXPECT_LT(nmse(b, a), 1e-9) << GetParam() << " prefill kv " << int(kv);
    for (int i = 0; i < 6; ++i) {
      const int32_t t = argmax(std::vector<float>(a.end() - cpu->n_vocab(), a.end()));
      const auto c = cpu->run({t + i}), g = gpu->run({t + i});
      EXPECT_LT(nmse(g, c), 1e-9) << GetParam() << " decode " << i;
    }
  }
}

TEST_P(CudaReference, GreedyMatchesCpuAndReference48Steps) {
  PS_REQUIRE_CUDA();
  PS_REQUIRE_FIXTURES();
  const std::string base = fixtures_dir() + "/reference/" + GetParam();
  const auto lines = lines_of(base + ".greedy.txt");
  const auto prompt = ids_of(lines.at(0)), expected = ids_of(lines.at(1));
  auto cpu = load_cpu(base + ".gguf", backend::KvType::f16);
  auto gpu = load_cuda(base + ".gguf", backend::KvType::f16);
  ASSERT_TRUE(cpu && gpu);
  const auto c = greedy(*cpu, prompt, 48), g = greedy(*gpu, prompt, 48);
  EXPECT_EQ(g, c) << GetParam();
  EXPECT_EQ(g, expected) << GetParam();
}

// The reference models quantized to Q8_0 run the decode path the benchmarks run: integer mat-vecs
// on 8-bit activations and the fused ops (add + norm, rope + KV write, attention with its 8-bit
// output). Logits stay near the CPU's (which rounds its activations to 8 bits its own way), and
// the device argmax (decode_greedy, what the engine uses for greedy requests) picks exactly the
// argmax of the same step's logits.
TEST_P(CudaReference, QuantizedQ8DecodeNearCpuAndDeviceArgmaxExact) {
  PS_REQUIRE_CUDA();
  PS_REQUIRE_FIXTURES();
  const std::string base = fixtures_dir() + "/reference/" + GetParam();
  const std::string q8 = ::testing::TempDir() + "/" + GetParam() + "-q8_0.gguf";
  ASSERT_TRUE(quantize_model(base + ".gguf", q8, QuantizeTarget::Q8_0, 2).ok());
  const auto prompt = ids_of(lines_of(base + ".greedy.txt").at(0));
  auto cpu = load_cpu(q8, backend::KvType::f16);
  auto gpu = load_cuda(q8, backend::KvType::f16);
  auto gpu_greedy = load_cuda(q8, backend::KvType::f16);
  ASSERT_TRUE(cpu && gpu && gpu_greedy);
  auto c = cpu->run(prompt), g = gpu->run(prompt);
  int32_t dev_tok = -1;
  ASSERT_TRUE(gpu_greedy->ctx->decode_greedy(*gpu_greedy->seq, prompt, &dev_tok).ok());
  for (int i = 0; i < 40; ++i) {
    EXPECT_LT(nmse(g, c), 1e-3) << GetParam() << " step " << i;
    ASSERT_EQ(dev_tok, argmax(g)) << GetParam() << " step " << i;
    const int32_t next = argmax(c);  // both follow the CPU's choice
    c = cpu->run({next});
    g = gpu->run({next});
    ASSERT_TRUE(gpu_greedy->ctx->decode_greedy(*gpu_greedy->seq, std::vector<int32_t>{next}, &dev_tok).ok());
  }
  auto* ops = dynamic_cast<cuda::CudaOps*>(gpu->ops.get());
  EXPECT_TRUE(ops->status().ok());
  EXPECT_GT(ops->graph_stats().replayed, 30) << "decode steps should replay a CUDA graph";
  std::remove(q8.c_str());
}

INSTANTIATE_TEST_SUITE_P(Families, CudaReference, ::testing::Values("ref-llama", "ref-qwen2", "ref-qwen3"));

// A decode step's CUDA graph is recorded per output kind: sampled steps (logits read back),
// greedy ones (device argmax) and grammar-masked greedy ones of the same shape alternate without
// dropping each other's recordings, and each kind gives what the logits say.
TEST(CudaModel, GraphsPerOutputKindSurviveAlternation) {
  PS_REQUIRE_CUDA();
  PS_REQUIRE_FIXTURES();
  auto gpu = load_cuda(fixtures_dir() + "/reference/ref-llama.gguf", backend::KvType::f16);
  auto twin = load_cuda(fixtures_dir() + "/reference/ref-llama.gguf", backend::KvType::f16);
  ASSERT_TRUE(gpu && twin);
  const int nv = gpu->n_vocab();
  std::vector<uint64_t> mask(size_t(backend::allowed_words(nv)), 0);
  for (int t = 0; t < nv; t += 3) mask[size_t(t / 64)] |= uint64_t(1) << (t % 64);  // every third token
  const backend::MaskSource masks = [&] { return mask.data(); };
  int32_t tok = 1;
  for (int i = 0; i < 60; ++i) {
    const std::vector<float> ref = twin->run({tok});  // the same sequence's logits, read back
    int32_t next = -1;
    if (i % 3 == 0) {
      next = argmax(gpu->run({tok}));
    } else {
      const model::SeqStep part{gpu->seq.get(), std::span<const int32_t>(&tok, 1), 1};
      ASSERT_TRUE(gpu->ctx->step(std::span<const model::SeqStep>(&part, 1), nullptr, &next, nullptr,
                                 i % 3 == 2 ? &masks : nullptr).ok());
    }
    const int32_t want = i % 3 == 2 ? backend::argmax_row_allowed(ref.data(), nv, mask.data()) : argmax(ref);
    ASSERT_EQ(next, want) << "step " << i;
    tok = next;
  }
  const auto stats = dynamic_cast<cuda::CudaOps*>(gpu->ops.get())->graph_stats();
  EXPECT_EQ(stats.mismatches, 0);
  EXPECT_GE(stats.replayed, 40) << "each kind should replay its own graph";
}

// From 8 rows up the token masks are made while the step's forward pass runs (its graph
// launched first, the masks copied and applied after it): each row's argmax must still be the
// best token its own mask allows, as the same batch's logits (read back from a twin) say, while
// the forward pass replays its graph.
TEST(CudaModel, MaskedArgmaxOverManyRowsMadeWhileTheStepRuns) {
  PS_REQUIRE_CUDA();
  PS_REQUIRE_FIXTURES();
  auto gpu = load_cuda(fixtures_dir() + "/reference/ref-llama.gguf", backend::KvType::f16);
  auto twin = load_cuda(fixtures_dir() + "/reference/ref-llama.gguf", backend::KvType::f16);
  ASSERT_TRUE(gpu && twin);
  const int nv = gpu->n_vocab(), n = 8;  // masks made during the step, and a graph recorded (<= 8 tokens)
  const int64_t words = backend::allowed_words(nv);
  std::vector<std::unique_ptr<model::SequenceKv>> seqs, twin_seqs;
  std::vector<int32_t> toks(n), next(n, -1);
  for (int r = 0; r < n; ++r) {
    seqs.push_back(std::make_unique<model::SequenceKv>(gpu->ctx->pool()));
    twin_seqs.push_back(std::make_unique<model::SequenceKv>(twin->ctx->pool()));
    toks[size_t(r)] = 1 + 7 * r;
  }
  std::vector<uint64_t> mask(size_t(n * words), 0);
  int asked = 0;
  const backend::MaskSource masks = [&] {
    ++asked;
    return mask.data();
  };
  std::vector<float> logits(size_t(n) * size_t(nv));
  for (int step = 0; step < 12; ++step) {
    std::fill(mask.begin(), mask.end(), 0);  // row r: the tokens divisible by r + 2, shifted by the step
    for (int r = 0; r < n; ++r)
      for (int t = (step % (r + 2)); t < nv; t += r + 2) mask[size_t(r * words + t / 64)] |= uint64_t(1) << (t % 64);
    std::vector<model::SeqStep> batch, twin_batch;
    for (int r = 0; r < n; ++r) {
      batch.push_back({seqs[size_t(r)].get(), std::span<const int32_t>(&toks[size_t(r)], 1), 1});
      twin_batch.push_back({twin_seqs[size_t(r)].get(), std::span<const int32_t>(&toks[size_t(r)], 1), 1});
    }
    ASSERT_TRUE(twin->ctx->step(twin_batch, logits.data(), nullptr).ok());
    ASSERT_TRUE(gpu->ctx->step(batch, nullptr, next.data(), nullptr, &masks).ok());
    for (int r = 0; r < n; ++r) {
      const int32_t want = backend::argmax_row_allowed(logits.data() + size_t(r) * size_t(nv), nv, &mask[size_t(r * words)]);
      ASSERT_EQ(next[size_t(r)], want) << "step " << step << " row " << r;
      toks[size_t(r)] = want;
    }
  }
  EXPECT_EQ(asked, 12);
  const auto stats = dynamic_cast<cuda::CudaOps*>(gpu->ops.get())->graph_stats();
  EXPECT_EQ(stats.mismatches, 0);
  EXPECT_GE(stats.replayed, 8) << "the forward pass should replay its graph";
}

TEST(CudaModel, UnloadReturnsGpuMemory) {
  PS_REQUIRE_CUDA();
  PS_REQUIRE_FIXTURES();
  auto ops0 = make_cuda_ops();  // context creation cost outside the measurement
  ASSERT_TRUE(ops0);
  ops0.reset();
  auto before = cuda::memory_info();
  ASSERT_TRUE(before.ok());
  int64_t held = 0;
  {
    auto lm = load_cuda(fixtures_dir() + "/models/llama-2-tiny-random.gguf", backend::KvType::f16);
    ASSERT_TRUE(lm);
    lm->run({1, 2, 3});
    held = lm->ops->memory_bytes();
    EXPECT_GT(held, 1 << 20);
    auto during = cuda::memory_info();
    EXPECT_LT(during->first, before->first - held / 2);
  }
  auto after = cuda::memory_info();
  EXPECT_GE(after->first, before->first - (int64_t(8) << 20)) << "held " << held;
}

}  // namespace
}  // namespace pensieve::testing
