// cuBLAS, loaded with dlopen when the first GEMM is set up instead of linked into the binary:
// libcublasLt's static initializers cost ~0.35 s at every process start (measured on the dev
// machine: `pensieve --version` took 0.40 s with cuBLAS linked), CPU-only runs and every test
// process included. Only the calls gemm.cpp makes are resolved.
#pragma once

#include <cublas_v2.h>

#include <string>

namespace pensieve::cuda {

struct CublasApi {
  decltype(&cublasCreate_v2) create;
  decltype(&cublasDestroy_v2) destroy;
  decltype(&cublasSetStream_v2) set_stream;
  decltype(&cublasGetStream_v2) get_stream;
  decltype(&cublasSetWorkspace_v2) set_workspace;
  decltype(&cublasSetMathMode) set_math_mode;
  decltype(&cublasGetStatusString) status_string;
  decltype(&cublasSgemm_v2) sgemm;
  // cublasGemmEx has a C++ overload in the header: the C entry point's type, spelled out.
  cublasStatus_t (*gemm_ex)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const void*,
                            const void*, cudaDataType, int, const void*, cudaDataType, int, const void*, void*,
                            cudaDataType, int, cublasComputeType_t, cublasGemmAlgo_t);
};

// The API (loaded on the first call, thread-safe), or nullptr with *why saying what is missing.
const CublasApi* cublas_api(std::string* why);

}  // namespace pensieve::cuda
