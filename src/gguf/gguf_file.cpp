// GgufFile: mapping the file, lookups and typed getters. Parsing lives in gguf_parse.cpp.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gguf/gguf_internal.h"

namespace pensieve {

Result<std::unique_ptr<GgufFile>> GgufFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return make_error(err == ENOENT ? ErrorKind::not_found : ErrorKind::model_load_failed,
                      path + ": cannot open: " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return make_error(ErrorKind::model_load_failed, path + ": cannot stat: " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(ErrorKind::model_load_failed, path + ": not a regular file");
  }
  if (st.st_size == 0) {
    ::close(fd);
    return make_error(ErrorKind::model_load_failed, path + ": file is empty (0 bytes); not a GGUF file");
  }
  const size_t size = static_cast<size_t>(st.st_size);
  // MAP_PRIVATE + PROT_READ: the weights are shared with the page cache and never written.
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int map_err = errno;
  ::close(fd);  // the mapping keeps the file alive
  if (map == MAP_FAILED) {
    return make_error(ErrorKind::model_load_failed, path + ": mmap of " + std::to_string(size) +
                                                        " bytes failed: " + std::strerror(map_err));
  }
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->name_ = path;
  f->map_ = map;
  f->map_size_ = size;
  f->bytes_ = std::span<const uint8_t>(static_cast<const uint8_t*>(map), size);
  PS_TRY(f->parse_all());
  return f;
}

Result<std::unique_ptr<GgufFile>> GgufFile::parse(std::span<const uint8_t> bytes, std::string name) {
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->name_ = std::move(name);
  f->bytes_ = bytes;
  PS_TRY(f->parse_all());
  return f;
}

GgufFile::~GgufFile() {
  if (map_ != nullptr) ::munmap(map_, map_size_);
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = index_->kv.find(key);
  return it == index_->kv.end() ? nullptr : &kv_[it->second].value;
}

const GgufTensorInfo* GgufFile::tensor(std::string_view name) const {
  auto it = index_->tensors.find(name);
  return it == index_->tensors.end() ? nullptr : &tensors_[it->second];
}

std::optional<std::string_view> GgufFile::get_string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr || v->type != GgufType::STRING) return std::nullopt;
  return v->str;
}

std::optional<int64_t> GgufFile::get_int(std::string_view key) const {
  const GgufValue* v = find(key);
  return v == nullptr ? std::nullopt : v->as_int();
}

std::optional<double> GgufFile::get_float(std::string_view key) const {
  const GgufValue* v = find(key);
  return v == nullptr ? std::nullopt : v->as_double();
}

std::optional<bool> GgufFile::get_bool(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr || v->type != GgufType::BOOL) return std::nullopt;
  return v->b;
}

std::optional<std::vector<std::string_view>> GgufFile::get_string_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr || v->type != GgufType::ARRAY || v->elem_type != GgufType::STRING) return std::nullopt;
  std::vector<std::string_view> out;
  out.reserve(v->arr.size());
  for (const GgufValue& e : v->arr) out.push_back(e.str);
  return out;
}

// Any numeric element type converts (scores are f32 in practice, but integers are harmless).
std::optional<std::vector<float>> GgufFile::get_float_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr || v->type != GgufType::ARRAY) return std::nullopt;
  GgufValue probe;
  probe.type = v->elem_type;
  if (!probe.is_float() && !probe.is_integer()) return std::nullopt;
  std::vector<float> out;
  out.reserve(v->arr.size());
  for (const GgufValue& e : v->arr) out.push_back(static_cast<float>(e.as_double().value_or(0.0)));
  return out;
}

// Integer element types only; nullopt also when a u64 element does not fit in int64.
std::optional<std::vector<int64_t>> GgufFile::get_int_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr || v->type != GgufType::ARRAY) return std::nullopt;
  GgufValue probe;
  probe.type = v->elem_type;
  if (!probe.is_integer()) return std::nullopt;
  std::vector<int64_t> out;
  out.reserve(v->arr.size());
  for (const GgufValue& e : v->arr) {
    std::optional<int64_t> x = e.as_int();
    if (!x) return std::nullopt;
    out.push_back(*x);
  }
  return out;
}

void GgufFile::prefetch() const {
  if (map_ == nullptr || tensors_.empty() || data_offset_ >= map_size_) return;
  // madvise needs a page-aligned start; round the data section start down to a page.
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t base = reinterpret_cast<uintptr_t>(map_);
  const uintptr_t start = (base + data_offset_) / page * page;
  ::madvise(reinterpret_cast<void*>(start), base + map_size_ - start, MADV_WILLNEED);
}

}  // namespace pensieve
