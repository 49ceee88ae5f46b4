// The CPU implementation of backend::Ops: zero-copy weights (views into the mapped GGUF),
// matmul from matmul.h, the other kernels from op_kernels.h, work split over a ThreadPool.
#pragma once

#include <memory>

#include "backend/ops.h"

namespace pensieve::cpu {

// n_threads <= 0: physical cores.
std::unique_ptr<backend::Ops> make_cpu_ops(int n_threads);

}  // namespace pensieve::cpu
