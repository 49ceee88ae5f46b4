// A kernel that keeps a stream busy for a given time: exercises the timeout path of
// Context::wait in tests without a real long-running workload.
#include "backend/cuda/context.h"
#include "backend/cuda/cuda_error.h"

namespace pensieve::cuda {

namespace {

__global__ void busy_wait_kernel(int64_t ns) {
  uint64_t start;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
  for (;;) {
    uint64_t now;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
    if (int64_t(now - start) >= ns) break;
    __nanosleep(1000);
  }
}

}  // namespace

Status launch_busy_wait(Stream stream, int64_t ns) {
  busy_wait_kernel<<<1, 1, 0, stream>>>(ns);
  PS_CUDA_TRY(cudaGetLastError());
  return ok_status();
}

}  // namespace pensieve::cuda
