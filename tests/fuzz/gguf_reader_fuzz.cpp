// libFuzzer target for the GGUF reader: parses the input as a GGUF file and, when it is
// accepted, touches every metadata value (recursively), every typed getter and every tensor's
// first and last data byte, so ASan sees any view that points outside the input.
//
// Build: cmake -S . -B build-fuzz -G Ninja -DPENSIEVE_FUZZ=ON -DPENSIEVE_TESTS=OFF
//          -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang
//          -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link,address,undefined
//        cmake --build build-fuzz --target gguf_reader_fuzz
// Run:   build-fuzz/gguf_reader_fuzz -max_total_time=600 -rss_limit_mb=2048
//          /tmp/gguf_corpus_work tests/fuzz/gguf_corpus
#include <cstddef>
#include <cstdint>

#include "gguf/gguf.h"

namespace {

volatile uint64_t g_sink = 0;  // keeps the reads below from being optimised away

void touch(const pensieve::GgufValue& v) {
  g_sink = g_sink + v.u + static_cast<uint64_t>(v.i) + static_cast<uint64_t>(v.b);
  if (!v.str.empty()) g_sink = g_sink + static_cast<uint8_t>(v.str.front()) + static_cast<uint8_t>(v.str.back());
  if (auto x = v.as_int()) g_sink = g_sink + static_cast<uint64_t>(*x);
  if (auto d = v.as_double()) g_sink = g_sink + (*d > 0 ? 1 : 0);
  for (const pensieve::GgufValue& e : v.arr) touch(e);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = pensieve::GgufFile::parse(std::span<const uint8_t>(data, size), "fuzz.gguf");
  if (!r.ok()) {
    g_sink = g_sink + r.error().message.size();
    return 0;
  }
  const pensieve::GgufFile& f = **r;
  g_sink = g_sink + f.version() + f.alignment() + f.data_offset() + f.file_size();
  for (const pensieve::GgufKV& kv : f.metadata()) {
    touch(kv.value);
    if (f.find(kv.key) != &kv.value) __builtin_trap();  // the index must find every key
    g_sink = g_sink + f.get_string(kv.key).has_value() + f.get_int(kv.key).has_value() +
             f.get_float(kv.key).has_value() + f.get_bool(kv.key).has_value();
    if (auto a = f.get_string_array(kv.key)) g_sink = g_sink + a->size();
    if (auto a = f.get_float_array(kv.key)) g_sink = g_sink + a->size();
    if (auto a = f.get_int_array(kv.key)) g_sink = g_sink + a->size();
  }
  for (const pensieve::GgufTensorInfo& t : f.tensors()) {
    if (f.tensor(t.name) != &t) __builtin_trap();
    if (t.n_bytes > 0) g_sink = g_sink + t.data[0] + t.data[t.n_bytes - 1];
    g_sink = g_sink + t.rows() + t.ne.size();
  }
  return 0;
}
