#include "backend/cuda/attention.cuh"
#include "backend/cuda/common.cuh"

namespace pensieve::cuda {

namespace {

constexpr int kTile = 32;                       // keys per shared-memory tile
constexpr int kRegs = kAttnMaxHeadDim / kWarp;  // head-dim elements per lane

template <bool F16>
__device__ __forceinline__ float load_kv(const void* base, int64_t i) {
  if constexpr (F16) return half_bits_to_float(static_cast<const uint16_t*>(base)[i]);
  else return static_cast<const float*>(base)[i];
}

// grid (n_tokens, n_kv_heads, n_splits), block 32 * group (one warp per query head of the group).
template <bool F16>
__global__ void attention_kernel(KvLayout kv, AttentionArgs a) {
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
  const int per_split = ((kv_len + a.n_splits - 1) / a.n_splits + kTile - 1) / kTile * kTile;
  const int k_begin = split * per_split;
  const int k_end = min(kv_len, k_begin + per_split);
  const int32_t* bt = a.block_tables + int64_t(a.seq_ids[t]) * a.bt_stride;

  for (int i = threadIdx.x; i < group * D; i += blockDim.x)
    qs[i] = a.q[int64_t(t) * a.n_heads * D + int64_t(g) * group * D + i] * a.scale;

  float m = -INFINITY, l = 0.0f;
  float acc[kRegs];
#pragma unroll
  for (int i = 0; i < kRegs; ++i) acc[i] = 0.0f;
  const int row_stride = kv.n_kv_heads * D;

  for (int k0 = k_begin; k0 < k_end; k0 += kTile) {
    __syncthreads();  // previous tile fully consumed (and qs written, on the first pass)
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
    float* o = a.out + int64_t(t) * a.n_heads * D + int64_t(h) * D;
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
#pragma unroll
    for (int i = 0; i < kRegs; ++i) {
      const int d = lane + kWarp * i;
      if (d < D) o[d] = acc[i] * inv;
    }
  } else {
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
  }
}

// grid (n_tokens, n_heads); merges the splits' (max, sum, acc) into the normalized output.
__global__ void attention_combine_kernel(AttentionArgs a, int D) {
  const int t = blockIdx.x, h = blockIdx.y;
  const float* part = a.partial + (int64_t(t) * a.n_heads + h) * a.n_splits * (D + 2);
  float mx = -INFINITY;
  for (int s = 0; s < a.n_splits; ++s) mx = fmaxf(mx, part[s * (D + 2)]);
  float* o = a.out + int64_t(t) * a.n_heads * D + int64_t(h) * D;
  for (int d = threadIdx.x; d < D; d += blockDim.x) {
    float num = 0.0f, den = 0.0f;
    for (int s = 0; s < a.n_splits; ++s) {
      const float* ps = part + s * (D + 2);
      if (ps[1] == 0.0f) continue;  // a split past the end of this token's keys
      const float w = __expf(ps[0] - mx);
      num += ps[2 + d] * w;
      den += ps[1] * w;
    }
    o[d] = den > 0.0f ? num / den : 0.0f;
  }
}

template <bool F16>
__global__ void kv_write_kernel(KvLayout kv, const float* __restrict__ k, const float* __restrict__ v,
                                const int32_t* __restrict__ slots, int n_tokens) {
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
  const int group = a.n_heads / kv.n_kv_heads;
  const size_t smem = attention_smem(group, kv.head_dim);
  const dim3 grid(a.n_tokens, kv.n_kv_heads, a.n_splits);
  if (kv.f16) {
    static bool raised = false;  // one device per process in practice; the attribute is per function
    if (!raised) {
      cudaFuncSetAttribute(attention_kernel<true>, cudaFuncAttributeMaxDynamicSharedMemorySize, 160 * 1024);
      raised = true;
    }
    attention_kernel<true><<<grid, group * kWarp, smem, stream>>>(kv, a);
  } else {
    static bool raised = false;
    if (!raised) {
      cudaFuncSetAttribute(attention_kernel<false>, cudaFuncAttributeMaxDynamicSharedMemorySize, 160 * 1024);
      raised = true;
    }
    attention_kernel<false><<<grid, group * kWarp, smem, stream>>>(kv, a);
  }
  if (a.n_splits > 1) attention_combine_kernel<<<dim3(a.n_tokens, a.n_heads), 128, 0, stream>>>(a, kv.head_dim);
}

void kv_write(const KvLayout& kv, const float* k, const float* v, const int32_t* slots, int n_tokens,
              cudaStream_t stream) {
  const int64_t n = int64_t(n_tokens) * kv.n_kv_heads * kv.head_dim;
  if (n == 0) return;
  if (kv.f16) kv_write_kernel<true><<<ceil_div(n, 256), 256, 0, stream>>>(kv, k, v, slots, n_tokens);
  else kv_write_kernel<false><<<ceil_div(n, 256), 256, 0, stream>>>(kv, k, v, slots, n_tokens);
}

}  // namespace pensieve::cuda
