#include <algorithm>
#include <climits>

#include "backend/cuda/attention_prefill.cuh"
#include "backend/cuda/common.cuh"

namespace pensieve::cuda {

namespace {

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * kWarp;
constexpr int kRows = kWarps * 16;  // query rows per block: 16 per warp (the mma's M)
constexpr int kKeys = 64;           // keys per shared-memory tile
constexpr float kLog2e = 1.4426950408889634f;

__device__ __forceinline__ uint32_t pack_half2(float lo, float hi) {
  const __half2 h = __floats2half2_rn(lo, hi);  // lo in the low 16 bits: the lower column
  return *reinterpret_cast<const uint32_t*>(&h);
}

// c (16x8, F32) += a (16x16, F16, row-major) * b (16x8, F16, column-major).
// Fragments (g = lane / 4, q = lane % 4): a0 (row g, cols 2q..2q+1), a1 (row g+8, same cols),
// a2 (row g, cols 2q+8..), a3 (row g+8, cols 2q+8..); b0 (k 2q..2q+1, col g), b1 (k 2q+8.., col g);
// c0 c1 (row g, cols 2q, 2q+1), c2 c3 (row g+8, same cols).
__device__ __forceinline__ void mma_16816(float c[4], const uint32_t a[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ uint32_t lds32(const __half* p) { return *reinterpret_cast<const uint32_t*>(p); }

__device__ __forceinline__ uint32_t smem_addr(const void* p) { return uint32_t(__cvta_generic_to_shared(p)); }

// 16 bytes global -> shared without a register round trip; bytes 0 writes zeros.
__device__ __forceinline__ void cp_async16(void* dst, const void* src, int bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(smem_addr(dst)), "l"(src), "r"(bytes) : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;" ::: "memory"); }
template <int N>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory"); }

// B fragments of two adjacent 8-column blocks of a row-major [key][d] tile, transposed on the
// way out of shared memory: lanes 0-15 address keys 0-15 at column c, lanes 16-31 at c + 8.
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t r[4], const __half* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}

// grid (ceil(n_tokens * group / kRows), n_kv_heads), kThreads threads. Row r of the step is
// (token r / group, query head kv_head * group + r % group).
// K and V tiles come in with cp.async into a ring of two stages (the next tile loads while this
// one computes), both row-major [key][d]; P V's B operand is read transposed by ldmatrix.
template <int D>
__global__ void __launch_bounds__(kThreads) attention_prefill_kernel(KvLayout kv, AttentionArgs a, float qscale) {
  constexpr int kStride = D + 8;  // halves per K / V row (padding: conflict-free fragment loads)
  constexpr int kTileHalves = kKeys * kStride;
  extern __shared__ __align__(16) __half smem_kv[];  // [stage][K tile, V tile]
  __shared__ int row_pos[kRows], row_seq[kRows];

  const int group = a.n_heads / kv.n_kv_heads;
  const int g = blockIdx.y;
  const int64_t n_rows = int64_t(a.n_tokens) * group;
  // Later rows see more keys: hand out the heaviest tiles first.
  const int64_t r0 = int64_t(gridDim.x - 1 - blockIdx.x) * kRows;
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  const int fr = lane / 4, fq = lane % 4;  // fragment row and column pair
  const int64_t q_stride = int64_t(a.n_heads) * D;

  if (threadIdx.x < kRows) {
    const int64_t r = r0 + threadIdx.x;
    int pos = -1, seq = -1;  // rows past the end belong to no sequence
    if (r < n_rows) {
      const int t = int(r / group);
      pos = a.positions[t];
      seq = a.seq_ids[t];
    }
    row_pos[threadIdx.x] = pos;
    row_seq[threadIdx.x] = seq;
  }

  // This thread's two rows (fragment rows fr and fr + 8 of its warp).
  const int lr[2] = {warp * 16 + fr, warp * 16 + fr + 8};
  const float* qrow[2];
  float* orow[2];
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int64_t r = r0 + lr[i];
    const int64_t t = r / group;
    const int h = g * group + int(r % group);
    qrow[i] = r < n_rows ? a.q + t * q_stride + int64_t(h) * D : nullptr;
    orow[i] = r < n_rows ? a.out + t * q_stride + int64_t(h) * D : nullptr;
  }

  // Q as A fragments, pre-scaled so that scores come out in log2 units (exp2 below).
  uint32_t qf[D / 16][4];
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) {
    float2 v[2][2];  // [row][column half]
#pragma unroll
    for (int i = 0; i < 2; ++i)
#pragma unroll
      for (int c = 0; c < 2; ++c)
        v[i][c] = qrow[i] ? *reinterpret_cast<const float2*>(qrow[i] + kk * 16 + c * 8 + 2 * fq) : make_float2(0.f, 0.f);
    qf[kk][0] = pack_half2(v[0][0].x * qscale, v[0][0].y * qscale);
    qf[kk][1] = pack_half2(v[1][0].x * qscale, v[1][0].y * qscale);
    qf[kk][2] = pack_half2(v[0][1].x * qscale, v[0][1].y * qscale);
    qf[kk][3] = pack_half2(v[1][1].x * qscale, v[1][1].y * qscale);
  }

  float o[D / 8][4];
#pragma unroll
  for (int n = 0; n < D / 8; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};

  __syncthreads();  // row_pos / row_seq
  const int my_pos[2] = {row_pos[lr[0]], row_pos[lr[1]]};
  const int my_seq[2] = {row_seq[lr[0]], row_seq[lr[1]]};
  const int row_stride = kv.n_kv_heads * D;
  const __half* kbase = static_cast<const __half*>(kv.k) + int64_t(g) * D;
  const __half* vbase = static_cast<const __half*>(kv.v) + int64_t(g) * D;

  // One pass per sequence present in the block, in increasing seq id.
  for (int prev = -1;;) {
    int cur = INT_MAX;
    for (int i = 0; i < kRows; ++i)
      if (row_seq[i] > prev && row_seq[i] < cur) cur = row_seq[i];
    if (cur == INT_MAX) break;
    int kmax = -1, warp_kmax = -1;  // last key position any row (of this warp) of `cur` needs
    for (int i = 0; i < kRows; ++i) {
      if (row_seq[i] != cur) continue;
      kmax = max(kmax, row_pos[i]);
      if (i / 16 == warp) warp_kmax = max(warp_kmax, row_pos[i]);
    }
    const int32_t* bt = a.block_tables + int64_t(cur) * a.bt_stride;
    // This block's split of the keys: [k_lo, k_hi), whole tiles.
    const int k_lo = a.n_splits > 1 ? int(blockIdx.z) * a.split_keys : 0;
    const int k_last = a.n_splits > 1 ? min(kmax, k_lo + a.split_keys - 1) : kmax;

    // Stage tile `k0` into ring slot `st`: 16-byte pieces, consecutive threads on consecutive
    // pieces of a row; keys past kmax are zeros (their slots may never have been written).
    auto load_tile = [&](int k0, int st) {
      __half* kst = smem_kv + st * 2 * kTileHalves;
      __half* vst = kst + kTileHalves;
      for (int i = threadIdx.x; i < kKeys * (D / 8); i += kThreads) {
        const int j = i / (D / 8), c = i % (D / 8);
        const int pos = k0 + j;
        const bool in = pos <= kmax;
        const int64_t slot = in ? int64_t(bt[pos / kv.block_size]) * kv.block_size + pos % kv.block_size : 0;
        const int64_t e = slot * row_stride + c * 8;
        cp_async16(kst + j * kStride + c * 8, kbase + e, in ? 16 : 0);
        cp_async16(vst + j * kStride + c * 8, vbase + e, in ? 16 : 0);
      }
      cp_async_commit();
    };
    __syncthreads();  // the ring is free (the previous sequence's pass is done with it)
    if (k_lo <= k_last) load_tile(k_lo, 0);
    for (int k0 = k_lo, it = 0; k0 <= k_last; k0 += kKeys, ++it) {
      const int st = it & 1;
      if (k0 + kKeys <= k_last) {
        load_tile(k0 + kKeys, st ^ 1);
        cp_async_wait<1>();  // this tile's group is complete; the next one may still fly
      } else {
        cp_async_wait<0>();
      }
      __syncthreads();
      const __half* ks = smem_kv + st * 2 * kTileHalves;
      const __half* vs = ks + kTileHalves;
      if (k0 <= warp_kmax) {  // else every key of the tile is masked for this warp's rows
        // S = Q K^T: 16 rows x 64 keys per warp.
        float s[kKeys / 8][4];
#pragma unroll
        for (int j = 0; j < kKeys / 8; ++j) s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.0f;
#pragma unroll
        for (int kk = 0; kk < D / 16; ++kk) {
#pragma unroll
          for (int j = 0; j < kKeys / 8; ++j) {
            const __half* kp = ks + (j * 8 + fr) * kStride + kk * 16 + 2 * fq;
            mma_16816(s[j], qf[kk], lds32(kp), lds32(kp + 8));
          }
        }

        // Causal and sequence mask, then the online softmax update of both rows.
#pragma unroll
        for (int i = 0; i < 2; ++i) {
          const int limit = my_seq[i] == cur ? my_pos[i] : -1;  // keys <= limit are visible
          float mx = -INFINITY;
#pragma unroll
          for (int j = 0; j < kKeys / 8; ++j) {
#pragma unroll
            for (int e = 0; e < 2; ++e) {
              const int key = k0 + j * 8 + 2 * fq + e;
              if (key > limit) s[j][2 * i + e] = -INFINITY;
              mx = fmaxf(mx, s[j][2 * i + e]);
            }
          }
          mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
          mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
          const float m_new = fmaxf(m[i], mx);
          const float base = m_new == -INFINITY ? 0.0f : m_new;  // no -inf - -inf while nothing is visible
          const float corr = exp2f(m[i] - base);
          float sum = 0.0f;
#pragma unroll
          for (int j = 0; j < kKeys / 8; ++j) {
#pragma unroll
            for (int e = 0; e < 2; ++e) {
              const float p = exp2f(s[j][2 * i + e] - base);
              s[j][2 * i + e] = p;
              sum += p;
            }
          }
          sum += __shfl_xor_sync(0xffffffffu, sum, 1);
          sum += __shfl_xor_sync(0xffffffffu, sum, 2);
          l[i] = l[i] * corr + sum;
          m[i] = m_new;
#pragma unroll
          for (int n = 0; n < D / 8; ++n) {
            o[n][2 * i] *= corr;
            o[n][2 * i + 1] *= corr;
          }
        }

        // O += P V: the S accumulators of keys 16kk..16kk+15 are P's A fragment as they lie.
#pragma unroll
        for (int kk = 0; kk < kKeys / 16; ++kk) {
          const uint32_t pa[4] = {pack_half2(s[2 * kk][0], s[2 * kk][1]), pack_half2(s[2 * kk][2], s[2 * kk][3]),
                                  pack_half2(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                                  pack_half2(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
          for (int n = 0; n < D / 8; n += 2) {
            uint32_t b[4];  // b0 b1 of column block n, then of n + 1
            ldmatrix_x4_trans(b, vs + (kk * 16 + (lane & 15)) * kStride + n * 8 + (lane >> 4) * 8);
            mma_16816(o[n], pa, b[0], b[1]);
            mma_16816(o[n + 1], pa, b[2], b[3]);
          }
        }
      }
      __syncthreads();  // the slot is consumed before the load two tiles on refills it
    }
    prev = cur;
  }

  if (a.n_splits > 1) {  // this split's (max, sum, unnormalized output) per row, for the merge
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const int64_t r = r0 + lr[i];
      if (r >= n_rows) continue;
      const int64_t t = r / group;
      const int h = g * group + int(r % group);
      float* part = a.partial + ((t * a.n_heads + h) * a.n_splits + blockIdx.z) * (D + 2);
      if (fq == 0) {
        part[0] = m[i];
        part[1] = l[i];
      }
#pragma unroll
      for (int n = 0; n < D / 8; ++n)
        *reinterpret_cast<float2*>(part + 2 + n * 8 + 2 * fq) = make_float2(o[n][2 * i], o[n][2 * i + 1]);
    }
    return;
  }
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    if (orow[i] == nullptr) continue;
    const float inv = l[i] > 0.0f ? 1.0f / l[i] : 0.0f;
#pragma unroll
    for (int n = 0; n < D / 8; ++n)
      *reinterpret_cast<float2*>(orow[i] + n * 8 + 2 * fq) = make_float2(o[n][2 * i] * inv, o[n][2 * i + 1] * inv);
  }
}

// grid (n_tokens * n_heads), D threads: out = the splits' partial states merged (maxima in log2
// units, as the kernel above leaves them); splits with no visible key (sum 0) are skipped.
template <int D>
__global__ void __launch_bounds__(D) attention_prefill_merge_kernel(AttentionArgs a) {
  const int64_t row = blockIdx.x;  // token * n_heads + head
  const float* ph = a.partial + row * a.n_splits * (D + 2);
  float mx = -INFINITY;
  for (int sp = 0; sp < a.n_splits; ++sp)
    if (ph[sp * (D + 2) + 1] > 0.0f) mx = fmaxf(mx, ph[sp * (D + 2)]);
  float num = 0.0f, den = 0.0f;
  for (int sp = 0; sp < a.n_splits; ++sp) {
    const float* ps = ph + sp * (D + 2);
    if (ps[1] == 0.0f) continue;
    const float w = exp2f(ps[0] - mx);
    den += ps[1] * w;
    num += ps[2 + threadIdx.x] * w;
  }
  a.out[row * D + threadIdx.x] = den > 0.0f ? num / den : 0.0f;
}

template <int D>
void launch_prefill(dim3 grid, const KvLayout& kv, const AttentionArgs& a, float qscale, cudaStream_t stream) {
  constexpr size_t smem = size_t(2) * 2 * kKeys * (D + 8) * sizeof(__half);  // two stages of K and V
  // Above 48 KiB of dynamic shared memory a kernel must opt in, once per function (one device
  // per process here); a function-local static makes the first launch do it, thread-safely.
  static const bool opted_in = [] {
    return cudaFuncSetAttribute(attention_prefill_kernel<D>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                int(smem)) == cudaSuccess;
  }();
  (void)opted_in;
  attention_prefill_kernel<D><<<grid, kThreads, smem, stream>>>(kv, a, qscale);
}

}  // namespace

int attention_prefill_splits(int n_tokens, int n_heads, int n_kv_heads, int max_len, int sm_count) {
  const int64_t blocks = ceil_div(int64_t(n_tokens) * (n_heads / n_kv_heads), kRows) * n_kv_heads;
  // Enough blocks for ~3 per SM, each split at least 8 key tiles long.
  const int64_t want = ceil_div(int64_t(3) * sm_count, blocks);
  const int64_t most = max_len / (8 * kKeys);
  return int(std::clamp<int64_t>(std::min(want, most), 1, kAttnMaxSplits));
}

int attention_prefill_split_keys(int max_len, int n_splits) {
  return int(ceil_div(ceil_div(int64_t(max_len), n_splits), kKeys) * kKeys);
}

bool attention_prefill_supported(const KvLayout& kv, int n_heads) {
  return kv.f16 && (kv.head_dim == 64 || kv.head_dim == 128) && kv.n_kv_heads > 0 && n_heads > 0 &&
         n_heads % kv.n_kv_heads == 0 && kv.block_size > 0;
}

bool attention_prefill(const KvLayout& kv, const AttentionArgs& a, cudaStream_t stream) {
  if (!attention_prefill_supported(kv, a.n_heads)) return false;
  if (a.n_tokens == 0) return true;
  const int group = a.n_heads / kv.n_kv_heads;
  const dim3 grid(ceil_div(int64_t(a.n_tokens) * group, kRows), kv.n_kv_heads, std::max(a.n_splits, 1));
  const float qscale = a.scale * kLog2e;
  if (kv.head_dim == 64) launch_prefill<64>(grid, kv, a, qscale, stream);
  else launch_prefill<128>(grid, kv, a, qscale, stream);
  if (a.n_splits > 1) {
    const dim3 rows(unsigned(int64_t(a.n_tokens) * a.n_heads));
    if (kv.head_dim == 64) attention_prefill_merge_kernel<64><<<rows, 64, 0, stream>>>(a);
    else attention_prefill_merge_kernel<128><<<rows, 128, 0, stream>>>(a);
  }
  return true;
}

}  // namespace pensieve::cuda
