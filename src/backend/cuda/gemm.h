// Prefill matmul: y[t] = W x[t] for many tokens through cuBLAS tensor-core GEMMs.
// Quantized weights are dequantized to F16 in row chunks and multiplied with the activations
// converted to F16, accumulating in F32; F16 / BF16 weights are used as they are; F32 weights use
// plain SGEMM (no TF32) so the small F32 fixture models stay exact.
//
// Chunks are 128 MiB of F16 by default (kDefaultChunkBytes in gemm.cpp says why);
// PENSIEVE_GEMM_CHUNK_MB sets the chunk size for A/B runs.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <map>
#include <string>

#include "backend/cuda/context.h"
#include "gguf/types.h"
#include "util/status.h"

typedef struct cublasContext* cublasHandle_t;

namespace pensieve::cuda {

struct CublasApi;

class Gemm {
 public:
  Gemm() = default;
  ~Gemm();
  Gemm(const Gemm&) = delete;
  Gemm& operator=(const Gemm&) = delete;

  Status init(cudaStream_t stream, BufferPool* pool);
  // Overrides the environment's chunking (tests, benchmarks); call before reserve().
  void set_chunking(int64_t chunk_bytes);
  // Grows the scratch buffers for a call of this shape (must run outside graph capture).
  Status reserve(GgmlType type, int64_t n_cols, int64_t n_rows, int n_tokens);
  // Issues the product on the stream. reserve() must have been called for this shape.
  Status matmul(GgmlType type, const void* w, int64_t n_cols, int64_t n_rows, const float* x, int n_tokens,
                float* y);
  // Rows of W dequantized per GEMM call, for a weight of this shape.
  int64_t chunk_rows(int64_t n_cols, int64_t n_rows) const;

 private:
  Status grow(void** buf, int64_t* cap, int64_t bytes);
  const CublasApi* api_ = nullptr;  // cublas_loader.h
  cublasHandle_t handle_ = nullptr;
  BufferPool* pool_ = nullptr;
  void* workspace_ = nullptr;
  void* x16_ = nullptr;
  int64_t x16_cap_ = 0;
  void* w16_ = nullptr;  // one dequantized chunk
  int64_t w16_cap_ = 0;
  int64_t chunk_bytes_ = 0;
};

// Benchmark instrumentation (process-wide, off by default): while on, every Gemm records the GPU
// time of its activation conversions, dequantizations and GEMM calls.
void gemm_timing_enable(bool on);
// ms and launches per kind ("gemm.convert", "gemm.dequant", "gemm.f16") since the last call;
// the streams must have been synchronized.
std::map<std::string, std::pair<double, int64_t>> gemm_timing_collect();

}  // namespace pensieve::cuda
