// Writes tests/quant/golden/ggml_quant.bin: golden_input() quantized by llama.cpp's own ggml
// reference quantizers. Not built by CMake (it needs a libggml-base.so); how it was run:
//   npm pack @node-llama-cpp/linux-x64@3.22.1 && tar xzf node-llama-cpp-linux-x64-3.22.1.tgz
//   g++ -std=c++20 -I tests tests/quant/make_ggml_golden.cpp -ldl -o make_ggml_golden
//   ./make_ggml_golden package/bins/linux-x64/libggml-base.so tests/quant/golden/ggml_quant.bin
// File format, little-endian: repeated {u32 ggml type id, u32 byte count, bytes}.
#include <dlfcn.h>

#include <cstdint>
#include <cstdio>
#include <vector>

#include "quant/golden_input.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_ggml_golden LIBGGML_BASE_SO OUT.bin\n");
    return 2;
  }
  void* lib = dlopen(argv[1], RTLD_NOW);
  if (lib == nullptr) {
    std::fprintf(stderr, "%s\n", dlerror());
    return 1;
  }
  struct Entry {
    uint32_t type;
    const char* symbol;
    uint32_t block, bytes;
  };
  const Entry entries[] = {
      {2, "quantize_row_q4_0_ref", 32, 18},   {3, "quantize_row_q4_1_ref", 32, 20},
      {6, "quantize_row_q5_0_ref", 32, 22},   {7, "quantize_row_q5_1_ref", 32, 24},
      {8, "quantize_row_q8_0_ref", 32, 34},   {9, "quantize_row_q8_1_ref", 32, 36},
      {10, "quantize_row_q2_K_ref", 256, 84}, {11, "quantize_row_q3_K_ref", 256, 110},
      {12, "quantize_row_q4_K_ref", 256, 144}, {13, "quantize_row_q5_K_ref", 256, 176},
      {14, "quantize_row_q6_K_ref", 256, 210}, {15, "quantize_row_q8_K_ref", 256, 292},
  };
  const std::vector<float> x = pensieve::testing::golden_input();
  FILE* out = std::fopen(argv[2], "wb");
  if (out == nullptr) return 1;
  for (const Entry& e : entries) {
    using Fn = void (*)(const float*, void*, int64_t);
    auto fn = reinterpret_cast<Fn>(dlsym(lib, e.symbol));
    if (fn == nullptr) return 1;
    std::vector<uint8_t> q(x.size() / e.block * e.bytes);
    fn(x.data(), q.data(), static_cast<int64_t>(x.size()));
    const uint32_t n = static_cast<uint32_t>(q.size());
    std::fwrite(&e.type, 4, 1, out);
    std::fwrite(&n, 4, 1, out);
    std::fwrite(q.data(), 1, q.size(), out);
  }
  return std::fclose(out) == 0 ? 0 : 1;
}
