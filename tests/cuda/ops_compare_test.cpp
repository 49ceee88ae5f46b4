// The CUDA Ops against the CPU Ops on identical inputs: rms_norm, rope (normal, neox, partial,
// mscale), silu*mul, add, output-row gather, and attention over a paged KV cache (several
// sequences with scattered blocks, GQA, prefill and split decode, F16 and F32 caches).
#include <numeric>

#include "cuda_test_util.h"
#include "quant/quant.h"

namespace pensieve::testing {
namespace {

using backend::Weight;

struct Both {
  std::unique_ptr<backend::Ops> cpu;
  std::unique_ptr<cuda::CudaOps> gpu;
  std::vector<backend::Ops*> all() { return {cpu.get(), gpu.get()}; }
};

Both make_both(int max_tokens) {
  Both b;
  b.cpu = cpu::make_cpu_ops(2);
  b.gpu = make_cuda_ops();
  if (b.gpu) {
    EXPECT_TRUE(b.cpu->init(max_tokens).ok());
    EXPECT_TRUE(b.gpu->init(max_tokens).ok());
  }
  return b;
}

// One step of tokens: `per_seq[s]` = (first position, count) of sequence s.
struct Step {
  std::vector<int32_t> tokens, positions, seq_ids, slots, tables, lens, out_rows;
  int max_blocks = 0;
  backend::StepInputs inputs() const {
    return backend::StepInputs{tokens, positions, seq_ids, slots, tables, max_blocks, lens, out_rows};
  }
};

// Blocks of sequence s are scattered over the pool: block j of seq s = perm[s * max_blocks + j].
Step make_step(const std::vector<std::pair<int, int>>& per_seq, int block_size, int max_blocks,
               const std::vector<int32_t>& perm) {
  Step st;
  st.max_blocks = max_blocks;
  for (size_t s = 0; s < per_seq.size(); ++s) {
    const auto [first, count] = per_seq[s];
    for (int j = 0; j < max_blocks; ++j) st.tables.push_back(perm[s * max_blocks + j]);
    for (int p = first; p < first + count; ++p) {
      st.tokens.push_back(p % 7);
      st.positions.push_back(p);
      st.seq_ids.push_back(int32_t(s));
      st.slots.push_back(perm[s * max_blocks + p / block_size] * block_size + p % block_size);
    }
    st.lens.push_back(first + count);
    st.out_rows.push_back(int32_t(st.tokens.size()) - 1);
  }
  return st;
}

TEST(CudaVsCpu, RmsNormSiluAddGather) {
  PS_REQUIRE_CUDA();
  Both b = make_both(16);
  ASSERT_TRUE(b.gpu);
  for (int width : {8, 64, 896, 4096}) {
    const int rows = 5;
    const auto x = random_floats(size_t(rows * width), 1, 3.0f), w = random_floats(size_t(width), 2);
    const auto g = random_floats(size_t(rows * width), 3, 2.0f), u = random_floats(size_t(rows * width), 4);
    std::vector<std::vector<float>> norm, silu, sum;
    for (backend::Ops* ops : b.all()) {
      auto wv = ops->bind_weight(Weight{GgmlType::F32, w.data(), width, 1}, "norm");
      ASSERT_TRUE(wv.ok());
      float* dx = upload_activation(*ops, x);
      float* dy = ops->alloc(rows * width);
      ops->rms_norm(dx, *wv, 1e-5f, rows, width, dy);
      norm.push_back(read_back(*ops, dy, x.size()));
      float* dg = upload_activation(*ops, g);
      float* du = upload_activation(*ops, u);
      ops->silu_mul(dg, du, rows * width, dy);
      silu.push_back(read_back(*ops, dy, x.size()));
      ops->add(dg, du, rows * width);
      sum.push_back(read_back(*ops, dg, x.size()));
    }
    EXPECT_LT(nmse(norm[1], norm[0]), 1e-11) << width;
    EXPECT_LT(nmse(silu[1], silu[0]), 1e-11) << width;
    EXPECT_LT(nmse(sum[1], sum[0]), 1e-14) << width;
  }
}

TEST(CudaVsCpu, RopeStylesAndScaling) {
  PS_REQUIRE_CUDA();
  for (auto style : {backend::RopeStyle::normal, backend::RopeStyle::neox}) {
    for (int n_rot : {64, 32}) {  // full and partial rotation of a 64-dim head
      Both b = make_both(16);
      ASSERT_TRUE(b.gpu);
      backend::RopeTable rope;
      rope.style = style;
      rope.n_rot = n_rot;
      rope.mscale = n_rot == 32 ? 1.2f : 1.0f;
      for (int i = 0; i < n_rot / 2; ++i) rope.inv_freq.push_back(std::pow(10000.0f, -2.0f * i / n_rot) / (i % 3 + 1));
      // Positions up to 30000: large angles where a fast sine would be wrong.
      const std::vector<int32_t> tokens = {1, 2, 3, 4}, pos = {0, 7, 4095, 30000}, seq = {0, 1, 2, 3},
                                 slots = {0, 1, 2, 3}, lens = {1, 8, 4096, 30001}, out = {3};
      backend::StepInputs in{tokens, pos, seq, slots, {}, 0, lens, out};
      const int n_heads = 3, head_dim = 64;
      const auto x = random_floats(size_t(4 * n_heads * head_dim), 7);
      std::vector<std::vector<float>> res;
      for (backend::Ops* ops : b.all()) {
        ops->set_rope(rope);
        float* dx = upload_activation(*ops, x);
        ops->begin_step(in);
        ops->rope(dx, n_heads, head_dim);
        res.push_back(read_back(*ops, dx, x.size()));
      }
      EXPECT_LT(max_abs_diff(res[1], res[0]), 2e-4) << "style " << int(style) << " n_rot " << n_rot;
      EXPECT_LT(nmse(res[1], res[0]), 1e-10);
    }
  }
}

struct AttnCase {
  int n_heads, n_kv_heads, head_dim;
  backend::KvType kv;
};

class CudaAttention : public ::testing::TestWithParam<AttnCase> {};

TEST_P(CudaAttention, PagedPrefillThenDecodeMatchesCpu) {
  PS_REQUIRE_CUDA();
  const AttnCase c = GetParam();
  const int block_size = 16, max_blocks = 48, n_seqs = 2, max_tokens = 320;
  Both b = make_both(max_tokens);
  ASSERT_TRUE(b.gpu);
  backend::KvCacheShape shape{2, c.n_kv_heads, c.head_dim, block_size, n_seqs * max_blocks + 5, c.kv};
  std::vector<int32_t> perm(size_t(shape.n_blocks));
  std::iota(perm.begin(), perm.end(), 0);
  std::mt19937 rng(42);
  std::shuffle(perm.begin(), perm.end(), rng);
  for (backend::Ops* ops : b.all()) ASSERT_TRUE(ops->init_kv_cache(shape).ok());
  const backend::AttentionShape ash{c.n_heads, c.n_kv_heads, c.head_dim, 1.0f / std::sqrt(float(c.head_dim))};
  const int q_width = c.n_heads * c.head_dim, kv_width = c.n_kv_heads * c.head_dim;
  // Steps: two prefill chunks (seq 0: 300 then 300 tokens; seq 1: 20 then 40), then decodes.
  const std::vector<std::vector<std::pair<int, int>>> steps = {
      {{0, 300}, {0, 20}}, {{300, 280}, {20, 40}}, {{580, 1}, {60, 1}}, {{581, 1}, {61, 1}}, {{582, 1}}};
  uint32_t seed = 100;
  for (size_t si = 0; si < steps.size(); ++si) {
    std::vector<std::pair<int, int>> per_seq = steps[si];
    const Step st = make_step(per_seq, block_size, max_blocks, perm);
    const int nt = int(st.tokens.size());
    const auto q = random_floats(size_t(nt * q_width), seed++), k = random_floats(size_t(nt * kv_width), seed++),
               v = random_floats(size_t(nt * kv_width), seed++);
    std::vector<std::vector<float>> res;
    for (backend::Ops* ops : b.all()) {
      float* dq = upload_activation(*ops, q);
      float* dk = upload_activation(*ops, k);
      float* dv = upload_activation(*ops, v);
      float* out = ops->alloc(int64_t(nt) * q_width);
      ops->begin_step(st.inputs());
      for (int layer = 0; layer < 2; ++layer) ops->kv_write(layer, dk, dv);
      ops->attention(1, dq, ash, out);
      res.push_back(read_back(*ops, out, size_t(nt * q_width)));
    }
    EXPECT_LT(nmse(res[1], res[0]), c.kv == backend::KvType::f32 ? 1e-10 : 1e-6) << "step " << si;
  }
  EXPECT_TRUE(b.gpu->status().ok()) << b.gpu->status().error().message;
}

INSTANTIATE_TEST_SUITE_P(Shapes, CudaAttention,
                         ::testing::Values(AttnCase{4, 4, 64, backend::KvType::f32},
                                           AttnCase{8, 2, 128, backend::KvType::f16},
                                           AttnCase{14, 2, 64, backend::KvType::f16},
                                           AttnCase{8, 8, 8, backend::KvType::f32},
                                           AttnCase{4, 1, 256, backend::KvType::f16}));

TEST(CudaVsCpu, OutputRowsAndArgmax) {
  PS_REQUIRE_CUDA();
  Both b = make_both(16);
  ASSERT_TRUE(b.gpu);
  const int width = 5000;
  auto x = random_floats(size_t(6 * width), 9);
  x[size_t(2 * width + 17)] = 50.0f;  // row 2: a tie between 17 and 4000 -> 17
  x[size_t(2 * width + 4000)] = 50.0f;
  x[size_t(5 * width + 4999)] = 60.0f;
  const std::vector<int32_t> tokens(6, 1), pos = {0, 1, 2, 3, 4, 5}, seq(6, 0), slots = {0, 1, 2, 3, 4, 5},
                             lens = {6}, out_rows = {2, 5, 0};
  backend::StepInputs in{tokens, pos, seq, slots, {}, 0, lens, out_rows};
  std::vector<std::vector<float>> res;
  for (backend::Ops* ops : b.all()) {
    float* dx = upload_activation(*ops, x);
    float* dst = ops->alloc(3 * width);
    ops->begin_step(in);
    ops->copy_output_rows(dx, width, dst);
    res.push_back(read_back(*ops, dst, size_t(3 * width)));
  }
  EXPECT_EQ(res[0], res[1]);
  float* dx = upload_activation(*b.gpu, x);
  int32_t ids[6];
  b.gpu->read_argmax(dx, 6, width, ids, nullptr);
  for (int r = 0; r < 6; ++r) {
    int best = 0;
    for (int i = 1; i < width; ++i)
      if (x[size_t(r * width + i)] > x[size_t(r * width + best)]) best = i;
    EXPECT_EQ(ids[r], best) << "row " << r;
  }
  EXPECT_EQ(ids[2], 17);
  EXPECT_EQ(ids[5], 4999);
  int32_t cpu_ids[6];
  float* cx = upload_activation(*b.cpu, x);
  b.cpu->read_argmax(cx, 6, width, cpu_ids, nullptr);
  EXPECT_TRUE(std::equal(ids, ids + 6, cpu_ids));

  // With token masks (constrained greedy decoding): only allowed tokens compete. Row 0 allows
  // every third token, row 1 one token past the last full word, row 2 both tied tokens (17
  // wins), row 3 the even tokens, row 4 none (token 0), row 5 all but the maximum.
  const int64_t words = backend::allowed_words(width);
  std::vector<uint64_t> allowed(size_t(6 * words), 0);
  auto allow = [&](int r, int t) { allowed[size_t(r * words + t / 64)] |= uint64_t(1) << (t % 64); };
  for (int t = 0; t < width; t += 3) allow(0, t);
  allow(1, width - 1);
  allow(2, 4000), allow(2, 17);
  for (int t = 0; t < width; t += 2) allow(3, t);
  for (int t = 0; t < width; ++t)
    if (t != 4999) allow(5, t);
  int32_t masked_gpu[6], masked_cpu[6];
  const backend::MaskSource masks = [&] { return allowed.data(); };
  b.gpu->read_argmax(dx, 6, width, masked_gpu, &masks);
  b.cpu->read_argmax(cx, 6, width, masked_cpu, &masks);
  for (int r = 0; r < 6; ++r) {
    int best = -1;
    for (int i = 0; i < width; ++i)
      if ((allowed[size_t(r * words + i / 64)] >> (i % 64)) & 1)
        if (best < 0 || x[size_t(r * width + i)] > x[size_t(r * width + best)]) best = i;
    EXPECT_EQ(masked_gpu[r], best < 0 ? 0 : best) << "row " << r;
    EXPECT_EQ(masked_cpu[r], masked_gpu[r]) << "row " << r;
  }
  EXPECT_EQ(masked_gpu[1], width - 1);
  EXPECT_EQ(masked_gpu[2], 17);
  EXPECT_NE(masked_gpu[5], 4999);
}

// The op sequence of a decoder layer, where the CUDA Ops fuses what the model issues one by one:
// add + rms_norm (+ the 8-bit copy for the next mat-vec), rope q + rope k + kv_write, attention
// with its split merge and the 8-bit copy of its output. Run three ways: on the CPU, fused on
// the GPU, and unfused on the GPU (a read right after begin_step ends the step, and outside a
// step every op is issued as it comes). Fused equals unfused (same arithmetic), both near the CPU (8-bit activations rounded differently, which attention
// amplifies). A prefill step, then decode steps of 1 and 3 tokens deep enough in the context
// to split the attention; Q8_0 projections so that the integer mat-vec is used.
TEST(CudaVsCpu, FusedLayerOpsMatchCpu) {
  PS_REQUIRE_CUDA();
  const int n_embd = 256, n_heads = 4, n_kv = 2, hd = 64, block_size = 16, max_blocks = 16;
  Both b = make_both(128);
  ASSERT_TRUE(b.gpu);
  std::unique_ptr<cuda::CudaOps> plain = make_cuda_ops();
  ASSERT_TRUE(plain && plain->init(128).ok());
  const std::vector<backend::Ops*> runs = {b.cpu.get(), b.gpu.get(), plain.get()};
  backend::KvCacheShape shape{1, n_kv, hd, block_size, max_blocks + 3, backend::KvType::f16};
  std::vector<int32_t> perm(size_t(shape.n_blocks));
  std::iota(perm.begin(), perm.end(), 0);
  std::reverse(perm.begin(), perm.end());
  backend::RopeTable rope;
  rope.style = backend::RopeStyle::neox;
  rope.n_rot = hd;
  for (int i = 0; i < hd / 2; ++i) rope.inv_freq.push_back(std::pow(10000.0f, -2.0f * i / hd));
  auto q8_matrix = [](int rows, int cols, uint32_t seed) { return make_matrix(GgmlType::Q8_0, cols, rows, seed, 0.1f).bytes; };
  const auto wq = q8_matrix(n_heads * hd, n_embd, 1), wk = q8_matrix(n_kv * hd, n_embd, 2),
             wv = q8_matrix(n_kv * hd, n_embd, 3), wo = q8_matrix(n_embd, n_heads * hd, 4);
  const auto norm_w = random_floats(size_t(n_embd), 5);
  struct Bound {
    Weight q, k, v, o, norm;
  };
  std::vector<Bound> bound;
  for (backend::Ops* ops : runs) {
    ASSERT_TRUE(ops->init_kv_cache(shape).ok());
    ops->set_rope(rope);
    Bound w;
    w.q = *ops->bind_weight(Weight{GgmlType::Q8_0, wq.data(), n_embd, n_heads * hd}, "wq");
    w.k = *ops->bind_weight(Weight{GgmlType::Q8_0, wk.data(), n_embd, n_kv * hd}, "wk");
    w.v = *ops->bind_weight(Weight{GgmlType::Q8_0, wv.data(), n_embd, n_kv * hd}, "wv");
    w.o = *ops->bind_weight(Weight{GgmlType::Q8_0, wo.data(), n_heads * hd, n_embd}, "wo");
    w.norm = *ops->bind_weight(Weight{GgmlType::F32, norm_w.data(), n_embd, 1}, "norm");
    bound.push_back(w);
  }
  const backend::AttentionShape ash{n_heads, n_kv, hd, 1.0f / std::sqrt(float(hd))};
  int pos = 0;
  uint32_t seed = 50;
  for (int nt : {100, 1, 3, 1}) {
    const Step st = make_step({{pos, nt}}, block_size, max_blocks, perm);
    pos += nt;
    const auto x0 = random_floats(size_t(nt) * n_embd, seed++), r0 = random_floats(size_t(nt) * n_embd, seed++);
    std::vector<std::vector<float>> xs, qs, ks, atts, ys;
    for (size_t i = 0; i < runs.size(); ++i) {
      backend::Ops* ops = runs[i];
      const Bound& w = bound[i];
      float* x = upload_activation(*ops, x0);
      float* r = upload_activation(*ops, r0);
      float* xb = ops->alloc(int64_t(nt) * n_embd);
      float* q = ops->alloc(int64_t(nt) * n_heads * hd);
      float* k = ops->alloc(int64_t(nt) * n_kv * hd);
      float* v = ops->alloc(int64_t(nt) * n_kv * hd);
      float* att = ops->alloc(int64_t(nt) * n_heads * hd);
      ops->begin_step(st.inputs());
      if (i == 2) read_back(*ops, x, 1);  // ends the step: nothing below is fused
      ops->add(x, r, int64_t(nt) * n_embd);
      ops->rms_norm(x, w.norm, 1e-5f, nt, n_embd, xb);
      ops->matmul(w.q, xb, nt, q);
      ops->matmul(w.k, xb, nt, k);
      ops->matmul(w.v, xb, nt, v);
      ops->rope(q, n_heads, hd);
      ops->rope(k, n_kv, hd);
      ops->kv_write(0, k, v);
      ops->attention(0, q, ash, att);
      ops->matmul(w.o, att, nt, xb);
      ops->add(x, xb, int64_t(nt) * n_embd);
      ops->rms_norm(x, w.norm, 1e-5f, nt, n_embd, xb);
      xs.push_back(read_back(*ops, x, size_t(nt) * n_embd));
      qs.push_back(read_back(*ops, q, size_t(nt) * n_heads * hd));
      ks.push_back(read_back(*ops, k, size_t(nt) * n_kv * hd));
      atts.push_back(read_back(*ops, att, size_t(nt) * n_heads * hd));
      ys.push_back(read_back(*ops, xb, size_t(nt) * n_embd));
    }
    for (auto* v : {&qs, &ks, &atts, &xs, &ys}) {
      // Same arithmetic; a last-bit difference can still flip one 8-bit rounding downstream.
      EXPECT_LT(nmse((*v)[1], (*v)[2]), 1e-6) << "fused vs unfused, step of " << nt;
      // Measured ~1e-5 (q, k) to ~3e-4 (attention output) against the CPU.
      EXPECT_LT(nmse((*v)[1], (*v)[0]), 1e-3) << "GPU vs CPU, step of " << nt;
    }
  }
  EXPECT_TRUE(b.gpu->status().ok()) << b.gpu->status().error().message;
  EXPECT_TRUE(plain->status().ok()) << plain->status().error().message;
}

}  // namespace
}  // namespace pensieve::testing
