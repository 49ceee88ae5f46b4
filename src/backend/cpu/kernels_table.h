// The per-ISA kernel tables behind matmul(): one tile function per weight type plus the
// activation quantizers. Filled by kernels_scalar.cpp / kernels_avx2.cpp / kernels_avx512.cpp;
// the ISA files are compiled with their own flags and only called after a cpuid check.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backend/cpu/cpu_features.h"
#include "gguf/types.h"

namespace pensieve::cpu {

// Computes a tile of dot products: for r < nr, t < nt
//   y[t * ldy + r] = dot(weight row r, activation row t)
// Weight rows start at w + r * w_stride (GGUF layout), activation rows at x + t * x_stride in
// the weight type's vec-dot format (vec_dot.h). n = row length in elements.
using TileFn = void (*)(int64_t n, const uint8_t* w, size_t w_stride, int nr, const uint8_t* x,
                        size_t x_stride, int nt, float* y, int64_t ldy);

// Quantizes n floats to an activation format; must produce bytes identical to the reference.
using QuantizeActFn = void (*)(const float* x, void* dst, int64_t n);

inline constexpr int kNumGgmlTypes = static_cast<int>(GgmlType::kSentinel);

struct CpuKernelTable {
  CpuIsa isa = CpuIsa::scalar;
  TileFn tile[kNumGgmlTypes] = {};            // by weight type; nullptr = unsupported
  QuantizeActFn quantize[kNumGgmlTypes] = {};  // by activation type (Q8_0, Q8_1, Q8_K)
  // True when the tile function does its own cache blocking and wants each thread's whole
  // row range and all tokens in one call (the AMX kernels, which repack the activations).
  bool self_blocking[kNumGgmlTypes] = {};
};

// The table of one level (only valid to call kernels of a level the CPU supports).
const CpuKernelTable& kernel_table(CpuIsa isa);
// The table of active_cpu_isa().
const CpuKernelTable& active_kernel_table();

// Each ISA file overwrites the entries it implements; entries left alone keep the lower level.
void fill_kernels_scalar(CpuKernelTable* table);
void fill_kernels_avx2(CpuKernelTable* table);
void fill_kernels_avx512(CpuKernelTable* table);
void fill_kernels_amx(CpuKernelTable* table);

}  // namespace pensieve::cpu
