#include <atomic>

#include "backend/cuda/common.cuh"
#include "backend/cuda/matvec.cuh"
#include "backend/cuda/matvec_q8.cuh"
#include "backend/cuda/pdl.cuh"
#include "backend/cuda/vecdot_q8.cuh"

namespace pensieve::cuda {

namespace {

constexpr int kWarpsPerBlock = 4;

int g_variant = 0;  // see set_matvec_q8_variant

// One launch serves up to kMatvecQ8MaxOutputs matrices of the same type and width on the same
// input (q, k, v; gate, up). Their rows are numbered one after the other ("virtual rows"):
// output m owns [first_row[m], first_row[m + 1]).
struct Batch {
  MatvecQ8Output out[kMatvecQ8MaxOutputs];
  int64_t first_row[kMatvecQ8MaxOutputs + 1];
  int count;
};

// Row `v` of a batch: its output and its weights.
struct RowRef {
  MatvecQ8Output o;
  int64_t row;       // row within o
  const uint8_t* w;  // the row's first byte
};

// Which output owns virtual row v, by selects (a dynamic index into the parameter struct would
// copy it to local memory: measured 1.8x slower).
__device__ __forceinline__ RowRef locate(const Batch& b, int64_t v, int64_t row_bytes) {
  const int m = (b.count > 1 && v >= b.first_row[1]) + (b.count > 2 && v >= b.first_row[2]);
  RowRef r;
  r.o = m == 0 ? b.out[0] : m == 1 ? b.out[1] : b.out[2];
  r.row = v - (m == 0 ? 0 : m == 1 ? b.first_row[1] : b.first_row[2]);
  r.w = static_cast<const uint8_t*>(r.o.w) + r.row * row_bytes;
  return r;
}

// ---------------------------------------------------------------- the row-stream kernel (default)
//
// A block of 4 warps; `wpr` warps (1, 2 or 4) form a group that computes one row at a time. The
// grid is at most one wave (blocks_per_sm blocks per SM) and each group walks its rows
// v0, v0 + n_groups, ... (every block takes the same number of rounds: the group barrier of
// wpr > 1 stays uniform). A row is cut into chunks of U units per lane (about 64 bytes per lane
// in flight, loaded before any is used); a unit is a (weight block, part) pair as in
// vecdot_q8.cuh, and lane l of the group takes units l, l + 32 wpr, ... so the lanes of a warp
// read consecutive bytes.
//
// Why it reaches the bandwidth: the group's chunks form one stream, and the group's first lane
// asks L2 (one bulk prefetch, no registers) for the chunk `lookahead` chunks ahead of the one
// it loads, so DRAM always has the next chunks of every group requested while the lanes' own
// loads hit L2. lookahead is sized so the whole grid keeps ~kPrefetchBudget bytes requested
// ahead, well inside L2. With PDL the first chunks are requested before pdl_wait(), while the
// previous kernel finishes. No block launch/drain churn: the blocks stay until the matrix is done.

// Resident blocks per SM: 8 (32 warps, <= 64 registers per thread) for 1 token; more tokens
// need more accumulators and activation registers (64 would spill), and do more work per byte.
template <int NT>
constexpr int blocks_per_sm() {
  return NT == 1 ? 8 : NT == 2 ? 7 : NT <= 4 ? 6 : 4;
}
constexpr int64_t kPrefetchBudget = int64_t(20) << 20;  // bytes the grid keeps requested ahead (L2: 50 MB)
constexpr int kMaxLookahead = 8;

// Units per lane per chunk: ~64 bytes of weights per lane for the 32-element types, 2 K-quant
// parts (register budget: a Q6_K fragment is 12 registers).
template <GgmlType T>
constexpr int units_per_lane() {
  return T == GgmlType::Q8_0 || T == GgmlType::Q5_0 ? 4 : 2;
}

// Asks L2 for chunk c of virtual row v (a hint: nothing waits for it). The range is widened to
// 16-byte boundaries: at most 15 bytes past the matrix, inside the weights' padding.
__device__ __forceinline__ void prefetch_chunk(const Batch& b, int64_t v, int c, int64_t row_bytes,
                                               int chunk_bytes) {
  const RowRef r = locate(b, v, row_bytes);
  const int64_t begin = int64_t(c) * chunk_bytes;
  const int64_t end = begin + chunk_bytes < row_bytes ? begin + chunk_bytes : row_bytes;
  const uintptr_t lo = reinterpret_cast<uintptr_t>(r.w + begin) & ~uintptr_t(15);
  const uintptr_t hi = (reinterpret_cast<uintptr_t>(r.w + end) + 15) & ~uintptr_t(15);
  prefetch_l2(reinterpret_cast<const void*>(lo), uint32_t(hi - lo));
}

template <GgmlType T, int U, int NT>
__global__ void __launch_bounds__(kWarpsPerBlock * kWarp, blocks_per_sm<NT>())
    matvec_q8_stream_kernel(const Batch batch, int64_t total_rows, int64_t row_bytes, int n_units,
                            const int8_t* __restrict__ xq, const float* __restrict__ xds, int64_t n_cols,
                            int n_tokens, int64_t y_token_offset, int wpr, int lookahead) {
  using V = q8::VecDot<T>;
  pdl_trigger();
  __shared__ float partial[2][kWarpsPerBlock][NT];  // by round parity: one barrier per round
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  const int groups = kWarpsPerBlock / wpr;  // rows a block computes per round
  const int group = warp / wpr, gpart = warp % wpr;
  const int64_t n_groups = int64_t(gridDim.x) * groups;
  const int64_t block_row0 = int64_t(blockIdx.x) * groups;
  const int chunk_units = U * kWarp * wpr;
  const int n_chunks = (n_units + chunk_units - 1) / chunk_units;
  const int chunk_bytes = chunk_units / V::kParts * V::kBytes;
  const bool leader = gpart == 0 && lane == 0;

  // The prefetch cursor: (row, chunk) `lookahead` chunks ahead in this group's stream.
  int64_t pf_row = block_row0 + group;
  int pf_chunk = 0;
  auto prefetch_next = [&]() {
    if (pf_row < total_rows) prefetch_chunk(batch, pf_row, pf_chunk, row_bytes, chunk_bytes);
    if (++pf_chunk == n_chunks) pf_chunk = 0, pf_row += n_groups;
  };
  if (leader)
    for (int i = 0; i < lookahead; ++i) prefetch_next();
  pdl_wait();  // activations and y below

  const int part = lane % V::kParts;  // (u % kParts: the other terms of u are multiples of 32)
  int parity = 0;
  for (int64_t v0 = block_row0; v0 < total_rows; v0 += n_groups, parity ^= 1) {
    const int64_t v = v0 + group;
    const bool valid = v < total_rows;
    const RowRef r = locate(batch, valid ? v : v0, row_bytes);
    float acc[NT] = {};
    for (int c = 0; c < n_chunks; ++c) {
      if (leader) prefetch_next();
      if (!valid) continue;
      const int u0 = c * chunk_units + gpart * kWarp + lane;
      typename V::Frag f[U];
#pragma unroll
      for (int i = 0; i < U; ++i) {
        const int u = u0 + i * kWarp * wpr;
        if (u < n_units) f[i] = V::load(r.w + int64_t(u / V::kParts) * V::kBytes, part);
      }
#pragma unroll
      for (int i = 0; i < U; ++i) {
        const int u = u0 + i * kWarp * wpr;
        if (u >= n_units) continue;
        const int64_t e = int64_t(u / V::kParts) * V::kBlockElems;  // first element of the block
#pragma unroll
        for (int t = 0; t < NT; ++t) {
          if (t < n_tokens) {
            const int64_t off = t * n_cols + e;
            acc[t] += V::dot(f[i], part, xq + off, xds + off / 16);
          }
        }
      }
    }
    // Lane t ends up with token t's sum of the group.
    float mine = 0.0f;
#pragma unroll
    for (int t = 0; t < NT; ++t) {
      const float s = warp_sum(acc[t]);
      if (lane == t) mine = s;
    }
    if (wpr > 1) {  // uniform over the block
      if (lane < NT) partial[parity][warp][lane] = mine;
      __syncthreads();
      if (gpart == 0 && lane < NT)
        for (int p = 1; p < wpr; ++p) mine += partial[parity][warp + p][lane];
    }
    if (valid && gpart == 0 && lane < n_tokens)
      r.o.y[(y_token_offset + lane) * r.o.n_rows + r.row] = mine + (r.o.bias ? r.o.bias[r.row] : 0.0f);
  }
}

int sm_count() {
  static std::atomic<int> cached[64] = {};
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess) return 132;
  if (dev < 64 && cached[dev].load(std::memory_order_relaxed) > 0) return cached[dev].load(std::memory_order_relaxed);
  int n = 0;
  if (cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess || n <= 0) n = 132;
  if (dev < 64) cached[dev].store(n, std::memory_order_relaxed);
  return n;
}

// The shape of a stream launch, from the sizes only.
struct StreamShape {
  int wpr, blocks, lookahead;
};

StreamShape stream_shape(int64_t total_rows, int n_units, int units_per_lane, int parts, int block_bytes,
                         int64_t row_bytes, int sms, int blocks_per_sm) {
  const int64_t resident_warps = int64_t(sms) * blocks_per_sm * kWarpsPerBlock;
  // More warps per row while the rows fill less than half the resident warps and every warp
  // keeps at least one full chunk of units per row.
  int wpr = 1;
  while (wpr < kWarpsPerBlock && 2 * total_rows * wpr < resident_warps && n_units >= 2 * wpr * kWarp * units_per_lane)
    wpr *= 2;
  const int groups = kWarpsPerBlock / wpr;
  const int64_t want = (total_rows + groups - 1) / groups;
  const int64_t cap = int64_t(sms) * blocks_per_sm;
  const int blocks = int(want < cap ? want : cap);
  const int64_t chunk = int64_t(units_per_lane) * kWarp * wpr / parts * block_bytes;
  const int64_t ahead = int64_t(blocks) * groups * (chunk < row_bytes ? chunk : row_bytes);
  const int64_t la = kPrefetchBudget / ahead;
  const int lookahead = int(la < 1 ? 1 : la > kMaxLookahead ? kMaxLookahead : la);
  return {wpr, blocks, lookahead};
}

template <GgmlType T, int NT>
void launch_stream(const Batch& b, int64_t n_cols, ActQ8 x, int n_tokens, int64_t t0, cudaStream_t stream) {
  using V = q8::VecDot<T>;
  constexpr int U = units_per_lane<T>();
  const int64_t row_bytes = static_cast<int64_t>(ggml_row_size(T, uint64_t(n_cols)));
  const int n_units = int(n_cols / V::kBlockElems) * V::kParts;
  const int64_t total = b.first_row[b.count];
  const StreamShape s = stream_shape(total, n_units, U, V::kParts, V::kBytes, row_bytes, sm_count(), blocks_per_sm<NT>());
  (void)launch_pdl(matvec_q8_stream_kernel<T, U, NT>, dim3(unsigned(s.blocks)), dim3(kWarpsPerBlock * kWarp), 0,
                   stream, b, total, row_bytes, n_units, x.q + t0 * n_cols, x.ds + t0 * n_cols / 16, n_cols,
                   n_tokens, t0, s.wpr, s.lookahead);
}

template <GgmlType T>
void launch_stream_tokens(const Batch& b, int64_t n_cols, ActQ8 x, int n_tokens, cudaStream_t stream) {
  static_assert(kMatvecQ8MaxTokens == 8);
  for (int t0 = 0; t0 < n_tokens; t0 += kMatvecQ8MaxTokens) {
    const int nt = n_tokens - t0 < kMatvecQ8MaxTokens ? n_tokens - t0 : kMatvecQ8MaxTokens;
    if (nt == 1) launch_stream<T, 1>(b, n_cols, x, nt, t0, stream);
    else if (nt == 2) launch_stream<T, 2>(b, n_cols, x, nt, t0, stream);
    else if (nt <= 4) launch_stream<T, 4>(b, n_cols, x, nt, t0, stream);
    else launch_stream<T, 8>(b, n_cols, x, nt, t0, stream);
  }
}

// ---------------------------------------------------------------- the previous kernel (variant 1)
//
// Kept for A/B measurements: `wpr` warps share one row, each lane does about one round of U
// loads, then the block reduces and exits (one block per 4 / wpr rows, plain launch).

template <GgmlType T, int U>
__global__ void __launch_bounds__(kWarpsPerBlock * kWarp)
    matvec_q8_legacy_kernel(const Batch batch, int64_t row_bytes, int n_units, const int8_t* __restrict__ xq,
                            const float* __restrict__ xds, int64_t n_cols, int n_tokens, int64_t y_token_offset,
                            int wpr) {
  using V = q8::VecDot<T>;
  __shared__ float partial[kWarpsPerBlock][kMatvecMaxTokens];
  const int bid = int(blockIdx.x);
  const int rows_per_block = kWarpsPerBlock / wpr;
  // Block ranges per output, from the virtual rows (output m starts at a whole block).
  const int fb1 = int((batch.first_row[1] + rows_per_block - 1) / rows_per_block);
  const int fb2 = batch.count > 2 ? fb1 + int((batch.first_row[2] - batch.first_row[1] + rows_per_block - 1) /
                                              rows_per_block)
                                  : 0;
  const int m = (batch.count > 1 && bid >= fb1) + (batch.count > 2 && bid >= fb2);
  const MatvecQ8Output o = m == 0 ? batch.out[0] : m == 1 ? batch.out[1] : batch.out[2];
  const int first = m == 0 ? 0 : m == 1 ? fb1 : fb2;
  const int64_t n_rows = o.n_rows;
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  const int64_t r = int64_t(bid - first) * rows_per_block + warp / wpr;
  const int group_part = warp % wpr;
  const bool valid = r < n_rows;
  const uint8_t* wr = static_cast<const uint8_t*>(o.w) + (valid ? r : 0) * row_bytes;
  const int part = lane % V::kParts;
  const int stride = wpr * kWarp;
  float acc[kMatvecMaxTokens] = {};
  if (valid) {
    for (int u0 = group_part * kWarp + lane; u0 < n_units; u0 += U * stride) {
      typename V::Frag f[U];
#pragma unroll
      for (int i = 0; i < U; ++i) {
        const int u = u0 + i * stride;
        if (u < n_units) f[i] = V::load(wr + int64_t(u / V::kParts) * V::kBytes, part);
      }
#pragma unroll
      for (int i = 0; i < U; ++i) {
        const int u = u0 + i * stride;
        const int64_t e = int64_t(u / V::kParts) * V::kBlockElems;
#pragma unroll
        for (int t = 0; t < kMatvecMaxTokens; ++t) {
          if (u < n_units && t < n_tokens) {
            const int64_t off = t * n_cols + e;
            acc[t] += V::dot(f[i], part, xq + off, xds + off / 16);
          }
        }
      }
    }
  }
#pragma unroll
  for (int t = 0; t < kMatvecMaxTokens; ++t) {
    acc[t] = warp_sum(acc[t]);
    if (lane == 0) partial[warp][t] = acc[t];
  }
  if (wpr > 1) __syncthreads();
  else __syncwarp();
  if (valid && group_part == 0 && lane < n_tokens) {
    float s = 0.0f;
    for (int p = 0; p < wpr; ++p) s += partial[warp + p][lane];
    o.y[y_token_offset * n_rows + lane * n_rows + r] = s + (o.bias ? o.bias[r] : 0.0f);
  }
}

template <GgmlType T, int U>
void launch_legacy(const Batch& b, int64_t n_cols, ActQ8 x, int n_tokens, cudaStream_t stream) {
  using V = q8::VecDot<T>;
  const int64_t row_bytes = static_cast<int64_t>(ggml_row_size(T, uint64_t(n_cols)));
  const int n_units = int(n_cols / V::kBlockElems) * V::kParts;
  const int lanes = (n_units + U - 1) / U;
  const int wpr = lanes >= 3 * kWarp ? 4 : lanes >= 3 * kWarp / 2 ? 2 : 1;
  const int rows_per_block = kWarpsPerBlock / wpr;
  int blocks = 0;
  for (int i = 0; i < b.count; ++i) blocks += ceil_div(b.out[i].n_rows, rows_per_block);
  for (int t0 = 0; t0 < n_tokens; t0 += kMatvecMaxTokens) {
    const int nt = n_tokens - t0 < kMatvecMaxTokens ? n_tokens - t0 : kMatvecMaxTokens;
    matvec_q8_legacy_kernel<T, U><<<blocks, kWarpsPerBlock * kWarp, 0, stream>>>(
        b, row_bytes, n_units, x.q + int64_t(t0) * n_cols, x.ds + int64_t(t0) * n_cols / 16, n_cols, nt, t0, wpr);
  }
}

}  // namespace

bool matvec_q8_supported(GgmlType type, int64_t n_cols) {
  switch (type) {
    case GgmlType::Q8_0: case GgmlType::Q5_0:
      return n_cols % 32 == 0 && n_cols / 32 * 4 < (int64_t(1) << 30);
    case GgmlType::Q4_K: case GgmlType::Q6_K:
      return n_cols % 256 == 0 && n_cols / 256 * 8 < (int64_t(1) << 30);
    default:
      return false;
  }
}

void set_matvec_q8_variant(int v) { g_variant = v; }

bool matvec_q8(GgmlType type, const void* w, int64_t n_cols, int64_t n_rows, ActQ8 x, int n_tokens, float* y,
               const float* bias, cudaStream_t stream) {
  if (n_rows == 0) return matvec_q8_supported(type, n_cols);
  const MatvecQ8Output out{w, y, bias, n_rows};
  return matvec_q8_multi(type, n_cols, &out, 1, x, n_tokens, stream);
}

bool matvec_q8_multi(GgmlType type, int64_t n_cols, const MatvecQ8Output* outs, int count, ActQ8 x, int n_tokens,
                     cudaStream_t stream) {
  if (!matvec_q8_supported(type, n_cols) || count < 1 || count > kMatvecQ8MaxOutputs) return false;
  if (n_tokens <= 0) return n_tokens == 0;
  Batch b{};
  b.count = count;
  for (int i = 0; i < count; ++i) {
    if (outs[i].n_rows <= 0) return false;
    b.out[i] = outs[i];
    b.first_row[i + 1] = b.first_row[i] + outs[i].n_rows;
  }
  for (int i = count + 1; i <= kMatvecQ8MaxOutputs; ++i) b.first_row[i] = b.first_row[count];
  if (g_variant == 1) {
    switch (type) {
      case GgmlType::Q8_0: launch_legacy<GgmlType::Q8_0, 4>(b, n_cols, x, n_tokens, stream); break;
      case GgmlType::Q5_0: launch_legacy<GgmlType::Q5_0, 4>(b, n_cols, x, n_tokens, stream); break;
      case GgmlType::Q4_K: launch_legacy<GgmlType::Q4_K, 2>(b, n_cols, x, n_tokens, stream); break;
      default: launch_legacy<GgmlType::Q6_K, 2>(b, n_cols, x, n_tokens, stream); break;
    }
    return true;
  }
  switch (type) {
    case GgmlType::Q8_0: launch_stream_tokens<GgmlType::Q8_0>(b, n_cols, x, n_tokens, stream); break;
    case GgmlType::Q5_0: launch_stream_tokens<GgmlType::Q5_0>(b, n_cols, x, n_tokens, stream); break;
    case GgmlType::Q4_K: launch_stream_tokens<GgmlType::Q4_K>(b, n_cols, x, n_tokens, stream); break;
    default: launch_stream_tokens<GgmlType::Q6_K>(b, n_cols, x, n_tokens, stream); break;
  }
  return true;
}

}  // namespace pensieve::cuda
