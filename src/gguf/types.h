// ggml tensor types as stored in GGUF files: ids, block sizes and bytes per block.
// The ids are fixed by the file format (ggml.h `enum ggml_type`); gaps are retired ids.
#pragma once

#include <cstdint>
#include <string_view>

namespace pensieve {

enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  MXFP4 = 39,
  kSentinel = 40,  // one past the largest id; not a type
};

inline constexpr int kQK_K = 256;  // super-block size of the k-quants

struct GgmlTypeInfo {
  std::string_view name;
  uint32_t block_size = 0;  // elements per block (1 for plain scalar types)
  uint32_t type_size = 0;   // bytes per block
  bool known = false;       // a valid id with a known layout
};

// Table indexed by id; entries with known == false are retired or unknown ids.
inline constexpr GgmlTypeInfo kGgmlTypeInfo[] = {
    {"f32", 1, 4, true},        {"f16", 1, 2, true},       {"q4_0", 32, 18, true},   {"q4_1", 32, 20, true},
    {"q4_2", 0, 0, false},      {"q4_3", 0, 0, false},     {"q5_0", 32, 22, true},   {"q5_1", 32, 24, true},
    {"q8_0", 32, 34, true},     {"q8_1", 32, 36, true},    {"q2_K", 256, 84, true},  {"q3_K", 256, 110, true},
    {"q4_K", 256, 144, true},   {"q5_K", 256, 176, true},  {"q6_K", 256, 210, true}, {"q8_K", 256, 292, true},
    {"iq2_xxs", 256, 66, true}, {"iq2_xs", 256, 74, true}, {"iq3_xxs", 256, 98, true}, {"iq1_s", 256, 50, true},
    {"iq4_nl", 32, 18, true},   {"iq3_s", 256, 110, true}, {"iq2_s", 256, 82, true}, {"iq4_xs", 256, 136, true},
    {"i8", 1, 1, true},         {"i16", 1, 2, true},       {"i32", 1, 4, true},      {"i64", 1, 8, true},
    {"f64", 1, 8, true},        {"iq1_m", 256, 56, true},  {"bf16", 1, 2, true},     {"q4_0_4_4", 0, 0, false},
    {"q4_0_4_8", 0, 0, false},  {"q4_0_8_8", 0, 0, false}, {"tq1_0", 256, 54, true}, {"tq2_0", 256, 66, true},
    {"iq4_nl_4_4", 0, 0, false}, {"iq4_nl_4_8", 0, 0, false}, {"iq4_nl_8_8", 0, 0, false}, {"mxfp4", 32, 17, true},
};
static_assert(sizeof(kGgmlTypeInfo) / sizeof(kGgmlTypeInfo[0]) == static_cast<size_t>(GgmlType::kSentinel));

// nullptr when `id` is not a known type id.
inline const GgmlTypeInfo* ggml_type_info(uint32_t id) {
  if (id >= static_cast<uint32_t>(GgmlType::kSentinel) || !kGgmlTypeInfo[id].known) return nullptr;
  return &kGgmlTypeInfo[id];
}
inline const GgmlTypeInfo& ggml_type_info(GgmlType t) { return kGgmlTypeInfo[static_cast<uint32_t>(t)]; }
inline std::string_view ggml_type_name(GgmlType t) { return ggml_type_info(t).name; }

// Bytes needed for a row of n elements (n must be a multiple of the block size).
inline uint64_t ggml_row_size(GgmlType t, uint64_t n) {
  const GgmlTypeInfo& info = ggml_type_info(t);
  return n / info.block_size * info.type_size;
}

}  // namespace pensieve
