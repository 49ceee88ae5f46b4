// AVX2 + FMA + F16C kernels (compiled with -mavx2 -mfma -mf16c; used only after cpuid says so).
#include <immintrin.h>

#include "backend/cpu/kernels_table.h"

namespace pensieve::cpu {

void fill_kernels_avx2(CpuKernelTable* table) { (void)table; }

}  // namespace pensieve::cpu
