// dump_observer(): writes named per-layer activations to a folder (PENSIEVE_DUMP=dir), to diff
// a forward pass against a reference implementation's dump.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>

#include "model/model.h"

namespace pensieve::model {

Observer dump_observer(const std::string& dir) {
  std::filesystem::create_directories(dir);
  auto index = std::make_shared<std::ofstream>(dir + "/index.txt", std::ios::app);
  auto step = std::make_shared<int>(0);
  return [dir, index, step](std::string_view name, int layer, const float* data, int64_t n_rows, int width) {
    // Each forward step writes its own files: "<step>-<name>-<layer>.f32".
    if (name == "inp_embd") ++*step;
    const std::string file = std::to_string(*step) + "-" + std::string(name) + "-" + std::to_string(layer) + ".f32";
    std::ofstream out(dir + "/" + file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n_rows * width * sizeof(float)));
    *index << file << " " << n_rows << " " << width << "\n";
    index->flush();
  };
}

}  // namespace pensieve::model
