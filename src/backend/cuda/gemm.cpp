#include "backend/cuda/gemm.h"

#include <cublas_v2.h>

#include <algorithm>
#include <string>

#include "backend/cuda/cuda_error.h"
#include "backend/cuda/dequant_rows.cuh"

namespace pensieve::cuda {

namespace {

constexpr int64_t kWorkspaceBytes = int64_t(32) << 20;
constexpr int64_t kMaxChunkElems = int64_t(64) << 20;  // 128 MiB of F16 per dequantized chunk

Error cublas_error(cublasStatus_t s, const char* what) {
  const ErrorKind kind = s == CUBLAS_STATUS_ALLOC_FAILED ? ErrorKind::resource_exhausted
                         : s == CUBLAS_STATUS_NOT_INITIALIZED ? ErrorKind::platform_unsupported
                                                              : ErrorKind::internal;
  return make_error(kind, std::string("cuBLAS error in ") + what + ": " + cublasGetStatusString(s));
}

#define PS_CUBLAS_TRY(expr)                                             \
  do {                                                                  \
    cublasStatus_t ps_s_ = (expr);                                      \
    if (ps_s_ != CUBLAS_STATUS_SUCCESS) return cublas_error(ps_s_, #expr); \
  } while (0)

}  // namespace

Gemm::~Gemm() {
  if (handle_) cublasDestroy(handle_);
  if (pool_) {
    pool_->release(workspace_);
    pool_->release(x16_);
    pool_->release(w16_);
  }
}

Status Gemm::init(cudaStream_t stream, BufferPool* pool) {
  pool_ = pool;
  PS_CUBLAS_TRY(cublasCreate(&handle_));
  PS_CUBLAS_TRY(cublasSetStream(handle_, stream));
  auto ws = pool_->acquire(kWorkspaceBytes);
  if (!ws.ok()) return ws.error();
  workspace_ = *ws;
  // A fixed workspace lets cuBLAS calls be captured into CUDA graphs.
  PS_CUBLAS_TRY(cublasSetWorkspace(handle_, workspace_, kWorkspaceBytes));
  PS_CUBLAS_TRY(cublasSetMathMode(handle_, CUBLAS_DEFAULT_MATH));
  return ok_status();
}

int64_t Gemm::chunk_rows(int64_t n_cols, int64_t n_rows) {
  return std::max<int64_t>(1, std::min<int64_t>(n_rows, kMaxChunkElems / std::max<int64_t>(n_cols, 1)));
}

Status Gemm::grow(void** buf, int64_t* cap, int64_t bytes) {
  if (bytes <= *cap) return ok_status();
  pool_->release(*buf);
  *buf = nullptr;
  *cap = 0;
  auto p = pool_->acquire(bytes);
  if (!p.ok()) return p.error();
  *buf = *p;
  *cap = bytes;
  return ok_status();
}

Status Gemm::reserve(GgmlType type, int64_t n_cols, int64_t n_rows, int n_tokens) {
  if (type == GgmlType::F32) return ok_status();
  PS_TRY(grow(&x16_, &x16_cap_, int64_t(n_tokens) * n_cols * 2));
  if (type != GgmlType::F16 && type != GgmlType::BF16)
    PS_TRY(grow(&w16_, &w16_cap_, chunk_rows(n_cols, n_rows) * n_cols * 2));
  return ok_status();
}

Status Gemm::matmul(GgmlType type, const void* w, int64_t n_cols, int64_t n_rows, const float* x, int n_tokens,
                    float* y) {
  const float one = 1.0f, zero = 0.0f;
  cudaStream_t stream = nullptr;
  PS_CUBLAS_TRY(cublasGetStream(handle_, &stream));
  // Row-major Y[t][r] = sum_k W[r][k] X[t][k] is, column-major, Y(n_rows x n_tokens) = W^T X.
  if (type == GgmlType::F32) {
    PS_CUBLAS_TRY(cublasSgemm(handle_, CUBLAS_OP_T, CUBLAS_OP_N, int(n_rows), n_tokens, int(n_cols), &one,
                              static_cast<const float*>(w), int(n_cols), x, int(n_cols), &zero, y, int(n_rows)));
    return ok_status();
  }
  if (int64_t(n_tokens) * n_cols * 2 > x16_cap_) return make_error(ErrorKind::internal, "Gemm scratch not reserved");
  const bool bf16 = type == GgmlType::BF16;
  const cudaDataType_t dt = bf16 ? CUDA_R_16BF : CUDA_R_16F;
  if (bf16) convert_f32_to_bf16(x, int64_t(n_tokens) * n_cols, static_cast<uint16_t*>(x16_), stream);
  else convert_f32_to_f16(x, int64_t(n_tokens) * n_cols, static_cast<uint16_t*>(x16_), stream);
  if (type == GgmlType::F16 || bf16) {
    PS_CUBLAS_TRY(cublasGemmEx(handle_, CUBLAS_OP_T, CUBLAS_OP_N, int(n_rows), n_tokens, int(n_cols), &one, w, dt,
                               int(n_cols), x16_, dt, int(n_cols), &zero, y, CUDA_R_32F, int(n_rows),
                               CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    return ok_status();
  }
  const int64_t rows_per = chunk_rows(n_cols, n_rows);
  if (rows_per * n_cols * 2 > w16_cap_) return make_error(ErrorKind::internal, "Gemm scratch not reserved");
  for (int64_t r0 = 0; r0 < n_rows; r0 += rows_per) {
    const int64_t nr = std::min(rows_per, n_rows - r0);
    if (!dequant_rows_f16(type, w, n_cols, r0, nr, static_cast<uint16_t*>(w16_), stream))
      return make_error(ErrorKind::internal, "dequantize of an unsupported weight type");
    PS_CUBLAS_TRY(cublasGemmEx(handle_, CUBLAS_OP_T, CUBLAS_OP_N, int(nr), n_tokens, int(n_cols), &one, w16_,
                               CUDA_R_16F, int(n_cols), x16_, CUDA_R_16F, int(n_cols), &zero, y + r0, CUDA_R_32F,
                               int(n_rows), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  }
  return ok_status();
}

}  // namespace pensieve::cuda
