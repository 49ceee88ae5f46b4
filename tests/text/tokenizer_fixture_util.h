// Readers for llama.cpp's tokenizer test vectors (see fixtures/tokenizer/README.md): a .inp file
// of strings each followed by "\n__ggml_vocab_test__\n", and a .out file of one line per string
// holding space-prefixed token ids.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "test_util.h"
#include "text/tokenizer.h"

namespace pensieve::testing {

inline std::string read_file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::vector<std::string> read_vocab_inputs(const std::string& path) {
  const std::string data = read_file_bytes(path);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < data.size()) {
    const size_t hit = data.find(sep, pos);
    if (hit == std::string::npos) break;
    out.push_back(data.substr(pos, hit - pos));
    pos = hit + sep.size();
  }
  return out;
}

inline std::vector<std::vector<int32_t>> read_vocab_outputs(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::vector<std::vector<int32_t>> out;
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream ls(line);
    std::vector<int32_t> ids;
    int32_t id = 0;
    while (ls >> id) ids.push_back(id);
    out.push_back(std::move(ids));
  }
  return out;
}

inline std::string tokenizer_dir() { return fixtures_dir() + "/tokenizer"; }

struct LoadedTokenizer {
  std::unique_ptr<GgufFile> file;
  std::shared_ptr<const text::Tokenizer> tok;
};

// Opens a GGUF and builds its tokenizer; fails the test (not a crash) on error.
inline LoadedTokenizer load_tokenizer(const std::string& path, std::string_view pre_override = "") {
  LoadedTokenizer lt;
  auto f = GgufFile::open(path);
  EXPECT_TRUE(f.ok()) << (f.ok() ? "" : f.error().message);
  if (!f.ok()) return lt;
  lt.file = std::move(f.value());
  auto t = text::Tokenizer::from_gguf(*lt.file, pre_override);
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
  if (t.ok()) lt.tok = t.value();
  return lt;
}

inline std::string ids_to_string(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) {
    s += ' ';
    s += std::to_string(id);
  }
  return s;
}

}  // namespace pensieve::testing
