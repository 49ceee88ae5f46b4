// Private to src/gguf: the bounds-checked byte cursor the parser reads through, and the
// name index of a GgufFile. Nothing outside this folder includes it.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "gguf/gguf.h"

namespace pensieve {

static_assert(std::endian::native == std::endian::little, "the GGUF reader assumes a little-endian host");

namespace gguf_detail {
using NameIndex = std::unordered_map<std::string_view, size_t>;  // name -> position
}

struct GgufFile::Index {
  gguf_detail::NameIndex kv;       // key -> position in metadata()
  gguf_detail::NameIndex tensors;  // name -> position in tensors()
};

namespace gguf_detail {

// Reads little-endian fields from a byte span. Every read is checked against the end of the
// span before it happens; the first failure is kept as an Error naming the file, the problem,
// the byte offset and the item being parsed (so messages are built only on the error path).
class Cursor {
 public:
  Cursor(std::span<const uint8_t> bytes, std::string_view file) : bytes_(bytes), file_(file) {}

  uint64_t pos() const { return pos_; }
  uint64_t size() const { return bytes_.size(); }
  uint64_t remaining() const { return bytes_.size() - pos_; }
  const uint8_t* data() const { return bytes_.data(); }

  // Names the item being parsed, for error messages ("metadata entry", 3, "general.name").
  void set_context(const char* section, uint64_t index, std::string_view name) {
    section_ = section;
    index_ = index;
    item_name_ = name;
  }

  bool take(uint64_t n, const char* field, const uint8_t*& out) {
    if (n > remaining()) return truncated(n, field);
    out = bytes_.data() + pos_;
    pos_ += n;
    return true;
  }
  template <class T>
  bool read(T& v, const char* field) {
    const uint8_t* p = nullptr;
    if (!take(sizeof(T), field, p)) return false;
    std::memcpy(&v, p, sizeof(T));
    return true;
  }
  // A GGUF string: u64 length then that many bytes (not NUL-terminated).
  bool read_string(std::string_view& s, const char* field) {
    uint64_t len = 0;
    if (!read(len, field)) return false;
    if (len > remaining()) {
      return fail("string length " + std::to_string(len) + " of " + field + " at offset " +
                  std::to_string(pos_ - 8) + " is larger than the " + std::to_string(remaining()) +
                  " bytes left in the file (corrupt or truncated)");
    }
    s = std::string_view(reinterpret_cast<const char*>(bytes_.data() + pos_), len);
    pos_ += len;
    return true;
  }

  // Records `problem` (the first one wins) and returns false.
  bool fail(const std::string& problem);
  bool truncated(uint64_t need, const char* field);
  bool failed() const { return failed_; }
  const Error& error() const { return error_; }

 private:
  std::span<const uint8_t> bytes_;
  std::string_view file_;
  uint64_t pos_ = 0;
  const char* section_ = "header";
  uint64_t index_ = 0;
  std::string_view item_name_;
  bool failed_ = false;
  Error error_;
};

}  // namespace gguf_detail
}  // namespace pensieve
