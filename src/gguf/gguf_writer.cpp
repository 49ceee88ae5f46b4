// GgufWriter: GGUF v3 output. Metadata values are encoded to bytes when set (so an entry owns
// its strings and set_* can replace it in place); tensor data is produced by the Fill callbacks
// one tensor at a time while writing PATH.tmp, which is renamed to PATH only when complete.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <unordered_set>

#include <unistd.h>

#include "gguf/gguf_internal.h"
#include "gguf/keys.h"

namespace pensieve {

struct GgufWriter::Entry {
  std::string key;
  GgufType type = GgufType::UINT8;
  std::vector<uint8_t> payload;     // the value's bytes as in the file, without the type tag
  std::optional<int64_t> int_value;  // integer scalars, for reading back general.alignment
};

struct GgufWriter::Tensor {
  std::string name;
  GgmlType type = GgmlType::F32;
  std::vector<uint64_t> ne;
  Fill fill;
  std::optional<uint64_t> span_size;  // set by the span overload, checked against the shape
};

namespace {

// resize + memcpy rather than insert(): GCC 12 reports false -Wstringop-overflow on the latter.
void append_bytes(std::vector<uint8_t>& out, const void* p, size_t n) {
  if (n == 0) return;
  const size_t at = out.size();
  out.resize(at + n);
  std::memcpy(out.data() + at, p, n);
}

template <class T>
void append_pod(std::vector<uint8_t>& out, T v) {
  append_bytes(out, &v, sizeof(T));
}

void append_string(std::vector<uint8_t>& out, std::string_view s) {
  append_pod<uint64_t>(out, s.size());
  append_bytes(out, s.data(), s.size());
}

// Encodes `v` as a value of type `t` (payload only). Array elements are encoded with the
// array's element type, whatever their own `type` field says.
void encode_value(std::vector<uint8_t>& out, GgufType t, const GgufValue& v) {
  switch (t) {
    case GgufType::UINT8: append_pod<uint8_t>(out, static_cast<uint8_t>(v.u)); break;
    case GgufType::INT8: append_pod<int8_t>(out, static_cast<int8_t>(v.i)); break;
    case GgufType::UINT16: append_pod<uint16_t>(out, static_cast<uint16_t>(v.u)); break;
    case GgufType::INT16: append_pod<int16_t>(out, static_cast<int16_t>(v.i)); break;
    case GgufType::UINT32: append_pod<uint32_t>(out, static_cast<uint32_t>(v.u)); break;
    case GgufType::INT32: append_pod<int32_t>(out, static_cast<int32_t>(v.i)); break;
    case GgufType::UINT64: append_pod<uint64_t>(out, v.u); break;
    case GgufType::INT64: append_pod<int64_t>(out, v.i); break;
    case GgufType::FLOAT32: append_pod<float>(out, static_cast<float>(v.f)); break;
    case GgufType::FLOAT64: append_pod<double>(out, v.f); break;
    case GgufType::BOOL: append_pod<uint8_t>(out, v.b ? 1 : 0); break;
    case GgufType::STRING: append_string(out, v.str); break;
    case GgufType::ARRAY:
      append_pod<uint32_t>(out, static_cast<uint32_t>(v.elem_type));
      append_pod<uint64_t>(out, v.arr.size());
      for (const GgufValue& e : v.arr) encode_value(out, v.elem_type, e);
      break;
  }
}

Error write_error(const std::string& path, const std::string& what) {
  return make_error(ErrorKind::internal, path + ": " + what + ": " + std::strerror(errno));
}

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

}  // namespace

GgufWriter::GgufWriter() = default;
GgufWriter::~GgufWriter() = default;
GgufWriter::GgufWriter(GgufWriter&&) noexcept = default;
GgufWriter& GgufWriter::operator=(GgufWriter&&) noexcept = default;

void GgufWriter::put(std::string key, GgufType type, std::vector<uint8_t> payload, std::optional<int64_t> int_value) {
  auto e = std::make_shared<Entry>(Entry{std::move(key), type, std::move(payload), int_value});
  for (auto& existing : kv_) {
    if (existing->key == e->key) {
      existing = std::move(e);  // replace in place: the key keeps its position
      return;
    }
  }
  kv_.push_back(std::move(e));
}

template <class T>
static std::vector<uint8_t> pod_bytes(T v) {
  std::vector<uint8_t> out;
  append_pod<T>(out, v);
  return out;
}

template <class T>
static std::vector<uint8_t> pod_array_bytes(GgufType elem, const std::vector<T>& v) {
  std::vector<uint8_t> out;
  append_pod<uint32_t>(out, static_cast<uint32_t>(elem));
  append_pod<uint64_t>(out, v.size());
  append_bytes(out, v.data(), v.size() * sizeof(T));
  return out;
}

void GgufWriter::set_u8(std::string key, uint8_t v) { put(std::move(key), GgufType::UINT8, pod_bytes(v), v); }
void GgufWriter::set_i8(std::string key, int8_t v) { put(std::move(key), GgufType::INT8, pod_bytes(v), v); }
void GgufWriter::set_u16(std::string key, uint16_t v) { put(std::move(key), GgufType::UINT16, pod_bytes(v), v); }
void GgufWriter::set_i16(std::string key, int16_t v) { put(std::move(key), GgufType::INT16, pod_bytes(v), v); }
void GgufWriter::set_u32(std::string key, uint32_t v) { put(std::move(key), GgufType::UINT32, pod_bytes(v), v); }
void GgufWriter::set_i32(std::string key, int32_t v) { put(std::move(key), GgufType::INT32, pod_bytes(v), v); }
void GgufWriter::set_u64(std::string key, uint64_t v) {
  std::optional<int64_t> as_int;
  if (v <= uint64_t(std::numeric_limits<int64_t>::max())) as_int = static_cast<int64_t>(v);
  put(std::move(key), GgufType::UINT64, pod_bytes(v), as_int);
}
void GgufWriter::set_i64(std::string key, int64_t v) { put(std::move(key), GgufType::INT64, pod_bytes(v), v); }
void GgufWriter::set_f32(std::string key, float v) { put(std::move(key), GgufType::FLOAT32, pod_bytes(v)); }
void GgufWriter::set_f64(std::string key, double v) { put(std::move(key), GgufType::FLOAT64, pod_bytes(v)); }
void GgufWriter::set_bool(std::string key, bool v) {
  put(std::move(key), GgufType::BOOL, pod_bytes<uint8_t>(v ? 1 : 0));
}

void GgufWriter::set_string(std::string key, std::string v) {
  std::vector<uint8_t> payload;
  append_string(payload, v);
  put(std::move(key), GgufType::STRING, std::move(payload));
}

void GgufWriter::set_value(std::string key, const GgufValue& v) {
  std::vector<uint8_t> payload;
  encode_value(payload, v.type, v);
  put(std::move(key), v.type, std::move(payload), v.is_integer() ? v.as_int() : std::nullopt);
}

void GgufWriter::set_string_array(std::string key, const std::vector<std::string>& v) {
  std::vector<uint8_t> payload;
  append_pod<uint32_t>(payload, static_cast<uint32_t>(GgufType::STRING));
  append_pod<uint64_t>(payload, v.size());
  for (const std::string& s : v) append_string(payload, s);
  put(std::move(key), GgufType::ARRAY, std::move(payload));
}

void GgufWriter::set_f32_array(std::string key, const std::vector<float>& v) {
  put(std::move(key), GgufType::ARRAY, pod_array_bytes(GgufType::FLOAT32, v));
}
void GgufWriter::set_i32_array(std::string key, const std::vector<int32_t>& v) {
  put(std::move(key), GgufType::ARRAY, pod_array_bytes(GgufType::INT32, v));
}

void GgufWriter::remove(std::string_view key) {
  std::erase_if(kv_, [&](const std::shared_ptr<Entry>& e) { return e->key == key; });
}

void GgufWriter::add_tensor(std::string name, GgmlType type, std::vector<uint64_t> ne, Fill fill) {
  tensors_.push_back(Tensor{std::move(name), type, std::move(ne), std::move(fill), std::nullopt});
}

// The span must stay valid until write() returns.
void GgufWriter::add_tensor(std::string name, GgmlType type, std::vector<uint64_t> ne, std::span<const uint8_t> data) {
  Fill fill = [data](uint8_t* dst) {
    if (!data.empty()) std::memcpy(dst, data.data(), data.size());
    return ok_status();
  };
  tensors_.push_back(Tensor{std::move(name), type, std::move(ne), std::move(fill), data.size()});
}

// Shape checks the reader would apply; returns the tensor's byte size.
Result<uint64_t> GgufWriter::checked_tensor_bytes(const Tensor& t, const std::string& path) {
  auto bad = [&](const std::string& what) {
    return make_error(ErrorKind::invalid_request, path + ": tensor '" + t.name + "': " + what);
  };
  if (t.name.empty()) return bad("empty tensor name");
  // llama.cpp keeps names in a char[GGML_MAX_NAME = 64] and refuses longer ones.
  if (t.name.size() >= kGgufMaxTensorName) return bad("name longer than 63 bytes (llama.cpp cannot load it)");
  const GgmlTypeInfo* info = ggml_type_info(static_cast<uint32_t>(t.type));
  if (info == nullptr) return bad("unknown tensor type id " + std::to_string(static_cast<uint32_t>(t.type)));
  if (t.ne.empty() || t.ne.size() > kGgufMaxDims) return bad("needs 1 to 4 dimensions, got " + std::to_string(t.ne.size()));
  uint64_t n = 1;
  for (uint64_t d : t.ne) {
    if (d == 0 || d > uint64_t(std::numeric_limits<int64_t>::max())) return bad("dimension " + std::to_string(d) + " out of range");
    if (__builtin_mul_overflow(n, d, &n) || n > uint64_t(std::numeric_limits<int64_t>::max())) {
      return bad("element count overflows");
    }
  }
  if (t.ne[0] % info->block_size != 0) {
    return bad("ne[0] = " + std::to_string(t.ne[0]) + " is not a multiple of the block size " +
               std::to_string(info->block_size));
  }
  const uint64_t bytes = n / info->block_size * info->type_size;
  if (t.span_size && *t.span_size != bytes) {
    return bad("data has " + std::to_string(*t.span_size) + " bytes, the shape needs " + std::to_string(bytes));
  }
  return bytes;
}

Result<uint64_t> GgufWriter::alignment(const std::string& path) const {
  for (const auto& e : kv_) {
    if (e->key != keys::kAlignment) continue;
    const std::optional<int64_t> a = e->int_value;
    if (e->type != GgufType::UINT32) {
      return make_error(ErrorKind::invalid_request, path + ": general.alignment must be a u32 (llama.cpp requires it), not " +
                                                        std::string(gguf_type_name(e->type)));
    }
    if (!a || *a <= 0 || (*a & (*a - 1)) != 0 || *a > (int64_t{1} << 30)) {
      return make_error(ErrorKind::invalid_request,
                        path + ": general.alignment must be an integer power of two between 1 and 2^30");
    }
    return static_cast<uint64_t>(*a);
  }
  return kGgufDefaultAlignment;
}

// Header, metadata and tensor infos, padded with zeros to the start of the data section.
std::vector<uint8_t> GgufWriter::encode_header(const std::vector<uint64_t>& offsets, uint64_t alignment) const {
  std::vector<uint8_t> out;
  append_bytes(out, "GGUF", 4);
  append_pod<uint32_t>(out, 3);
  append_pod<uint64_t>(out, tensors_.size());
  append_pod<uint64_t>(out, kv_.size());
  for (const auto& e : kv_) {
    append_string(out, e->key);
    append_pod<uint32_t>(out, static_cast<uint32_t>(e->type));
    append_bytes(out, e->payload.data(), e->payload.size());
  }
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const Tensor& t = tensors_[i];
    append_string(out, t.name);
    append_pod<uint32_t>(out, static_cast<uint32_t>(t.ne.size()));
    for (uint64_t d : t.ne) append_pod<uint64_t>(out, d);
    append_pod<uint32_t>(out, static_cast<uint32_t>(t.type));
    append_pod<uint64_t>(out, offsets[i]);  // relative to the aligned start of the data section
  }
  // With no tensors there is no data section to align (vocab-only files end after the metadata).
  if (!tensors_.empty()) out.resize(align_up(out.size(), alignment), 0);
  return out;
}

Status GgufWriter::write(const std::string& path) const {
  Result<uint64_t> align = alignment(path);
  if (!align.ok()) return align.error();
  std::vector<uint64_t> sizes(tensors_.size());
  std::vector<uint64_t> offsets(tensors_.size());
  std::unordered_set<std::string_view> names;
  uint64_t offset = 0;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    Result<uint64_t> bytes = checked_tensor_bytes(tensors_[i], path);
    if (!bytes.ok()) return bytes.error();
    if (!names.insert(tensors_[i].name).second) {
      return make_error(ErrorKind::invalid_request, path + ": duplicate tensor name '" + tensors_[i].name + "'");
    }
    sizes[i] = *bytes;
    offsets[i] = offset;
    offset = align_up(offset + *bytes, *align);
  }

  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return write_error(tmp, "cannot create");
  auto fail = [&](Error e) {
    std::fclose(f);
    std::remove(tmp.c_str());
    return e;
  };
  const std::vector<uint8_t> header = encode_header(offsets, *align);
  if (std::fwrite(header.data(), 1, header.size(), f) != header.size()) return fail(write_error(tmp, "write failed"));

  std::vector<uint8_t> buf;  // one tensor at a time; grows to the largest tensor
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const Tensor& t = tensors_[i];
    const uint64_t padded = align_up(sizes[i], *align);
    buf.assign(padded, 0);
    Status filled = t.fill(buf.data());
    if (!filled.ok()) {
      Error e = filled.error();
      e.message = path + ": tensor '" + t.name + "': " + e.message;
      return fail(std::move(e));
    }
    // Every tensor, the last included, is padded to the alignment (as llama.cpp writes).
    if (std::fwrite(buf.data(), 1, padded, f) != padded) return fail(write_error(tmp, "write failed"));
    if (on_tensor_written) on_tensor_written(i, tensors_.size(), t.name);
  }
  if (std::fflush(f) != 0 || ::fsync(::fileno(f)) != 0) return fail(write_error(tmp, "flush failed"));
  if (std::fclose(f) != 0) {
    std::remove(tmp.c_str());
    return write_error(tmp, "close failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = write_error(path, "cannot rename " + tmp + " to it");
    std::remove(tmp.c_str());
    return e;
  }
  return ok_status();
}

}  // namespace pensieve
