// `pull` against a local stand-in for the Hugging Face hub (hub_mock.py): the file list, the
// redirect to the CDN, range requests, a connection dropped mid-file, a wrong checksum, tokens.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "hub_mock.h"
#include "store/pull.h"
#include "store/sha256.h"
#include "test_util.h"

namespace pensieve::store {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::fixtures_dir;
using testing::HubMock;

class Pull : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::have_fixtures()) GTEST_SKIP() << "fixtures not found";
    ::unsetenv("HF_TOKEN");
    ::setenv("no_proxy", "127.0.0.1,localhost", 1);  // the mock is local even behind a proxy
    fs::create_directories(dir);
    gguf = fixtures_dir() + "/models/stories260K.gguf";
    other = fixtures_dir() + "/models/llama-2-tiny-random.gguf";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  json repo_config() const {
    return {{"repos",
             {{"owner/Stories-GGUF",
               {{{"path", "stories-Q4_K_M.gguf"}, {"local", gguf}}, {{"path", "stories-Q8_0.gguf"}, {"local", other}}}}}}};
  }
  PullOptions options(const HubMock& hub) {
    PullOptions o;
    o.endpoint = hub.endpoint();
    o.retry_delay_ms = 10;
    o.on_progress = [this](const PullProgress& p) { statuses.push_back(p.status); };
    return o;
  }
  static json log_of(const HubMock& hub) {
    fs::path tmp = fs::temp_directory_path() / ("hub-log-" + std::to_string(getpid()));
    std::string cmd = "/usr/bin/python3 -c \"import urllib.request,sys;sys.stdout.write(urllib.request.urlopen('" +
                      hub.endpoint() + "/_log').read().decode())\" > " + tmp.string();
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    std::ifstream in(tmp);
    json j = json::parse(in);
    fs::remove(tmp);
    return j;
  }
  fs::path dir = fs::temp_directory_path() / ("pensieve-pull-test-" + std::to_string(getpid()));
  std::string gguf, other;
  std::vector<std::string> statuses;
};

TEST_F(Pull, PicksTheQuantFollowsTheRedirectAndVerifies) {
  HubMock hub(repo_config(), dir);
  ASSERT_GT(hub.port(), 0);
  Store s(dir / "models");
  auto m = pull_model(s, "hf:owner/Stories-GGUF:q8_0", "", options(hub));
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->name, "stories:q8_0");
  EXPECT_EQ(m->source, "hf:owner/Stories-GGUF/stories-Q8_0.gguf");
  EXPECT_EQ(m->sha256, *sha256_file(other));
  EXPECT_EQ(*sha256_file(s.blob_path(*m)), *sha256_file(other));
  EXPECT_EQ(statuses.back(), "success");
  // Without a quant, Q4_K_M is the default among several files; an explicit name wins.
  auto d = pull_model(s, "hf:owner/Stories-GGUF", "mine:v1", options(hub));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->sha256, *sha256_file(gguf));
  EXPECT_EQ(s.list().size(), 2u);
  EXPECT_TRUE(fs::is_empty(s.partial_dir()));
}

TEST_F(Pull, ResumesAfterADroppedConnection) {
  json cfg = repo_config();
  cfg["drop_after"] = {{"stories-Q4_K_M.gguf", 300000}};
  HubMock hub(cfg, dir);
  Store s(dir / "models");
  auto m = pull_model(s, "hf:owner/Stories-GGUF:Q4_K_M", "", options(hub));
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->sha256, *sha256_file(gguf));
  bool retried = false;
  for (const auto& st : statuses) retried = retried || st.rfind("retrying", 0) == 0;
  EXPECT_TRUE(retried);
  // The second request asked only for the rest of the file.
  int ranged = 0;
  for (const json& r : log_of(hub))
    if (r["path"].get<std::string>().rfind("/cdn/", 0) == 0 && r["range"].is_string()) {
      EXPECT_EQ(r["range"], "bytes=300000-");
      ++ranged;
    }
  EXPECT_EQ(ranged, 1);
}

TEST_F(Pull, RestartsWhenTheServerIgnoresTheRange) {
  json cfg = repo_config();
  cfg["drop_after"] = {{"stories-Q4_K_M.gguf", 100000}};
  cfg["ignore_range"] = true;
  HubMock hub(cfg, dir);
  Store s(dir / "models");
  auto m = pull_model(s, "hf:owner/Stories-GGUF:Q4_K_M", "", options(hub));
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(*sha256_file(s.blob_path(*m)), *sha256_file(gguf));
}

TEST_F(Pull, AWrongChecksumLeavesNothing) {
  json cfg = repo_config();
  cfg["repos"]["owner/Stories-GGUF"][0]["sha256"] = std::string(64, 'a');
  HubMock hub(cfg, dir);
  Store s(dir / "models");
  auto m = pull_model(s, "hf:owner/Stories-GGUF:Q4_K_M", "", options(hub));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("sha256 mismatch"), std::string::npos) << m.error().message;
  EXPECT_TRUE(s.list().empty());
  EXPECT_FALSE(s.find("stories:q4_k_m").ok());
  EXPECT_TRUE(!fs::exists(s.blobs_dir()) || fs::is_empty(s.blobs_dir()));
  EXPECT_TRUE(fs::is_empty(s.partial_dir()));
}

TEST_F(Pull, ClearErrorsForMissingReposQuantsAndTokens) {
  json cfg = repo_config();
  cfg["token"] = "hf_secret";
  HubMock hub(cfg, dir);
  Store s(dir / "models");
  auto no_token = pull_model(s, "hf:owner/Stories-GGUF", "", options(hub));
  ASSERT_FALSE(no_token.ok());
  EXPECT_NE(no_token.error().message.find("HF_TOKEN"), std::string::npos);
  ::setenv("HF_TOKEN", "hf_secret", 1);
  auto no_quant = pull_model(s, "hf:owner/Stories-GGUF:Q2_K", "", options(hub));
  ASSERT_FALSE(no_quant.ok());
  EXPECT_NE(no_quant.error().message.find("stories-Q8_0.gguf"), std::string::npos) << no_quant.error().message;
  auto no_repo = pull_model(s, "hf:owner/Nothing", "", options(hub));
  ASSERT_FALSE(no_repo.ok());
  EXPECT_EQ(no_repo.error().kind, ErrorKind::not_found);
  auto ok = pull_model(s, "hf:owner/Stories-GGUF:Q4_K_M", "", options(hub));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  // The token went to the hub API, never to the CDN it redirected to.
  for (const json& r : log_of(hub)) {
    const std::string path = r["path"];
    if (path.rfind("/cdn/", 0) == 0) {
      EXPECT_TRUE(r["authorization"].is_null());
    } else if (path.rfind("/api/", 0) == 0) {
      EXPECT_TRUE(r["authorization"].is_null() || r["authorization"] == "Bearer hf_secret");
    }
  }
  ::unsetenv("HF_TOKEN");
  EXPECT_FALSE(pull_model(s, "nonsense", "", options(hub)).ok());
  EXPECT_FALSE(pull_model(s, "hf:justone", "", options(hub)).ok());
}

TEST_F(Pull, OnePullOfAFileAtATime) {
  HubMock hub(repo_config(), dir);
  Store s(dir / "models");
  std::promise<void> downloading, tried;
  std::shared_future<void> tried_f = tried.get_future().share();
  bool first = true;
  PullOptions o = options(hub);
  o.on_progress = [&](const PullProgress& p) {
    if (p.status != "downloading" || !first) return;
    first = false;
    downloading.set_value();
    tried_f.wait();  // hold the first pull mid-file while a second one starts
  };
  Result<Manifest> result = make_error(ErrorKind::internal, "not run");
  std::thread t([&] { result = pull_model(s, "hf:owner/Stories-GGUF:Q8_0", "", o); });
  downloading.get_future().wait();
  auto second = pull_model(s, "hf:owner/Stories-GGUF:Q8_0", "other", options(hub));
  tried.set_value();
  t.join();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().kind, ErrorKind::overloaded);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->sha256, *sha256_file(other));
  EXPECT_EQ(s.list().size(), 1u);
}

TEST_F(Pull, PlainUrl) {
  HubMock hub(repo_config(), dir);
  Store s(dir / "models");
  auto m = pull_model(s, hub.endpoint() + "/owner/Stories-GGUF/resolve/main/stories-Q8_0.gguf", "", options(hub));
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->name, "stories-q8_0:latest");
  EXPECT_EQ(m->sha256, *sha256_file(other));
  auto missing = pull_model(s, hub.endpoint() + "/owner/Stories-GGUF/resolve/main/nope.gguf", "", options(hub));
  EXPECT_FALSE(missing.ok());
}

}  // namespace
}  // namespace pensieve::store
