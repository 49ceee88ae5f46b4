// The one place an Ops instance is made from a device name (LoadOptions.device).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "backend/ops.h"
#include "util/status.h"

namespace pensieve::engine {

// device: "auto" | "cpu" | "cuda" | "cuda:N". auto picks CUDA when a GPU is present and
// `bytes_needed` (weights + KV cache) fits in its free memory, else the CPU. `why` receives a
// line for the log saying what was picked and why. "cuda" without a GPU: platform_unsupported.
// batch_invariant: the GPU's batch-invariant kernel choice (cuda_ops.h); the CPU is invariant as is.
Result<std::unique_ptr<backend::Ops>> create_ops(const std::string& device, int threads, int64_t bytes_needed,
                                                 std::string* why, bool batch_invariant = false);

}  // namespace pensieve::engine
