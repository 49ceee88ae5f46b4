// CpuOps: backend::Ops on the host. Weights are used in place (the GGUF mapping); activations
// are 64-byte aligned heap buffers; the KV pools are one anonymous mapping (zero pages until
// written, so a long context costs memory only as it fills, and unload returns it at once).
#include "backend/cpu/cpu_ops.h"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>

#include "backend/cpu/matmul.h"
#include "backend/cpu/op_kernels.h"
#include "util/thread_pool.h"

namespace pensieve::cpu {
namespace {

using backend::AttentionShape;
using backend::KvCacheShape;
using backend::KvType;
using backend::RopeTable;
using backend::StepInputs;
using backend::Weight;

// Below this many floats of work an op runs on the calling thread: waking the pool costs more.
constexpr int64_t kParallelMin = 1 << 14;

class CpuOps final : public backend::Ops {
 public:
  explicit CpuOps(int n_threads) : pool_(n_threads > 0 ? n_threads : ThreadPool::physical_cores()) {}
  ~CpuOps() override {
    for (void* p : buffers_) std::free(p);
    if (kv_map_) munmap(kv_map_, kv_bytes_);
  }

  std::string device() const override { return "cpu"; }
  Status init(int max_tokens_per_step) override {
    max_tokens_ = max_tokens_per_step;
    return ok_status();
  }

  float* alloc(int64_t n) override {
    const size_t bytes = (static_cast<size_t>(std::max<int64_t>(n, 1)) * 4 + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, bytes);
    PS_ASSERT(p != nullptr, "out of memory allocating an activation buffer");
    std::memset(p, 0, bytes);
    buffers_.push_back(p);
    buffer_bytes_ += static_cast<int64_t>(bytes);
    return static_cast<float*>(p);
  }

  Result<Weight> bind_weight(const Weight& host, std::string_view name) override {
    const bool vector_ok = host.n_rows == 1 && host.type == GgmlType::F32;
    if (!vector_ok && !matmul_supported(host.type))
      return make_error(ErrorKind::model_load_failed, "tensor '" + std::string(name) + "' has type " +
                                                          std::string(ggml_type_name(host.type)) +
                                                          ", which the CPU backend does not support");
    return host;  // zero copy: the mapping is the device memory
  }

  Status init_kv_cache(const KvCacheShape& shape) override;
  void set_rope(const RopeTable& rope) override { rope_ = rope; }
  int64_t memory_bytes() const override { return buffer_bytes_ + static_cast<int64_t>(kv_bytes_); }

  void begin_step(const StepInputs& in) override;

  void embed(const Weight& table, float* out) override {
    for (size_t t = 0; t < tokens_.size(); ++t) {
      PS_ASSERT(tokens_[t] >= 0 && tokens_[t] < table.n_rows, "token id out of range");
      get_row(view(table), tokens_[t], out + t * table.n_cols);
    }
  }

  void matmul(const Weight& w, const float* x, int n_tokens, float* y, const Weight* bias) override {
    // Tiny products (test models, small heads) are not worth waking the pool for.
    const bool small = w.n_rows * w.n_cols * n_tokens < kParallelMin * 8;
    cpu::matmul(view(w), x, n_tokens, y, small ? nullptr : &pool_);
    if (bias && !bias->empty()) {
      const float* b = static_cast<const float*>(bias->data);
      for (int t = 0; t < n_tokens; ++t) {
        float* row = y + static_cast<int64_t>(t) * w.n_rows;
        for (int64_t r = 0; r < w.n_rows; ++r) row[r] += b[r];
      }
    }
  }

  void rms_norm(const float* x, const Weight& weight, float eps, int64_t n_rows, int width, float* y) override {
    PS_ASSERT(weight.type == GgmlType::F32 && weight.n_cols == width, "rms_norm weight must be F32 [width]");
    const float* w = static_cast<const float*>(weight.data);
    parallel_rows(n_rows, width, [&](int64_t r) { k_.rms_norm(x + r * width, w, eps, width, y + r * width); });
  }

  void rope(float* x, int n_heads, int head_dim) override {
    const int n_rot = rope_.n_rot;
    PS_ASSERT(n_rot <= head_dim);
    const int64_t n_rows = static_cast<int64_t>(tokens_.size()) * n_heads;
    parallel_rows(n_rows, head_dim, [&](int64_t r) {
      const int64_t t = r / n_heads;
      rope_head(x + r * head_dim, cos_sin_.data() + t * n_rot, n_rot, rope_.style);
    });
  }

  void kv_write(int layer, const float* k, const float* v) override;
  void attention(int layer, const float* q, const AttentionShape& shape, float* out) override;

  void silu_mul(const float* gate, const float* up, int64_t n, float* out) override {
    parallel_chunks(n, [&](int64_t b, int64_t e) { k_.silu_mul(gate + b, up + b, e - b, out + b); });
  }

  void add(float* x, const float* y, int64_t n) override {
    parallel_chunks(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) x[i] += y[i];
    });
  }

  void copy_output_rows(const float* src, int width, float* dst) override {
    for (size_t i = 0; i < output_rows_.size(); ++i)
      std::memcpy(dst + i * width, src + static_cast<int64_t>(output_rows_[i]) * width, width * sizeof(float));
  }

  void read(const float* src, int64_t n, float* host_dst) override {
    std::memcpy(host_dst, src, static_cast<size_t>(n) * sizeof(float));
  }

  void read_argmax(const float* logits, int n_rows, int width, int32_t* host_out, const backend::MaskSource* masks) override {
    const uint64_t* allowed = masks ? (*masks)() : nullptr;
    for (int r = 0; r < n_rows; ++r) {
      const float* row = logits + static_cast<int64_t>(r) * width;
      host_out[r] = allowed ? backend::argmax_row_allowed(row, width, allowed + r * backend::allowed_words(width))
                            : backend::argmax_row(row, width);
    }
  }

 private:
  static WeightView view(const Weight& w) { return WeightView{w.type, w.data, w.n_cols, w.n_rows}; }

  // fn(row) for each row; split over the pool when the total work is large enough.
  template <class Fn>
  void parallel_rows(int64_t n_rows, int64_t row_cost, const Fn& fn) {
    if (n_rows * row_cost < kParallelMin || pool_.size() == 1) {
      for (int64_t r = 0; r < n_rows; ++r) fn(r);
      return;
    }
    pool_.run([&](int i, int n) {
      const Range rg = split_range(n_rows, i, n);
      for (int64_t r = rg.begin; r < rg.end; ++r) fn(r);
    });
  }

  template <class Fn>
  void parallel_chunks(int64_t n, const Fn& fn) {
    if (n < kParallelMin || pool_.size() == 1) {
      fn(0, n);
      return;
    }
    pool_.run([&](int i, int parts) {
      // Split on 64-float boundaries so each thread's SIMD loop has no ragged middle.
      const Range rg = split_range((n + 63) / 64, i, parts);
      const int64_t b = rg.begin * 64, e = std::min(n, rg.end * 64);
      if (b < e) fn(b, e);
    });
  }

  void attention_row(int layer, const float* q, const AttentionShape& shape, int64_t item, float* scores,
                     float* out) const;

  ThreadPool pool_;
  const OpKernels& k_ = op_kernels();
  int max_tokens_ = 0;
  std::vector<void*> buffers_;
  int64_t buffer_bytes_ = 0;

  KvCacheShape kv_;
  void* kv_map_ = nullptr;
  size_t kv_bytes_ = 0;
  size_t kv_layer_bytes_ = 0;
  std::vector<float> scores_;  // per thread: one row of attention scores
  int64_t max_kv_ = 0;

  RopeTable rope_;
  std::vector<int32_t> tokens_, positions_, seq_ids_, kv_slots_, block_tables_, seq_lens_, output_rows_;
  int max_blocks_ = 0;
  std::vector<float> cos_sin_;  // [n_tokens][n_rot]: (cos, sin) * mscale per pair
};

Status CpuOps::init_kv_cache(const KvCacheShape& shape) {
  if (!backend::EnumValid(shape.type) || shape.n_blocks <= 0 || shape.block_size <= 0 || shape.n_layers <= 0)
    return make_error(ErrorKind::invalid_request, "invalid KV cache shape");
  if (kv_map_) munmap(kv_map_, kv_bytes_);
  kv_ = shape;
  const size_t row = static_cast<size_t>(shape.n_kv_heads) * shape.head_dim * backend::kv_type_bytes(shape.type);
  kv_layer_bytes_ = row * shape.block_size * shape.n_blocks;
  kv_bytes_ = kv_layer_bytes_ * 2 * shape.n_layers;
  kv_map_ = mmap(nullptr, kv_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (kv_map_ == MAP_FAILED) {
    kv_map_ = nullptr;
    const size_t bytes = kv_bytes_;
    kv_bytes_ = 0;
    return make_error(ErrorKind::resource_exhausted,
                      "cannot reserve " + std::to_string(bytes >> 20) + " MiB for the KV cache");
  }
  max_kv_ = static_cast<int64_t>(shape.n_blocks) * shape.block_size;
  scores_.assign(static_cast<size_t>(pool_.size() * max_kv_), 0.0f);
  return ok_status();
}

void CpuOps::begin_step(const StepInputs& in) {
  tokens_.assign(in.tokens.begin(), in.tokens.end());
  positions_.assign(in.positions.begin(), in.positions.end());
  seq_ids_.assign(in.seq_ids.begin(), in.seq_ids.end());
  kv_slots_.assign(in.kv_slots.begin(), in.kv_slots.end());
  block_tables_.assign(in.block_tables.begin(), in.block_tables.end());
  seq_lens_.assign(in.seq_lens.begin(), in.seq_lens.end());
  output_rows_.assign(in.output_rows.begin(), in.output_rows.end());
  max_blocks_ = in.max_blocks;
  PS_ASSERT(positions_.size() == tokens_.size() && seq_ids_.size() == tokens_.size());
  PS_ASSERT(max_tokens_ == 0 || static_cast<int>(tokens_.size()) <= max_tokens_, "step larger than init()");

  // cos/sin per token and rope pair, shared by q and k of every layer of this step.
  const int n_rot = rope_.n_rot, half = n_rot / 2;
  cos_sin_.resize(tokens_.size() * static_cast<size_t>(n_rot));
  for (size_t t = 0; t < tokens_.size(); ++t) {
    const float pos = static_cast<float>(positions_[t]);
    for (int i = 0; i < half; ++i) {
      const float angle = pos * rope_.inv_freq[i];
      cos_sin_[t * n_rot + 2 * i] = std::cos(angle) * rope_.mscale;
      cos_sin_[t * n_rot + 2 * i + 1] = std::sin(angle) * rope_.mscale;
    }
  }
}

void CpuOps::kv_write(int layer, const float* k, const float* v) {
  const int kv_dim = kv_.n_kv_heads * kv_.head_dim;
  uint8_t* kbase = static_cast<uint8_t*>(kv_map_) + kv_layer_bytes_ * (2 * layer);
  uint8_t* vbase = kbase + kv_layer_bytes_;
  const size_t row_bytes = static_cast<size_t>(kv_dim) * backend::kv_type_bytes(kv_.type);
  for (size_t t = 0; t < tokens_.size(); ++t) {
    const int64_t slot = kv_slots_[t];
    PS_ASSERT(slot >= 0 && slot < max_kv_, "KV slot out of range");
    if (kv_.type == KvType::f16) {
      k_.to_f16(k + t * kv_dim, reinterpret_cast<uint16_t*>(kbase + slot * row_bytes), kv_dim);
      k_.to_f16(v + t * kv_dim, reinterpret_cast<uint16_t*>(vbase + slot * row_bytes), kv_dim);
    } else {
      std::memcpy(kbase + slot * row_bytes, k + t * kv_dim, row_bytes);
      std::memcpy(vbase + slot * row_bytes, v + t * kv_dim, row_bytes);
    }
  }
}

// One (token, head) of paged causal attention: scores over positions 0..pos of the token's
// sequence, softmax, weighted sum of V.
void CpuOps::attention_row(int layer, const float* q, const AttentionShape& shape, int64_t item, float* scores,
                           float* out) const {
  const int64_t t = item / shape.n_heads;
  const int h = static_cast<int>(item % shape.n_heads);
  const int hd = shape.head_dim, bs = kv_.block_size;
  const int kvh = h / (shape.n_heads / shape.n_kv_heads);
  const int seq = seq_ids_[t];
  const int n_kv = positions_[t] + 1;
  PS_ASSERT(n_kv <= seq_lens_[seq], "attention past the sequence's KV length");
  const int32_t* table = block_tables_.data() + static_cast<int64_t>(seq) * max_blocks_;
  const size_t elt = backend::kv_type_bytes(kv_.type);
  const size_t row_bytes = static_cast<size_t>(kv_.n_kv_heads) * hd * elt;
  const uint8_t* kbase = static_cast<const uint8_t*>(kv_map_) + kv_layer_bytes_ * (2 * layer) + kvh * hd * elt;
  const uint8_t* vbase = kbase + kv_layer_bytes_;
  const float* qh = q + (t * shape.n_heads + h) * hd;
  float* oh = out + (t * shape.n_heads + h) * hd;
  const bool f16 = kv_.type == KvType::f16;

  float max = -INFINITY;
  for (int j = 0; j < n_kv; ++j) {
    const int64_t slot = static_cast<int64_t>(table[j / bs]) * bs + j % bs;
    const uint8_t* kr = kbase + slot * row_bytes;
    const float s = (f16 ? k_.dot_f16(qh, reinterpret_cast<const uint16_t*>(kr), hd)
                         : k_.dot_f32(qh, reinterpret_cast<const float*>(kr), hd)) * shape.scale;
    scores[j] = s;
    max = std::max(max, s);
  }
  const float inv_sum = 1.0f / k_.exp_sub_sum(scores, n_kv, max);
  std::fill(oh, oh + hd, 0.0f);
  for (int j = 0; j < n_kv; ++j) {
    const int64_t slot = static_cast<int64_t>(table[j / bs]) * bs + j % bs;
    const uint8_t* vr = vbase + slot * row_bytes;
    if (f16)
      k_.axpy_f16(scores[j], reinterpret_cast<const uint16_t*>(vr), oh, hd);
    else
      k_.axpy_f32(scores[j], reinterpret_cast<const float*>(vr), oh, hd);
  }
  for (int d = 0; d < hd; ++d) oh[d] *= inv_sum;
}

void CpuOps::attention(int layer, const float* q, const AttentionShape& shape, float* out) {
  PS_ASSERT(shape.n_kv_heads == kv_.n_kv_heads && shape.head_dim == kv_.head_dim &&
            shape.n_heads % shape.n_kv_heads == 0, "attention shape does not match the KV cache");
  const int64_t n_items = static_cast<int64_t>(tokens_.size()) * shape.n_heads;
  int64_t work = 0;  // scores computed, to decide whether the pool is worth waking
  for (int32_t p : positions_) work += static_cast<int64_t>(p + 1) * shape.head_dim * shape.n_heads;
  if (work < kParallelMin || pool_.size() == 1) {
    for (int64_t it = 0; it < n_items; ++it) attention_row(layer, q, shape, it, scores_.data(), out);
    return;
  }
  pool_.run([&](int i, int n) {
    float* scores = scores_.data() + i * max_kv_;
    // Interleave items so causal rows (longer for later tokens) balance across threads.
    for (int64_t it = i; it < n_items; it += n) attention_row(layer, q, shape, it, scores, out);
  });
}

}  // namespace

std::unique_ptr<backend::Ops> make_cpu_ops(int n_threads) { return std::make_unique<CpuOps>(n_threads); }

}  // namespace pensieve::cpu
