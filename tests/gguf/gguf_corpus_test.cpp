// Replays the fuzzer's seed corpus (tests/fuzz/gguf_corpus, found/ included) through the reader in the normal
// suite: every file must either parse or fail with an error naming it, never crash. The valid
// seeds must keep parsing, so the corpus stays a useful starting point for the fuzzer.
#include <set>

#include "gguf/gguf.h"
#include "gguf_test_util.h"
#include "test_util.h"

namespace pensieve {
namespace {

TEST(GgufCorpus, EverySeedParsesOrFailsCleanly) {
  const std::filesystem::path dir = std::filesystem::path(testing::source_dir()) / "tests/fuzz/gguf_corpus";
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  std::set<std::string> parsed;
  int files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().extension() == ".md") continue;
    ++files;
    const std::string name = e.path().filename().string();
    const testing::Bytes b = testing::read_bytes(e.path().string());
    auto r = GgufFile::parse(b, name);
    if (r.ok()) {
      parsed.insert(name);
      for (const GgufTensorInfo& t : (*r)->tensors()) {
        ASSERT_GE(t.data, b.data());
        ASSERT_LE(t.data + t.n_bytes, b.data() + b.size());
      }
    } else {
      EXPECT_EQ(r.error().message.rfind(name + ": ", 0), 0u) << r.error().message;
    }
  }
  EXPECT_GE(files, 100) << "12 hand-made seeds plus the fuzzer's finds in found/";
  for (const char* valid : {"ref-qwen2.gguf", "all-types-align64.gguf", "stories260K-meta-small-tensors.gguf",
                            "empty.gguf", "one-i8-tensor-align1.gguf", "one-i8-tensor-v2.gguf"}) {
    EXPECT_TRUE(parsed.count(valid)) << valid << " should be a valid GGUF seed";
  }
  for (const char* invalid : {"v1-prefix-4k.gguf", "big-endian-header.gguf", "vocab-qwen2-prefix-16k.gguf"}) {
    EXPECT_FALSE(parsed.count(invalid)) << invalid << " should be refused";
  }
}

}  // namespace
}  // namespace pensieve
