// backend::Ops: the small op set a forward pass needs, implemented once per device
// (cpu/cpu_ops.cpp, cuda/...). This is the one virtual interface of the engine: devices vary.
//
// Model code (src/model/<family>.cpp) is written against this class only; it never learns which
// device it runs on. The contract, designed so a GPU backend can capture one decode step as a
// CUDA graph and replay it:
//
//  * Memory. Activations are F32 buffers the Ops allocated (`alloc`) and owns until it is
//    destroyed; model code passes these "device pointers" between ops and never dereferences
//    them. Weights live in the mmap'd GGUF; `bind_weight` turns a host view into the view the
//    device reads (CPU: the same pointer, zero copy; GPU: uploaded once at load).
//  * KV cache. `init_kv_cache` allocates the paged K/V pools once (per layer:
//    [n_blocks][block_size][n_kv_heads][head_dim], F16 or F32). Which blocks belong to which
//    sequence is host bookkeeping (model/kv_cache.h); the Ops only sees slot indices and block
//    tables through StepInputs.
//  * Per-step inputs. Token ids, positions, KV slots, block tables and sequence lengths are given
//    once per step by `begin_step`, before any op of that step; the ops below read them from
//    there (the GPU copies them to fixed device buffers, so the recorded kernels stay valid).
//  * No host reads inside the forward pass except `read` (the final logits, or a debug dump).
//    Ops are issued in order on one stream; `read` waits for everything issued before it.
//
// Shapes: an activation with n_tokens rows of `width` floats is row-major, row t for token t of
// the step. Heads are contiguous within a row: q row = [n_heads][head_dim].
//
// Thread-safety: an Ops instance is used by one thread at a time (the engine serializes steps).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/types.h"
#include "util/status.h"

namespace pensieve::backend {

// A weight matrix (or vector: n_rows == 1) as stored in GGUF: n_rows rows of n_cols elements,
// each row ggml_row_size(type, n_cols) bytes. After bind_weight, `data` is a device pointer.
struct Weight {
  GgmlType type = GgmlType::F32;
  const void* data = nullptr;
  int64_t n_cols = 0;  // input features (ggml ne[0])
  int64_t n_rows = 0;  // output features (ggml ne[1]); 1 for a vector
  bool empty() const { return data == nullptr; }
};

enum class KvType { f16, f32, kSentinel };
inline bool EnumValid(KvType t) { return t < KvType::kSentinel; }

struct KvCacheShape {
  int n_layers = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  int block_size = 16;  // tokens per block
  int n_blocks = 0;     // blocks in the pool (shared by all sequences)
  KvType type = KvType::f16;
};

// How rope rotates pairs of a head: NORMAL = adjacent pairs (2i, 2i+1), used by GGUF llama
// (its q/k rows are permuted by the converter); NEOX = halves (i, i + n_rot/2), qwen2/qwen3.
enum class RopeStyle { normal, neox, kSentinel };
inline bool EnumValid(RopeStyle s) { return s < RopeStyle::kSentinel; }

// Rope for one model, precomputed on the host at load (model/hparams.cpp builds it from the
// scaling type: none / linear / yarn / llama3, and rope_freqs.weight). Every scaling scheme
// reduces to a per-pair angular speed and a magnitude factor:
//   angle(pos, i) = pos * inv_freq[i];  x' = rotate(x, angle) * mscale.
// Dimensions past n_rot (partial rope) are left unchanged.
struct RopeTable {
  RopeStyle style = RopeStyle::normal;
  int n_rot = 0;                 // rotated dims per head (even, <= head_dim)
  std::vector<float> inv_freq;   // n_rot / 2 entries
  float mscale = 1.0f;           // yarn magnitude correction (1 otherwise)
};

// The inputs of one forward step: a batch of n_tokens tokens from n_seqs sequences.
// Spans are host memory, valid during begin_step only (the Ops copies what it needs).
struct StepInputs {
  std::span<const int32_t> tokens;     // [n_tokens] token ids
  std::span<const int32_t> positions;  // [n_tokens] position of each token in its sequence
  std::span<const int32_t> seq_ids;    // [n_tokens] which sequence (0..n_seqs) each token is in
  std::span<const int32_t> kv_slots;   // [n_tokens] pool slot its K/V is written to:
                                       //   block * block_size + position % block_size
  // Per sequence: its block table (row s of [n_seqs][max_blocks], -1 padded) and its KV length
  // after this step's writes. A token at position p attends to positions 0..p of its sequence
  // (causal), looked up as block_tables[s][pos / block_size] at offset pos % block_size.
  std::span<const int32_t> block_tables;  // [n_seqs * max_blocks]
  int max_blocks = 0;
  std::span<const int32_t> seq_lens;  // [n_seqs]
  // Rows of the step whose logits are wanted (e.g. the last token of each sequence).
  std::span<const int32_t> output_rows;
  // How the outputs leave the device (read, read_argmax with or without token masks, or the hidden
  // states): a backend that records a step's work for replay keeps one recording per kind.
  enum class Output { logits, argmax, masked_argmax, hidden };
  Output output = Output::logits;
  int n_tokens() const { return static_cast<int>(tokens.size()); }
  int n_seqs() const { return static_cast<int>(seq_lens.size()); }
};

// Token masks for read_argmax, made on request: per output row, allowed_words(width) words in
// host memory, bit t of a row = token t may be chosen. A backend that runs the step's work
// asynchronously asks only once that work is under way, so the host computes the masks (a
// grammar's work per sequence) while the device runs the forward pass.
using MaskSource = std::function<const uint64_t*()>;

struct AttentionShape {
  int n_heads = 0;
  int n_kv_heads = 0;  // n_heads % n_kv_heads == 0 (GQA: head h reads kv head h / (n_heads / n_kv_heads))
  int head_dim = 0;
  float scale = 0;     // usually 1 / sqrt(head_dim)
};

class Ops {
 public:
  virtual ~Ops() = default;

  virtual std::string device() const = 0;  // "cpu", "cuda:0"
  // Upper bound of tokens per step the forward will issue (sizes per-step device buffers).
  virtual Status init(int max_tokens_per_step) = 0;

  // ---- memory (load time) ----
  // An F32 activation buffer of n floats, zero-initialized, owned by the Ops.
  virtual float* alloc(int64_t n) = 0;
  // The device view of a weight whose host bytes live in the mapped file (valid as long as
  // the file is). Fails with model_load_failed when the type is not supported on this device.
  virtual Result<Weight> bind_weight(const Weight& host, std::string_view name) = 0;
  virtual Status init_kv_cache(const KvCacheShape& shape) = 0;
  virtual void set_rope(const RopeTable& rope) = 0;
  // Bytes of device memory held (activations + KV + uploaded weights), for logs and limits.
  virtual int64_t memory_bytes() const = 0;
  // Bytes of device memory still free (sizes the KV pool on a GPU); -1 when unknown.
  virtual int64_t free_memory_bytes() const { return -1; }

  // ---- per step ----
  virtual void begin_step(const StepInputs& in) = 0;

  // ---- ops (all in step order; n_tokens = the step's token count unless given) ----
  // out[t] = row tokens[t] of `table` as F32 (n_cols floats each).
  virtual void embed(const Weight& table, float* out) = 0;
  // y[t] = W x[t] (+ bias) for t < n_tokens; y has W.n_rows floats per row, x W.n_cols.
  virtual void matmul(const Weight& w, const float* x, int n_tokens, float* y, const Weight* bias = nullptr) = 0;
  // Per row of `width` floats (n_rows rows): y = x / sqrt(mean(x^2) + eps) * weight.
  // Per-head norm (qwen3 q/k): width = head_dim, n_rows = n_tokens * n_heads. y may equal x.
  virtual void rms_norm(const float* x, const Weight& weight, float eps, int64_t n_rows, int width, float* y) = 0;
  // Rotates, in place, each of the n_heads heads of every step token's row by its position.
  virtual void rope(float* x, int n_heads, int head_dim) = 0;
  // Writes the step tokens' K and V rows ([n_tokens][n_kv_heads * head_dim]) to their slots.
  virtual void kv_write(int layer, const float* k, const float* v) = 0;
  // out[t] = softmax(q[t] K^T * scale, causal over the sequence's cache) V, per head;
  // q, out: [n_tokens][n_heads * head_dim]. Reads the cache only (kv_write comes first).
  virtual void attention(int layer, const float* q, const AttentionShape& shape, float* out) = 0;
  // out = silu(gate) * up, elementwise over n floats.
  virtual void silu_mul(const float* gate, const float* up, int64_t n, float* out) = 0;
  // x += y over n floats (residual).
  virtual void add(float* x, const float* y, int64_t n) = 0;
  // dst[i] = src[output_rows[i]] for the step's output_rows, rows of `width` floats.
  virtual void copy_output_rows(const float* src, int width, float* dst) = 0;

  // ---- host transfer ----
  // Waits for all issued work, then copies n floats from a device buffer to host memory.
  virtual void read(const float* src, int64_t n, float* host_dst) = 0;
  // Greedy sampling where the logits live: host_out[r] = index of the largest value of row r of
  // `logits` (n_rows rows of `width`; the lowest index among equals). Ends the step like read();
  // a GPU moves n_rows ints over the bus instead of the logits. With `masks`, only allowed
  // tokens compete: constrained greedy decoding without the logits leaving the device.
  virtual void read_argmax(const float* logits, int n_rows, int width, int32_t* host_out,
                           const MaskSource* masks) = 0;
  // The first failure any op hit (ops return void; a GPU reports errors asynchronously). After
  // a failure the step's reads return NaN logits / -1 tokens; callers check this after a read.
  virtual Status status() const { return ok_status(); }
};

// Index of the largest of n floats (the lowest among equals): the one argmax every device matches.
inline int32_t argmax_row(const float* x, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;
  return static_cast<int32_t>(best);
}

// 64-bit words of one row of read_argmax's `allowed` bit mask.
inline int64_t allowed_words(int64_t width) { return (width + 63) / 64; }

// argmax_row over the tokens whose bit is set in `allowed` (the lowest among equals); 0 when
// none is (the caller checks that some token is allowed).
inline int32_t argmax_row_allowed(const float* x, int64_t n, const uint64_t* allowed) {
  int64_t best = -1;
  for (int64_t w = 0; w < allowed_words(n); ++w) {
    for (uint64_t bits = allowed[w]; bits != 0; bits &= bits - 1) {
      const int64_t i = w * 64 + __builtin_ctzll(bits);
      if (i >= n) break;
      if (best < 0 || x[i] > x[best]) best = i;
    }
  }
  return static_cast<int32_t>(best < 0 ? 0 : best);
}


// Bytes of one K (or V) element in the cache.
inline int kv_type_bytes(KvType t) { return t == KvType::f16 ? 2 : 4; }

}  // namespace pensieve::backend
