// Programmatic dependent launch (PDL, sm_90): a kernel launched with launch_pdl() may start
// while the kernel before it on the stream is still finishing; it must call pdl_wait() before it
// reads anything an earlier kernel wrote, and before it writes anything an earlier kernel may
// still read. What comes before pdl_wait() may only touch data no kernel of the step writes:
// weights (a mat-vec prefetches its rows to L2 there), the kernel's own setup.
//
// The small kernels call pdl_trigger() right after their pdl_wait(): the next kernel's blocks
// may then be scheduled (and run up to their own pdl_wait, a mat-vec prefetching its weights)
// while this one works. Not earlier: a trigger at entry lets kernel N+2 launch while N still
// runs (N+1 triggers at once) -- measured on the H100 as llama-8b Q8_0 decode at 170 t/s
// instead of 205. The mat-vecs do not trigger (their successors start as they finish), and the
// largest ones are launched plainly (matvec_q8.cu, matvec_pdl). The next kernel's pdl_wait()
// still waits for this grid to complete and its writes to be visible, so ordering is exactly
// the stream's, and transitive because every kernel launched with PDL waits for its predecessor
// before it completes.
//
// Why: a decode step is ~200-350 small kernels; without PDL each one pays the launch latency and
// the ramp of its first memory loads after the previous one has drained (~2-4 us on an H100).
// PENSIEVE_CUDA_PDL=0 launches everything plainly (for comparison); the device functions are
// no-ops then, and on GPUs before sm_90.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace pensieve::cuda {

__device__ __forceinline__ void pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

__device__ __forceinline__ void pdl_trigger() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" :::);
#endif
}

// Asks L2 to fetch [p, p + bytes) (bytes a multiple of 16, p 16-byte aligned): one TMA bulk
// prefetch, no registers, no completion to wait for. A hint only.
__device__ __forceinline__ void prefetch_l2(const void* p, uint32_t bytes) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("cp.async.bulk.prefetch.L2.global [%0], %1;" ::"l"(p), "r"(bytes) : "memory");
#endif
}

// Whether kernels are launched with PDL (the device supports it and PENSIEVE_CUDA_PDL != 0).
bool pdl_enabled();
// For tests and benchmarks: switch PDL off / back on (it stays off where unsupported).
void set_pdl_enabled(bool on);

// kernel<<<grid, block, smem, stream>>>(args...) with programmatic stream serialization when
// pdl_enabled(). The kernel must call pdl_wait() (see above). Returns the launch error.
// launch_pdl, or a plain launch when `pdl` is false (the kernel's pdl_wait() is then a no-op).
template <class... KArgs, class... Args>
cudaError_t launch_maybe_pdl(bool pdl, void (*kernel)(KArgs...), dim3 grid, dim3 block, size_t smem,
                             cudaStream_t stream, Args&&... args) {
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = grid;
  cfg.blockDim = block;
  cfg.dynamicSmemBytes = smem;
  cfg.stream = stream;
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[0].val.programmaticStreamSerializationAllowed = 1;
  cfg.attrs = attr;
  cfg.numAttrs = pdl && pdl_enabled() ? 1 : 0;
  return cudaLaunchKernelEx(&cfg, kernel, static_cast<KArgs>(args)...);
}

template <class... KArgs, class... Args>
cudaError_t launch_pdl(void (*kernel)(KArgs...), dim3 grid, dim3 block, size_t smem, cudaStream_t stream,
                       Args&&... args) {
  return launch_maybe_pdl(true, kernel, grid, block, smem, stream, static_cast<Args&&>(args)...);
}

}  // namespace pensieve::cuda
