#include "backend/cuda/gemm.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "backend/cuda/cublas_loader.h"
#include "backend/cuda/cuda_error.h"
#include "backend/cuda/dequant_rows.cuh"

namespace pensieve::cuda {

namespace {

constexpr int64_t kWorkspaceBytes = int64_t(32) << 20;
// F16 bytes per dequantized chunk: 128 MiB (a whole weight of an 8B model in one chunk). Measured
// on the H100 (CudaGemmChunks.BenchLlama8bShapes, bench/RESULTS.md): chunks small enough to stay
// in L2 (8-32 MiB) were 10-50 % slower per layer than one big chunk -- the smaller GEMMs lose more
// than the saved HBM round trip, also with a second stream dequantizing the next chunk (removed
// after that measurement) -- so the chunk size stays selectable for A/B runs only.
constexpr int64_t kDefaultChunkBytes = int64_t(128) << 20;
constexpr int64_t kMinChunkRows = 1024;
constexpr int64_t kRowAlign = 128;  // chunk rows: whole GEMM tiles

Error cublas_error(cublasStatus_t s, const char* what) {
  const ErrorKind kind = s == CUBLAS_STATUS_ALLOC_FAILED ? ErrorKind::resource_exhausted
                         : s == CUBLAS_STATUS_NOT_INITIALIZED ? ErrorKind::platform_unsupported
                                                              : ErrorKind::internal;
  return make_error(kind, std::string("cuBLAS error in ") + what + ": " + cublas_api(nullptr)->status_string(s));
}

#define PS_CUBLAS_TRY(expr)                                             \
  do {                                                                  \
    cublasStatus_t ps_s_ = (expr);                                      \
    if (ps_s_ != CUBLAS_STATUS_SUCCESS) return cublas_error(ps_s_, #expr); \
  } while (0)

// ---- benchmark timing (gemm_timing_enable) ----

struct Timing {
  bool on = false;
  std::vector<cudaEvent_t> events;  // pairs; kept for reuse (never destroyed: process lifetime)
  std::vector<const char*> kinds;   // kind of pair i
};

Timing& timing() {
  static Timing t;
  return t;
}

// Event pair around the launches of its lifetime, when timing is on.
class Timed {
 public:
  Timed(const char* kind, cudaStream_t s) : s_(s) {
    Timing& t = timing();
    if (!t.on) return;
    const size_t i = t.kinds.size();
    while (t.events.size() < 2 * i + 2) {
      cudaEvent_t e = nullptr;
      if (cudaEventCreate(&e) != cudaSuccess) return;
      t.events.push_back(e);
    }
    t.kinds.push_back(kind);
    end_ = t.events[2 * i + 1];
    cudaEventRecord(t.events[2 * i], s);
  }
  ~Timed() {
    if (end_) cudaEventRecord(end_, s_);
  }
  Timed(const Timed&) = delete;
  Timed& operator=(const Timed&) = delete;

 private:
  cudaStream_t s_;
  cudaEvent_t end_ = nullptr;
};

int64_t env_chunk_bytes() {
  const char* v = std::getenv("PENSIEVE_GEMM_CHUNK_MB");
  if (v == nullptr || *v == 0) return kDefaultChunkBytes;
  const long mb = std::strtol(v, nullptr, 10);
  return mb > 0 ? int64_t(mb) << 20 : kDefaultChunkBytes;
}

}  // namespace

void gemm_timing_enable(bool on) { timing().on = on; }

std::map<std::string, std::pair<double, int64_t>> gemm_timing_collect() {
  Timing& t = timing();
  std::map<std::string, std::pair<double, int64_t>> out;
  for (size_t i = 0; i < t.kinds.size(); ++i) {
    float ms = 0;
    if (cudaEventElapsedTime(&ms, t.events[2 * i], t.events[2 * i + 1]) != cudaSuccess) continue;
    auto& slot = out[t.kinds[i]];
    slot.first += ms;
    slot.second++;
  }
  t.kinds.clear();
  return out;
}

Gemm::~Gemm() {
  if (handle_) api_->destroy(handle_);
  if (pool_) {
    pool_->release(workspace_);
    pool_->release(x16_);
    pool_->release(w16_);
  }
}

Status Gemm::init(cudaStream_t stream, BufferPool* pool) {
  pool_ = pool;
  chunk_bytes_ = env_chunk_bytes();
  std::string why;
  api_ = cublas_api(&why);
  if (api_ == nullptr) return make_error(ErrorKind::platform_unsupported, why);
  PS_CUBLAS_TRY(api_->create(&handle_));
  PS_CUBLAS_TRY(api_->set_stream(handle_, stream));
  auto ws = pool_->acquire(kWorkspaceBytes);
  if (!ws.ok()) return ws.error();
  workspace_ = *ws;
  // A fixed workspace lets cuBLAS calls be captured into CUDA graphs.
  PS_CUBLAS_TRY(api_->set_workspace(handle_, workspace_, kWorkspaceBytes));
  PS_CUBLAS_TRY(api_->set_math_mode(handle_, CUBLAS_DEFAULT_MATH));
  return ok_status();
}

void Gemm::set_chunking(int64_t chunk_bytes) { chunk_bytes_ = std::max<int64_t>(chunk_bytes, 1); }

int64_t Gemm::chunk_rows(int64_t n_cols, int64_t n_rows) const {
  const int64_t budget = std::max(kMinChunkRows, chunk_bytes_ / (2 * std::max<int64_t>(n_cols, 1)));
  if (budget >= n_rows) return std::max<int64_t>(n_rows, 1);
  // Equal chunks (no small tail GEMM), in whole tiles.
  const int64_t n_chunks = (n_rows + budget - 1) / budget;
  const int64_t rows = (n_rows + n_chunks - 1) / n_chunks;
  return std::min(n_rows, (rows + kRowAlign - 1) / kRowAlign * kRowAlign);
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
  PS_CUBLAS_TRY(api_->get_stream(handle_, &stream));
  // Row-major Y[t][r] = sum_k W[r][k] X[t][k] is, column-major, Y(n_rows x n_tokens) = W^T X.
  if (type == GgmlType::F32) {
    Timed tm("gemm.f32", stream);
    PS_CUBLAS_TRY(api_->sgemm(handle_, CUBLAS_OP_T, CUBLAS_OP_N, int(n_rows), n_tokens, int(n_cols), &one,
                              static_cast<const float*>(w), int(n_cols), x, int(n_cols), &zero, y, int(n_rows)));
    return ok_status();
  }
  if (int64_t(n_tokens) * n_cols * 2 > x16_cap_) return make_error(ErrorKind::internal, "Gemm scratch not reserved");
  const bool bf16 = type == GgmlType::BF16;
  const cudaDataType_t dt = bf16 ? CUDA_R_16BF : CUDA_R_16F;
  {
    Timed tm("gemm.convert", stream);
    if (bf16) convert_f32_to_bf16(x, int64_t(n_tokens) * n_cols, static_cast<uint16_t*>(x16_), stream);
    else convert_f32_to_f16(x, int64_t(n_tokens) * n_cols, static_cast<uint16_t*>(x16_), stream);
  }
  if (type == GgmlType::F16 || bf16) {
    Timed tm("gemm.f16", stream);
    PS_CUBLAS_TRY(api_->gemm_ex(handle_, CUBLAS_OP_T, CUBLAS_OP_N, int(n_rows), n_tokens, int(n_cols), &one, w, dt,
                               int(n_cols), x16_, dt, int(n_cols), &zero, y, CUDA_R_32F, int(n_rows),
                               CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    return ok_status();
  }
  const int64_t rows_per = chunk_rows(n_cols, n_rows);
  if (rows_per * n_cols * 2 > w16_cap_) return make_error(ErrorKind::internal, "Gemm scratch not reserved");
  uint16_t* buf = static_cast<uint16_t*>(w16_);
  for (int64_t r0 = 0; r0 < n_rows; r0 += rows_per) {
    const int64_t nr = std::min(rows_per, n_rows - r0);
    {
      Timed tm("gemm.dequant", stream);
      if (!dequant_rows_f16(type, w, n_cols, r0, nr, buf, stream))
        return make_error(ErrorKind::internal, "dequantize of an unsupported weight type");
    }
    {
      Timed tm("gemm.f16", stream);
      PS_CUBLAS_TRY(api_->gemm_ex(handle_, CUBLAS_OP_T, CUBLAS_OP_N, int(nr), n_tokens, int(n_cols), &one, buf,
                                 CUDA_R_16F, int(n_cols), x16_, CUDA_R_16F, int(n_cols), &zero, y + r0, CUDA_R_32F,
                                 int(n_rows), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    }
  }
  return ok_status();
}

}  // namespace pensieve::cuda
