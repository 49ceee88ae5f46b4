// GGUF v2/v3 parsing and validation: header, metadata values (nested arrays included),
// tensor infos and the placement of tensor data. Spec: ggml docs/gguf.md.
//
// Every count and length is checked against the bytes that remain BEFORE anything is
// allocated, so a corrupt or hostile file costs memory and time linear in its size.
#include <sys/mman.h>

#include <algorithm>
#include <limits>
#include <numeric>

#include "gguf/gguf_internal.h"
#include "gguf/keys.h"

namespace pensieve {
namespace gguf_detail {

bool Cursor::fail(const std::string& problem) {
  if (failed_) return false;
  failed_ = true;
  std::string where;
  if (std::string_view(section_) == "header" || std::string_view(section_) == "data section") {
    where = std::string("in the ") + section_;
  } else {
    where = std::string("in ") + section_ + " " + std::to_string(index_);
    if (!item_name_.empty()) where += " '" + std::string(item_name_.substr(0, 96)) + "'";
  }
  error_ = make_error(ErrorKind::model_load_failed, std::string(file_) + ": " + problem + " (" + where + ")");
  return false;
}

bool Cursor::truncated(uint64_t need, const char* field) {
  return fail("truncated file: " + std::string(field) + " needs " + std::to_string(need) + " bytes at offset " +
              std::to_string(pos_) + " but the file ends at " + std::to_string(bytes_.size()));
}

}  // namespace gguf_detail

namespace {

using gguf_detail::Cursor;
using gguf_detail::NameIndex;

constexpr uint8_t kMagic[4] = {'G', 'G', 'U', 'F'};
#ifdef MADV_POPULATE_WRITE
constexpr int kMadvPopulateWrite = MADV_POPULATE_WRITE;
#else
constexpr int kMadvPopulateWrite = 23;  // Linux 5.14+; older kernels answer EINVAL
#endif
constexpr uint32_t kMaxTypeId = static_cast<uint32_t>(GgufType::FLOAT64);

bool valid_value_type(uint32_t t) { return t <= kMaxTypeId; }

// The fewest bytes one value of type t can occupy in the file (used to bound counts).
uint64_t min_encoded_size(GgufType t) {
  if (t == GgufType::STRING) return 8;   // the length
  if (t == GgufType::ARRAY) return 12;   // element type + length
  return gguf_scalar_size(t);
}

bool parse_scalar(Cursor& c, GgufType t, GgufValue& v) {
  v.type = t;
  const uint8_t* p = nullptr;
  if (!c.take(gguf_scalar_size(t), "value", p)) return false;
  switch (t) {
    case GgufType::UINT8: v.u = p[0]; break;
    case GgufType::INT8: v.i = static_cast<int8_t>(p[0]); break;
    case GgufType::BOOL:
      if (p[0] > 1) return c.fail("invalid bool value " + std::to_string(p[0]) + " (must be 0 or 1)");
      v.b = p[0] != 0;
      break;
    case GgufType::UINT16: { uint16_t x; std::memcpy(&x, p, 2); v.u = x; break; }
    case GgufType::INT16: { int16_t x; std::memcpy(&x, p, 2); v.i = x; break; }
    case GgufType::UINT32: { uint32_t x; std::memcpy(&x, p, 4); v.u = x; break; }
    case GgufType::INT32: { int32_t x; std::memcpy(&x, p, 4); v.i = x; break; }
    case GgufType::FLOAT32: { float x; std::memcpy(&x, p, 4); v.f = x; break; }
    case GgufType::UINT64: std::memcpy(&v.u, p, 8); break;
    case GgufType::INT64: std::memcpy(&v.i, p, 8); break;
    case GgufType::FLOAT64: std::memcpy(&v.f, p, 8); break;
    default: return c.fail("internal: not a scalar type");
  }
  return true;
}

bool parse_value(Cursor& c, GgufType t, GgufValue& v, int depth);

// Reserves room for `count` values. A big array (a 150k-token vocabulary is ~13 MB of
// GgufValue) would otherwise take one page fault per 4 KiB as it fills, which dominated
// open() time (115 ms for the Qwen2 vocab on a VM; 15 ms with this). So ask for huge pages
// and populate the range in one call. Both are advice: failures are ignored.
void reserve_elements(std::vector<GgufValue>& arr, uint64_t count) {
  arr.reserve(count);
  const size_t bytes = count * sizeof(GgufValue);
  if (bytes < (size_t{1} << 20)) return;
  const uintptr_t page = 4096;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(arr.data()) + page - 1) & ~(page - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(arr.data()) + bytes) & ~(page - 1);
  if (end <= begin) return;
  ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
  ::madvise(reinterpret_cast<void*>(begin), end - begin, kMadvPopulateWrite);
}

// An array: u32 element type, u64 count, then the elements (nested arrays carry their own
// element type and count).
bool parse_array(Cursor& c, GgufValue& v, int depth) {
  v.type = GgufType::ARRAY;
  if (depth >= kGgufMaxArrayDepth) {
    return c.fail("arrays nested more than " + std::to_string(kGgufMaxArrayDepth) + " levels deep");
  }
  uint32_t et = 0;
  uint64_t count = 0;
  if (!c.read(et, "array element type")) return false;
  if (!valid_value_type(et)) return c.fail("unknown array element type " + std::to_string(et));
  if (!c.read(count, "array length")) return false;
  const GgufType elem = static_cast<GgufType>(et);
  if (count > c.remaining() / min_encoded_size(elem)) {
    return c.fail("array of " + std::to_string(count) + " " + std::string(gguf_type_name(elem)) +
                  " elements cannot fit in the " + std::to_string(c.remaining()) +
                  " bytes left in the file (corrupt or truncated)");
  }
  v.elem_type = elem;
  reserve_elements(v.arr, count);
  if (elem == GgufType::STRING) {
    // The hot loop for vocabularies (150k+ tokens and merges): each element is written once.
    std::string_view s;
    for (uint64_t k = 0; k < count; ++k) {
      if (!c.read_string(s, "array string")) return false;
      GgufValue& e = v.arr.emplace_back();
      e.type = GgufType::STRING;
      e.str = s;
    }
    return true;
  }
  for (uint64_t k = 0; k < count; ++k) {
    if (!parse_value(c, elem, v.arr.emplace_back(), depth + 1)) return false;
  }
  return true;
}

bool parse_value(Cursor& c, GgufType t, GgufValue& v, int depth) {
  if (t == GgufType::STRING) {
    v.type = t;
    return c.read_string(v.str, "string value");
  }
  if (t == GgufType::ARRAY) return parse_array(c, v, depth);
  return parse_scalar(c, t, v);
}

Status parse_header(Cursor& c, uint32_t& version, uint64_t& n_tensors, uint64_t& n_kv) {
  const uint8_t* magic = nullptr;
  if (c.size() < 4) {
    c.fail("file too small to be a GGUF file (" + std::to_string(c.size()) + " bytes)");
    return c.error();
  }
  if (!c.take(4, "magic", magic)) return c.error();
  if (std::memcmp(magic, kMagic, 4) != 0) {
    char hex[32];
    std::snprintf(hex, sizeof hex, "%02x %02x %02x %02x", magic[0], magic[1], magic[2], magic[3]);
    c.fail(std::string("bad magic: expected 'GGUF' (47 47 55 46), found ") + hex + "; not a GGUF file");
    return c.error();
  }
  if (!c.read(version, "version")) return c.error();
  if (version == 1) {
    c.fail("GGUF v1 is not supported (this is an old 2023 file with 32-bit counts); re-convert the model "
           "with a current llama.cpp to get GGUF v3");
    return c.error();
  }
  const uint32_t swapped = __builtin_bswap32(version);
  if (version > kGgufMaxVersion && swapped >= 1 && swapped <= kGgufMaxVersion) {
    c.fail("big-endian GGUF files are not supported (version field reads " + std::to_string(swapped) +
           " when byte-swapped); convert the model on a little-endian machine");
    return c.error();
  }
  if (version < kGgufMinVersion || version > kGgufMaxVersion) {
    c.fail("unsupported GGUF version " + std::to_string(version) + " (supported: 2 and 3)");
    return c.error();
  }
  if (!c.read(n_tensors, "tensor count") || !c.read(n_kv, "metadata count")) return c.error();
  // Each entry needs at least a key length, a type and one byte of value; each tensor info at
  // least a name length, n_dims, type and offset.
  if (n_kv > c.remaining() / 13) {
    c.fail("metadata count " + std::to_string(n_kv) + " is more than the " + std::to_string(c.remaining()) +
           " bytes left in the file can hold (corrupt or truncated header)");
    return c.error();
  }
  if (n_tensors > c.remaining() / 24) {
    c.fail("tensor count " + std::to_string(n_tensors) + " is more than the " + std::to_string(c.remaining()) +
           " bytes left in the file can hold (corrupt or truncated header)");
    return c.error();
  }
  return ok_status();
}

Status parse_metadata(Cursor& c, uint64_t n_kv, std::vector<GgufKV>& kv, NameIndex& index) {
  kv.resize(n_kv);
  index.reserve(n_kv);
  for (uint64_t i = 0; i < n_kv; ++i) {
    GgufKV& e = kv[i];
    c.set_context("metadata entry", i, {});
    if (!c.read_string(e.key, "key")) return c.error();
    c.set_context("metadata entry", i, e.key);
    if (e.key.empty()) {
      c.fail("empty metadata key");
      return c.error();
    }
    uint32_t type = 0;
    if (!c.read(type, "value type")) return c.error();
    if (!valid_value_type(type)) {
      c.fail("unknown metadata value type " + std::to_string(type));
      return c.error();
    }
    if (!parse_value(c, static_cast<GgufType>(type), e.value, 0)) return c.error();
    if (!index.emplace(e.key, i).second) {
      c.fail("duplicate metadata key '" + std::string(e.key) + "'");
      return c.error();
    }
  }
  return ok_status();
}

Result<uint64_t> read_alignment(Cursor& c, const std::vector<GgufKV>& kv, const NameIndex& index) {
  auto it = index.find(keys::kAlignment);
  if (it == index.end()) return kGgufDefaultAlignment;
  c.set_context("metadata entry", it->second, keys::kAlignment);
  const GgufValue& v = kv[it->second].value;
  std::optional<int64_t> a = v.as_int();
  if (!a) {
    c.fail("general.alignment must be an unsigned integer, found " + std::string(gguf_type_name(v.type)));
    return c.error();
  }
  if (*a <= 0 || (*a & (*a - 1)) != 0 || *a > (int64_t{1} << 30)) {
    c.fail("general.alignment " + std::to_string(*a) + " is not a power of two between 1 and 2^30");
    return c.error();
  }
  return static_cast<uint64_t>(*a);
}

// Shape, type and size of one tensor; placement is checked later, once the data section is known.
bool check_tensor_shape(Cursor& c, GgufTensorInfo& t, uint32_t type_id, uint64_t alignment) {
  const GgmlTypeInfo* info = ggml_type_info(type_id);
  if (info == nullptr) return c.fail("unknown tensor type id " + std::to_string(type_id));
  t.type = static_cast<GgmlType>(type_id);
  uint64_t n = 1;
  for (size_t d = 0; d < t.ne.size(); ++d) {
    const uint64_t ne = t.ne[d];
    if (ne == 0 || ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return c.fail("dimension " + std::to_string(d) + " is " +
                    (ne == 0 ? std::string("zero") : "negative (" + std::to_string(static_cast<int64_t>(ne)) + ")"));
    }
    if (__builtin_mul_overflow(n, ne, &n) || n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return c.fail("element count overflows 63 bits (corrupt dimensions)");
    }
  }
  const uint64_t ne0 = t.ne.empty() ? 1 : t.ne[0];
  if (ne0 % info->block_size != 0) {
    return c.fail("ne[0] = " + std::to_string(ne0) + " is not a multiple of the " + std::string(info->name) +
                  " block size " + std::to_string(info->block_size));
  }
  t.n_elements = n;
  if (__builtin_mul_overflow(n / info->block_size, uint64_t{info->type_size}, &t.n_bytes)) {
    return c.fail("byte size overflows 64 bits (corrupt dimensions)");
  }
  if (t.offset % alignment != 0) {
    return c.fail("data offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
                  std::to_string(alignment));
  }
  return true;
}

Status parse_tensor_infos(Cursor& c, uint64_t n_tensors, uint64_t alignment, std::vector<GgufTensorInfo>& tensors,
                          NameIndex& index) {
  tensors.resize(n_tensors);
  index.reserve(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo& t = tensors[i];
    c.set_context("tensor info", i, {});
    if (!c.read_string(t.name, "tensor name")) return c.error();
    c.set_context("tensor info", i, t.name);
    if (t.name.empty()) {
      c.fail("empty tensor name");
      return c.error();
    }
    uint32_t n_dims = 0;
    if (!c.read(n_dims, "n_dims")) return c.error();
    if (n_dims > kGgufMaxDims) {
      c.fail("n_dims = " + std::to_string(n_dims) + " (at most " + std::to_string(kGgufMaxDims) + " supported)");
      return c.error();
    }
    t.ne.resize(n_dims);
    for (uint32_t d = 0; d < n_dims; ++d) {
      if (!c.read(t.ne[d], "dimension")) return c.error();
    }
    uint32_t type_id = 0;
    if (!c.read(type_id, "tensor type") || !c.read(t.offset, "tensor data offset")) return c.error();
    if (!check_tensor_shape(c, t, type_id, alignment)) return c.error();
    if (!index.emplace(t.name, i).second) {
      c.fail("duplicate tensor name '" + std::string(t.name) + "'");
      return c.error();
    }
  }
  return ok_status();
}

// Every tensor must lie inside the data section and no two may overlap.
Status place_tensors(Cursor& c, uint64_t data_offset, std::vector<GgufTensorInfo>& tensors) {
  if (tensors.empty()) return ok_status();
  if (data_offset > c.size()) {
    c.set_context("data section", 0, {});
    c.fail("truncated file: the tensor data section starts at offset " + std::to_string(data_offset) +
           " but the file ends at " + std::to_string(c.size()));
    return c.error();
  }
  const uint64_t data_size = c.size() - data_offset;
  for (size_t i = 0; i < tensors.size(); ++i) {
    GgufTensorInfo& t = tensors[i];
    if (t.offset > data_size || t.n_bytes > data_size - t.offset) {
      c.set_context("tensor info", i, t.name);
      c.fail("tensor data out of bounds: " + std::to_string(t.n_bytes) + " bytes at data offset " +
             std::to_string(t.offset) + " end past the " + std::to_string(data_size) +
             " bytes of the data section (truncated or corrupt file)");
      return c.error();
    }
    t.data = c.data() + data_offset + t.offset;
  }
  std::vector<size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return tensors[a].offset < tensors[b].offset; });
  for (size_t k = 1; k < order.size(); ++k) {
    const GgufTensorInfo& prev = tensors[order[k - 1]];
    const GgufTensorInfo& cur = tensors[order[k]];
    if (prev.offset + prev.n_bytes > cur.offset) {
      c.set_context("tensor info", order[k], cur.name);
      c.fail("tensor data overlaps tensor '" + std::string(prev.name) + "' (that one spans data offsets " +
             std::to_string(prev.offset) + ".." + std::to_string(prev.offset + prev.n_bytes) + ", this one starts at " +
             std::to_string(cur.offset) + ")");
      return c.error();
    }
  }
  return ok_status();
}

}  // namespace

Status GgufFile::parse_all() {
  Cursor c(bytes_, name_);
  uint64_t n_tensors = 0;
  uint64_t n_kv = 0;
  index_ = std::make_unique<Index>();
  PS_TRY(parse_header(c, version_, n_tensors, n_kv));
  PS_TRY(parse_metadata(c, n_kv, kv_, index_->kv));
  Result<uint64_t> alignment = read_alignment(c, kv_, index_->kv);
  if (!alignment.ok()) return alignment.error();
  alignment_ = *alignment;
  PS_TRY(parse_tensor_infos(c, n_tensors, alignment_, tensors_, index_->tensors));
  // pos <= file size <= 2^63 and alignment <= 2^30, so this cannot overflow.
  data_offset_ = (c.pos() + alignment_ - 1) / alignment_ * alignment_;
  return place_tensors(c, data_offset_, tensors_);
}

}  // namespace pensieve
