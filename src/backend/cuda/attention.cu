#include <cstdlib>
#include <type_traits>

#include "backend/cuda/act_quant_device.cuh"
#include "backend/cuda/attention.cuh"
#include "backend/cuda/common.cuh"
#include "backend/cuda/pdl.cuh"

namespace pensieve::cuda {

namespace {

constexpr int kTile = 32;                       // keys per shared-memory tile
constexpr int kRegs = kAttnMaxHeadDim / kWarp;  // head-dim elements per lane

template <bool F16>
__device__ __forceinline__ float load_kv(const void* base, int64_t i) {
  if constexpr (F16) return half_bits_to_float(static_cast<const uint16_t*>(base)[i]);
  else return static_cast<const float*>(base)[i];
}

// Stages keys/values [k0, k0 + kTile) of kv head g as floats: ks [kTile][D + 1], vs [kTile][D],
// zeros past k_end. Any cache type, one element per thread and iteration.
template <bool F16>
__device__ __forceinline__ void load_tile(const KvLayout& kv, const int32_t* bt, int g, int D, int k0, int k_end,
                                          float* ks, float* vs) {
  const int row_stride = kv.n_kv_heads * D;
  for (int i = threadIdx.x; i < kTile * D; i += blockDim.x) {
    const int j = i / D, d = i % D;
    const int pos = k0 + j;
    float kval = 0.0f, vval = 0.0f;
    if (pos < k_end) {
      const int64_t slot = int64_t(bt[pos / kv.block_size]) * kv.block_size + pos % kv.block_size;
      const int64_t e = slot * row_stride + int64_t(g) * D + d;
      kval = load_kv<F16>(kv.k, e);
      vval = load_kv<F16>(kv.v, e);
    }
    ks[j * (D + 1) + d] = kval;
    vs[j * D + d] = vval;
  }
}

// The same for an F16 cache with D % 8 == 0: 16-byte loads (8 halves), all of a thread's loads
// issued before any is used, so the tile costs one memory round trip instead of one per element.
__device__ __forceinline__ void load_tile_f16x8(const KvLayout& kv, const int32_t* bt, int g, int D, int k0,
                                                int k_end, float* ks, float* vs) {
  constexpr int kBatch = 4;
  const int row_stride = kv.n_kv_heads * D, per_row = D / 8;
  for (int i0 = threadIdx.x; i0 < kTile * per_row; i0 += kBatch * blockDim.x) {
    uint4 kr[kBatch], vr[kBatch];
#pragma unroll
    for (int b = 0; b < kBatch; ++b) {
      const int i = i0 + b * blockDim.x, j = i / per_row, d = (i % per_row) * 8;
      kr[b] = vr[b] = make_uint4(0, 0, 0, 0);
      if (i < kTile * per_row && k0 + j < k_end) {
        const int pos = k0 + j;
        const int64_t slot = int64_t(bt[pos / kv.block_size]) * kv.block_size + pos % kv.block_size;
        const int64_t e = slot * row_stride + int64_t(g) * D + d;
        kr[b] = *reinterpret_cast<const uint4*>(static_cast<const __half*>(kv.k) + e);
        vr[b] = *reinterpret_cast<const uint4*>(static_cast<const __half*>(kv.v) + e);
      }
    }
#pragma unroll
    for (int b = 0; b < kBatch; ++b) {
      const int i = i0 + b * blockDim.x, j = i / per_row, d = (i % per_row) * 8;
      if (i >= kTile * per_row) break;
      const __half2* kh = reinterpret_cast<const __half2*>(&kr[b]);
      const __half2* vh = reinterpret_cast<const __half2*>(&vr[b]);
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        const float2 kf = __half22float2(kh[c]), vf = __half22float2(vh[c]);
        ks[j * (D + 1) + d + 2 * c] = kf.x;
        ks[j * (D + 1) + d + 2 * c + 1] = kf.y;
        vs[j * D + d + 2 * c] = vf.x;
        vs[j * D + d + 2 * c + 1] = vf.y;
      }
    }
  }
}

// Writes one warp's output head (lane holds d = lane + 32 i in v[i], already normalized) and,
// when asked, its 8-bit copy: each i is one 32-value block of the row.
__device__ __forceinline__ void store_head(const AttentionArgs& a, int t, int h, int D, const float* v) {
  const int lane = threadIdx.x % kWarp;
  const int64_t base = int64_t(t) * a.n_heads * D + int64_t(h) * D;
#pragma unroll
  for (int i = 0; i < kRegs; ++i) {
    const int d = lane + kWarp * i;
    if (d < D) a.out[base + d] = v[i];
    if (a.out_q != nullptr && kWarp * i < D)  // D % 32 == 0 here: whole warps take part
      quantize_warp_block(v[i], a.out_q + base + kWarp * i, a.out_ds + (base + kWarp * i) / 16);
  }
}

// Keys [x, y) of split `split` of a token that sees kv_len keys: n_splits equal ranges of whole
// 32-key tiles (empty past the end), from the token's own length only, so that a token's ranges
// do not depend on the step it shares.
__device__ __forceinline__ int2 split_keys_of(int kv_len, int n_splits, int split) {
  const int per_split = ((kv_len + n_splits - 1) / n_splits + kTile - 1) / kTile * kTile;
  const int begin = split * per_split;
  return make_int2(begin, min(kv_len, begin + per_split));
}

// Whether this block is the last of its (token, kv head) pair's splits to finish (its partial
// writes, like every block's, made visible first). The counter is reset by the caller after the
// merge.
__device__ __forceinline__ bool last_block_of_pair(const AttentionArgs& a, int t, int g, int n_kv_heads) {
  __shared__ bool last;
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) last = atomicAdd(a.counters + int64_t(t) * n_kv_heads + g, 1) == a.n_splits - 1;
  __syncthreads();
  if (last) __threadfence();
  return last;
}

// One warp merges the splits' (max, sum, acc) of head h of token t (through L2, __ldcg: other
// blocks wrote them) and stores the normalized output.
__device__ __forceinline__ void merge_splits(const AttentionArgs& a, int t, int h, int D) {
  const int lane = threadIdx.x % kWarp;
  const float* ph = a.partial + (int64_t(t) * a.n_heads + h) * a.n_splits * (D + 2);
  float mx = -INFINITY;
  for (int sp = 0; sp < a.n_splits; ++sp) mx = fmaxf(mx, __ldcg(ph + sp * (D + 2)));
  float num[kRegs], den = 0.0f;
#pragma unroll
  for (int i = 0; i < kRegs; ++i) num[i] = 0.0f;
  for (int sp = 0; sp < a.n_splits; ++sp) {
    const float* ps = ph + sp * (D + 2);
    const float ls = __ldcg(ps + 1);
    if (ls == 0.0f) continue;  // a split past the end of this token's keys
    const float w = __expf(__ldcg(ps) - mx);
    den += ls * w;
#pragma unroll
    for (int i = 0; i < kRegs; ++i) {
      const int d = lane + kWarp * i;
      if (d < D) num[i] += __ldcg(ps + 2 + d) * w;
    }
  }
  const float inv = den > 0.0f ? 1.0f / den : 0.0f;
#pragma unroll
  for (int i = 0; i < kRegs; ++i) num[i] *= inv;
  store_head(a, t, h, D, num);
}

// grid (n_tokens, n_kv_heads, n_splits), block 32 * group (one warp per query head of the group).
// With splits, every block leaves its (max, sum, acc) per head in a.partial and the last block of
// a (token, kv head) to finish merges them (a counter per pair, reset by that block), so that a
// decode step's attention is one launch.
template <bool F16>
__global__ void attention_kernel(KvLayout kv, AttentionArgs a) {
  pdl_wait();
  pdl_trigger();
  extern __shared__ float smem[];
  const int D = kv.head_dim;
  const int group = a.n_heads / kv.n_kv_heads;
  float* ks = smem;                        // [kTile][D + 1] (padded: lane j reads row j)
  float* vs = ks + kTile * (D + 1);        // [kTile][D]
  float* qs = vs + kTile * D;              // [group][D]
  const int t = blockIdx.x, g = blockIdx.y, split = blockIdx.z;
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  const int h = g * group + warp;

  const int kv_len = a.positions[t] + 1;  // causal: positions 0..pos of this sequence
  const int2 keys = split_keys_of(kv_len, a.n_splits, split);
  const int k_begin = keys.x, k_end = keys.y;
  const int32_t* bt = a.block_tables + int64_t(a.seq_ids[t]) * a.bt_stride;

  for (int i = threadIdx.x; i < group * D; i += blockDim.x)
    qs[i] = a.q[int64_t(t) * a.n_heads * D + int64_t(g) * group * D + i] * a.scale;

  float m = -INFINITY, l = 0.0f;
  float acc[kRegs];
#pragma unroll
  for (int i = 0; i < kRegs; ++i) acc[i] = 0.0f;

  for (int k0 = k_begin; k0 < k_end; k0 += kTile) {
    __syncthreads();  // previous tile fully consumed (and qs written, on the first pass)
    if (F16 && D % 8 == 0) {
      load_tile_f16x8(kv, bt, g, D, k0, k_end, ks, vs);
    } else {
      load_tile<F16>(kv, bt, g, D, k0, k_end, ks, vs);
    }
    __syncthreads();
    // Lane j scores key k0 + j against this warp's query head.
    const float* qh = qs + warp * D;
    const float* kr = ks + lane * (D + 1);
    float s = 0.0f;
    for (int d = 0; d < D; ++d) s += qh[d] * kr[d];
    if (k0 + lane >= k_end) s = -INFINITY;
    const float m_new = fmaxf(m, warp_max(s));
    const float p = __expf(s - m_new);
    const float corr = __expf(m - m_new);
    l = l * corr + warp_sum(p);
    m = m_new;
#pragma unroll
    for (int i = 0; i < kRegs; ++i) acc[i] *= corr;
    for (int j = 0; j < kTile; ++j) {
      const float pj = __shfl_sync(0xffffffffu, p, j);
#pragma unroll
      for (int i = 0; i < kRegs; ++i) {
        const int d = lane + kWarp * i;
        if (d < D) acc[i] += pj * vs[j * D + d];
      }
    }
  }

  if (a.n_splits == 1) {
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
#pragma unroll
    for (int i = 0; i < kRegs; ++i) acc[i] *= inv;
    store_head(a, t, h, D, acc);
    return;
  }
  float* part = a.partial + ((int64_t(t) * a.n_heads + h) * a.n_splits + split) * (D + 2);
#pragma unroll
  for (int i = 0; i < kRegs; ++i) {
    const int d = lane + kWarp * i;
    if (d < D) part[2 + d] = acc[i];
  }
  if (lane == 0) {
    part[0] = m;
    part[1] = l;
  }
  if (!last_block_of_pair(a, t, g, kv.n_kv_heads)) return;
  merge_splits(a, t, h, D);
  if (threadIdx.x == 0) a.counters[int64_t(t) * kv.n_kv_heads + g] = 0;
}

// The same attention for an F16 cache, head_dim 64 or 128 and group G, built for long contexts:
// grid (n_tokens, n_kv_heads, n_splits), 4 warps per block, each warp streaming its own 32-key
// pieces of the block's split (every 4th piece) straight from global memory into registers (lane
// j holds key j's K row and a column slice of every V row of the piece), all G query heads of the
// group scored against them, so a K/V byte is read once per token, with no shared-memory staging
// or block barrier per piece. The warps' states are merged in shared memory at the end (head h
// by warp h % 4, lane holding d = lane + 32 i as store_head wants), then as attention_kernel's.
constexpr int kDecWarps = 4;

template <int D, int G>
__global__ void __launch_bounds__(kDecWarps * kWarp) attention_gqa_kernel(KvLayout kv, AttentionArgs a) {
  pdl_wait();
  pdl_trigger();
  constexpr int kChunks = D / 8;    // uint4 pieces of a K row
  constexpr int kCols = D / kWarp;  // V columns per lane: 2 or 4
  __shared__ __align__(16) float qs[G][D];
  __shared__ float wm[kDecWarps][G], wl[kDecWarps][G];
  __shared__ float wacc[kDecWarps][G][D];
  const int t = blockIdx.x, g = blockIdx.y, split = blockIdx.z;
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  const int kv_len = a.positions[t] + 1;
  const int2 keys = split_keys_of(kv_len, a.n_splits, split);
  const int k_begin = keys.x, k_end = keys.y;
  const int32_t* bt = a.block_tables + int64_t(a.seq_ids[t]) * a.bt_stride;
  for (int i = threadIdx.x; i < G * D; i += blockDim.x)
    qs[i / D][i % D] = a.q[int64_t(t) * a.n_heads * D + int64_t(g) * G * D + i] * a.scale;
  __syncthreads();

  const int row_stride = kv.n_kv_heads * D;
  const __half* kbase = static_cast<const __half*>(kv.k) + int64_t(g) * D;
  const __half* vbase = static_cast<const __half*>(kv.v) + int64_t(g) * D + lane * kCols;
  float m[G], l[G], acc[G][kCols];
#pragma unroll
  for (int h = 0; h < G; ++h) {
    m[h] = -INFINITY;
    l[h] = 0.0f;
#pragma unroll
    for (int c = 0; c < kCols; ++c) acc[h][c] = 0.0f;
  }

  for (int k0 = k_begin + warp * kTile; k0 < k_end; k0 += kDecWarps * kTile) {
    const int n_valid = min(kTile, k_end - k0);
    const bool valid = lane < n_valid;
    const int pos = k0 + lane;
    const int64_t slot = valid ? int64_t(bt[pos / kv.block_size]) * kv.block_size + pos % kv.block_size : 0;
    uint4 kr[kChunks];
    const uint4* kp = reinterpret_cast<const uint4*>(kbase + slot * row_stride);
#pragma unroll
    for (int c = 0; c < kChunks; ++c) kr[c] = valid ? kp[c] : make_uint4(0, 0, 0, 0);
    // This lane's columns of all 32 V rows, issued before the scores are computed.
    using VCols = std::conditional_t<kCols == 4, uint2, uint32_t>;
    VCols vr[kTile];
#pragma unroll
    for (int j = 0; j < kTile; ++j) {
      const int64_t sj = __shfl_sync(0xffffffffu, slot, j);
      vr[j] = j < n_valid ? *reinterpret_cast<const VCols*>(vbase + sj * row_stride) : VCols{};
    }
    float sc[G];
#pragma unroll
    for (int h = 0; h < G; ++h) sc[h] = 0.0f;
#pragma unroll
    for (int c = 0; c < kChunks; ++c) {
      const __half2* kh = reinterpret_cast<const __half2*>(&kr[c]);
      const float2 k01 = __half22float2(kh[0]), k23 = __half22float2(kh[1]);
      const float2 k45 = __half22float2(kh[2]), k67 = __half22float2(kh[3]);
#pragma unroll
      for (int h = 0; h < G; ++h) {
        const float4 qa = *reinterpret_cast<const float4*>(&qs[h][8 * c]);
        const float4 qb = *reinterpret_cast<const float4*>(&qs[h][8 * c + 4]);
        sc[h] += qa.x * k01.x + qa.y * k01.y + qa.z * k23.x + qa.w * k23.y + qb.x * k45.x + qb.y * k45.y +
                 qb.z * k67.x + qb.w * k67.y;
      }
    }
    float p[G];
#pragma unroll
    for (int h = 0; h < G; ++h) {
      const float s = valid ? sc[h] : -INFINITY;
      const float m_new = fmaxf(m[h], warp_max(s));  // finite: lane 0's key is valid
      p[h] = __expf(s - m_new);
      const float corr = __expf(m[h] - m_new);
      l[h] = l[h] * corr + warp_sum(p[h]);
      m[h] = m_new;
#pragma unroll
      for (int c = 0; c < kCols; ++c) acc[h][c] *= corr;
    }
#pragma unroll
    for (int j = 0; j < kTile; ++j) {
      float v[kCols];
      if constexpr (kCols == 4) {
        const float2 v01 = __half22float2(*reinterpret_cast<const __half2*>(&vr[j].x));
        const float2 v23 = __half22float2(*reinterpret_cast<const __half2*>(&vr[j].y));
        v[0] = v01.x, v[1] = v01.y, v[2] = v23.x, v[3] = v23.y;
      } else {
        const float2 v01 = __half22float2(*reinterpret_cast<const __half2*>(&vr[j]));
        v[0] = v01.x, v[1] = v01.y;
      }
#pragma unroll
      for (int h = 0; h < G; ++h) {
        const float pj = __shfl_sync(0xffffffffu, p[h], j);
#pragma unroll
        for (int c = 0; c < kCols; ++c) acc[h][c] += pj * v[c];
      }
    }
  }

  // The warps' states, merged per head (a warp that saw no key has sum 0 and is skipped).
#pragma unroll
  for (int h = 0; h < G; ++h) {
    if (lane == 0) {
      wm[warp][h] = m[h];
      wl[warp][h] = l[h];
    }
#pragma unroll
    for (int c = 0; c < kCols; ++c) wacc[warp][h][lane * kCols + c] = acc[h][c];
  }
  __syncthreads();
  for (int h = warp; h < G; h += kDecWarps) {
    float mx = -INFINITY;
#pragma unroll
    for (int w = 0; w < kDecWarps; ++w)
      if (wl[w][h] > 0.0f) mx = fmaxf(mx, wm[w][h]);
    float sum = 0.0f, o[kRegs];
#pragma unroll
    for (int i = 0; i < kRegs; ++i) o[i] = 0.0f;
#pragma unroll
    for (int w = 0; w < kDecWarps; ++w) {
      if (wl[w][h] == 0.0f) continue;
      const float f = __expf(wm[w][h] - mx);
      sum += wl[w][h] * f;
#pragma unroll
      for (int i = 0; i < D / kWarp; ++i) o[i] += wacc[w][h][lane + kWarp * i] * f;
    }
    const int head = g * G + h;
    if (a.n_splits == 1) {
      const float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
#pragma unroll
      for (int i = 0; i < D / kWarp; ++i) o[i] *= inv;
      store_head(a, t, head, D, o);
    } else {
      float* part = a.partial + ((int64_t(t) * a.n_heads + head) * a.n_splits + split) * (D + 2);
#pragma unroll
      for (int i = 0; i < D / kWarp; ++i) part[2 + lane + kWarp * i] = o[i];
      if (lane == 0) {
        part[0] = mx;
        part[1] = sum;
      }
    }
  }
  if (a.n_splits == 1 || !last_block_of_pair(a, t, g, kv.n_kv_heads)) return;
  for (int h = warp; h < G; h += kDecWarps) merge_splits(a, t, g * G + h, D);
  if (threadIdx.x == 0) a.counters[int64_t(t) * kv.n_kv_heads + g] = 0;
}

template <int D, int G>
void launch_gqa(const KvLayout& kv, const AttentionArgs& a, cudaStream_t stream) {
  launch_pdl(attention_gqa_kernel<D, G>, dim3(a.n_tokens, kv.n_kv_heads, a.n_splits), dim3(kDecWarps * kWarp), 0,
             stream, kv, a);
}

// The GQA kernel where it is built for the shape; false: attention_kernel's turn.
template <int D>
bool attention_gqa(const KvLayout& kv, const AttentionArgs& a, cudaStream_t stream) {
  switch (a.n_heads / kv.n_kv_heads) {
    case 1: launch_gqa<D, 1>(kv, a, stream); return true;
    case 2: launch_gqa<D, 2>(kv, a, stream); return true;
    case 4: launch_gqa<D, 4>(kv, a, stream); return true;
    case 7: launch_gqa<D, 7>(kv, a, stream); return true;
    case 8: launch_gqa<D, 8>(kv, a, stream); return true;
    default: return false;
  }
}

template <bool F16>
__global__ void kv_write_kernel(KvLayout kv, const float* __restrict__ k, const float* __restrict__ v,
                                const int32_t* __restrict__ slots, int n_tokens) {
  pdl_wait();
  pdl_trigger();
  const int row = kv.n_kv_heads * kv.head_dim;
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= int64_t(n_tokens) * row) return;
  const int64_t t = i / row, e = i % row;
  const int64_t dst = int64_t(slots[t]) * row + e;
  if constexpr (F16) {
    static_cast<__half*>(kv.k)[dst] = __float2half_rn(k[i]);
    static_cast<__half*>(kv.v)[dst] = __float2half_rn(v[i]);
  } else {
    static_cast<float*>(kv.k)[dst] = k[i];
    static_cast<float*>(kv.v)[dst] = v[i];
  }
}

template <bool F16>
__device__ __forceinline__ void store_kv(void* pool, int64_t i, float v) {
  if constexpr (F16) static_cast<__half*>(pool)[i] = __float2half_rn(v);
  else static_cast<float*>(pool)[i] = v;
}

// Heads handled by one block of rope_kv_write_kernel: the q heads, then the k heads, then the v
// heads of the token, 8 at a time; one thread per (head, pair of dims).
constexpr int kRopeHeadsPerBlock = 8;

// grid (n_tokens, ceil((n_q + 2 n_kv) / 8)), block 8 * head_dim / 2: rope on the token's q and k
// heads (in place), the rotated k and the v rows into the cache. Each thread does one pair with
// its loads issued together: one memory round trip, where a loop per token took ~10 per step.
// The rotation is the rope kernel's (elementwise.cu), to the bit.
template <bool F16>
__global__ void rope_kv_write_kernel(KvLayout kv, RopeKvArgs r) {
  const int t = blockIdx.x, D = kv.head_dim, half = r.n_rot / 2;
  const int head = blockIdx.y * kRopeHeadsPerBlock + threadIdx.x / (D / 2);
  const int p = threadIdx.x % (D / 2);
  const int n_kv = kv.n_kv_heads;
  if (head >= r.n_q_heads + 2 * n_kv) return;
  // The angle only needs the position (written before the step by the host copy, but read after
  // the wait like everything else) and the rope table (constant).
  const float freq = p < half ? r.inv_freq[p] : 0.0f;
  pdl_wait();
  pdl_trigger();
  const int row = n_kv * D;
  const int64_t dst = int64_t(r.slots[t]) * row;
  if (head >= r.n_q_heads + n_kv) {  // a v head: copy two values
    const int h = head - r.n_q_heads - n_kv;
    const float* v = r.v + int64_t(t) * row + h * D;
    const float2 val = reinterpret_cast<const float2*>(v)[p];
    store_kv<F16>(kv.v, dst + h * D + 2 * p, val.x);
    store_kv<F16>(kv.v, dst + h * D + 2 * p + 1, val.y);
    return;
  }
  const bool is_k = head >= r.n_q_heads;
  const int h = is_k ? head - r.n_q_heads : head;
  float* x = is_k ? r.k + int64_t(t) * row + h * D : r.q + (int64_t(t) * r.n_q_heads + h) * D;
  if (p >= half) {  // past the rotated dims (partial rope): k is cached as it is
    if (is_k) {
      const int e = r.n_rot + 2 * (p - half);
      store_kv<F16>(kv.k, dst + h * D + e, x[e]);
      store_kv<F16>(kv.k, dst + h * D + e + 1, x[e + 1]);
    }
    return;
  }
  const float angle = float(r.positions[t]) * freq;
  double sd, cd;
  sincos(double(angle), &sd, &cd);
  const float cs = float(cd) * r.mscale, sn = float(sd) * r.mscale;
  const int ia = r.neox ? p : 2 * p, ib = r.neox ? p + half : 2 * p + 1;
  const float x0 = x[ia], x1 = x[ib];
  const float y0 = x0 * cs - x1 * sn, y1 = x0 * sn + x1 * cs;
  x[ia] = y0;
  x[ib] = y1;
  if (is_k) {
    store_kv<F16>(kv.k, dst + h * D + ia, y0);
    store_kv<F16>(kv.k, dst + h * D + ib, y1);
  }
}

// PENSIEVE_CUDA_ATTN_GQA=0: attention_kernel for every shape (for comparison).
bool gqa_kernel_enabled() {
  static const bool on = [] {
    const char* v = std::getenv("PENSIEVE_CUDA_ATTN_GQA");
    return v == nullptr || *v != '0';
  }();
  return on;
}

size_t attention_smem(int group, int D) { return sizeof(float) * (kTile * (D + 1) + kTile * D + group * D); }

}  // namespace

bool attention_supported(int n_heads, int n_kv_heads, int head_dim) {
  return n_kv_heads > 0 && n_heads % n_kv_heads == 0 && n_heads / n_kv_heads <= 32 && head_dim > 0 &&
         head_dim <= kAttnMaxHeadDim;
}

int64_t attention_partial_floats(int n_tokens, int n_heads, int head_dim, int n_splits) {
  return n_splits <= 1 ? 0 : int64_t(n_tokens) * n_heads * n_splits * (head_dim + 2);
}

void attention(const KvLayout& kv, const AttentionArgs& a, cudaStream_t stream) {
  if (a.n_tokens == 0) return;
  if (kv.f16 && gqa_kernel_enabled()) {
    if (kv.head_dim == 128 && attention_gqa<128>(kv, a, stream)) return;
    if (kv.head_dim == 64 && attention_gqa<64>(kv, a, stream)) return;
  }
  const int group = a.n_heads / kv.n_kv_heads;
  const size_t smem = attention_smem(group, kv.head_dim);
  const dim3 grid(a.n_tokens, kv.n_kv_heads, a.n_splits);
  if (kv.f16) {
    static bool raised = false;  // one device per process in practice; the attribute is per function
    if (!raised) {
      cudaFuncSetAttribute(attention_kernel<true>, cudaFuncAttributeMaxDynamicSharedMemorySize, 160 * 1024);
      raised = true;
    }
    launch_pdl(attention_kernel<true>, grid, dim3(group * kWarp), smem, stream, kv, a);
  } else {
    static bool raised = false;
    if (!raised) {
      cudaFuncSetAttribute(attention_kernel<false>, cudaFuncAttributeMaxDynamicSharedMemorySize, 160 * 1024);
      raised = true;
    }
    launch_pdl(attention_kernel<false>, grid, dim3(group * kWarp), smem, stream, kv, a);
  }
}

void kv_write(const KvLayout& kv, const float* k, const float* v, const int32_t* slots, int n_tokens,
              cudaStream_t stream) {
  const int64_t n = int64_t(n_tokens) * kv.n_kv_heads * kv.head_dim;
  if (n == 0) return;
  if (kv.f16) launch_pdl(kv_write_kernel<true>, dim3(ceil_div(n, 256)), dim3(256), 0, stream, kv, k, v, slots, n_tokens);
  else launch_pdl(kv_write_kernel<false>, dim3(ceil_div(n, 256)), dim3(256), 0, stream, kv, k, v, slots, n_tokens);
}

void rope_kv_write(const KvLayout& kv, const RopeKvArgs& r, int n_tokens, cudaStream_t stream) {
  if (n_tokens == 0) return;
  const int heads = r.n_q_heads + 2 * kv.n_kv_heads;
  const dim3 grid(n_tokens, ceil_div(heads, kRopeHeadsPerBlock)), block(kRopeHeadsPerBlock * kv.head_dim / 2);
  if (kv.f16) launch_pdl(rope_kv_write_kernel<true>, grid, block, 0, stream, kv, r);
  else launch_pdl(rope_kv_write_kernel<false>, grid, block, 0, stream, kv, r);
}

}  // namespace pensieve::cuda
