#include "engine/device.h"

#include <cstdio>

#include "backend/cpu/cpu_ops.h"
#include "backend/cuda/create.h"

namespace pensieve::engine {

Result<std::unique_ptr<backend::Ops>> create_ops(const std::string& device, int threads, int64_t bytes_needed,
                                                 std::string* why, bool batch_invariant) {
  auto spec = cuda::parse_device_spec(device);
  if (!spec) return spec.error();
  if (spec->kind == cuda::DeviceSpec::Kind::cpu) {
    if (why) *why = "device cpu (requested)";
    return cpu::make_cpu_ops(threads);
  }
#if defined(PENSIEVE_HAVE_CUDA)
  auto choice = cuda::choose_device(device, bytes_needed);
  if (!choice) return choice.error();
  if (why) *why = choice->reason;
  if (!choice->use_cuda) return cpu::make_cpu_ops(threads);
  cuda::CudaOpsOptions cuda_options;
  cuda_options.batch_invariant = batch_invariant;
  auto ops = cuda::create_cuda_ops(choice->index, cuda_options);
  // --device auto: a GPU whose runtime pieces are missing or broken (no cuBLAS, a driver error)
  // leaves the CPU; an explicit --device cuda reports the error.
  if (!ops && spec->kind == cuda::DeviceSpec::Kind::automatic && ops.error().kind == ErrorKind::platform_unsupported) {
    if (why) *why = "device cpu: CUDA unusable (" + ops.error().message + ")";
    return cpu::make_cpu_ops(threads);
  }
  return ops;
#else
  (void)bytes_needed;
  (void)batch_invariant;
  if (spec->kind == cuda::DeviceSpec::Kind::cuda)
    return make_error(ErrorKind::platform_unsupported, "device '" + device + "': this build has no CUDA backend");
  if (why) *why = "device cpu (this build has no CUDA backend)";
  return cpu::make_cpu_ops(threads);
#endif
}

}  // namespace pensieve::engine
