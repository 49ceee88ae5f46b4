#include "engine/device.h"

#include "backend/cpu/cpu_ops.h"

namespace pensieve::engine {

Result<std::unique_ptr<backend::Ops>> create_ops(const std::string& device, int threads, std::string* why) {
  if (device == "cpu" || device == "auto" || device.empty()) {
    if (why) *why = device == "cpu" ? "device cpu (requested)" : "device cpu (no GPU backend in this build)";
    return cpu::make_cpu_ops(threads);
  }
  if (device == "cuda" || device.rfind("cuda:", 0) == 0)
    return make_error(ErrorKind::platform_unsupported, "device '" + device + "': this build has no CUDA backend");
  return make_error(ErrorKind::invalid_request, "unknown device '" + device + "' (expected auto, cpu, cuda or cuda:N)");
}

}  // namespace pensieve::engine
