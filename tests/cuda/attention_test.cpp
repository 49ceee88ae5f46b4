// Prefill attention on tensor cores (backend/cuda/attention_prefill.cuh) against a double-precision
// host reference on random Q and a random paged F16 KV cache: cached prefixes (positions not
// starting at 0), several sequences per step (contiguous and interleaved tokens), GQA groups 1, 4
// and 7, head_dim 64 and 128. Slots no sequence has written hold NaNs, so a read past a
// sequence's keys shows. The existing kernel (attention.cuh) is checked against the same
// reference, which validates the test itself. The prefill kernel runs whole and split over the keys.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <tuple>

#include "backend/cuda/attention.cuh"
#include "backend/cuda/attention_prefill.cuh"
#include "cuda_test_util.h"
#include "util/fp16.h"

namespace pensieve::testing {
namespace {

enum class SeqLayout { one, contiguous, interleaved };

struct Case {
  int n_tokens, group, head_dim;
  SeqLayout layout;
};

struct Problem {
  int n_kv_heads = 2, n_heads = 0, head_dim = 0, block_size = 16, n_seqs = 0, bt_stride = 0, n_blocks = 0;
  float scale = 0;
  std::vector<int32_t> positions, seq_ids, block_tables;
  std::vector<uint16_t> k, v;  // the pool, F16 bits
  std::vector<float> q;
};

int64_t slot_of(const Problem& p, int seq, int pos) {
  return int64_t(p.block_tables[size_t(seq * p.bt_stride + pos / p.block_size)]) * p.block_size + pos % p.block_size;
}

Problem make_problem(const Case& c, uint32_t seed) {
  Problem p;
  p.head_dim = c.head_dim;
  p.n_heads = p.n_kv_heads * c.group;
  p.scale = 1.0f / std::sqrt(float(c.head_dim));
  p.n_seqs = c.layout == SeqLayout::one ? 1 : c.layout == SeqLayout::contiguous ? 2 : 3;
  const int prefix[3] = {100, 3, 37};  // keys already cached before this step, per sequence
  std::vector<int> count(size_t(p.n_seqs), 0);
  for (int t = 0; t < c.n_tokens; ++t) {
    int s = 0;
    if (c.layout == SeqLayout::contiguous) s = t < c.n_tokens - c.n_tokens / 3 ? 0 : 1;
    if (c.layout == SeqLayout::interleaved) s = (t * 7 + 1) % 3;  // not in token order
    p.seq_ids.push_back(s);
    p.positions.push_back(prefix[s] + count[size_t(s)]++);
  }
  std::vector<int> len(size_t(p.n_seqs));
  int total_blocks = 0;
  for (int s = 0; s < p.n_seqs; ++s) {
    len[size_t(s)] = prefix[s] + count[size_t(s)];
    const int nb = (len[size_t(s)] + p.block_size - 1) / p.block_size;
    p.bt_stride = std::max(p.bt_stride, nb);
    total_blocks += nb;
  }
  p.n_blocks = total_blocks + 5;  // a few blocks nobody owns (NaNs)
  std::vector<int32_t> ids(size_t(p.n_blocks));
  std::iota(ids.begin(), ids.end(), 0);
  std::mt19937 rng(seed);
  std::shuffle(ids.begin(), ids.end(), rng);
  p.block_tables.assign(size_t(p.n_seqs * p.bt_stride), -1);
  size_t next = 0;
  for (int s = 0; s < p.n_seqs; ++s)
    for (int b = 0; b < (len[size_t(s)] + p.block_size - 1) / p.block_size; ++b)
      p.block_tables[size_t(s * p.bt_stride + b)] = ids[next++];
  const int64_t row = int64_t(p.n_kv_heads) * p.head_dim;
  const size_t pool = size_t(p.n_blocks) * p.block_size * size_t(row);
  p.k.assign(pool, 0x7e00);  // F16 NaN
  p.v.assign(pool, 0x7e00);
  const std::vector<float> kr = random_floats(pool, seed + 1), vr = random_floats(pool, seed + 2);
  for (int s = 0; s < p.n_seqs; ++s)
    for (int pos = 0; pos < len[size_t(s)]; ++pos) {
      const int64_t base = slot_of(p, s, pos) * row;
      for (int64_t e = 0; e < row; ++e) {
        p.k[size_t(base + e)] = fp32_to_fp16(kr[size_t(base + e)]);
        p.v[size_t(base + e)] = fp32_to_fp16(vr[size_t(base + e)]);
      }
    }
  p.q = random_floats(size_t(c.n_tokens) * p.n_heads * p.head_dim, seed + 3);
  return p;
}

std::vector<float> reference(const Problem& p) {
  const int n_tokens = int(p.positions.size()), D = p.head_dim, group = p.n_heads / p.n_kv_heads;
  const int64_t row = int64_t(p.n_kv_heads) * D;
  std::vector<float> out(p.q.size());
  std::vector<double> sc;
  for (int t = 0; t < n_tokens; ++t)
    for (int h = 0; h < p.n_heads; ++h) {
      const float* q = p.q.data() + (int64_t(t) * p.n_heads + h) * D;
      const int g = h / group, n_keys = p.positions[size_t(t)] + 1;
      sc.assign(size_t(n_keys), 0.0);
      double mx = -INFINITY;
      for (int j = 0; j < n_keys; ++j) {
        const int64_t base = slot_of(p, p.seq_ids[size_t(t)], j) * row + int64_t(g) * D;
        double dot = 0;
        for (int d = 0; d < D; ++d) dot += double(q[d]) * fp16_to_fp32(p.k[size_t(base + d)]);
        sc[size_t(j)] = dot * p.scale;
        mx = std::max(mx, sc[size_t(j)]);
      }
      double den = 0;
      for (double& s : sc) den += (s = std::exp(s - mx));
      float* o = out.data() + (int64_t(t) * p.n_heads + h) * D;
      for (int d = 0; d < D; ++d) {
        double acc = 0;
        for (int j = 0; j < n_keys; ++j)
          acc += sc[size_t(j)] * fp16_to_fp32(p.v[size_t(slot_of(p, p.seq_ids[size_t(t)], j) * row + int64_t(g) * D + d)]);
        o[d] = float(acc / den);
      }
    }
  return out;
}

template <typename T>
T* upload(const std::vector<T>& h) {
  void* d = nullptr;
  EXPECT_EQ(cudaMalloc(&d, std::max<size_t>(h.size(), 1) * sizeof(T)), cudaSuccess);
  EXPECT_EQ(cudaMemcpy(d, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice), cudaSuccess);
  return static_cast<T*>(d);
}

// out[i] within 2e-3 + 1e-2 |ref[i]|: Q and P are rounded to F16 for the tensor cores.
void expect_close(const std::vector<float>& got, const std::vector<float>& ref, const std::string& what) {
  int bad = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (std::isfinite(got[i]) && std::fabs(got[i] - ref[i]) <= 2e-3 + 1e-2 * std::fabs(ref[i])) continue;
    if (++bad <= 5) ADD_FAILURE() << what << ": element " << i << " got " << got[i] << " want " << ref[i];
  }
  EXPECT_EQ(bad, 0) << what;
  EXPECT_LT(nmse(got, ref), 1e-5) << what;
}

class CudaAttentionPrefill : public ::testing::TestWithParam<Case> {};

TEST_P(CudaAttentionPrefill, MatchesReference) {
  PS_REQUIRE_CUDA();
  const Case c = GetParam();
  const Problem p = make_problem(c, 1234 + uint32_t(c.n_tokens * 31 + c.group * 7 + c.head_dim));
  const std::vector<float> ref = reference(p);

  cuda::KvLayout kv;
  kv.k = upload(p.k);
  kv.v = upload(p.v);
  kv.f16 = true;
  kv.block_size = p.block_size;
  kv.n_kv_heads = p.n_kv_heads;
  kv.head_dim = p.head_dim;
  cuda::AttentionArgs a;
  a.q = upload(p.q);
  std::vector<float> nan_out(p.q.size(), NAN);
  a.out = upload(nan_out);
  a.n_tokens = c.n_tokens;
  a.n_heads = p.n_heads;
  a.scale = p.scale;
  a.positions = upload(p.positions);
  a.seq_ids = upload(p.seq_ids);
  a.block_tables = upload(p.block_tables);
  a.bt_stride = p.bt_stride;
  a.n_splits = 1;
  const std::string what = "tokens " + std::to_string(c.n_tokens) + " group " + std::to_string(c.group) + " D " +
                           std::to_string(c.head_dim) + " layout " + std::to_string(int(c.layout));

  ASSERT_TRUE(cuda::attention_prefill_supported(kv, a.n_heads));
  ASSERT_TRUE(cuda::attention_prefill(kv, a, nullptr));
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  std::vector<float> got(ref.size());
  ASSERT_EQ(cudaMemcpy(got.data(), a.out, got.size() * 4, cudaMemcpyDeviceToHost), cudaSuccess);
  expect_close(got, ref, "prefill kernel, " + what);

  // Split over the keys (a short prompt part after a long cached prefix): ranges of whole tiles,
  // some of them past a sequence's keys or past a row's causal limit.
  const int max_len = *std::max_element(p.positions.begin(), p.positions.end()) + 1;
  for (int splits : {2, 3, 7}) {
    cuda::AttentionArgs as = a;
    as.n_splits = splits;
    as.split_keys = cuda::attention_prefill_split_keys(max_len, splits);
    ASSERT_GE(int64_t(as.split_keys) * splits, max_len);
    std::vector<float> part(size_t(cuda::attention_partial_floats(c.n_tokens, p.n_heads, p.head_dim, splits)), NAN);
    as.partial = upload(part);
    ASSERT_EQ(cudaMemcpy(as.out, nan_out.data(), nan_out.size() * 4, cudaMemcpyHostToDevice), cudaSuccess);
    ASSERT_TRUE(cuda::attention_prefill(kv, as, nullptr));
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    ASSERT_EQ(cudaMemcpy(got.data(), as.out, got.size() * 4, cudaMemcpyDeviceToHost), cudaSuccess);
    expect_close(got, ref, "prefill kernel, " + std::to_string(splits) + " splits, " + what);
    cudaFree(as.partial);
  }

  // The decode kernels (one warp per key piece, flash-decoding splits merged by the last block):
  // they validate the reference.
  for (int splits : {1, 3, 8}) {
    cuda::AttentionArgs ad = a;
    ad.n_splits = splits;
    std::vector<float> part(size_t(cuda::attention_partial_floats(c.n_tokens, p.n_heads, p.head_dim, splits)), NAN);
    ad.partial = splits > 1 ? upload(part) : nullptr;
    std::vector<int> zeros(size_t(c.n_tokens) * p.n_kv_heads, 0);
    ad.counters = splits > 1 ? upload(zeros) : nullptr;
    ASSERT_EQ(cudaMemcpy(ad.out, nan_out.data(), nan_out.size() * 4, cudaMemcpyHostToDevice), cudaSuccess);
    cuda::attention(kv, ad, nullptr);
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    ASSERT_EQ(cudaMemcpy(got.data(), ad.out, got.size() * 4, cudaMemcpyDeviceToHost), cudaSuccess);
    expect_close(got, ref, "decode kernel, " + std::to_string(splits) + " splits, " + what);
    if (splits > 1) {  // the merging blocks leave the counters at 0 for the next launch
      ASSERT_EQ(cudaMemcpy(zeros.data(), ad.counters, zeros.size() * 4, cudaMemcpyDeviceToHost), cudaSuccess);
      EXPECT_EQ(std::count(zeros.begin(), zeros.end(), 0), std::ptrdiff_t(zeros.size()));
      cudaFree(ad.partial);
      cudaFree(ad.counters);
    }
  }

  for (const void* d : {static_cast<const void*>(kv.k), static_cast<const void*>(kv.v), static_cast<const void*>(a.q), static_cast<const void*>(a.out),
                        static_cast<const void*>(a.positions), static_cast<const void*>(a.seq_ids),
                        static_cast<const void*>(a.block_tables)})
    cudaFree(const_cast<void*>(d));
}

std::vector<Case> cases() {
  std::vector<Case> v;
  for (int n : {9, 64, 512})
    for (int group : {1, 4, 7})
      for (int d : {64, 128}) v.push_back({n, group, d, SeqLayout::contiguous});
  v.push_back({1, 4, 128, SeqLayout::one});  // one token: rows past the end of the block
  v.push_back({130, 4, 128, SeqLayout::one});
  v.push_back({64, 4, 128, SeqLayout::interleaved});
  v.push_back({100, 7, 64, SeqLayout::interleaved});
  return v;
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  const Case& c = info.param;
  static const char* const layouts[] = {"one", "contiguous", "interleaved"};
  return "t" + std::to_string(c.n_tokens) + "_g" + std::to_string(c.group) + "_d" + std::to_string(c.head_dim) + "_" +
         layouts[int(c.layout)];
}

INSTANTIATE_TEST_SUITE_P(Shapes, CudaAttentionPrefill, ::testing::ValuesIn(cases()), case_name);

TEST(CudaAttentionPrefillShapes, UnsupportedShapesLaunchNothing) {  // host only
  cuda::KvLayout kv;
  kv.n_kv_heads = 2;
  kv.head_dim = 128;
  kv.f16 = false;
  cuda::AttentionArgs a;
  a.n_heads = 8;
  a.n_tokens = 16;
  EXPECT_FALSE(cuda::attention_prefill(kv, a, nullptr));  // F32 cache
  kv.f16 = true;
  kv.head_dim = 96;
  EXPECT_FALSE(cuda::attention_prefill(kv, a, nullptr));
  kv.head_dim = 64;
  a.n_heads = 7;
  EXPECT_FALSE(cuda::attention_prefill(kv, a, nullptr));  // not a multiple of the kv heads
  a.n_heads = 8;
  EXPECT_TRUE(cuda::attention_prefill_supported(kv, a.n_heads));
}

}  // namespace
}  // namespace pensieve::testing
