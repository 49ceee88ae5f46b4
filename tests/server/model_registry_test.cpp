// The registry's memory policy with a controlled memory pool: each model's load takes its size
// from the pool and its unload gives it back (the real loader and MemAvailable stand behind the
// same two functions in `pensieve serve`). When a new model does not fit the free memory, the
// least recently used idle model goes; busy models are never unloaded.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include "server/model_registry.h"

namespace pensieve::server {
namespace {

constexpr int64_t kMiB = 1 << 20;

struct Pool {
  std::mutex mu;
  int64_t free = 0;
  std::set<std::string> loaded;
  std::vector<std::string> unloaded;  // in order
};

ModelSource source(Pool& pool, const std::map<std::string, int64_t>& sizes) {
  ModelSource s;
  s.find = [sizes](const std::string& name) -> Result<store::Manifest> {
    auto it = sizes.find(name);
    if (it == sizes.end()) return make_error(ErrorKind::not_found, "no model " + name);
    store::Manifest m;
    m.name = name;
    m.file = name + ".gguf";
    m.size = it->second;
    return m;
  };
  s.list = [] { return std::vector<store::Manifest>{}; };
  s.load = [&pool](const store::Manifest& m) -> Result<LoadedModel> {
    std::lock_guard<std::mutex> lock(pool.mu);
    pool.free -= m.size;
    pool.loaded.insert(m.name);
    auto model = std::make_shared<ServerModel>();
    model->id = m.name;
    model->device = "cpu";
    const std::string name = m.name;
    const int64_t size = m.size;
    return LoadedModel{model, [&pool, name, size] {
                         std::lock_guard<std::mutex> l(pool.mu);
                         pool.free += size;
                         pool.loaded.erase(name);
                         pool.unloaded.push_back(name);
                       }};
  };
  s.free_memory = [&pool] {
    std::lock_guard<std::mutex> lock(pool.mu);
    return pool.free;
  };
  return s;
}

TEST(ModelRegistry, ANewModelThatDoesNotFitUnloadsTheLeastRecentlyUsedIdleOne) {
  Pool pool;
  pool.free = 1000 * kMiB;  // room for two 400 MiB models (each needs size + 10 % + 64 MiB)
  RegistryOptions o;
  o.keep_alive = std::chrono::milliseconds(-1);  // only memory may unload
  ModelRegistry reg(o, source(pool, {{"a", 400 * kMiB}, {"b", 400 * kMiB}, {"c", 400 * kMiB}}));
  ASSERT_TRUE(reg.acquire("a", std::nullopt).ok());
  ASSERT_TRUE(reg.acquire("b", std::nullopt).ok());
  EXPECT_EQ(pool.loaded, (std::set<std::string>{"a", "b"}));
  EXPECT_TRUE(pool.unloaded.empty());
  ASSERT_TRUE(reg.acquire("a", std::nullopt).ok());  // a is now the more recently used
  ASSERT_TRUE(reg.acquire("c", std::nullopt).ok());  // 200 MiB free: b must go, not a
  EXPECT_EQ(pool.unloaded, (std::vector<std::string>{"b"}));
  EXPECT_EQ(pool.loaded, (std::set<std::string>{"a", "c"}));
  EXPECT_EQ(pool.free, 200 * kMiB);
}

TEST(ModelRegistry, BusyModelsAreNeverUnloadedForRoom) {
  Pool pool;
  pool.free = 1000 * kMiB;
  RegistryOptions o;
  o.keep_alive = std::chrono::milliseconds(-1);
  ModelRegistry reg(o, source(pool, {{"a", 400 * kMiB}, {"b", 400 * kMiB}, {"c", 400 * kMiB}}));
  auto a = reg.acquire("a", std::nullopt);
  auto b = reg.acquire("b", std::nullopt);
  ASSERT_TRUE(a.ok() && b.ok());
  // Both in use (their leases held): nothing may go, so c loads anyway (the loader itself is
  // the judge of whether it really fits) and both others keep serving.
  auto c = reg.acquire("c", std::nullopt);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(pool.unloaded.empty());
  EXPECT_EQ(pool.loaded.size(), 3u);
  EXPECT_EQ((*a)->id, "a");
  EXPECT_EQ((*b)->id, "b");
}

}  // namespace
}  // namespace pensieve::server
