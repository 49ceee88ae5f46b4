// Device selection (--device auto|cpu|cuda[:N]) and the CUDA Ops factory: the hook the engine
// calls at load. parse_device_spec() is header-only so that builds without CUDA can parse the
// flag and refuse "cuda" with platform_unsupported; the rest exists when PENSIEVE_HAVE_CUDA.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "util/status.h"

namespace pensieve::cuda {

struct DeviceSpec {
  enum class Kind { automatic, cpu, cuda } kind = Kind::automatic;
  int index = 0;  // cuda:N
};

// "auto" | "cpu" | "cuda" | "cuda:N" -> DeviceSpec; anything else is invalid_request.
inline Result<DeviceSpec> parse_device_spec(std::string_view s) {
  DeviceSpec d;
  if (s.empty() || s == "auto") return d;
  if (s == "cpu") {
    d.kind = DeviceSpec::Kind::cpu;
    return d;
  }
  if (s.substr(0, 4) == "cuda") {
    d.kind = DeviceSpec::Kind::cuda;
    std::string_view rest = s.substr(4);
    if (rest.empty()) return d;
    if (rest[0] == ':' && rest.size() > 1 && rest.size() <= 4) {
      int v = 0;
      for (char c : rest.substr(1)) {
        if (c < '0' || c > '9') goto bad;
        v = v * 10 + (c - '0');
      }
      d.index = v;
      return d;
    }
  }
bad:
  return make_error(ErrorKind::invalid_request,
                    "bad device '" + std::string(s) + "': expected auto, cpu, cuda or cuda:N");
}

}  // namespace pensieve::cuda

#if defined(PENSIEVE_HAVE_CUDA)
#include "backend/cuda/cuda_ops.h"

namespace pensieve::cuda {

struct DeviceChoice {
  bool use_cuda = false;
  int index = 0;
  std::string reason;  // one line for the log: which device and why
};

// Picks the device for a model that needs `bytes_needed` of device memory (weights + KV cache
// + activations). auto: CUDA when a GPU is present and the model fits in its free memory, else
// CPU. An explicit cuda[:N] without that GPU is platform_unsupported; one that does not fit is
// resource_exhausted.
Result<DeviceChoice> choose_device(std::string_view spec, int64_t bytes_needed);

// The CUDA op set on device `index` (platform_unsupported without it).
Result<std::unique_ptr<backend::Ops>> create_cuda_ops(int index, const CudaOpsOptions& options = {});

}  // namespace pensieve::cuda
#endif
