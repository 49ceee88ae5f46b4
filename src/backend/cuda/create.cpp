#include "backend/cuda/create.h"

#include <cstdio>

#include "backend/cuda/context.h"

namespace pensieve::cuda {

namespace {

std::string gib(int64_t b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", double(b) / (1024.0 * 1024.0 * 1024.0));
  return buf;
}

}  // namespace

Result<DeviceChoice> choose_device(std::string_view spec, int64_t bytes_needed) {
  auto parsed = parse_device_spec(spec);
  if (!parsed.ok()) return parsed.error();
  const DeviceSpec d = *parsed;
  DeviceChoice c;
  if (d.kind == DeviceSpec::Kind::cpu) {
    c.reason = "device cpu: requested with --device cpu";
    return c;
  }
  const int n = device_count();
  if (n == 0) {
    if (d.kind == DeviceSpec::Kind::cuda)
      return make_error(ErrorKind::platform_unsupported,
                        "--device " + std::string(spec) + ": no CUDA device found (no GPU or no driver)");
    c.reason = "device cpu: no CUDA device found";
    return c;
  }
  if (d.index >= n)
    return make_error(ErrorKind::platform_unsupported, "--device " + std::string(spec) + ": only " +
                                                           std::to_string(n) + " CUDA device(s) present");
  auto info = device_info(d.index);
  if (!info.ok()) {
    if (d.kind == DeviceSpec::Kind::cuda) return info.error();
    c.reason = "device cpu: CUDA device unusable (" + info.error().message + ")";
    return c;
  }
  const int64_t margin = int64_t(512) << 20;  // cuBLAS workspace, scratch, context
  if (bytes_needed + margin > info->free_bytes) {
    const std::string why = "the model needs " + gib(bytes_needed) + " of GPU memory, " + info->name + " has " +
                            gib(info->free_bytes) + " free";
    if (d.kind == DeviceSpec::Kind::cuda)
      return make_error(ErrorKind::resource_exhausted, "--device " + std::string(spec) + ": " + why);
    c.reason = "device cpu: " + why;
    return c;
  }
  c.use_cuda = true;
  c.index = d.index;
  c.reason = "device cuda:" + std::to_string(d.index) + " (" + info->name + "): " +
             (d.kind == DeviceSpec::Kind::cuda ? "requested" : "GPU present") + ", model needs " +
             gib(bytes_needed) + " of " + gib(info->free_bytes) + " free";
  return c;
}

Result<std::unique_ptr<backend::Ops>> create_cuda_ops(int index, const CudaOpsOptions& options) {
  auto ops = CudaOps::create(index, options);
  if (!ops.ok()) return ops.error();
  return std::unique_ptr<backend::Ops>(std::move(*ops));
}

}  // namespace pensieve::cuda
