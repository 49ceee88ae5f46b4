// Model files the tests make: gen_model.py shapes (../shared/tools) and their quantized copies,
// written once per test process into one temp folder that is removed at exit (nothing is written
// beside the fixtures, nothing is reused from an earlier run).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "quant/quantize_model.h"
#include "test_util.h"

namespace pensieve::testing {

inline std::string model_work_dir() {
  struct Dir {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("pensieve-test-models-" + std::to_string(getpid()));
    Dir() { std::filesystem::create_directories(path); }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static Dir dir;
  return dir.path.string();
}

// A gen_model.py shape in `dtype`; empty (and the caller's test fails) when python3-numpy is
// missing: scripts/setup.sh installs it. PENSIEVE_PYTHON names a python with numpy where
// /usr/bin/python3 has none (the GPU machine).
inline std::string gen_model(const std::string& shape, const std::string& dtype) {
  const std::string out = model_work_dir() + "/" + shape + "-" + dtype + ".gguf";
  if (std::filesystem::exists(out)) return out;
  const char* py = std::getenv("PENSIEVE_PYTHON");
  const std::string cmd = std::string(py && *py ? py : "/usr/bin/python3") + " " + shared_dir() +
                          "/tools/gen_model.py --shape " + shape + " --dtype " + dtype + " --quiet --out " + out +
                          " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0 ? out : "";
}

// `src` quantized to `target` (e.g. "Q8_0") by the current quantizer.
inline std::string quantized(const std::string& src, const char* target) {
  const std::string out =
      model_work_dir() + "/" + std::filesystem::path(src).stem().string() + "-" + target + ".gguf";
  if (std::filesystem::exists(out)) return out;
  Status st = quantize_model(src, out, *parse_quantize_target(target), 1);
  EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message);
  return out;
}

}  // namespace pensieve::testing
