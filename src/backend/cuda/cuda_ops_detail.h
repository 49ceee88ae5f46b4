// Private to cuda_ops.cpp / cuda_ops_layer.cpp: the per-step input slots, the op codes and the
// signatures by which a replayed CUDA graph checks that the model issued the recorded op sequence.
#pragma once

#include <cstdint>
#include <iterator>

namespace pensieve::cuda::ops_detail {

// Indices of the per-step input arrays in the device input block (each max_tokens ints).
enum Input { kTokens, kPositions, kSeqIds, kSlots, kOutRows, kSeqLens, kBlockTables };

enum OpCode : uint64_t {
  kEmbed = 1, kMatvec, kGemm, kNorm, kRope, kKvWrite, kAttn, kSilu, kAdd, kGather, kArgmax,
  kQuant, kMatvecQ8, kNormQuant, kSiluQuant, kAddNorm, kAddNormQuant, kRopeKv, kMma
};

inline uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdull;
}

template <class... A>
inline uint64_t signature(OpCode op, A... args) {
  uint64_t h = op;
  ((h = mix(h, uint64_t(args))), ...);
  return h;
}

inline uint64_t P(const void* p) { return reinterpret_cast<uintptr_t>(p); }

inline int next_pow2(int v) {
  int p = 1;
  while (p < v) p *= 2;
  return p;
}

inline const char* op_name(int op) {
  static const char* const names[] = {"?",       "embed",   "matvec_f32", "gemm",      "rms_norm",     "rope",
                                      "kv_write", "attention", "silu_mul", "add",      "gather",       "argmax",
                                      "quantize", "matvec_q8", "rms_norm+q", "silu_mul+q", "add+rms_norm",
                                      "add+rms_norm+q", "rope+kv_write"};
  return op >= 0 && op < int(std::size(names)) ? names[op] : "?";
}

}  // namespace pensieve::cuda::ops_detail
