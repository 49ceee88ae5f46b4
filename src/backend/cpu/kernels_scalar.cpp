// The scalar kernel table: tiles built from the reference dot products. Also the table
// registry (kernel_table / active_kernel_table).
#include "backend/cpu/kernels_table.h"
#include "backend/cpu/vec_dot.h"
#include "quant/quant.h"

namespace pensieve::cpu {
namespace {

template <VecDotFn kDot>
void tile_from_vec_dot(int64_t n, const uint8_t* w, size_t w_stride, int nr, const uint8_t* x,
                       size_t x_stride, int nt, float* y, int64_t ldy) {
  for (int t = 0; t < nt; ++t)
    for (int r = 0; r < nr; ++r) y[t * ldy + r] = kDot(n, w + r * w_stride, x + t * x_stride);
}

CpuKernelTable make_table(CpuIsa isa) {
  // Never touch a higher ISA's file (even its fill function may use that ISA's instructions).
  if (isa > best_cpu_isa()) isa = best_cpu_isa();
  CpuKernelTable table;
  fill_kernels_scalar(&table);
  if (isa >= CpuIsa::avx2) fill_kernels_avx2(&table);
  if (isa >= CpuIsa::avx512) fill_kernels_avx512(&table);
  if (isa >= CpuIsa::amx) fill_kernels_amx(&table);
  table.isa = isa;
  return table;
}

}  // namespace

void fill_kernels_scalar(CpuKernelTable* t) {
  auto set = [&](GgmlType type, TileFn fn) { t->tile[static_cast<int>(type)] = fn; };
  set(GgmlType::F32, tile_from_vec_dot<vec_dot_f32_ref>);
  set(GgmlType::F16, tile_from_vec_dot<vec_dot_f16_ref>);
  set(GgmlType::BF16, tile_from_vec_dot<vec_dot_bf16_ref>);
  set(GgmlType::Q4_0, tile_from_vec_dot<vec_dot_q4_0_q8_0_ref>);
  set(GgmlType::Q4_1, tile_from_vec_dot<vec_dot_q4_1_q8_1_ref>);
  set(GgmlType::Q5_0, tile_from_vec_dot<vec_dot_q5_0_q8_0_ref>);
  set(GgmlType::Q5_1, tile_from_vec_dot<vec_dot_q5_1_q8_1_ref>);
  set(GgmlType::Q8_0, tile_from_vec_dot<vec_dot_q8_0_q8_0_ref>);
  set(GgmlType::Q2_K, tile_from_vec_dot<vec_dot_q2_K_q8_K_ref>);
  set(GgmlType::Q3_K, tile_from_vec_dot<vec_dot_q3_K_q8_K_ref>);
  set(GgmlType::Q4_K, tile_from_vec_dot<vec_dot_q4_K_q8_K_ref>);
  set(GgmlType::Q5_K, tile_from_vec_dot<vec_dot_q5_K_q8_K_ref>);
  set(GgmlType::Q6_K, tile_from_vec_dot<vec_dot_q6_K_q8_K_ref>);
  t->quantize[static_cast<int>(GgmlType::Q8_0)] = quantize_row_q8_0_ref;
  t->quantize[static_cast<int>(GgmlType::Q8_1)] = quantize_row_q8_1_ref;
  t->quantize[static_cast<int>(GgmlType::Q8_K)] = quantize_row_q8_K_ref;
}

const CpuKernelTable& kernel_table(CpuIsa isa) {
  static const CpuKernelTable tables[kNumCpuIsas] = {make_table(CpuIsa::scalar), make_table(CpuIsa::avx2),
                                                     make_table(CpuIsa::avx512), make_table(CpuIsa::amx)};
  return tables[static_cast<int>(isa)];
}

const CpuKernelTable& active_kernel_table() {
  static const CpuKernelTable& table = kernel_table(active_cpu_isa());
  return table;
}

}  // namespace pensieve::cpu
