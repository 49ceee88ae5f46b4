// CUDA status codes -> pensieve::Error of the right kind. Host-only; no kernel code here.
// platform_unsupported: no device / driver too old; resource_exhausted: out of device memory;
// everything else: internal. Nothing in this backend aborts on a CUDA failure.
#pragma once

#include <cuda_runtime_api.h>

#include <string>

#include "util/status.h"

namespace pensieve::cuda {

ErrorKind cuda_error_kind(cudaError_t e);
Error cuda_error(cudaError_t e, std::string_view what);

}  // namespace pensieve::cuda

// Returns an Error from the enclosing function when a CUDA runtime call fails.
#define PS_CUDA_TRY(expr)                                                          \
  do {                                                                             \
    cudaError_t ps_cuda_e_ = (expr);                                               \
    if (ps_cuda_e_ != cudaSuccess) return ::pensieve::cuda::cuda_error(ps_cuda_e_, #expr); \
  } while (0)
