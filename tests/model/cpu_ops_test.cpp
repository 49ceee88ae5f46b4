// Every CPU op against a straightforward reference: SIMD kernel tables vs their *_ref
// (sizes 0..2 vectors + odd tails, misaligned pointers), and the Ops entry points (rms_norm,
// rope styles, paged attention with GQA and shuffled block tables, silu_mul, add).
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/op_kernels.h"
#include "util/fp16.h"

namespace pensieve::cpu {
namespace {

std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

std::vector<const OpKernels*> simd_tables() {
  std::vector<const OpKernels*> t;
  if (active_cpu_isa() >= CpuIsa::avx2) t.push_back(&op_kernels_avx2());
  if (active_cpu_isa() >= CpuIsa::avx512) t.push_back(&op_kernels_avx512());
  return t;
}

std::vector<int> test_sizes() {
  std::vector<int> n(41);
  std::iota(n.begin(), n.end(), 0);
  for (int extra : {63, 64, 65, 80, 96, 127, 128, 129, 1000}) n.push_back(extra);
  return n;
}

TEST(OpKernels, SimdMatchesRef) {
  const auto tables = simd_tables();
  if (tables.empty()) GTEST_SKIP() << "no SIMD kernels on this CPU";
  const OpKernels& ref = op_kernels_ref();
  for (const OpKernels* k : tables) {
    for (int n : test_sizes()) {
      for (int mis : {0, 1}) {  // +1 float: unaligned loads and stores
        auto a = randn(n + 1, n * 7 + 1), b = randn(n + 1, n * 7 + 2), w = randn(n + 1, n * 7 + 3);
        const float* x = a.data() + mis;
        const float* y = b.data() + mis;
        std::vector<uint16_t> h(n + 1);
        for (int i = 0; i < n; ++i) h[i + mis] = fp32_to_fp16(y[i]);
        SCOPED_TRACE(std::string(k->isa) + " n=" + std::to_string(n) + " misaligned=" + std::to_string(mis));

        double mag = 0;
        for (int i = 0; i < n; ++i) mag += std::fabs(x[i] * y[i]);
        EXPECT_NEAR(k->dot_f32(x, y, n), ref.dot_f32(x, y, n), 1e-6 * mag + 1e-7);
        EXPECT_NEAR(k->dot_f16(x, h.data() + mis, n), ref.dot_f16(x, h.data() + mis, n), 1e-6 * mag + 1e-7);

        std::vector<float> o1(n + 1), o2(n + 1);
        if (n > 0) {
          ref.rms_norm(x, w.data(), 1e-5f, n, o1.data());
          k->rms_norm(x, w.data(), 1e-5f, n, o2.data() + mis);
          for (int i = 0; i < n; ++i) EXPECT_NEAR(o2[i + mis], o1[i], 1e-6f * (1 + std::fabs(o1[i])));
        }
        ref.silu_mul(x, y, n, o1.data());
        k->silu_mul(x, y, n, o2.data() + mis);
        for (int i = 0; i < n; ++i) EXPECT_NEAR(o2[i + mis], o1[i], 1e-6f * (1 + std::fabs(o1[i])));

        std::vector<float> y1(b.begin() + mis, b.begin() + mis + n), y2 = y1;
        ref.axpy_f32(0.37f, x, y1.data(), n);
        k->axpy_f32(0.37f, x, y2.data(), n);
        for (int i = 0; i < n; ++i) EXPECT_NEAR(y2[i], y1[i], 1e-6f * (1 + std::fabs(y1[i])));
        ref.axpy_f16(-1.5f, h.data() + mis, y1.data(), n);
        k->axpy_f16(-1.5f, h.data() + mis, y2.data(), n);
        for (int i = 0; i < n; ++i) EXPECT_NEAR(y2[i], y1[i], 1e-6f * (1 + std::fabs(y1[i])));

        std::vector<float> e1(x, x + n), e2 = e1;
        const float max = n ? *std::max_element(e1.begin(), e1.end()) : 0;
        const float s1 = ref.exp_sub_sum(e1.data(), n, max), s2 = k->exp_sub_sum(e2.data(), n, max);
        EXPECT_NEAR(s2, s1, 1e-6f * (1 + s1));
        for (int i = 0; i < n; ++i) EXPECT_NEAR(e2[i], e1[i], 1e-6f);

        std::vector<uint16_t> f1(n + 1), f2(n + 1);
        ref.to_f16(x, f1.data(), n);
        k->to_f16(x, f2.data() + mis, n);
        for (int i = 0; i < n; ++i) EXPECT_EQ(f2[i + mis], f1[i]);
      }
    }
  }
}

// Fixture: a CpuOps with a one-sequence step of n tokens at positions start..start+n-1.
struct OpsHarness {
  std::unique_ptr<backend::Ops> ops;
  std::vector<int32_t> tokens, positions, seq_ids, slots, table, seq_lens, out_rows;
  explicit OpsHarness(int threads) : ops(make_cpu_ops(threads)) {}
  void step(int start, int n, int block_size, const std::vector<int32_t>& blocks) {
    tokens.assign(n, 0);
    positions.resize(n);
    slots.resize(n);
    seq_ids.assign(n, 0);
    for (int i = 0; i < n; ++i) {
      positions[i] = start + i;
      slots[i] = blocks[(start + i) / block_size] * block_size + (start + i) % block_size;
    }
    table = blocks;
    seq_lens = {start + n};
    out_rows = {n - 1};
    backend::StepInputs in{tokens, positions, seq_ids, slots, table, static_cast<int>(table.size()), seq_lens, out_rows};
    ops->begin_step(in);
  }
};

TEST(CpuOps, RmsNormMatchesFormula) {
  OpsHarness h(2);
  const int rows = 300, width = 96;  // big enough to split over the pool
  auto x = randn(rows * width, 1), w = randn(width, 2);
  float* dx = h.ops->alloc(rows * width);
  std::copy(x.begin(), x.end(), dx);
  std::vector<float> got(rows * width);
  h.ops->rms_norm(dx, backend::Weight{GgmlType::F32, w.data(), width, 1}, 1e-6f, rows, width, dx);
  h.ops->read(dx, rows * width, got.data());
  for (int r = 0; r < rows; ++r) {
    double ss = 0;
    for (int i = 0; i < width; ++i) ss += double(x[r * width + i]) * x[r * width + i];
    const double inv = 1 / std::sqrt(ss / width + 1e-6);
    for (int i = 0; i < width; ++i) ASSERT_NEAR(got[r * width + i], x[r * width + i] * inv * w[i], 1e-5);
  }
}

void check_rope(backend::RopeStyle style, int head_dim, int n_rot) {
  OpsHarness h(1);
  backend::RopeTable rope;
  rope.style = style;
  rope.n_rot = n_rot;
  rope.mscale = 1.25f;
  for (int i = 0; i < n_rot / 2; ++i) rope.inv_freq.push_back(std::pow(10000.0f, -2.0f * i / n_rot));
  h.ops->set_rope(rope);
  const int n = 5, heads = 3, start = 7;
  h.step(start, n, 16, {0});
  auto x = randn(n * heads * head_dim, 3);
  float* dx = h.ops->alloc(x.size());
  std::copy(x.begin(), x.end(), dx);
  h.ops->rope(dx, heads, head_dim);
  for (int t = 0; t < n; ++t)
    for (int hd = 0; hd < heads; ++hd) {
      const float* in = x.data() + (t * heads + hd) * head_dim;
      const float* out = dx + (t * heads + hd) * head_dim;
      std::vector<double> want(in, in + head_dim);
      for (int i = 0; i < n_rot / 2; ++i) {
        const double a = double(start + t) * rope.inv_freq[i];
        const int p = style == backend::RopeStyle::neox ? i : 2 * i;
        const int q = style == backend::RopeStyle::neox ? i + n_rot / 2 : 2 * i + 1;
        want[p] = (in[p] * std::cos(a) - in[q] * std::sin(a)) * 1.25;
        want[q] = (in[p] * std::sin(a) + in[q] * std::cos(a)) * 1.25;
      }
      for (int d = 0; d < head_dim; ++d) ASSERT_NEAR(out[d], want[d], 1e-5) << "t=" << t << " d=" << d;
    }
}

TEST(CpuOps, RopeNormal) { check_rope(backend::RopeStyle::normal, 16, 16); }
TEST(CpuOps, RopeNeox) { check_rope(backend::RopeStyle::neox, 32, 32); }
TEST(CpuOps, RopePartial) {
  check_rope(backend::RopeStyle::neox, 32, 16);
  check_rope(backend::RopeStyle::normal, 16, 8);
}

// Paged attention (shuffled blocks, GQA, prefill of several tokens after a cached prefix)
// against attention_head_ref over contiguous K/V.
void check_attention(backend::KvType kv_type, int threads) {
  OpsHarness h(threads);
  const int n_heads = 4, n_kv = 2, hd = 16, bs = 4, n_blocks = 12, total = 37;
  const std::vector<int32_t> blocks = {7, 2, 9, 0, 11, 5, 3, 8, 1, 10};  // 40 slots, shuffled
  ASSERT_TRUE(h.ops->init_kv_cache({1, n_kv, hd, bs, n_blocks, kv_type}).ok());
  backend::RopeTable rope;
  rope.n_rot = 0;
  h.ops->set_rope(rope);
  auto k = randn(total * n_kv * hd, 11), v = randn(total * n_kv * hd, 12), q = randn(total * n_heads * hd, 13);
  if (kv_type == backend::KvType::f16)  // the reference sees what the cache stores
    for (auto* a : {&k, &v})
      for (float& f : *a) f = fp16_to_fp32(fp32_to_fp16(f));
  float* dk = h.ops->alloc(k.size());
  float* dv = h.ops->alloc(v.size());
  float* dq = h.ops->alloc(q.size());
  float* dout = h.ops->alloc(q.size());
  std::copy(k.begin(), k.end(), dk);
  std::copy(v.begin(), v.end(), dv);
  std::copy(q.begin(), q.end(), dq);
  const backend::AttentionShape shape{n_heads, n_kv, hd, 0.25f};
  // Two steps: 30 tokens (prefill), then 7 more that attend to the cached 30 too.
  for (auto [start, n] : {std::pair{0, 30}, std::pair{30, 7}}) {
    h.step(start, n, bs, blocks);
    h.ops->kv_write(0, dk + start * n_kv * hd, dv + start * n_kv * hd);
    h.ops->attention(0, dq + start * n_heads * hd, shape, dout + start * n_heads * hd);
  }
  for (int t = 0; t < total; ++t)
    for (int head = 0; head < n_heads; ++head) {
      std::vector<float> want(hd);
      const int kvh = head / (n_heads / n_kv);
      attention_head_ref(q.data() + (t * n_heads + head) * hd, k.data() + kvh * hd, v.data() + kvh * hd, t + 1, hd,
                         n_kv * hd, 0.25f, want.data());
      for (int d = 0; d < hd; ++d) ASSERT_NEAR(dout[(t * n_heads + head) * hd + d], want[d], 2e-5) << t << " " << head;
    }
}

TEST(CpuOps, AttentionPagedF32) { check_attention(backend::KvType::f32, 1); }
TEST(CpuOps, AttentionPagedF16) { check_attention(backend::KvType::f16, 2); }

TEST(CpuOps, SiluMulAndAdd) {
  OpsHarness h(2);
  const int n = 50000;
  auto g = randn(n, 21, 3.0f), u = randn(n, 22);
  float* dg = h.ops->alloc(n);
  float* du = h.ops->alloc(n);
  std::copy(g.begin(), g.end(), dg);
  std::copy(u.begin(), u.end(), du);
  float* out = h.ops->alloc(n);
  h.ops->silu_mul(dg, du, n, out);
  for (int i = 0; i < n; ++i) ASSERT_NEAR(out[i], g[i] / (1 + std::exp(-double(g[i]))) * u[i], 1e-5 * (1 + std::fabs(out[i])));
  h.ops->add(out, du, n);
  for (int i = 0; i < n; ++i) ASSERT_NEAR(out[i], g[i] / (1 + std::exp(-double(g[i]))) * u[i] + u[i], 1e-5 * (2 + std::fabs(out[i])));
}

TEST(CpuOps, BindRejectsUnsupportedType) {
  auto ops = make_cpu_ops(1);
  uint8_t bytes[64] = {};
  auto r = ops->bind_weight(backend::Weight{GgmlType::IQ2_XXS, bytes, 256, 1 + 1}, "blk.0.attn_q.weight");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::model_load_failed);
  EXPECT_NE(r.error().message.find("blk.0.attn_q.weight"), std::string::npos);
}

}  // namespace
}  // namespace pensieve::cpu
