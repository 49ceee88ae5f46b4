#include "backend/cuda/cuda_ops.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <limits>

#include "backend/cuda/attention.cuh"
#include "backend/cuda/attention_prefill.cuh"
#include "backend/cuda/cuda_error.h"
#include "backend/cuda/cuda_ops_detail.h"
#include "backend/cuda/dequant_rows.cuh"
#include "backend/cuda/elementwise.cuh"
#include "backend/cuda/matvec.cuh"
#include "backend/cuda/matvec_q8.cuh"
#include "quant/quant.h"

namespace pensieve::cuda {

using backend::Weight;

using namespace ops_detail;

// read_argmax: from this many rows up, token masks are made while the forward pass runs.
constexpr int kMaskOverlapMinRows = 8;

Result<std::unique_ptr<CudaOps>> CudaOps::create(int device, const CudaOpsOptions& options) {
  ContextOptions co;
  co.pool_cap_bytes = options.pool_cap_bytes;
  auto ctx = Context::create(device, co);
  if (!ctx.ok()) return ctx.error();
  std::unique_ptr<CudaOps> ops(new CudaOps());
  ops->ctx_ = std::move(*ctx);
  ops->options_ = options;
  // A/B runs of the mat-vec kernels without a rebuild (matvec_q8.cuh: 0 = default choice).
  if (const char* v = std::getenv("PENSIEVE_CUDA_MATVEC_VARIANT"); v && *v) set_matvec_q8_variant(std::atoi(v));
  // Token-count thresholds of the matmul paths and graph capture, for A/B runs (cuda_ops.h).
  auto from_env = [](const char* name, int* field, int min) {
    if (const char* v = std::getenv(name); v && *v && std::atoi(v) >= min) *field = std::atoi(v);
  };
  from_env("PENSIEVE_CUDA_MATVEC_MAX_TOKENS", &ops->options_.matvec_max_tokens, 1);
  from_env("PENSIEVE_CUDA_MMA_MIN_TOKENS", &ops->options_.mma_min_tokens, 0);
  from_env("PENSIEVE_CUDA_MMA_MAX_TOKENS", &ops->options_.mma_max_tokens, 0);
  from_env("PENSIEVE_CUDA_GRAPH_MAX_TOKENS", &ops->options_.graph_max_tokens, 0);
  if (ops->options_.batch_invariant) ops->options_.int8_matvec = false;
  PS_TRY(ops->gemm_.init(ops->ctx_->stream(), &ops->ctx_->pool()));
  PS_CUDA_TRY(cudaEventCreateWithFlags(&ops->inputs_copied_, cudaEventDisableTiming));
  return ops;
}

CudaOps::~CudaOps() {
  if (!ctx_) return;
  (void)ctx_->make_current();
  cudaStreamSynchronize(ctx_->stream());
  graphs_.clear();
  if (inputs_copied_) cudaEventDestroy(inputs_copied_);
  if (host_inputs_) cudaFreeHost(host_inputs_);
  if (argmax_host_) cudaFreeHost(argmax_host_);
  if (allowed_host_) cudaFreeHost(allowed_host_);
  if (read_host_) cudaFreeHost(read_host_);
  if (k_pool_) cudaFree(k_pool_);
  if (v_pool_) cudaFree(v_pool_);
  // Pool buffers (activations, scratch) and weights are freed by the context.
}

std::string CudaOps::device() const { return "cuda:" + std::to_string(ctx_->index()); }

void CudaOps::fail(Error e) {
  if (status_.ok()) status_ = std::move(e);
}

void CudaOps::fail_cuda(int code, const char* what) { fail(cuda_error(static_cast<cudaError_t>(code), what)); }

Status CudaOps::init(int max_tokens_per_step) {
  if (max_tokens_per_step <= 0) return make_error(ErrorKind::invalid_request, "init: max_tokens_per_step must be > 0");
  max_tokens_ = max_tokens_per_step;
  return ensure_inputs(max_tokens_, 1);
}

float* CudaOps::alloc(int64_t n) {
  auto p = ctx_->pool().acquire(std::max<int64_t>(n, 1) * int64_t(sizeof(float)));
  if (!p.ok()) {
    fail(p.error());
    return nullptr;
  }
  const cudaError_t e = cudaMemsetAsync(*p, 0, size_t(n) * sizeof(float), ctx_->stream());
  if (e != cudaSuccess) fail_cuda(e, "cudaMemsetAsync (alloc)");
  activations_.push_back(*p);
  return static_cast<float*>(*p);
}

Result<Weight> CudaOps::bind_weight(const Weight& host, std::string_view name) {
  const GgmlTypeInfo* ti = ggml_type_info(static_cast<uint32_t>(host.type));
  if (ti == nullptr || host.data == nullptr || host.n_cols <= 0 || host.n_rows <= 0)
    return make_error(ErrorKind::model_load_failed, "weight " + std::string(name) + ": empty or of an unknown type");
  Weight dev = host;
  if (host.n_rows == 1 && host.type != GgmlType::F32) {
    // Vectors (norm weights, biases) are read as F32 by the kernels: convert once here.
    if (!can_dequantize(host.type))
      return make_error(ErrorKind::model_load_failed, "weight " + std::string(name) + ": type " +
                                                          std::string(ggml_type_name(host.type)) + " not supported");
    std::vector<float> f(static_cast<size_t>(host.n_cols));
    dequantize_row(host.type, host.data, f.data(), host.n_cols);
    auto p = ctx_->weights().upload_converted(host.data, f.data(), host.n_cols * 4, ctx_->stream());
    if (!p.ok()) return p.error();
    dev.type = GgmlType::F32;
    dev.data = *p;
    return dev;
  }
  if (!dequant_supported(host.type, host.n_cols))
    return make_error(ErrorKind::model_load_failed,
                      "weight " + std::string(name) + ": type " + std::string(ggml_type_name(host.type)) + " with " +
                          std::to_string(host.n_cols) + " columns is not supported by the CUDA backend");
  const int64_t bytes = static_cast<int64_t>(ggml_row_size(host.type, host.n_cols)) * host.n_rows;
  auto p = ctx_->weights().upload(host.data, bytes, ctx_->stream());
  if (!p.ok()) return p.error();
  dev.data = *p;
  if (options_.int8_matvec && matvec_q8_supported(host.type, host.n_cols)) {
    PS_TRY(ensure_act_scratch(host.n_cols));
    have_q8_weights_ = true;
  }
  return dev;
}

Status CudaOps::ensure_act_scratch(int64_t n_cols) {
  const int64_t need = int64_t(std::max(options_.matvec_max_tokens, 1)) * ((n_cols + 31) / 32 * 32);
  if (need <= act_cap_) return ok_status();
  PS_CUDA_TRY(cudaStreamSynchronize(ctx_->stream()));
  if (act_q8_.q) ctx_->pool().release(act_q8_.q);
  if (act_q8_.ds) ctx_->pool().release(act_q8_.ds);
  act_q8_ = ActQ8{};
  act_cap_ = 0;
  auto q = ctx_->pool().acquire(need);
  if (!q.ok()) return q.error();
  act_q8_.q = static_cast<int8_t*>(*q);
  auto ds = ctx_->pool().acquire(need / 16 * int64_t(sizeof(float)));
  if (!ds.ok()) return ds.error();
  act_q8_.ds = static_cast<float*>(*ds);
  act_cap_ = need;
  act_src_ = nullptr;
  graphs_.clear();  // recorded kernels point at the old buffers
  return ok_status();
}

Status CudaOps::grow_scratch(void** buf, int64_t* cap_bytes, int64_t bytes, bool zero, const char* what) {
  if (bytes <= *cap_bytes) return ok_status();
  if (mode_ != Mode::direct) return make_error(ErrorKind::internal, std::string(what) + " grew during capture");
  if (*buf) ctx_->pool().release(*buf);
  *buf = nullptr;
  *cap_bytes = 0;
  auto p = ctx_->pool().acquire(bytes);
  if (!p.ok()) return p.error();
  if (zero) PS_CUDA_TRY(cudaMemsetAsync(*p, 0, size_t(bytes), ctx_->stream()));
  *buf = *p;
  *cap_bytes = bytes;
  graphs_.clear();
  return ok_status();
}

bool CudaOps::can_quantize_output(int64_t n) const {
  return in_step_ && have_q8_weights_ && options_.int8_matvec && step_tokens_ <= options_.matvec_max_tokens &&
         n % 32 == 0 && n <= act_cap_;
}

Status CudaOps::init_kv_cache(const backend::KvCacheShape& s) {
  if (s.n_layers <= 0 || s.n_kv_heads <= 0 || s.head_dim <= 0 || s.block_size <= 0 || s.n_blocks <= 0 ||
      !backend::EnumValid(s.type))
    return make_error(ErrorKind::invalid_request, "init_kv_cache: bad shape");
  if (s.head_dim > kAttnMaxHeadDim)
    return make_error(ErrorKind::model_load_failed,
                      "head_dim " + std::to_string(s.head_dim) + " exceeds the CUDA attention limit of " +
                          std::to_string(kAttnMaxHeadDim));
  if (k_pool_) cudaFree(k_pool_);
  if (v_pool_) cudaFree(v_pool_);
  k_pool_ = v_pool_ = nullptr;
  kv_shape_ = s;
  const int64_t per_pool = int64_t(s.n_layers) * s.n_blocks * s.block_size * s.n_kv_heads * s.head_dim *
                           backend::kv_type_bytes(s.type);
  for (void** p : {&k_pool_, &v_pool_}) {
    if (cudaMalloc(p, size_t(per_pool)) != cudaSuccess) {
      cudaGetLastError();
      auto mem = memory_info();
      return make_error(ErrorKind::resource_exhausted,
                        "out of GPU memory: the KV cache needs 2 x " + std::to_string(per_pool) + " bytes, " +
                            (mem.ok() ? std::to_string(mem->first) : std::string("?")) + " bytes free");
    }
    PS_CUDA_TRY(cudaMemset(*p, 0, size_t(per_pool)));
  }
  kv_bytes_ = 2 * per_pool;
  graphs_.clear();
  return ensure_inputs(std::max(max_tokens_, 1), 1);
}

void CudaOps::set_rope(const backend::RopeTable& rope) {
  n_rot_ = rope.n_rot;
  neox_ = rope.style == backend::RopeStyle::neox;
  mscale_ = rope.mscale;
  if (rope.inv_freq.empty()) return;
  if (inv_freq_) ctx_->pool().release(inv_freq_);
  auto p = ctx_->pool().acquire(int64_t(rope.inv_freq.size()) * 4);
  if (!p.ok()) return fail(p.error());
  inv_freq_ = static_cast<float*>(*p);
  const cudaError_t e = cudaMemcpy(inv_freq_, rope.inv_freq.data(), rope.inv_freq.size() * 4, cudaMemcpyHostToDevice);
  if (e != cudaSuccess) fail_cuda(e, "cudaMemcpy (rope table)");
  graphs_.clear();
}

int64_t CudaOps::memory_bytes() const {
  return ctx_->weights().bytes() + ctx_->pool().stats().bytes_in_use + kv_bytes_;
}

int64_t CudaOps::free_memory_bytes() const {
  auto mem = memory_info();
  return mem.ok() ? mem->first : -1;
}

// ---------------------------------------------------------------- per-step inputs

const int32_t* CudaOps::dev_ints(int which) const { return dev_inputs_ + int64_t(which) * inputs_rows_; }

Status CudaOps::ensure_inputs(int n_tokens, int n_seqs) {
  const int rows = std::max({max_tokens_, n_tokens, n_seqs, inputs_rows_});
  const int stride = std::max(bt_stride_, 1);
  const int64_t need = int64_t(rows) * (kBlockTables + int64_t(stride));
  if (need <= inputs_cap_ && rows == inputs_rows_ && stride == bt_stride_) return ok_status();
  PS_CUDA_TRY(cudaStreamSynchronize(ctx_->stream()));
  if (host_inputs_) cudaFreeHost(host_inputs_);
  if (dev_inputs_) ctx_->pool().release(dev_inputs_);
  host_inputs_ = nullptr;
  dev_inputs_ = nullptr;
  PS_CUDA_TRY(cudaMallocHost(reinterpret_cast<void**>(&host_inputs_), size_t(need) * 4));
  auto p = ctx_->pool().acquire(need * 4);
  if (!p.ok()) return p.error();
  dev_inputs_ = static_cast<int32_t*>(*p);
  PS_CUDA_TRY(cudaMemset(dev_inputs_, 0, size_t(need) * 4));
  inputs_cap_ = need;
  inputs_rows_ = rows;
  bt_stride_ = stride;
  graphs_.clear();  // recorded kernels point at the old block
  return ok_status();
}

void CudaOps::begin_step(const backend::StepInputs& in) {
  flush_pending();
  if (in_step_) finish_step();
  if (!status_.ok()) return;
  const int nt = in.n_tokens(), ns = in.n_seqs();
  // The block-table rows grow in powers of two (each growth re-lays the inputs and drops the
  // recorded graphs, whose kernels carry the stride).
  if (in.max_blocks > bt_stride_) {
    int stride = 16;
    while (stride < in.max_blocks) stride *= 2;
    bt_stride_ = stride;
    inputs_cap_ = 0;  // forces ensure_inputs to re-lay the block
  }
  if (Status s = ensure_inputs(nt, ns); !s.ok()) return fail(s.error());
  cudaError_t e = cudaEventSynchronize(inputs_copied_);  // the pinned block is free again
  if (e != cudaSuccess) return fail_cuda(e, "cudaEventSynchronize (step inputs)");
  const int M = inputs_rows_;
  auto put = [&](int which, std::span<const int32_t> v) {
    if (!v.empty()) std::memcpy(host_inputs_ + int64_t(which) * M, v.data(), v.size() * 4);
  };
  put(kTokens, in.tokens);
  put(kPositions, in.positions);
  put(kSeqIds, in.seq_ids);
  put(kSlots, in.kv_slots);
  put(kOutRows, in.output_rows);
  put(kSeqLens, in.seq_lens);
  int32_t* bt = host_inputs_ + int64_t(kBlockTables) * M;
  for (int s = 0; s < ns; ++s) {
    int32_t* row = bt + int64_t(s) * bt_stride_;
    const int n = std::min(in.max_blocks, bt_stride_);
    if (n > 0 && int64_t(s + 1) * in.max_blocks <= int64_t(in.block_tables.size()))
      std::memcpy(row, in.block_tables.data() + int64_t(s) * in.max_blocks, size_t(n) * 4);
    std::fill(row + std::max(n, 0), row + bt_stride_, -1);
  }
  const size_t bytes = (size_t(kBlockTables) * M + size_t(ns) * bt_stride_) * 4;
  e = cudaMemcpyAsync(dev_inputs_, host_inputs_, bytes, cudaMemcpyHostToDevice, ctx_->stream());
  if (e != cudaSuccess) return fail_cuda(e, "cudaMemcpyAsync (step inputs)");
  cudaEventRecord(inputs_copied_, ctx_->stream());

  step_tokens_ = nt;
  step_seqs_ = ns;
  step_out_ = static_cast<int>(in.output_rows.size());
  int max_len = 1;
  for (int32_t p : in.positions) max_len = std::max(max_len, p + 1);
  step_max_len_ = max_len;
  // Flash-decoding splits: enough blocks to fill the GPU, down to one 32-key tile each (a decode
  // step has only n_kv_heads blocks per split: 2 on qwen2-0.5b). Bucketed by powers of two so
  // that a decode graph stays valid for many steps.
  // Attention splits in batch-invariant mode: fixed, so a token sees the same key ranges and merge
  // order in every step (empty splits of short sequences are skipped by the merge).
  constexpr int kInvariantSplits = 8;
  step_splits_ = 1;
  // Decode-like steps (at most 2 tokens per sequence on average: many sequences decoding, maybe
  // with a short prompt part) use the flash-decoding kernel; the tensor-core prefill kernel would
  // walk each sequence's keys once per 16-row query tile of mostly other sequences' rows.
  step_decode_attention_ = options_.batch_invariant || nt <= options_.matvec_max_tokens || nt <= 2 * ns;
  if (options_.batch_invariant) {
    step_splits_ = kInvariantSplits;  // the key ranges then depend on each token's own length only
  } else if (step_decode_attention_ && kv_shape_.n_kv_heads > 0) {
    const int blocks = nt * kv_shape_.n_kv_heads;
    const int want = (4 * ctx_->info().sm_count + blocks - 1) / blocks;
    step_splits_ = std::clamp(std::min(want, next_pow2((max_len + 31) / 32)), 1, kAttnMaxSplits);
  }
  step_ops_.clear();
  step_sigs_.clear();
  act_src_ = nullptr;
  in_step_ = true;
  mode_ = Mode::direct;
  key_ = StepKey{nt, ns, step_out_, step_splits_, in.output};
  if (!options_.use_graphs || profiler_ || nt > std::max(options_.matvec_max_tokens, options_.graph_max_tokens)) return;
  StepGraph& g = graphs_[key_];
  if (g.broken) return;
  if (!g.graph.empty()) {
    mode_ = Mode::replay;
  } else if (g.seen++ >= 1) {
    if (Status s = ctx_->begin_capture(); s.ok()) mode_ = Mode::capture;
    else g.broken = true;
  }
}

// ---------------------------------------------------------------- issuing and graphs


void CudaOps::issue(int op, uint64_t sig, Launch launch) {
  flush_pending();  // held-back mat-vecs come first (no-op while flushing)
  act_src_ = nullptr;  // any op may write the quantized activation's source (callers re-set it)
  if (!status_.ok()) return;
  if (!in_step_ || mode_ == Mode::direct) {
    if (profiler_) profiler_->before(op_name(op), ctx_->stream());
    launch(ctx_->stream());
    if (profiler_) profiler_->after(ctx_->stream());
    return;
  }
  step_sigs_.push_back(sig);
  if (mode_ == Mode::capture) {
    launch(ctx_->stream());
    step_ops_.push_back(std::move(launch));
    return;
  }
  StepGraph& g = graphs_[key_];
  const size_t i = step_sigs_.size() - 1;
  if (i < g.ops.size() && g.ops[i] == sig) {
    step_ops_.push_back(std::move(launch));  // deferred: the graph will run it
    return;
  }
  // The model issued something else than what was recorded: run this step op by op.
  discard_graph(g);
  for (auto& op : step_ops_) op(ctx_->stream());
  step_ops_.clear();
  launch(ctx_->stream());
  mode_ = Mode::direct;
}

// A recording that no longer matches what the model issues for its key is dropped and recorded
// again later (a key stands for one shape and output kind, so this should not repeat); a key
// that keeps mismatching runs op by op from then on.
void CudaOps::discard_graph(StepGraph& g) {
  graph_stats_.mismatches++;
  g.graph = Graph();
  g.seen = 0;
  if (++g.mismatches >= 3) g.broken = true;
}

void CudaOps::finish_step() {
  flush_pending();
  act_src_ = nullptr;
  if (!in_step_) return;
  in_step_ = false;
  const Mode mode = mode_;
  mode_ = Mode::direct;
  if (mode == Mode::direct) {
    graph_stats_.direct++;
    return;
  }
  StepGraph& g = graphs_[key_];
  if (mode == Mode::capture) {
    auto graph = ctx_->end_capture();
    if (graph.ok() && status_.ok()) {
      g.graph = std::move(*graph);
      g.ops = step_sigs_;
      graph_stats_.captured++;
      if (Status s = ctx_->launch(g.graph); !s.ok()) fail(s.error());
      return;
    }
    g.broken = true;  // capture failed: nothing ran yet, so run the recorded ops directly
  } else if (step_sigs_.size() == g.ops.size()) {
    graph_stats_.replayed++;
    if (Status s = ctx_->launch(g.graph); !s.ok()) fail(s.error());
    return;
  } else {
    discard_graph(g);
  }
  graph_stats_.direct++;
  for (auto& op : step_ops_) op(ctx_->stream());
}

// ---------------------------------------------------------------- host transfer

void CudaOps::read(const float* src, int64_t n, float* host_dst) {
  finish_step();
  auto poison = [&] { std::fill(host_dst, host_dst + n, std::numeric_limits<float>::quiet_NaN()); };
  if (!status_.ok()) return poison();
  if (n > read_cap_) {
    if (read_host_) cudaFreeHost(read_host_);
    read_host_ = nullptr;
    read_cap_ = 0;
    if (cudaError_t e = cudaMallocHost(reinterpret_cast<void**>(&read_host_), size_t(n) * 4); e != cudaSuccess) {
      fail_cuda(e, "cudaMallocHost (read)");
      return poison();
    }
    read_cap_ = n;
  }
  if (cudaError_t e = cudaMemcpyAsync(read_host_, src, size_t(n) * 4, cudaMemcpyDeviceToHost, ctx_->stream());
      e != cudaSuccess) {
    fail_cuda(e, "cudaMemcpyAsync (read)");
    return poison();
  }
  if (Status s = ctx_->wait(options_.step_timeout); !s.ok()) {
    fail(s.error());
    return poison();
  }
  if (profiler_) profiler_->collect();
  std::memcpy(host_dst, read_host_, size_t(n) * 4);
}

bool CudaOps::ensure_mask_buffers(int64_t words, int width) {
  if (words <= allowed_cap_) return true;
  if (in_step_ && mode_ != Mode::direct) graphs_[key_].broken = true;  // a recording holds the old ones
  if (allowed_dev_) ctx_->pool().release(allowed_dev_);
  if (allowed_host_) cudaFreeHost(allowed_host_);
  allowed_dev_ = nullptr;
  allowed_host_ = nullptr;
  allowed_cap_ = 0;
  const int64_t cap = std::max<int64_t>(words, std::max(max_tokens_, 1) * backend::allowed_words(width));
  auto p = ctx_->pool().acquire(cap * 8);
  if (!p.ok()) return fail(p.error()), false;
  allowed_dev_ = static_cast<uint64_t*>(*p);
  if (cudaError_t e = cudaMallocHost(reinterpret_cast<void**>(&allowed_host_), size_t(cap) * 8); e != cudaSuccess)
    return fail_cuda(e, "cudaMallocHost (argmax masks)"), false;
  allowed_cap_ = cap;
  return true;
}

void CudaOps::read_argmax(const float* logits, int n_rows, int width, int32_t* host_out, const backend::MaskSource* masks) {
  std::fill(host_out, host_out + n_rows, -1);  // what a failed step reads
  if (n_rows > argmax_cap_) {
    if (mode_ != Mode::direct) graphs_[key_].broken = true;
    if (argmax_dev_) ctx_->pool().release(argmax_dev_);
    if (argmax_host_) cudaFreeHost(argmax_host_);
    argmax_dev_ = nullptr;
    argmax_host_ = nullptr;
    argmax_cap_ = 0;
    // One block: the output ids, then the kernel's scratch (counters and per-block partials).
    const int cap = std::max(n_rows, std::max(max_tokens_, 1));
    const int64_t ints = cap + argmax_scratch_ints(cap);
    auto p = ctx_->pool().acquire(ints * 4);
    if (!p.ok()) return fail(p.error());
    argmax_dev_ = static_cast<int32_t*>(*p);
    if (cudaError_t e = cudaMemsetAsync(argmax_dev_, 0, size_t(ints) * 4, ctx_->stream()); e != cudaSuccess)
      return fail_cuda(e, "cudaMemsetAsync (argmax)");
    if (cudaError_t e = cudaMallocHost(reinterpret_cast<void**>(&argmax_host_), size_t(cap) * 4); e != cudaSuccess)
      return fail_cuda(e, "cudaMallocHost (argmax)");
    argmax_cap_ = cap;
  }
  int32_t* out = argmax_dev_;
  int32_t* scratch = argmax_dev_ + argmax_cap_;
  // Masks for many rows are made while the forward pass runs: its graph is launched first, then
  // they are copied and applied after it on the same stream (the previous step's copy out of the
  // pinned staging ended with that step's wait). For a few rows they cost less than the launches
  // that split off from the step's graph (measured on the H200: +0.1 ms a step at one row), so
  // the copy and the argmax stay inside it.
  const bool overlap = masks != nullptr && n_rows >= kMaskOverlapMinRows;
  if (overlap) {
    finish_step();
    if (!status_.ok()) return;
  }
  if (masks) {
    const int64_t words = n_rows * backend::allowed_words(width);
    if (!ensure_mask_buffers(words, width)) return;
    std::memcpy(allowed_host_, (*masks)(), size_t(words) * 8);
    // Staged in pinned memory and copied inside the issued work, so that a recorded graph's copy
    // node reads this step's masks when it is replayed.
    const uint64_t* src = allowed_host_;
    uint64_t* dev = allowed_dev_;
    issue(kArgmax, signature(kArgmax, P(logits), n_rows, width, P(out), P(dev), words), [=](cudaStream_t s) {
      cudaMemcpyAsync(dev, src, size_t(words) * 8, cudaMemcpyHostToDevice, s);
      argmax_rows(logits, n_rows, width, dev, out, scratch, s);
    });
  } else {
    issue(kArgmax, signature(kArgmax, P(logits), n_rows, width, P(out)),
          [=](cudaStream_t s) { argmax_rows(logits, n_rows, width, nullptr, out, scratch, s); });
  }
  finish_step();
  if (!status_.ok()) return;
  if (cudaError_t e = cudaMemcpyAsync(argmax_host_, out, size_t(n_rows) * 4, cudaMemcpyDeviceToHost, ctx_->stream());
      e != cudaSuccess)
    return fail_cuda(e, "cudaMemcpyAsync (argmax)");
  if (Status s = ctx_->wait(options_.step_timeout); !s.ok()) return fail(s.error());
  if (profiler_) profiler_->collect();
  std::memcpy(host_out, argmax_host_, size_t(n_rows) * 4);
}

}  // namespace pensieve::cuda

namespace pensieve::cuda {

void CudaOps::set_profiling(bool on) {
  if (on && !profiler_) profiler_ = std::make_unique<OpProfiler>();
  if (!on) profiler_.reset();
}

std::map<std::string, OpTime> CudaOps::op_profile() const {
  return profiler_ ? profiler_->table() : std::map<std::string, OpTime>{};
}

}  // namespace pensieve::cuda
