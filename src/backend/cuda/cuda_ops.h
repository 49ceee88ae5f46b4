// backend::Ops on an NVIDIA GPU (see backend/ops.h for the contract).
//
// Weights are uploaded once at bind_weight (vectors as F32), activations live in the context's
// buffer pool, the K/V pools in device memory. Every op is issued on the context's one stream.
// Decode steps are replayed from CUDA graphs: the first step of a shape runs directly, the second
// is captured, later ones replay it (the op sequence is checked against the recording; on any
// difference the step runs directly and the graph is dropped). Ops return void by the interface;
// the first CUDA failure is kept and reported by status() (and the step's reads return NaNs).
// Setup, step inputs, graphs and host reads: cuda_ops.cpp; the layer ops and their fusions:
// cuda_ops_layer.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "backend/cuda/act_quant.cuh"
#include "backend/cuda/context.h"
#include "backend/cuda/gemm.h"
#include "backend/cuda/matvec_q8.cuh"
#include "backend/cuda/op_profile.h"
#include "backend/ops.h"

namespace pensieve::cuda {

struct CudaOpsOptions {
  bool use_graphs = true;
  int matvec_max_tokens = 8;  // steps with more tokens use the dequantize + GEMM path
  // Matmuls of mma_min_tokens..mma_max_tokens rows (batched decode of many sequences) use the
  // tensor-core kernel of matmul_mma.cuh, which reads each weight once for all of them.
  // 0: off. Measured on the H200 (bench/RESULTS.md, llama-8b Q4_K_M): faster than the 8-token
  // mat-vec passes at 8 sequences (768 vs 638 t/s) and than dequantize + GEMM at 32 (1296 vs
  // 1182); since its 64-row blocks and prefetch, also at 64 (16.1 vs 17.2 ms per decode step).
  // PENSIEVE_CUDA_MMA_MIN/MAX_TOKENS override.
  int mma_min_tokens = 2;
  int mma_max_tokens = 64;
  int graph_max_tokens = 8;  // steps of at most this many tokens are captured as CUDA graphs
  // Decode mat-vecs on Q8_0 / Q5_0 / Q4_K / Q6_K weights use integer dot products on activations
  // quantized to 8 bits (matvec_q8.cuh); off: dequantize to float (matvec.cuh), exact but slower.
  bool int8_matvec = true;
  // A token's result independent of the step it shares (which sequences, how many tokens, how its
  // prompt was chunked): every matmul through one per-token kernel (matmul_mma in pieces of 64
  // tokens; F32/F16 weights it does not take through the float mat-vec in pieces of 8), no 8-bit
  // activations, the flash-decoding attention with a fixed split count for every step. Costs the
  // single-stream mat-vec speed (bench/RESULTS.md). Set by --batch-invariant.
  bool batch_invariant = false;
  std::chrono::milliseconds step_timeout{60000};
  int64_t pool_cap_bytes = int64_t(1) << 40;
};

struct GraphStats {
  int64_t captured = 0;   // graphs instantiated
  int64_t replayed = 0;   // steps served by a graph
  int64_t direct = 0;     // steps issued op by op
  int64_t mismatches = 0; // replays abandoned because the op sequence differed
};

class CudaOps final : public backend::Ops {
 public:
  static Result<std::unique_ptr<CudaOps>> create(int device, const CudaOpsOptions& options = {});
  ~CudaOps() override;

  std::string device() const override;
  Status init(int max_tokens_per_step) override;
  float* alloc(int64_t n) override;
  Result<backend::Weight> bind_weight(const backend::Weight& host, std::string_view name) override;
  Status init_kv_cache(const backend::KvCacheShape& shape) override;
  void set_rope(const backend::RopeTable& rope) override;
  int64_t memory_bytes() const override;
  int64_t free_memory_bytes() const override;

  void begin_step(const backend::StepInputs& in) override;
  void embed(const backend::Weight& table, float* out) override;
  void matmul(const backend::Weight& w, const float* x, int n_tokens, float* y,
              const backend::Weight* bias = nullptr) override;
  void rms_norm(const float* x, const backend::Weight& weight, float eps, int64_t n_rows, int width,
                float* y) override;
  void rope(float* x, int n_heads, int head_dim) override;
  void kv_write(int layer, const float* k, const float* v) override;
  void attention(int layer, const float* q, const backend::AttentionShape& shape, float* out) override;
  void silu_mul(const float* gate, const float* up, int64_t n, float* out) override;
  void add(float* x, const float* y, int64_t n) override;
  void copy_output_rows(const float* src, int width, float* dst) override;
  void read(const float* src, int64_t n, float* host_dst) override;
  // Argmax on the device: only n_rows ints cross the bus instead of the logits.
  void read_argmax(const float* logits, int n_rows, int width, int32_t* host_out, const backend::MaskSource* masks) override;

  // ---- CUDA extras (not in backend::Ops) ----
  Status status() const override { return status_; }
  Context& context() { return *ctx_; }
  GraphStats graph_stats() const { return graph_stats_; }
  void set_use_graphs(bool on) { options_.use_graphs = on; }
  // GPU time per op kind (op_profile.h); while on, steps run op by op instead of from graphs.
  void set_profiling(bool on);
  std::map<std::string, OpTime> op_profile() const;

 private:
  using Launch = std::function<void(cudaStream_t)>;
  enum class Mode { direct, capture, replay };
  struct StepKey {
    int n_tokens, n_seqs, n_out, n_splits;
    backend::StepInputs::Output output;  // a greedy and a sampled step of one shape end differently
    auto tie() const { return std::tie(n_tokens, n_seqs, n_out, n_splits, output); }
    bool operator<(const StepKey& o) const { return tie() < o.tie(); }
  };
  struct StepGraph {
    int seen = 0;
    bool broken = false;  // capture failed or replays mismatched again and again: run directly
    int mismatches = 0;
    Graph graph;
    std::vector<uint64_t> ops;  // signatures of the recorded ops
  };

  CudaOps() = default;
  void fail(Error e);
  void fail_cuda(int code, const char* what);
  // Runs or records one op; `sig` identifies it (kind + arguments) for replay checks.
  void issue(int op, uint64_t sig, Launch launch);
  void finish_step();  // ends capture / launches the replayed graph
  void matmul_invariant(const backend::Weight& w, const float* x, int n_tokens, float* y, const float* bias);
  void flush_pending();  // issues the held-back ops (mat-vecs, add, ropes) as they are
  void flush_matvec();
  Status ensure_inputs(int n_tokens, int n_seqs);
  bool ensure_mask_buffers(int64_t words, int width);  // read_argmax's pinned + device mask staging
  Status ensure_act_scratch(int64_t n_cols);
  // Grows a pool buffer the step's kernels use to `bytes` (zeroed if asked). Recorded graphs
  // point at the old buffer: only in a direct step, and they are dropped.
  Status grow_scratch(void** buf, int64_t* cap_bytes, int64_t bytes, bool zero, const char* what);
  // Whether an op writing n floats can also leave them quantized for the next mat-vec.
  bool can_quantize_output(int64_t n) const;
  const int32_t* dev_ints(int which) const;

  std::unique_ptr<Context> ctx_;
  CudaOpsOptions options_;
  Gemm gemm_;
  Status status_;
  int max_tokens_ = 0;
  std::vector<void*> activations_;
  std::vector<void*> owned_;  // other pool buffers (rope table, argmax output, partials)

  // KV cache
  backend::KvCacheShape kv_shape_;
  void* k_pool_ = nullptr;
  void* v_pool_ = nullptr;
  int64_t kv_bytes_ = 0;

  // rope
  float* inv_freq_ = nullptr;
  int n_rot_ = 0;
  bool neox_ = false;
  float mscale_ = 1.0f;

  // per-step inputs: one pinned host block copied into one device block with fixed offsets
  int32_t* host_inputs_ = nullptr;
  int32_t* dev_inputs_ = nullptr;
  int64_t inputs_cap_ = 0;   // ints
  int bt_stride_ = 0;
  void* mma_partial_ = nullptr;  // matmul_mma's scratch (F16 activations, split-k partial sums)
  int64_t mma_partial_cap_ = 0;
  int inputs_rows_ = 0;      // the M of the layout (max tokens per step)
  CUevent_st* inputs_copied_ = nullptr;
  int step_tokens_ = 0, step_seqs_ = 0, step_out_ = 0, step_splits_ = 1, step_max_len_ = 1;
  bool step_decode_attention_ = true;  // begin_step: the flash-decoding attention kernel for this step
  void* partial_ = nullptr;  // split attention's partial softmax states (floats)
  int64_t partial_cap_ = 0;  // bytes
  int32_t* argmax_dev_ = nullptr;
  int32_t* argmax_host_ = nullptr;
  int argmax_cap_ = 0;
  uint64_t* allowed_dev_ = nullptr;  // read_argmax's token masks: pinned staging + device copy
  uint64_t* allowed_host_ = nullptr;
  int64_t allowed_cap_ = 0;  // words
  float* read_host_ = nullptr;  // pinned bounce buffer for read()
  int64_t read_cap_ = 0;

  // 8-bit activations of the integer mat-vec: one scratch batch (matvec_max_tokens rows of the
  // widest weight), and which activation it holds. That is host bookkeeping in op order (every
  // op but the mat-vec resets it, see issue()), so it is the same in direct, captured and
  // replayed steps: q, k, v (and gate, up) quantize their shared input once, and rms_norm /
  // silu_mul write it quantized as they produce it.
  ActQ8 act_q8_;
  int64_t act_cap_ = 0;  // values
  const float* act_src_ = nullptr;
  int64_t act_n_ = 0;
  bool have_q8_weights_ = false;
  // Integer mat-vecs held back so that the next ones on the same input (q, k, v; gate, up) join
  // the same launch; any other op issues them first (issue()). At most one kind of op is held
  // back at a time: each op that holds itself back flushes the others first.
  struct PendingMatvec {
    GgmlType type;
    int64_t n_cols;
    const float* x;
    int n_tokens;
    bool quantize;     // x is not quantized yet
    bool x_clobbered;  // an output overlaps x: x's quantized copy is stale afterwards
    int count;
    MatvecQ8Output out[kMatvecQ8MaxOutputs];
  };
  std::optional<PendingMatvec> pending_;
  bool flushing_ = false;
  // Small ops held back the same way, to fuse with the op that follows them in a layer:
  // add(x, y) + rms_norm(x) -> one kernel; rope(q) + rope(k) + kv_write(k, v) -> one kernel.
  // They are issued as they are when anything else comes next.
  struct PendingAdd {
    float* x;
    const float* y;
    int64_t n;
  };
  std::optional<PendingAdd> pending_add_;
  struct PendingRope {
    float* x;
    int n_heads, head_dim;
  };
  PendingRope pending_rope_[2] = {};
  int n_pending_rope_ = 0;
  void* attn_counters_ = nullptr;  // split attention's per-(token, kv head) counters (ints)
  int64_t attn_counters_cap_ = 0;   // bytes

  // graphs
  Mode mode_ = Mode::direct;
  bool in_step_ = false;
  void discard_graph(StepGraph& g);
  StepKey key_{};
  std::map<StepKey, StepGraph> graphs_;
  std::vector<Launch> step_ops_;
  std::vector<uint64_t> step_sigs_;
  GraphStats graph_stats_;
  std::unique_ptr<OpProfiler> profiler_;
};

}  // namespace pensieve::cuda
