// GGUF v2/v3 reader (mmap, zero-copy tensor views, strict validation) and writer.
//
// Reader: after open() succeeds the file is immutable; all methods are const and thread-safe.
// Strings and tensor data are views into the mapping and live as long as the GgufFile.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/types.h"
#include "util/status.h"

namespace pensieve {

enum class GgufType : uint32_t {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
};
std::string_view gguf_type_name(GgufType t);
bool gguf_type_is_unsigned(GgufType t);
bool gguf_type_is_signed(GgufType t);
// Bytes of one scalar of type t as stored in the file; 0 for STRING, ARRAY and unknown ids.
uint64_t gguf_scalar_size(GgufType t);

// The oldest and newest GGUF versions the reader accepts (v1 used 32-bit counts and is refused).
inline constexpr uint32_t kGgufMinVersion = 2;
inline constexpr uint32_t kGgufMaxVersion = 3;
inline constexpr uint64_t kGgufDefaultAlignment = 32;
inline constexpr uint32_t kGgufMaxDims = 4;
// The writer refuses tensor names of this many bytes or more (llama.cpp's GGML_MAX_NAME).
inline constexpr size_t kGgufMaxTensorName = 64;
// Arrays of arrays nest at most this deep; deeper files are refused (bounds recursion).
inline constexpr int kGgufMaxArrayDepth = 8;

// One metadata value. Scalars are widened: all unsigned ints in `u`, signed in `i`,
// floats in `f`. Arrays keep their element type and hold their elements (arrays may nest).
struct GgufValue {
  GgufType type = GgufType::UINT8;
  uint64_t u = 0;
  int64_t i = 0;
  double f = 0;
  bool b = false;
  std::string_view str;
  GgufType elem_type = GgufType::UINT8;  // ARRAY only
  std::vector<GgufValue> arr;            // ARRAY only

  bool is_integer() const;
  bool is_float() const { return type == GgufType::FLOAT32 || type == GgufType::FLOAT64; }
  // Numeric value as a signed/unsigned/double regardless of the stored integer width.
  std::optional<int64_t> as_int() const;
  std::optional<double> as_double() const;
};

struct GgufKV {
  std::string_view key;
  GgufValue value;
};

struct GgufTensorInfo {
  std::string_view name;
  GgmlType type = GgmlType::F32;
  std::vector<uint64_t> ne;  // ggml order: ne[0] is the contiguous (row) dimension
  uint64_t offset = 0;       // relative to the start of the data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;  // into the mapping (or the parsed buffer)

  uint64_t rows() const { return ne.empty() ? 1 : n_elements / ne[0]; }
};

class GgufFile {
 public:
  // Maps and validates the file. Every failure names the file and the problem, and says where
  // ("PATH: n_dims = 5 (at most 4 supported) (in tensor info 1 'output_norm.weight')"); the kind
  // is not_found for a missing file, model_load_failed for everything else (GGUF v1, big-endian
  // files, truncation, bad counts/sizes/offsets, duplicates, unknown types).
  static Result<std::unique_ptr<GgufFile>> open(const std::string& path);
  // Validates bytes already in memory (kept by reference; the fuzzer uses this).
  static Result<std::unique_ptr<GgufFile>> parse(std::span<const uint8_t> bytes, std::string name);
  ~GgufFile();
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  const std::string& path() const { return name_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t file_size() const { return bytes_.size(); }
  uint64_t data_offset() const { return data_offset_; }

  const std::vector<GgufKV>& metadata() const { return kv_; }
  const GgufValue* find(std::string_view key) const;
  // Typed getters: nullopt when the key is absent or has an incompatible type.
  std::optional<std::string_view> get_string(std::string_view key) const;
  std::optional<int64_t> get_int(std::string_view key) const;   // any integer type
  std::optional<double> get_float(std::string_view key) const;  // any float or integer type
  std::optional<bool> get_bool(std::string_view key) const;
  // Array getters: nullopt when absent or of the wrong element type.
  std::optional<std::vector<std::string_view>> get_string_array(std::string_view key) const;
  std::optional<std::vector<float>> get_float_array(std::string_view key) const;
  std::optional<std::vector<int64_t>> get_int_array(std::string_view key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* tensor(std::string_view name) const;

  // Advises the kernel that all tensor data will be read soon (MADV_WILLNEED).
  void prefetch() const;

 private:
  GgufFile() = default;
  Status parse_all();

  std::string name_;
  std::span<const uint8_t> bytes_;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<GgufKV> kv_;
  std::vector<GgufTensorInfo> tensors_;
  struct Index;
  std::unique_ptr<Index> index_;  // name -> position lookups
};

// Writes GGUF v3: metadata in insertion order, tensors aligned to general.alignment (32).
// Tensor data is produced on demand while writing, so huge models need no big buffers.
class GgufWriter {
 public:
  void set_u8(std::string key, uint8_t v);
  void set_i8(std::string key, int8_t v);
  void set_u16(std::string key, uint16_t v);
  void set_i16(std::string key, int16_t v);
  void set_u32(std::string key, uint32_t v);
  void set_i32(std::string key, int32_t v);
  void set_u64(std::string key, uint64_t v);
  void set_i64(std::string key, int64_t v);
  void set_f32(std::string key, float v);
  void set_f64(std::string key, double v);
  void set_bool(std::string key, bool v);
  void set_string(std::string key, std::string v);
  void set_value(std::string key, const GgufValue& v);  // deep copy, e.g. from a GgufFile
  void set_string_array(std::string key, const std::vector<std::string>& v);
  void set_f32_array(std::string key, const std::vector<float>& v);
  void set_i32_array(std::string key, const std::vector<int32_t>& v);
  void remove(std::string_view key);

  // `fill(dst)` must write exactly ggml_row_size(type, ne[0]) * rows bytes. It is called during
  // write(), one tensor at a time, in the order the tensors were added.
  using Fill = std::function<Status(uint8_t* dst)>;
  void add_tensor(std::string name, GgmlType type, std::vector<uint64_t> ne, Fill fill);
  // `data` is not copied: it must stay valid until write() returns (e.g. a GgufFile's tensor view).
  void add_tensor(std::string name, GgmlType type, std::vector<uint64_t> ne, std::span<const uint8_t> data);

  // Optional progress report after each tensor: (index, count, name).
  std::function<void(size_t, size_t, std::string_view)> on_tensor_written;

  // Validates everything first (alignment must be a u32 power of two; tensor names unique and
  // < 64 bytes; 1-4 dims; ne[0] a multiple of the block size), then writes PATH.tmp and renames
  // it to PATH. On failure PATH is left as it was and PATH.tmp is removed.
  Status write(const std::string& path) const;

 private:
  struct Entry;
  struct Tensor;
  std::vector<std::shared_ptr<Entry>> kv_;
  std::vector<Tensor> tensors_;
  void put(std::string key, GgufType type, std::vector<uint8_t> payload, std::optional<int64_t> int_value = {});
  Result<uint64_t> alignment(const std::string& path) const;
  std::vector<uint8_t> encode_header(const std::vector<uint64_t>& offsets, uint64_t alignment) const;
  static Result<uint64_t> checked_tensor_bytes(const Tensor& t, const std::string& path);

 public:
  GgufWriter();
  ~GgufWriter();
  GgufWriter(GgufWriter&&) noexcept;
  GgufWriter& operator=(GgufWriter&&) noexcept;
};

}  // namespace pensieve
