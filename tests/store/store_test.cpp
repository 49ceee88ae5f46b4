// The model store: names, manifests, import / find / copy / remove, atomic writes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "store/sha256.h"
#include "store/store.h"
#include "test_util.h"

namespace pensieve::store {
namespace {

namespace fs = std::filesystem;
using testing::fixtures_dir;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("pensieve-store-test-" + std::to_string(getpid()) + "-" +
                                               std::to_string(reinterpret_cast<uintptr_t>(this)));
  TempDir() { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

TEST(ModelName, ParsesNamesAndTags) {
  auto n = parse_name("Qwen2.5-Coder:1.5B-Q4_K_M");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->name, "qwen2.5-coder");
  EXPECT_EQ(n->tag, "1.5b-q4_k_m");
  EXPECT_EQ(parse_name("llama3")->str(), "llama3:latest");
  EXPECT_EQ(parse_name("owner/model:v1")->name, "owner/model");
  for (const char* bad : {"", ":tag", "name:", "../x", "a/../b", "/abs", "a b", "x:y/z", "a//b", ".hidden", "a:b:c"})
    EXPECT_FALSE(parse_name(bad).ok()) << bad;
}

TEST(Sha256, KnownVectors) {
  Sha256 h;
  h.update("abc", 3);
  EXPECT_EQ(h.hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 e;
  EXPECT_EQ(e.hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Store, ImportFindCopyRemove) {
  PS_REQUIRE_FIXTURES();
  TempDir dir;
  Store s(dir.path / "models");
  const fs::path gguf = fixtures_dir() + "/models/stories260K.gguf";
  auto m = s.import_file(gguf, "stories:260k", "import:test");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->name, "stories:260k");
  EXPECT_EQ(m->architecture, "llama");
  EXPECT_EQ(m->size, static_cast<int64_t>(fs::file_size(gguf)));
  EXPECT_EQ(m->sha256, *sha256_file(gguf));
  EXPECT_GT(m->context, 0);
  EXPECT_GT(m->n_params, 0);
  EXPECT_FALSE(m->quant.empty());
  EXPECT_TRUE(fs::exists(s.blob_path(*m)));

  auto found = s.find("STORIES:260k");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->sha256, m->sha256);
  EXPECT_EQ(s.find("stories").error().kind, ErrorKind::not_found);  // the tag is latest

  ASSERT_TRUE(s.copy("stories:260k", "tiny").ok());
  ASSERT_EQ(s.list().size(), 2u);
  EXPECT_EQ(s.list()[1].name, "tiny:latest");
  // Removing one name keeps the blob the other still uses; removing the last removes it.
  ASSERT_TRUE(s.remove("stories:260k").ok());
  EXPECT_TRUE(fs::exists(s.blob_path(*m)));
  ASSERT_TRUE(s.remove("tiny").ok());
  EXPECT_FALSE(fs::exists(s.blob_path(*m)));
  EXPECT_TRUE(s.list().empty());
  EXPECT_EQ(s.remove("tiny").error().kind, ErrorKind::not_found);
}

TEST(Store, RefusesWhatIsNotAGguf) {
  TempDir dir;
  Store s(dir.path / "models");
  const fs::path junk = dir.path / "junk.gguf";
  std::ofstream(junk) << "not a gguf file at all";
  auto m = s.import_file(junk, "junk", "import:test");
  ASSERT_FALSE(m.ok());
  EXPECT_TRUE(s.list().empty());
  EXPECT_FALSE(fs::exists(s.blobs_dir()) && !fs::is_empty(s.blobs_dir()));
  EXPECT_FALSE(s.import_file(dir.path / "missing.gguf", "x", "").ok());
}

TEST(Store, SkipsBrokenManifests) {
  TempDir dir;
  Store s(dir.path / "models");
  fs::create_directories(s.root() / "manifests" / "broken");
  std::ofstream(s.root() / "manifests" / "broken" / "latest.json") << "{ not json";
  std::vector<std::string> warnings;
  EXPECT_TRUE(s.list(&warnings).empty());
  EXPECT_EQ(warnings.size(), 1u);
  EXPECT_FALSE(s.find("broken").ok());
}

}  // namespace
}  // namespace pensieve::store
