// matmul driver: quantizes the activations once, then splits (rows x tokens) into tiles for
// the active ISA's kernels over the thread pool.
#include "backend/cpu/matmul.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "backend/cpu/kernels_table.h"
#include "backend/cpu/vec_dot.h"
#include "quant/quant.h"
#include "util/status.h"

namespace pensieve::cpu {
namespace {

// Rows per chunk at most: the weights of one chunk stay in L2 while every token chunk passes
// over them.
constexpr int64_t kRowBlockBytes = 192 * 1024;
constexpr int64_t kTokenChunk = 64;
// From this many tokens the self-blocking (GEMM) tiles take over; fewer tokens use the
// decode tiles, which need no weight repacking.
constexpr int64_t kSelfBlockingMinTokens = 6;

size_t act_row_bytes(GgmlType act, int64_t n) {
  if (act == GgmlType::F32) return static_cast<size_t>(n) * sizeof(float);
  return ggml_row_size(act, static_cast<uint64_t>(n));
}

// Reused across calls on the same calling thread: no allocation per decode step.
std::vector<uint8_t>& act_buffer() {
  thread_local std::vector<uint8_t> buf;
  return buf;
}

void run_parallel(ThreadPool* pool, const std::function<void(int, int)>& fn) {
  if (pool == nullptr || pool->size() <= 1) {
    fn(0, 1);
  } else {
    pool->run(fn);
  }
}

// fn(c) for every c in [0, n_chunks); the threads claim chunks as they go, so one that starts
// late (or is preempted on a busy machine) just does fewer.
template <class Fn>
void parallel_chunks(ThreadPool* pool, int64_t n_chunks, const Fn& fn) {
  if (pool == nullptr || pool->size() <= 1 || n_chunks <= 1) {
    for (int64_t c = 0; c < n_chunks; ++c) fn(c);
    return;
  }
  std::atomic<int64_t> next{0};
  pool->run([&](int, int) {
    for (int64_t c = next.fetch_add(1, std::memory_order_relaxed); c < n_chunks;
         c = next.fetch_add(1, std::memory_order_relaxed))
      fn(c);
  });
}

}  // namespace

bool matmul_supported(GgmlType type) {
  const int t = static_cast<int>(type);
  return t >= 0 && t < kNumGgmlTypes && vec_dot_ref_fn(type) != nullptr;
}

void matmul(const WeightView& w, const float* x, int64_t n_tokens, float* y, ThreadPool* pool) {
  PS_ASSERT(matmul_supported(w.type), "matmul: unsupported weight type");
  if (w.n_rows <= 0 || n_tokens <= 0) return;
  const CpuKernelTable& table = active_kernel_table();
  const GgmlType act = vec_dot_act_type(w.type);
  const int64_t n = w.n_cols;
  const size_t x_stride = act_row_bytes(act, n);
  const size_t w_stride = ggml_row_size(w.type, static_cast<uint64_t>(n));
  const uint8_t* xa = reinterpret_cast<const uint8_t*>(x);
  const int n_threads = pool == nullptr ? 1 : pool->size();

  if (act != GgmlType::F32) {
    std::vector<uint8_t>& buf = act_buffer();
    if (buf.size() < x_stride * n_tokens) buf.resize(x_stride * n_tokens);
    const QuantizeActFn quantize = table.quantize[static_cast<int>(act)];
    uint8_t* dst = buf.data();
    if (n_tokens >= 4 && n_threads > 1) {
      run_parallel(pool, [&](int i, int nth) {
        const Range tr = split_range(n_tokens, i, nth);
        for (int64_t t = tr.begin; t < tr.end; ++t) quantize(x + t * n, dst + t * x_stride, n);
      });
    } else {
      for (int64_t t = 0; t < n_tokens; ++t) quantize(x + t * n, dst + t * x_stride, n);
    }
    xa = dst;
  }

  const TileFn tile = table.tile[static_cast<int>(w.type)];
  const auto* wb = static_cast<const uint8_t*>(w.data);
  // Self-blocking (GEMM) tiles take a 32-row panel and every token per call. Otherwise a chunk
  // is a range of 16-row groups, small enough that each thread gets several (so a thread the
  // OS delays does not hold the others up) and at most L2-sized; tokens go in chunks.
  const bool self_blocking = table.self_blocking[static_cast<int>(w.type)] && n_tokens >= kSelfBlockingMinTokens;
  const int64_t max_rows = std::max<int64_t>(16, (kRowBlockBytes / static_cast<int64_t>(w_stride)) / 16 * 16);
  const int64_t chunk_rows =
      self_blocking ? 32 : std::clamp<int64_t>((w.n_rows / (4 * n_threads) + 15) / 16 * 16, 16, max_rows);
  const int64_t n_chunks = (w.n_rows + chunk_rows - 1) / chunk_rows;
  parallel_chunks(pool, n_chunks, [&](int64_t c) {
    const int64_t r0 = c * chunk_rows;
    const int nr = static_cast<int>(std::min(chunk_rows, w.n_rows - r0));
    if (self_blocking) {
      tile(n, wb + r0 * w_stride, w_stride, nr, xa, x_stride, static_cast<int>(n_tokens), y + r0, w.n_rows);
      return;
    }
    for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokenChunk) {
      const int nt = static_cast<int>(std::min(kTokenChunk, n_tokens - t0));
      tile(n, wb + r0 * w_stride, w_stride, nr, xa + t0 * x_stride, x_stride, nt, y + t0 * w.n_rows + r0, w.n_rows);
    }
  });
}

void matmul_ref(const WeightView& w, const float* x, int64_t n_tokens, float* y) {
  PS_ASSERT(matmul_supported(w.type), "matmul_ref: unsupported weight type");
  const GgmlType act = vec_dot_act_type(w.type);
  const VecDotFn dot = vec_dot_ref_fn(w.type);
  const int64_t n = w.n_cols;
  const size_t w_stride = ggml_row_size(w.type, static_cast<uint64_t>(n));
  std::vector<uint8_t> xq(act_row_bytes(act, n));
  const auto* wb = static_cast<const uint8_t*>(w.data);
  for (int64_t t = 0; t < n_tokens; ++t) {
    quantize_act_ref(act, x + t * n, xq.data(), n);
    for (int64_t r = 0; r < w.n_rows; ++r) y[t * w.n_rows + r] = dot(n, wb + r * w_stride, xq.data());
  }
}

void get_row(const WeightView& w, int64_t row, float* dst) {
  PS_ASSERT(row >= 0 && row < w.n_rows, "get_row: row out of range");
  const size_t w_stride = ggml_row_size(w.type, static_cast<uint64_t>(w.n_cols));
  const uint8_t* src = static_cast<const uint8_t*>(w.data) + row * w_stride;
  switch (w.type) {
    case GgmlType::F32:
      std::memcpy(dst, src, static_cast<size_t>(w.n_cols) * sizeof(float));
      break;
    case GgmlType::F16: {
      const auto* h = reinterpret_cast<const fp16_t*>(src);
      for (int64_t i = 0; i < w.n_cols; ++i) dst[i] = fp16_to_fp32(h[i]);
      break;
    }
    case GgmlType::BF16: {
      const auto* h = reinterpret_cast<const bf16_t*>(src);
      for (int64_t i = 0; i < w.n_cols; ++i) dst[i] = bf16_to_fp32(h[i]);
      break;
    }
    default:
      dequantize_row(w.type, src, dst, w.n_cols);
      break;
  }
}

const char* cpu_kernel_isa() { return cpu_isa_name(active_kernel_table().isa); }

}  // namespace pensieve::cpu
