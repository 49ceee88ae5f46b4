// GPU benchmark (runs only when PENSIEVE_CUDA_BENCH names GGUF files, comma-separated):
// prompt processing of 512 tokens (pp512) and generation of 128 tokens (tg128) through the
// same model::Context::decode path the engine uses, like llama-bench's tests. One JSON line
// per measurement on stdout. scripts/gpu-check.sh runs it.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "cuda_test_util.h"
#include "gguf/gguf.h"
#include "model/context.h"
#include "model/model.h"

namespace pensieve::testing {
namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void bench_model(const std::string& path) {
  auto file = GgufFile::open(path);
  ASSERT_TRUE(file.ok()) << file.error().message;
  auto ops_r = cuda::CudaOps::create(0);
  ASSERT_TRUE(ops_r.ok()) << ops_r.error().message;
  cuda::CudaOps& ops = **ops_r;
  const double t_load = now_s();
  auto m = model::load_model(**file, ops);
  ASSERT_TRUE(m.ok()) << m.error().message;
  model::ContextOptions co;
  co.n_ctx = 1024;
  co.max_tokens = 512;
  co.max_outputs = 1;
  auto ctx = model::Context::create(**m, ops, co);
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  const double load_s = now_s() - t_load;
  const int nv = (*m)->hp.n_vocab;
  std::vector<float> logits(size_t(nv), 0.0f);
  std::vector<int32_t> prompt(512);
  for (int i = 0; i < 512; ++i) prompt[size_t(i)] = (i * 7919 + 13) % nv;
  const std::string name = path.substr(path.find_last_of('/') + 1);
  const std::string gpu = ops.context().info().name;

  // pp512: 1 warm-up + 3 timed prefills of a fresh sequence.
  std::vector<double> pp;
  for (int rep = 0; rep < 4; ++rep) {
    model::SequenceKv seq((*ctx)->pool());
    const double t0 = now_s();
    ASSERT_TRUE((*ctx)->decode(seq, prompt, false, logits.data()).ok());
    if (rep > 0) pp.push_back(512.0 / (now_s() - t0));
  }
  // tg128: 128 single-token greedy steps after a 1-token prompt (decode graphs replay).
  std::vector<double> tg;
  for (int rep = 0; rep < 3; ++rep) {
    model::SequenceKv seq((*ctx)->pool());
    ASSERT_TRUE((*ctx)->decode(seq, std::vector<int32_t>{1}, false, logits.data()).ok());
    int32_t tok = 1;
    const double t0 = now_s();
    for (int i = 0; i < 128; ++i) {
      tok = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
      ASSERT_TRUE((*ctx)->decode(seq, std::vector<int32_t>{tok}, false, logits.data()).ok());
    }
    if (rep > 0) tg.push_back(128.0 / (now_s() - t0));
  }
  ASSERT_TRUE(ops.status().ok()) << ops.status().error().message;
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const auto gs = ops.graph_stats();
  std::printf("{\"bench\":\"cuda\",\"gpu\":\"%s\",\"model\":\"%s\",\"test\":\"pp512\",\"tokens_per_s\":%.1f}\n",
              gpu.c_str(), name.c_str(), median(pp));
  std::printf("{\"bench\":\"cuda\",\"gpu\":\"%s\",\"model\":\"%s\",\"test\":\"tg128\",\"tokens_per_s\":%.1f,"
              "\"graphs_replayed\":%lld,\"load_s\":%.2f,\"weights_mib\":%lld}\n",
              gpu.c_str(), name.c_str(), median(tg), (long long)gs.replayed, load_s,
              (long long)(ops.context().weights().bytes() >> 20));
  std::fflush(stdout);
}

TEST(CudaBench, Models) {
  const char* env = std::getenv("PENSIEVE_CUDA_BENCH");
  if (env == nullptr || *env == 0) GTEST_SKIP() << "skipped: set PENSIEVE_CUDA_BENCH=model.gguf[,more.gguf]";
  PS_REQUIRE_CUDA();
  std::stringstream ss(env);
  std::string path;
  while (std::getline(ss, path, ','))
    if (!path.empty()) bench_model(path);
}

}  // namespace
}  // namespace pensieve::testing
