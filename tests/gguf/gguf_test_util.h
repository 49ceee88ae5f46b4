// Helpers for the gguf tests: crafting GGUF bytes by hand and patching fields of real files.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace pensieve::testing {

using Bytes = std::vector<uint8_t>;

inline Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::string& path, const Bytes& b) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// Appends little-endian GGUF fields; used to craft files the writer would refuse to produce.
struct ByteBuilder {
  Bytes b;
  template <class T>
  ByteBuilder& pod(T v) {
    const size_t at = b.size();
    b.resize(at + sizeof(T));
    std::memcpy(b.data() + at, &v, sizeof(T));
    return *this;
  }
  ByteBuilder& u32(uint32_t v) { return pod(v); }
  ByteBuilder& u64(uint64_t v) { return pod(v); }
  ByteBuilder& str(std::string_view s) {
    u64(s.size());
    const size_t at = b.size();
    b.resize(at + s.size());
    if (!s.empty()) std::memcpy(b.data() + at, s.data(), s.size());
    return *this;
  }
  ByteBuilder& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return pod<uint32_t>(0x46554747u).u32(version).u64(n_tensors).u64(n_kv);
  }
  // key + type tag of a metadata entry; the caller appends the value.
  ByteBuilder& key(std::string_view k, uint32_t type) { return str(k).u32(type); }
  ByteBuilder& pad_to(size_t alignment) {
    b.resize((b.size() + alignment - 1) / alignment * alignment, 0);
    return *this;
  }
};

// Position of the first occurrence of a GGUF string (u64 length + bytes) in `b`, or npos.
// In the fixtures, keys and tensor names occur once, so this locates a metadata entry or a
// tensor info; the fields that follow start at the returned position + 8 + s.size().
inline size_t find_gguf_string(const Bytes& b, std::string_view s) {
  ByteBuilder needle;
  needle.str(s);
  auto it = std::search(b.begin(), b.end(), needle.b.begin(), needle.b.end());
  return it == b.end() ? std::string::npos : static_cast<size_t>(it - b.begin());
}
inline size_t after_gguf_string(const Bytes& b, std::string_view s) {
  const size_t at = find_gguf_string(b, s);
  return at == std::string::npos ? at : at + 8 + s.size();
}

template <class T>
inline void patch(Bytes& b, size_t at, T v) {
  std::memcpy(b.data() + at, &v, sizeof(T));
}
template <class T>
inline T peek(const Bytes& b, size_t at) {
  T v;
  std::memcpy(&v, b.data() + at, sizeof(T));
  return v;
}

// A scratch directory for one test, removed at destruction.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("pensieve_gguf_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
  static int& counter() {
    static int n = 0;
    return n;
  }
};

}  // namespace pensieve::testing
