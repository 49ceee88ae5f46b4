// CudaOps' layer ops (backend::Ops): each records or launches its kernel through issue(); the
// integer mat-vecs, the residual add and the ropes are held back to fuse with the op that
// follows them (cuda_ops.h says which), and flushed as they are otherwise.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <bit>

#include "backend/cuda/attention.cuh"
#include "backend/cuda/attention_prefill.cuh"
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/cuda_ops_detail.h"
#include "backend/cuda/dequant_rows.cuh"
#include "backend/cuda/elementwise.cuh"
#include "backend/cuda/matmul_mma.cuh"
#include "backend/cuda/matvec.cuh"
#include "backend/cuda/matvec_q8.cuh"

namespace pensieve::cuda {

using backend::Weight;
using namespace ops_detail;

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
  if (options_.batch_invariant && aligned && (matmul_mma_supported(w.type, w.n_cols) || matvec_supported(w.type, w.n_cols)))
    return matmul_invariant(w, x, n_tokens, y, b);
  if (options_.mma_min_tokens > 0 && n_tokens >= options_.mma_min_tokens &&
      n_tokens <= std::min(options_.mma_max_tokens, kMmaMaxTokens) && aligned && matmul_mma_supported(w.type, w.n_cols)) {
    const int64_t need = matmul_mma_partial_floats(w.n_cols, w.n_rows, n_tokens) * 4;
    if (Status st = grow_scratch(&mma_partial_, &mma_partial_cap_, need, false, "mma partials"); !st.ok())
      return fail(st.error());
    float* part = static_cast<float*>(mma_partial_);
    issue(kMma, signature(kMma, P(w.data), P(x), P(y), P(b), n_tokens, P(part)), [=](cudaStream_t s) {
      matmul_mma(w.type, w.data, w.n_cols, w.n_rows, x, n_tokens, y, b, part, s);
    });
    return;
  }
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

// Batch-invariant matmul: kernels whose per-token result does not depend on the other tokens of
// the launch, in pieces of a fixed size, so any step gives a token the same bits.
void CudaOps::matmul_invariant(const Weight& w, const float* x, int n_tokens, float* y, const float* b) {
  const bool mma = matmul_mma_supported(w.type, w.n_cols);
  const int piece = mma ? kMmaMaxTokens : 8;
  if (mma) {
    const int64_t need = matmul_mma_partial_floats(w.n_cols, w.n_rows, std::min(n_tokens, piece)) * 4;
    if (Status st = grow_scratch(&mma_partial_, &mma_partial_cap_, need, false, "mma partials"); !st.ok())
      return fail(st.error());
  }
  float* part = static_cast<float*>(mma_partial_);
  for (int t0 = 0; t0 < n_tokens; t0 += piece) {
    const int n = std::min(piece, n_tokens - t0);
    const float* xp = x + int64_t(t0) * w.n_cols;
    float* yp = y + int64_t(t0) * w.n_rows;
    if (mma) {
      issue(kMma, signature(kMma, P(w.data), P(xp), P(yp), P(b), n, P(part)), [=](cudaStream_t s) {
        matmul_mma(w.type, w.data, w.n_cols, w.n_rows, xp, n, yp, b, part, s);
      });
    } else {
      issue(kMatvec, signature(kMatvec, P(w.data), P(xp), P(yp), P(b), n), [=](cudaStream_t s) {
        matvec(w.type, w.data, w.n_cols, w.n_rows, xp, n, yp, b, s);
      });
    }
  }
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
  // The output feeds the o-projection: write its 8-bit copy too (saves a quantize launch).
  const int64_t n_out = int64_t(a.n_tokens) * a.n_heads * shape.head_dim;
  const bool quantize = shape.head_dim % 32 == 0 && can_quantize_output(n_out);
  if (quantize) {
    a.out_q = act_q8_.q;
    a.out_ds = act_q8_.ds;
  }
  const KvLayout kv = layer_layout(kv_shape_, k_pool_, v_pool_, layer);
  // Prompt parts: the tensor-core kernel where it takes the shape (attention_prefill.cuh), with
  // its own key splits.
  const bool prefill = !step_decode_attention_ && !quantize && attention_prefill_supported(kv, a.n_heads);
  if (prefill) {
    a.n_splits = attention_prefill_splits(a.n_tokens, a.n_heads, shape.n_kv_heads, step_max_len_, ctx_->info().sm_count);
    a.split_keys = attention_prefill_split_keys(step_max_len_, a.n_splits);
  }
  const int64_t need = attention_partial_floats(a.n_tokens, a.n_heads, shape.head_dim, a.n_splits);
  if (Status st = grow_scratch(&partial_, &partial_cap_, need * 4, false, "attention scratch"); !st.ok())
    return fail(st.error());
  a.partial = static_cast<float*>(partial_);
  if (a.n_splits > 1 && !prefill) {
    const int64_t n_counters = int64_t(std::max(a.n_tokens, options_.matvec_max_tokens)) * shape.n_kv_heads;
    if (Status st = grow_scratch(&attn_counters_, &attn_counters_cap_, n_counters * 4, true, "attention counters");
        !st.ok())
      return fail(st.error());
    a.counters = static_cast<int*>(attn_counters_);
  }
  issue(kAttn, signature(kAttn, P(kv.k), P(q), P(out), a.n_tokens, a.n_heads, a.n_splits, P(a.partial), P(a.out_q), a.split_keys),
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

}  // namespace pensieve::cuda
