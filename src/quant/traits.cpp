// The traits table: one constexpr entry per ggml type id, checked against gguf/types.h.
#include <array>

#include "quant/quant.h"
#include "quant/quant_rows.h"
#include "util/status.h"

namespace pensieve {
namespace {

namespace qr = quant_rows;
using T = GgmlType;

constexpr QuantTraits entry(T type, DequantizeRowFn to_float, QuantizeRowFn from_float, T vec_dot_type) {
  const GgmlTypeInfo& info = kGgmlTypeInfo[static_cast<uint32_t>(type)];
  return QuantTraits{type, static_cast<int>(info.block_size), static_cast<int>(info.type_size), to_float,
                     from_float, vec_dot_type};
}

constexpr size_t kNumTypes = static_cast<size_t>(T::kSentinel);

constexpr std::array<QuantTraits, kNumTypes> make_table() {
  std::array<QuantTraits, kNumTypes> t{};
  for (size_t i = 0; i < kNumTypes; ++i) {
    const GgmlTypeInfo& info = kGgmlTypeInfo[i];
    // Types we cannot compute with still report their layout (for sizes and messages).
    t[i] = QuantTraits{static_cast<T>(i), static_cast<int>(info.block_size), static_cast<int>(info.type_size),
                       nullptr, nullptr, static_cast<T>(i)};
  }
  auto set = [&t](const QuantTraits& q) { t[static_cast<size_t>(q.type)] = q; };
  set(entry(T::F32, qr::f32_to_float, qr::f32_from_float, T::F32));
  set(entry(T::F16, qr::f16_to_float, qr::f16_from_float, T::F16));
  set(entry(T::BF16, qr::bf16_to_float, qr::bf16_from_float, T::BF16));
  set(entry(T::Q4_0, qr::q4_0_to_float, qr::q4_0_from_float, T::Q8_0));
  set(entry(T::Q4_1, qr::q4_1_to_float, qr::q4_1_from_float, T::Q8_1));
  set(entry(T::Q5_0, qr::q5_0_to_float, qr::q5_0_from_float, T::Q8_0));
  set(entry(T::Q5_1, qr::q5_1_to_float, qr::q5_1_from_float, T::Q8_1));
  set(entry(T::Q8_0, qr::q8_0_to_float, quantize_row_q8_0_ref, T::Q8_0));
  set(entry(T::Q8_1, qr::q8_1_to_float, quantize_row_q8_1_ref, T::Q8_1));
  set(entry(T::Q2_K, qr::q2_K_to_float, qr::q2_K_from_float, T::Q8_K));
  set(entry(T::Q3_K, qr::q3_K_to_float, qr::q3_K_from_float, T::Q8_K));
  set(entry(T::Q4_K, qr::q4_K_to_float, qr::q4_K_from_float, T::Q8_K));
  set(entry(T::Q5_K, qr::q5_K_to_float, qr::q5_K_from_float, T::Q8_K));
  set(entry(T::Q6_K, qr::q6_K_to_float, qr::q6_K_from_float, T::Q8_K));
  set(entry(T::Q8_K, qr::q8_K_to_float, quantize_row_q8_K_ref, T::Q8_K));
  return t;
}

constexpr std::array<QuantTraits, kNumTypes> kTraits = make_table();

// The block structs of blocks.h and the size table of gguf/types.h must describe the same bytes.
template <class Block>
constexpr bool layout_matches(T type, int block_elems) {
  return kTraits[static_cast<size_t>(type)].block_size == block_elems &&
         kTraits[static_cast<size_t>(type)].type_size == static_cast<int>(sizeof(Block));
}
static_assert(layout_matches<block_q4_0>(T::Q4_0, QK4_0));
static_assert(layout_matches<block_q4_1>(T::Q4_1, QK4_1));
static_assert(layout_matches<block_q5_0>(T::Q5_0, QK5_0));
static_assert(layout_matches<block_q5_1>(T::Q5_1, QK5_1));
static_assert(layout_matches<block_q8_0>(T::Q8_0, QK8_0));
static_assert(layout_matches<block_q8_1>(T::Q8_1, QK8_1));
static_assert(layout_matches<block_q2_K>(T::Q2_K, QK_K));
static_assert(layout_matches<block_q3_K>(T::Q3_K, QK_K));
static_assert(layout_matches<block_q4_K>(T::Q4_K, QK_K));
static_assert(layout_matches<block_q5_K>(T::Q5_K, QK_K));
static_assert(layout_matches<block_q6_K>(T::Q6_K, QK_K));
static_assert(layout_matches<block_q8_K>(T::Q8_K, QK_K));
static_assert(layout_matches<float>(T::F32, 1));
static_assert(layout_matches<fp16_t>(T::F16, 1));
static_assert(layout_matches<bf16_t>(T::BF16, 1));
static_assert(kTraits[static_cast<size_t>(T::Q4_K)].vec_dot_type == T::Q8_K);
static_assert(kTraits[static_cast<size_t>(T::Q4_1)].vec_dot_type == T::Q8_1);

}  // namespace

const QuantTraits& quant_traits(GgmlType type) {
  const auto i = static_cast<size_t>(type);
  static constexpr QuantTraits kUnknown{};
  return i < kNumTypes ? kTraits[i] : kUnknown;
}

bool can_dequantize(GgmlType type) { return quant_traits(type).to_float != nullptr; }
bool can_quantize(GgmlType type) { return quant_traits(type).from_float != nullptr; }

void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n) {
  const QuantTraits& t = quant_traits(type);
  PS_ASSERT(t.to_float != nullptr, "dequantize_row: type cannot be dequantized");
  PS_ASSERT(t.block_size > 0 && n % t.block_size == 0, "dequantize_row: n is not a multiple of the block size");
  t.to_float(src, dst, n);
}

void quantize_row(GgmlType type, const float* src, void* dst, int64_t n) {
  const QuantTraits& t = quant_traits(type);
  PS_ASSERT(t.from_float != nullptr, "quantize_row: type cannot be quantized");
  PS_ASSERT(t.block_size > 0 && n % t.block_size == 0, "quantize_row: n is not a multiple of the block size");
  t.from_float(src, dst, n);
}

}  // namespace pensieve
