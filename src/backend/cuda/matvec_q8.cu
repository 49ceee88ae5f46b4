#include <atomic>
#include <cstdlib>

#include "backend/cuda/common.cuh"
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

// ---------------------------------------------------------------- the row-stream kernel (variant 1)
//
// A block of 4 warps; `wpr` warps (1, 2 or 4) form a group that computes one row at a time. The
// grid is at most one wave (blocks_per_sm blocks per SM) and each group walks its rows
// v0, v0 + n_groups, ... (every block takes the same number of rounds: the group barrier of
// wpr > 1 stays uniform). A row is cut into chunks of U units per lane (about 64 bytes per lane
// in flight, loaded before any is used); a unit is a (weight block, part) pair as in
// vecdot_q8.cuh, and lane l of the group takes units l, l + 32 wpr, ... so the lanes of a warp
// read consecutive bytes.
//
// Used for rows too wide for the staged kernel's ring, and for A/B measurements (variant 1).
// How it streams: the group's chunks form one stream, and the group's first lane
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

// Units per lane per chunk: ~64 bytes of weights per lane for the 32-element types and Q4_K
// (2 parts of 32 quant bytes), one Q6_K part (48 bytes; its fragment is 20 registers).
template <GgmlType T>
constexpr int units_per_lane() {
  return T == GgmlType::Q8_0 || T == GgmlType::Q5_0 ? 4 : T == GgmlType::Q4_K ? 2 : 1;
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
  pdl_wait();  // activations and y below; no early pdl_trigger(): see pdl.cuh

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

int knob(const char* name, int def, int lo, int hi);  // below

// Whether a mat-vec launch reading `bytes` of weights is launched with PDL: launches up to
// 100 MB are (PENSIEVE_MV_PDL_MAX_MB overrides). Measured on the H100, pensieve bench tg128
// (bench/RESULTS.md): with PDL on every launch llama-8b Q8_0 decoded at 206 t/s, with the
// launches over 100 MB (its gate/up, 125 MB, and output, 558 MB) plain at 225, and with PDL
// off everywhere at 220; Q4_K_M and qwen2-0.5b were as fast or faster with the limit too. Why
// the largest launches lose is not established.
bool matvec_pdl(int64_t bytes) {
  static const int64_t max_bytes = int64_t(knob("PENSIEVE_MV_PDL_MAX_MB", 100, 0, 1 << 20)) << 20;
  return bytes <= max_bytes;
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
  // PENSIEVE_MV_PREFETCH_MB overrides kPrefetchBudget for A/B runs (0: no lookahead prefetch).
  static const int64_t budget = int64_t(knob("PENSIEVE_MV_PREFETCH_MB", int(kPrefetchBudget >> 20), 0, 48)) << 20;
  const int64_t la = budget / ahead;
  const int lookahead = int(la < 0 ? 0 : la > kMaxLookahead ? kMaxLookahead : la);
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
  (void)launch_maybe_pdl(matvec_pdl(total * row_bytes), matvec_q8_stream_kernel<T, U, NT>, dim3(unsigned(s.blocks)), dim3(kWarpsPerBlock * kWarp), 0,
                   stream, b, total, row_bytes, n_units, x.q + t0 * n_cols, x.ds + t0 * n_cols / 16, n_cols,
                   n_tokens, t0, s.wpr, s.lookahead);
}

// ---------------------------------------------------------------- the staged kernel (default)
//
// The rows of an output matrix lie end to end, so k consecutive rows are one contiguous byte
// range: a tile. Each block (8 warps, up to 3 per SM, one wave) takes tiles blockIdx.x,
// blockIdx.x + gridDim.x, ... and streams them through a ring of kStages shared-memory stages
// with 1-D bulk copies (cp.async.bulk, the TMA engine) that complete on one mbarrier per stage;
// the warps decode from shared memory. Why: one thread keeps kStages - 1 tiles (~100-150 KB
// per SM) requested with a handful of instructions, as long 16-byte aligned transfers whatever the
// 34- / 210-byte block layout, and the lanes spend their instructions on dp4a instead of address
// arithmetic and narrow unaligned global loads. The first tiles are requested before pdl_wait()
// (weights only), while the previous kernel finishes.
//
// Measured (H100, one token): tiles of ~16 KB, 4 stages, 3 blocks per SM did best; smaller
// tiles or fewer stages were much slower (4 KB tiles: about half the bandwidth), which points at
// a per-copy cost (latency) rather than DRAM; not yet understood, see launch() for where it wins.
//
// In a tile of k rows, wpr = 8 / k warps share a row; their partial sums meet in shared memory
// at the barrier that also frees the stage. A copy starts at the 16-byte boundary at or below
// the tile (inside the matrix: it starts 16-byte aligned) and ends at the one at or above it
// (inside the weights' padding); `head` is the tile's offset in its stage, so shared addresses
// keep the global alignment mod 16 and the loads of vecdot_q8.cuh stay aligned.

constexpr int kStagedWarps = 8;
constexpr int kStages = 4;
constexpr int kMaxStages = 8;
constexpr int kStagedMaxSmem = 200 << 10;  // ring bytes per block; wider rows take the row stream
constexpr int kSmemPerSm = 228 << 10;      // sm_90, including 1 KB reserved per block

struct Tiles {
  int first[kMatvecQ8MaxOutputs + 1];  // output m owns tiles [first[m], first[m + 1]); the last: all
  int rows;                            // k, rows per tile
  int wpr;                             // warps per row: kStagedWarps / k
  int stage_bytes;                     // stride of the ring's stages (a multiple of 128)
  int n_stages;                        // stages in the ring
};

__device__ __forceinline__ uint32_t smem_u32(const void* p) { return uint32_t(__cvta_generic_to_shared(p)); }

// Arms `bar` for `bytes` and copies [src, src + bytes) to dst (both 16-byte aligned, bytes a
// multiple of 16); the barrier's phase completes when the bytes have landed.
__device__ __forceinline__ void bulk_load(void* dst, const void* src, uint32_t bytes, uint64_t* bar) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(smem_u32(bar)), "r"(bytes) : "memory");
  asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::"r"(
                   smem_u32(dst)),
               "l"(src), "r"(bytes), "r"(smem_u32(bar))
               : "memory");
}

__device__ __forceinline__ void mbar_wait(uint64_t* bar, uint32_t parity) {
  uint32_t done = 0;
  do {
    asm volatile(
        "{\n\t.reg .pred p;\n\tmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n\tselp.u32 %0, 1, 0, p;\n\t}"
        : "=r"(done)
        : "r"(smem_u32(bar)), "r"(parity)
        : "memory");
  } while (!done);
}

// Tile t: its output, first row, row count and the aligned byte range that is copied.
struct TileRef {
  MatvecQ8Output o;
  int64_t row0;
  int rows;
  const uint8_t* src;  // 16-byte aligned, at or below the tile's first byte
  int head;            // tile start - src
  uint32_t bytes;      // copy size, a multiple of 16
};

__device__ __forceinline__ TileRef locate_tile(const Batch& b, const Tiles& tl, int t, int64_t row_bytes) {
  const int m = (b.count > 1 && t >= tl.first[1]) + (b.count > 2 && t >= tl.first[2]);
  TileRef r;
  r.o = m == 0 ? b.out[0] : m == 1 ? b.out[1] : b.out[2];
  r.row0 = int64_t(t - (m == 0 ? 0 : m == 1 ? tl.first[1] : tl.first[2])) * tl.rows;
  const int64_t left = r.o.n_rows - r.row0;
  r.rows = left < tl.rows ? int(left) : tl.rows;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(r.o.w) + uintptr_t(r.row0 * row_bytes);
  const uintptr_t lo = begin & ~uintptr_t(15);
  r.src = reinterpret_cast<const uint8_t*>(lo);
  r.head = int(begin - lo);
  r.bytes = uint32_t((r.head + r.rows * row_bytes + 15) & ~int64_t(15));
  return r;
}

template <GgmlType T, int U, int NT>
__global__ void __launch_bounds__(kStagedWarps * kWarp, 3)
    matvec_q8_staged_kernel(const Batch batch, const Tiles tiles, int64_t row_bytes, int n_units,
                            const int8_t* __restrict__ xq, const float* __restrict__ xds, int64_t n_cols,
                            int n_tokens, int64_t y_token_offset) {
  using V = q8::VecDot<T>;
  extern __shared__ __align__(128) uint8_t ring[];
  __shared__ uint64_t full[kMaxStages];
  __shared__ float partial[2][kStagedWarps][NT];  // by tile parity: one barrier per tile
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  const int n_tiles = tiles.first[kMatvecQ8MaxOutputs];  // all (a constant index keeps the struct in registers)
  const int n_mine = (n_tiles - int(blockIdx.x) + int(gridDim.x) - 1) / int(gridDim.x);
  auto tile_of = [&](int i) { return int(blockIdx.x) + i * int(gridDim.x); };
  if (threadIdx.x == 0) {
    for (int s = 0; s < tiles.n_stages; ++s)
      asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(smem_u32(&full[s])) : "memory");
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
    for (int i = 0; i < tiles.n_stages && i < n_mine; ++i) {
      const TileRef r = locate_tile(batch, tiles, tile_of(i), row_bytes);
      bulk_load(ring + i * tiles.stage_bytes, r.src, r.bytes, &full[i]);
    }
  }
  __syncthreads();  // the barriers are initialized
  pdl_wait();  // activations and y below; no early pdl_trigger(): see pdl.cuh

  const int row = warp / tiles.wpr, gpart = warp % tiles.wpr;
  const int part = lane % V::kParts;  // (u % kParts: the other terms of u are multiples of 32)
  const int step = kWarp * tiles.wpr;
  // One token and at most one unit per lane in a row: the lane takes the same unit of every
  // row, so it loads its activations once, here, instead of once per row (the activation loads
  // of a K-quant part cost more L1 wavefronts than its weights). One unit: two would spill.
  constexpr bool kMayCache = NT == 1;
  const int u_mine = gpart * kWarp + lane;
  const bool cached = kMayCache && n_units <= step;
  typename V::X xc;
  if (cached && u_mine < n_units)
    xc = V::load_x(xq + (u_mine / V::kParts) * V::kBlockElems, xds + (u_mine / V::kParts) * V::kBlockElems / 16, part);
  for (int i = 0; i < n_mine; ++i) {
    const int s = i % tiles.n_stages;
    const TileRef r = locate_tile(batch, tiles, tile_of(i), row_bytes);
    float acc[NT] = {};
    mbar_wait(&full[s], uint32_t(i / tiles.n_stages) & 1);
    if (row < r.rows) {
      const uint8_t* w = ring + s * tiles.stage_bytes + r.head + row * row_bytes;
      if (kMayCache && cached && u_mine < n_units)
        acc[0] += V::dot(V::template load<false>(w + (u_mine / V::kParts) * V::kBytes, part), xc);
      for (int u0 = gpart * kWarp + lane; !(kMayCache && cached) && u0 < n_units; u0 += U * step) {
        typename V::Frag f[U];
#pragma unroll
        for (int j = 0; j < U; ++j) {
          const int u = u0 + j * step;
          if (u < n_units) f[j] = V::template load<false>(w + (u / V::kParts) * V::kBytes, part);
        }
#pragma unroll
        for (int j = 0; j < U; ++j) {
          const int u = u0 + j * step;
          if (u >= n_units) continue;
          const int64_t e = int64_t(u / V::kParts) * V::kBlockElems;  // first element of the block
#pragma unroll
          for (int t = 0; t < NT; ++t) {
            if (t < n_tokens) {
              const int64_t off = t * n_cols + e;
              acc[t] += V::dot(f[j], part, xq + off, xds + off / 16);
            }
          }
        }
      }
    }
    float sum = 0.0f;  // lane t: token t's sum over this warp's units
#pragma unroll
    for (int t = 0; t < NT; ++t) {
      const float v = warp_sum(acc[t]);
      if (lane == t) sum = v;
    }
    if (lane < NT) partial[i & 1][warp][lane] = sum;
    __syncthreads();  // stage s is read and the partial sums are in
    if (threadIdx.x == 0 && i + tiles.n_stages < n_mine) {
      const TileRef n = locate_tile(batch, tiles, tile_of(i + tiles.n_stages), row_bytes);
      asm volatile("fence.proxy.async.shared::cta;" ::: "memory");  // generic reads before the async write
      bulk_load(ring + s * tiles.stage_bytes, n.src, n.bytes, &full[s]);
    }
    if (gpart == 0 && row < r.rows && lane < n_tokens) {
      for (int p = 1; p < tiles.wpr; ++p) sum += partial[i & 1][warp + p][lane];
      const int64_t y_row = r.row0 + row;
      r.o.y[(y_token_offset + lane) * r.o.n_rows + y_row] = sum + (r.o.bias ? r.o.bias[y_row] : 0.0f);
    }
  }
}

// Lets kernel<T, U, NT> take kStagedMaxSmem bytes of dynamic shared memory, once per device.
template <GgmlType T, int U, int NT>
bool allow_staged_smem() {
  static std::atomic<uint64_t> done_mask{0};  // one per kernel
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess || dev >= 64) return false;
  const uint64_t bit = uint64_t(1) << dev;
  if (done_mask.load(std::memory_order_relaxed) & bit) return true;
  if (cudaFuncSetAttribute(matvec_q8_staged_kernel<T, U, NT>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                           kStagedMaxSmem) != cudaSuccess)
    return false;
  done_mask.fetch_or(bit, std::memory_order_relaxed);
  return true;
}

// Tuning knobs for measurements (read once per kernel): PENSIEVE_MV_STAGE_KB (tile bytes aimed
// at, default 16 KB; Q8_0 32 KB), PENSIEVE_MV_STAGES (4; Q8_0 3), PENSIEVE_MV_PER_SM (blocks per SM, 3).
int knob(const char* name, int def, int lo, int hi) {
  const char* v = std::getenv(name);
  const int x = v && *v ? std::atoi(v) : def;
  return x < lo ? lo : x > hi ? hi : x;
}

// Launches the staged kernel; false when the rows are too wide for its ring (nothing launched).
template <GgmlType T, int NT>
bool launch_staged(const Batch& b, int64_t n_cols, ActQ8 x, int n_tokens, int64_t t0, cudaStream_t stream) {
  using V = q8::VecDot<T>;
  constexpr int U = units_per_lane<T>();
  const int64_t row_bytes = static_cast<int64_t>(ggml_row_size(T, uint64_t(n_cols)));
  Tiles tl{};
  // Per type (measured, llama-8b decode): Q8_0 takes 32 KB tiles x 3 stages (232 vs 224 t/s
  // with 16 KB x 4); the K-quants keep 16 KB x 4.
  constexpr bool kQ8 = T == GgmlType::Q8_0;
  static const int64_t stage_cap = int64_t(knob("PENSIEVE_MV_STAGE_KB", kQ8 ? 32 : 16, 1, 100)) << 10;
  static const int n_stages = knob("PENSIEVE_MV_STAGES", kQ8 ? 3 : kStages, 2, kMaxStages);
  static const int max_per_sm = knob("PENSIEVE_MV_PER_SM", 3, 1, 4);
  tl.rows = kStagedWarps;
  while (tl.rows > 1 && tl.rows * row_bytes > stage_cap) tl.rows /= 2;
  tl.n_stages = n_stages;
  // One token: halve the tile (and double the stages, same bytes in flight) while that lets
  // every lane keep one unit of every row and so load its activations once (see the kernel).
  // Measured: Q4_K 14336 -> 4096, +6%; not for Q8_0 (4096 -> 2 x 14336: -30%).
  const int n_units = int(n_cols / V::kBlockElems) * V::kParts;
  if (NT == 1 && (T == GgmlType::Q4_K || T == GgmlType::Q6_K))
    while (tl.rows > 1 && n_units > kWarp * (kStagedWarps / tl.rows) && n_units <= kWarp * (2 * kStagedWarps / tl.rows) &&
           2 * tl.n_stages <= kMaxStages)
      tl.rows /= 2, tl.n_stages *= 2;
  tl.wpr = kStagedWarps / tl.rows;
  // + 15: the head; + 16: the last unit's loads may run a few bytes past the tile.
  const int64_t stage = (tl.rows * row_bytes + 15 + 16 + 127) / 128 * 128;
  if (tl.n_stages * stage > kStagedMaxSmem) return false;
  tl.stage_bytes = int(stage);
  int64_t n_tiles = 0;
  for (int m = 0; m < b.count; ++m) {
    tl.first[m] = int(n_tiles);
    n_tiles += (b.out[m].n_rows + tl.rows - 1) / tl.rows;
  }
  if (n_tiles >= (int64_t(1) << 30)) return false;
  for (int m = b.count; m <= kMatvecQ8MaxOutputs; ++m) tl.first[m] = int(n_tiles);
  auto kernel = matvec_q8_staged_kernel<T, U, NT>;
  if (!allow_staged_smem<T, U, NT>()) return false;
  const int smem = tl.n_stages * tl.stage_bytes;
  int per_sm = max_per_sm;
  while (per_sm > 1 && per_sm * (smem + 2048) > kSmemPerSm) --per_sm;
  const int64_t cap = int64_t(sm_count()) * per_sm;
  const int blocks = int(n_tiles < cap ? n_tiles : cap);
  (void)launch_maybe_pdl(matvec_pdl(b.first_row[b.count] * row_bytes), kernel, dim3(unsigned(blocks)), dim3(kStagedWarps * kWarp), size_t(smem), stream, b, tl,
                   row_bytes, n_units, x.q + t0 * n_cols, x.ds + t0 * n_cols / 16, n_cols, n_tokens, t0);
  return true;
}
// Variant 0 (default): the staged kernel where it measured faster on an H100 in every run
// (one token): all K-quant launches (with the activations kept in registers, 1.1-1.6x the row
// stream), wide Q8_0 rows (>= 7 KB: the 14336-column down projection, +30%) and very large
// launches (>= 100 MB: Q8_0 gate / up, +12%); the row stream for the rest, where the staged kernel measured from 25% slower to as fast, with a large run-to-run
// spread on some shapes (Q8_0 4096 -> 14336, Q5_0 14336 -> 4096: 1.0-2.3 TB/s) that is not
// understood yet. Variant 1: always the row stream; variant 2: always the staged kernel (where
// the rows fit its ring).
template <GgmlType T, int NT>
void launch(const Batch& b, int64_t n_cols, ActQ8 x, int n_tokens, int64_t t0, cudaStream_t stream) {
  const int64_t row_bytes = static_cast<int64_t>(ggml_row_size(T, uint64_t(n_cols)));
  const bool kquant = T == GgmlType::Q4_K || T == GgmlType::Q6_K;
  const bool wide = kquant || (T == GgmlType::Q8_0 && row_bytes >= (7 << 10));
  const bool large = row_bytes * b.first_row[b.count] >= (int64_t(100) << 20);
  const bool staged = g_variant == 2 || (g_variant == 0 && (wide || large));
  if (staged && launch_staged<T, NT>(b, n_cols, x, n_tokens, t0, stream)) return;
  launch_stream<T, NT>(b, n_cols, x, n_tokens, t0, stream);
}

template <GgmlType T>
void launch_tokens(const Batch& b, int64_t n_cols, ActQ8 x, int n_tokens, cudaStream_t stream) {
  static_assert(kMatvecQ8MaxTokens == 8);
  for (int t0 = 0; t0 < n_tokens; t0 += kMatvecQ8MaxTokens) {
    const int nt = n_tokens - t0 < kMatvecQ8MaxTokens ? n_tokens - t0 : kMatvecQ8MaxTokens;
    if (nt == 1) launch<T, 1>(b, n_cols, x, nt, t0, stream);
    else if (nt == 2) launch<T, 2>(b, n_cols, x, nt, t0, stream);
    else if (nt <= 4) launch<T, 4>(b, n_cols, x, nt, t0, stream);
    else launch<T, 8>(b, n_cols, x, nt, t0, stream);
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
  switch (type) {
    case GgmlType::Q8_0: launch_tokens<GgmlType::Q8_0>(b, n_cols, x, n_tokens, stream); break;
    case GgmlType::Q5_0: launch_tokens<GgmlType::Q5_0>(b, n_cols, x, n_tokens, stream); break;
    case GgmlType::Q4_K: launch_tokens<GgmlType::Q4_K>(b, n_cols, x, n_tokens, stream); break;
    default: launch_tokens<GgmlType::Q6_K>(b, n_cols, x, n_tokens, stream); break;
  }
  return true;
}

}  // namespace pensieve::cuda
