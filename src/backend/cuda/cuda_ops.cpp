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
#include "backend/cuda/dequant_rows.cuh"
#include "backend/cuda/elementwise.cuh"
#include "backend/cuda/matvec.cuh"
#include "backend/cuda/matvec_q8.cuh"
#include "quant/quant.h"

namespace pensieve::cuda {

using backend::Weight;

namespace {

// Indices of the per-step input arrays in the device input block (each max_tokens ints).
enum Input { kTokens, kPositions, kSeqIds, kSlots, kOutRows, kSeqLens, kBlockTables };

enum OpCode : uint64_t {
  kEmbed = 1, kMatvec, kGemm, kNorm, kRope, kKvWrite, kAttn, kSilu, kAdd, kGather, kArgmax,
  kQuant, kMatvecQ8, kNormQuant, kSiluQuant, kAddNorm, kAddNormQuant, kRopeKv
};

uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdull;
}

template <class... A>
uint64_t signature(OpCode op, A... args) {
  uint64_t h = op;
  ((h = mix(h, uint64_t(args))), ...);
  return h;
}

inline uint64_t P(const void* p) { return reinterpret_cast<uintptr_t>(p); }

int next_pow2(int v) {
  int p = 1;
  while (p < v) p *= 2;
  return p;
}

}  // namespace

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

// ---------------------------------------------------------------- per-step inputs

const int32_t* CudaOps::dev_ints(int which) const { return dev_inputs_ + int64_t(which) * inputs_rows_; }

Status CudaOps::ensure_inputs(int n_tokens, int n_seqs) {
  const int rows = std::max({max_tokens_, n_tokens, n_seqs, inputs_rows_});
  const int stride = std::max(kv_shape_.n_blocks, bt_stride_);
  const int64_t need = int64_t(rows) * (kBlockTables + int64_t(std::max(stride, 1)));
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
  bt_stride_ = std::max(stride, 1);
  graphs_.clear();  // recorded kernels point at the old block
  return ok_status();
}

void CudaOps::begin_step(const backend::StepInputs& in) {
  flush_pending();
  if (in_step_) finish_step();
  if (!status_.ok()) return;
  const int nt = in.n_tokens(), ns = in.n_seqs();
  if (in.max_blocks > bt_stride_) bt_stride_ = in.max_blocks;  // grows the layout below
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
  // Flash-decoding splits: enough blocks to fill the GPU, down to one 32-key tile each (a decode
  // step has only n_kv_heads blocks per split: 2 on qwen2-0.5b). Bucketed by powers of two so
  // that a decode graph stays valid for many steps.
  step_splits_ = 1;
  if (nt <= 8 && kv_shape_.n_kv_heads > 0) {
    const int blocks = nt * kv_shape_.n_kv_heads;
    const int want = (2 * ctx_->info().sm_count + blocks - 1) / blocks;
    step_splits_ = std::clamp(std::min(want, next_pow2((max_len + 31) / 32)), 1, kAttnMaxSplits);
  }
  step_ops_.clear();
  step_sigs_.clear();
  act_src_ = nullptr;
  in_step_ = true;
  mode_ = Mode::direct;
  key_ = StepKey{nt, ns, step_out_, step_splits_};
  if (!options_.use_graphs || profiler_ || nt > options_.matvec_max_tokens) return;
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

static const char* op_name(int op) {
  static const char* const names[] = {"?",       "embed",   "matvec_f32", "gemm",      "rms_norm",     "rope",
                                      "kv_write", "attention", "silu_mul", "add",      "gather",       "argmax",
                                      "quantize", "matvec_q8", "rms_norm+q", "silu_mul+q", "add+rms_norm",
                                      "add+rms_norm+q", "rope+kv_write"};
  return op >= 0 && op < int(std::size(names)) ? names[op] : "?";
}

void CudaOps::flush_pending() {
  if (flushing_) return;
  flush_matvec();
  if (pending_add_) {
    const PendingAdd p = *pending_add_;
    pending_add_.reset();
    issue(kAdd, signature(kAdd, P(p.x), P(p.y), p.n), [=](cudaStream_t s) { cuda::add(p.x, p.y, p.n, s); });
  }
  const int n_ropes = n_pending_rope_;
  n_pending_rope_ = 0;
  for (int i = 0; i < n_ropes; ++i) {
    const PendingRope r = pending_rope_[i];
    const int nt = step_tokens_, n_rot = n_rot_;
    const bool neox = neox_;
    const float ms = mscale_;
    const float* inv = inv_freq_;
    const int32_t* pos = dev_ints(kPositions);
    issue(kRope, signature(kRope, P(r.x), r.n_heads, r.head_dim, nt), [=](cudaStream_t s) {
      cuda::rope(r.x, nt, r.n_heads, r.head_dim, n_rot, neox, pos, inv, ms, s);
    });
  }
}

void CudaOps::flush_matvec() {
  if (!pending_ || flushing_) return;
  const PendingMatvec p = *pending_;
  pending_.reset();
  flushing_ = true;
  const ActQ8 aq = act_q8_;
  const int64_t n_in = int64_t(p.n_tokens) * p.n_cols;
  if (p.quantize)
    issue(kQuant, signature(kQuant, P(p.x), n_in, P(aq.q)), [=](cudaStream_t s) { quantize_act(p.x, n_in, aq, s); });
  uint64_t sig = signature(kMatvecQ8, P(p.x), p.n_tokens, P(aq.q), p.count);
  for (int i = 0; i < p.count; ++i) sig = mix(sig, signature(kMatvecQ8, P(p.out[i].w), P(p.out[i].y), P(p.out[i].bias)));
  issue(kMatvecQ8, sig, [=](cudaStream_t s) {
    matvec_q8_multi(p.type, p.n_cols, p.out, p.count, aq, p.n_tokens, s);
  });
  flushing_ = false;
  if (in_step_ && !p.x_clobbered) {
    act_src_ = p.x;
    act_n_ = n_in;
  }
}

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
  graph_stats_.mismatches++;
  g.broken = true;
  g.graph = Graph();
  for (auto& op : step_ops_) op(ctx_->stream());
  step_ops_.clear();
  launch(ctx_->stream());
  mode_ = Mode::direct;
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
    graph_stats_.mismatches++;
    g.broken = true;
    g.graph = Graph();
  }
  graph_stats_.direct++;
  for (auto& op : step_ops_) op(ctx_->stream());
}

// ---------------------------------------------------------------- ops

void CudaOps::embed(const Weight& table, float* out) {
  const int32_t* ids = dev_ints(kTokens);
  const int n = step_tokens_;
  issue(kEmbed, signature(kEmbed, P(table.data), P(out), n), [=, this](cudaStream_t s) {
    if (!get_rows_f32(table.type, table.data, table.n_cols, table.n_rows, ids, n, out, s))
      fail(make_error(ErrorKind::internal, "embed: unsupported table type"));
  });
}

void CudaOps::matmul(const Weight& w, const float* x, int n_tokens, float* y, const Weight* bias) {
  const float* b = bias && !bias->empty() ? static_cast<const float*>(bias->data) : nullptr;
  const bool aligned = reinterpret_cast<uintptr_t>(x) % 16 == 0;
  const int64_t n_in = int64_t(n_tokens) * w.n_cols;
  if (n_tokens <= options_.matvec_max_tokens && aligned && options_.int8_matvec &&
      matvec_q8_supported(w.type, w.n_cols) && n_in <= act_cap_ && w.n_rows > 0) {
    const bool overlap = y < x + n_in && x < y + int64_t(n_tokens) * w.n_rows;
    const MatvecQ8Output out{w.data, y, b, w.n_rows};
    PendingMatvec* p = pending_ ? &*pending_ : nullptr;
    if (p && p->x == x && p->type == w.type && p->n_cols == w.n_cols && p->n_tokens == n_tokens &&
        p->count < kMatvecQ8MaxOutputs && !p->x_clobbered) {
      p->out[p->count++] = out;
      p->x_clobbered = overlap;
      return;
    }
    flush_pending();
    const bool quantized = in_step_ && act_src_ == x && act_n_ == n_in;
    pending_ = PendingMatvec{w.type, w.n_cols, x, n_tokens, !quantized, overlap, 1, {out}};
    return;
  }
  if (n_tokens <= options_.matvec_max_tokens && aligned && matvec_supported(w.type, w.n_cols)) {
    issue(kMatvec, signature(kMatvec, P(w.data), P(x), P(y), P(b), n_tokens), [=](cudaStream_t s) {
      matvec(w.type, w.data, w.n_cols, w.n_rows, x, n_tokens, y, b, s);
    });
    return;
  }
  if (mode_ != Mode::replay) {
    if (Status st = gemm_.reserve(w.type, w.n_cols, w.n_rows, n_tokens); !st.ok()) return fail(st.error());
  }
  issue(kGemm, signature(kGemm, P(w.data), P(x), P(y), P(b), n_tokens), [=, this](cudaStream_t s) {
    if (Status st = gemm_.matmul(w.type, w.data, w.n_cols, w.n_rows, x, n_tokens, y); !st.ok()) return fail(st.error());
    if (b) add_bias(y, b, n_tokens, w.n_rows, s);
  });
}

// Whether [a, a + n) and [b, b + n) are the same range or do not overlap.
static bool same_or_apart(const float* a, const float* b, int64_t n) { return a == b || a + n <= b || b + n <= a; }

void CudaOps::rms_norm(const float* x, const Weight& weight, float eps, int64_t n_rows, int width, float* y) {
  const float* w = static_cast<const float*>(weight.data);
  const int64_t n = n_rows * width;
  // The residual add just held back by add() on this x: one kernel does both (it reads a whole
  // row of the addend before it writes the row of y, so y may be the addend).
  std::optional<PendingAdd> sum;
  if (pending_add_ && pending_add_->x == x && pending_add_->n == n && same_or_apart(pending_add_->y, y, n) &&
      same_or_apart(pending_add_->y, x, n)) {
    sum = pending_add_;
    pending_add_.reset();
  }
  const uint64_t eps_bits = std::bit_cast<uint32_t>(eps);
  if (n_rows <= options_.matvec_max_tokens && width % 32 == 0 && can_quantize_output(n)) {
    const ActQ8 aq = act_q8_;
    if (sum) {
      const PendingAdd p = *sum;
      issue(kAddNormQuant, signature(kAddNormQuant, P(x), P(p.y), P(w), P(y), n_rows, width, eps_bits, P(aq.q)),
            [=](cudaStream_t s) { add_rms_norm_quant(p.x, p.y, w, eps, n_rows, width, y, aq, s); });
      act_src_ = y;
      act_n_ = n;
      return;
    }
    issue(kNormQuant, signature(kNormQuant, P(x), P(w), P(y), n_rows, width, eps_bits, P(aq.q)),
          [=](cudaStream_t s) { rms_norm_quant(x, w, eps, n_rows, width, y, aq, s); });
    act_src_ = y;
    act_n_ = n;
    return;
  }
  if (sum) {
    const PendingAdd p = *sum;
    issue(kAddNorm, signature(kAddNorm, P(x), P(p.y), P(w), P(y), n_rows, width, eps_bits),
          [=](cudaStream_t s) { cuda::add_rms_norm(p.x, p.y, w, eps, n_rows, width, y, s); });
    return;
  }
  issue(kNorm, signature(kNorm, P(x), P(w), P(y), n_rows, width, eps_bits),
        [=](cudaStream_t s) { cuda::rms_norm(x, w, eps, n_rows, width, y, s); });
}

void CudaOps::rope(float* x, int n_heads, int head_dim) {
  if (inv_freq_ == nullptr) return fail(make_error(ErrorKind::internal, "rope before set_rope"));
  // Held back (as the q rope, then the k rope) for kv_write to do in one kernel; flushed as
  // plain ropes if something else comes first.
  if (n_pending_rope_ == 1 && pending_rope_[0].head_dim == head_dim && pending_rope_[0].x != x) {
    pending_rope_[1] = PendingRope{x, n_heads, head_dim};
    n_pending_rope_ = 2;
  } else {
    flush_pending();
    pending_rope_[0] = PendingRope{x, n_heads, head_dim};
    n_pending_rope_ = 1;
  }
  act_src_ = nullptr;  // x changes
  if (!in_step_) flush_pending();
}

static KvLayout layer_layout(const backend::KvCacheShape& s, void* k_pool, void* v_pool, int layer) {
  const int64_t layer_bytes =
      int64_t(s.n_blocks) * s.block_size * s.n_kv_heads * s.head_dim * backend::kv_type_bytes(s.type);
  KvLayout kv;
  kv.k = static_cast<uint8_t*>(k_pool) + layer * layer_bytes;
  kv.v = static_cast<uint8_t*>(v_pool) + layer * layer_bytes;
  kv.f16 = s.type == backend::KvType::f16;
  kv.block_size = s.block_size;
  kv.n_kv_heads = s.n_kv_heads;
  kv.head_dim = s.head_dim;
  return kv;
}

void CudaOps::kv_write(int layer, const float* k, const float* v) {
  if (k_pool_ == nullptr || layer < 0 || layer >= kv_shape_.n_layers)
    return fail(make_error(ErrorKind::internal, "kv_write: no KV cache or bad layer"));
  const KvLayout kv = layer_layout(kv_shape_, k_pool_, v_pool_, layer);
  const int32_t* slots = dev_ints(kSlots);
  const int nt = step_tokens_;
  const int64_t kv_n = int64_t(nt) * kv_shape_.n_kv_heads * kv_shape_.head_dim;
  const PendingRope* kr = n_pending_rope_ > 0 ? &pending_rope_[n_pending_rope_ - 1] : nullptr;
  if (kr && kr->x == k && kr->n_heads == kv_shape_.n_kv_heads && kr->head_dim == kv_shape_.head_dim &&
      kr->head_dim <= kAttnMaxHeadDim && kr->head_dim % 2 == 0 && n_rot_ <= kr->head_dim && (v + kv_n <= k || k + kv_n <= v)) {
    RopeKvArgs r;
    if (n_pending_rope_ == 2) {
      r.q = pending_rope_[0].x;
      r.n_q_heads = pending_rope_[0].n_heads;
    }
    n_pending_rope_ = 0;
    r.k = const_cast<float*>(k);  // the held-back rope rotates k in place, as rope() would have
    r.v = v;
    r.slots = slots;
    r.positions = dev_ints(kPositions);
    r.inv_freq = inv_freq_;
    r.n_rot = n_rot_;
    r.neox = neox_;
    r.mscale = mscale_;
    issue(kRopeKv, signature(kRopeKv, P(kv.k), P(r.q), r.n_q_heads, P(k), P(v), nt),
          [=](cudaStream_t s) { rope_kv_write(kv, r, nt, s); });
    return;
  }
  issue(kKvWrite, signature(kKvWrite, P(kv.k), P(k), P(v), nt),
        [=](cudaStream_t s) { cuda::kv_write(kv, k, v, slots, nt, s); });
}

void CudaOps::attention(int layer, const float* q, const backend::AttentionShape& shape, float* out) {
  if (k_pool_ == nullptr || layer < 0 || layer >= kv_shape_.n_layers)
    return fail(make_error(ErrorKind::internal, "attention: no KV cache or bad layer"));
  if (shape.n_kv_heads != kv_shape_.n_kv_heads || shape.head_dim != kv_shape_.head_dim ||
      !attention_supported(shape.n_heads, shape.n_kv_heads, shape.head_dim))
    return fail(make_error(ErrorKind::internal, "attention: shape does not match the KV cache or is unsupported"));
  AttentionArgs a;
  a.q = q;
  a.out = out;
  a.n_tokens = step_tokens_;
  a.n_heads = shape.n_heads;
  a.scale = shape.scale;
  a.positions = dev_ints(kPositions);
  a.seq_ids = dev_ints(kSeqIds);
  a.block_tables = dev_ints(kBlockTables);
  a.bt_stride = bt_stride_;
  a.n_splits = step_splits_;
  const int64_t need = attention_partial_floats(a.n_tokens, a.n_heads, shape.head_dim, a.n_splits);
  if (need > partial_cap_) {
    if (mode_ != Mode::direct) return fail(make_error(ErrorKind::internal, "attention scratch grew during capture"));
    if (partial_) ctx_->pool().release(partial_);
    auto p = ctx_->pool().acquire(need * 4);
    if (!p.ok()) return fail(p.error());
    partial_ = static_cast<float*>(*p);
    partial_cap_ = need;
    graphs_.clear();
  }
  a.partial = partial_;
  if (a.n_splits > 1) {
    const int64_t n_counters = int64_t(std::max(a.n_tokens, options_.matvec_max_tokens)) * shape.n_kv_heads;
    if (n_counters > attn_counters_cap_) {
      if (mode_ != Mode::direct) return fail(make_error(ErrorKind::internal, "attention counters grew during capture"));
      if (attn_counters_) ctx_->pool().release(attn_counters_);
      auto p = ctx_->pool().acquire(n_counters * 4);
      if (!p.ok()) return fail(p.error());
      attn_counters_ = static_cast<int*>(*p);
      attn_counters_cap_ = n_counters;
      if (cudaError_t e = cudaMemsetAsync(attn_counters_, 0, size_t(n_counters) * 4, ctx_->stream()); e != cudaSuccess)
        return fail_cuda(e, "cudaMemsetAsync (attention counters)");
      graphs_.clear();
    }
    a.counters = attn_counters_;
  }
  // The output feeds the o-projection: write its 8-bit copy too (saves a quantize launch).
  const int64_t n_out = int64_t(a.n_tokens) * a.n_heads * shape.head_dim;
  const bool quantize = shape.head_dim % 32 == 0 && can_quantize_output(n_out);
  if (quantize) {
    a.out_q = act_q8_.q;
    a.out_ds = act_q8_.ds;
  }
  const KvLayout kv = layer_layout(kv_shape_, k_pool_, v_pool_, layer);
  // Many tokens: the tensor-core kernel where it takes the shape (attention_prefill.cuh).
  const bool prefill = a.n_tokens > options_.matvec_max_tokens && !quantize;
  issue(kAttn, signature(kAttn, P(kv.k), P(q), P(out), a.n_tokens, a.n_heads, a.n_splits, P(a.partial), P(a.out_q)),
        [=](cudaStream_t s) {
          if (!prefill || !attention_prefill(kv, a, s)) cuda::attention(kv, a, s);
        });
  if (quantize) {
    act_src_ = out;
    act_n_ = n_out;
  }
}

void CudaOps::silu_mul(const float* gate, const float* up, int64_t n, float* out) {
  if (can_quantize_output(n)) {
    const ActQ8 aq = act_q8_;
    issue(kSiluQuant, signature(kSiluQuant, P(gate), P(up), P(out), n, P(aq.q)),
          [=](cudaStream_t s) { silu_mul_quant(gate, up, n, out, aq, s); });
    act_src_ = out;
    act_n_ = n;
    return;
  }
  issue(kSilu, signature(kSilu, P(gate), P(up), P(out), n), [=](cudaStream_t s) { cuda::silu_mul(gate, up, n, out, s); });
}

void CudaOps::add(float* x, const float* y, int64_t n) {
  if (in_step_) {  // held back: the next rms_norm of x takes it in (see rms_norm)
    flush_pending();
    pending_add_ = PendingAdd{x, y, n};
    act_src_ = nullptr;
    return;
  }
  issue(kAdd, signature(kAdd, P(x), P(y), n), [=](cudaStream_t s) { cuda::add(x, y, n, s); });
}

void CudaOps::copy_output_rows(const float* src, int width, float* dst) {
  const int32_t* rows = dev_ints(kOutRows);
  const int n = step_out_;
  issue(kGather, signature(kGather, P(src), P(dst), width, n),
        [=](cudaStream_t s) { gather_rows(src, width, rows, n, dst, s); });
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

void CudaOps::read_argmax(const float* logits, int n_rows, int width, int32_t* host_out) {
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
  issue(kArgmax, signature(kArgmax, P(logits), n_rows, width, P(out)),
        [=](cudaStream_t s) { argmax_rows(logits, n_rows, width, out, scratch, s); });
  finish_step();
  std::fill(host_out, host_out + n_rows, -1);
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
