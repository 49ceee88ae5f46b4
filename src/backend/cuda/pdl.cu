#include <cstdlib>

#include "backend/cuda/pdl.cuh"

namespace pensieve::cuda {

namespace {

// -1: not decided yet; 0 / 1 afterwards. The kernels' launch sites read it on the issuing
// thread only (one engine thread per Ops), so a plain int is enough.
int g_pdl = -1;

bool device_supports_pdl() {
  int dev = 0, major = 0;
  if (cudaGetDevice(&dev) != cudaSuccess) return false;
  if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess) return false;
  return major >= 9;
}

}  // namespace

bool pdl_enabled() {
  if (g_pdl < 0) {
    const char* v = std::getenv("PENSIEVE_CUDA_PDL");
    g_pdl = (v == nullptr || *v != '0') && device_supports_pdl() ? 1 : 0;
  }
  return g_pdl == 1;
}

void set_pdl_enabled(bool on) { g_pdl = on && device_supports_pdl() ? 1 : 0; }

}  // namespace pensieve::cuda
