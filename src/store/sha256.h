// Streaming SHA-256 (OpenSSL's EVP), for the store's content names and download checks.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "util/status.h"

namespace pensieve::store {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t n);
  std::string hex();  // finishes; the object is spent afterwards

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Hashes a whole file (or its first `limit` bytes when limit >= 0).
Result<std::string> sha256_file(const std::filesystem::path& path);

}  // namespace pensieve::store
