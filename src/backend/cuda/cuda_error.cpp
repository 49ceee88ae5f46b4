#include "backend/cuda/cuda_error.h"

#include <string>

namespace pensieve::cuda {

ErrorKind cuda_error_kind(cudaError_t e) {
  switch (e) {
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorInvalidDevice:
    case cudaErrorNotSupported:
    case cudaErrorSystemDriverMismatch:
    case cudaErrorCompatNotSupportedOnDevice:
    case cudaErrorDevicesUnavailable:
    case cudaErrorSystemNotReady:
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorUnsupportedPtxVersion:
      return ErrorKind::platform_unsupported;
    case cudaErrorMemoryAllocation:
      return ErrorKind::resource_exhausted;
    default:
      return ErrorKind::internal;
  }
}

Error cuda_error(cudaError_t e, std::string_view what) {
  std::string msg = "CUDA error in ";
  msg += what;
  msg += ": ";
  msg += cudaGetErrorName(e);
  msg += " (";
  msg += cudaGetErrorString(e);
  msg += ")";
  return make_error(cuda_error_kind(e), std::move(msg));
}

}  // namespace pensieve::cuda
