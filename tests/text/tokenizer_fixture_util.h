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

// Tokenizes every test string of VECTORS_BASE.inp (no BOS/EOS, special text not parsed, as
// llama.cpp's test-tokenizer-0) and compares with the ids of VECTORS_BASE.out; each differing case
// is a test failure naming LABEL. Returns the number of differing cases.
inline int count_vector_mismatches(const text::Tokenizer& tok, const std::string& vectors_base, const std::string& label) {
  const auto inputs = read_vocab_inputs(vectors_base + ".inp");
  const auto expected = read_vocab_outputs(vectors_base + ".out");
  EXPECT_EQ(inputs.size(), 46u) << vectors_base;
  EXPECT_EQ(inputs.size(), expected.size()) << vectors_base;
  if (inputs.empty() || inputs.size() != expected.size()) return -1;
  int failures = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto got = tok.encode(inputs[i], /*add_special=*/false, /*parse_special=*/false);
    if (got != expected[i]) {
      ++failures;
      ADD_FAILURE() << label << " case " << i << " '" << inputs[i] << "'\n  expected:" << ids_to_string(expected[i])
                    << "\n  got:     " << ids_to_string(got);
    }
  }
  return failures;
}

// decode(encode(x)) == x for every input, both at once and streamed token by token (byte-level and
// SentencePiece vocabularies; WordPiece normalises its input, so it does not apply there).
inline void expect_decode_round_trips(const text::Tokenizer& tok, const std::vector<std::string>& inputs) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto ids = tok.encode(inputs[i], false, false);
    EXPECT_EQ(tok.decode(ids), inputs[i]) << "case " << i;
    // A streamed decode gives the same text for valid UTF-8 input.
    text::StreamDecoder sd(tok);
    std::string streamed;
    for (auto id : ids) streamed += sd.push(id);
    streamed += sd.flush();
    EXPECT_EQ(streamed, inputs[i]) << "case " << i;
  }
}

}  // namespace pensieve::testing
