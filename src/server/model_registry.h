// Several models per server: `pensieve serve` without -m serves the model store. The `model`
// field of a request names the model; the first request loads it (others for the same model wait
// for that load), it stays loaded while requests use it, and it is unloaded after `keep_alive`
// of idleness (per request, as Ollama: <0 keeps it, 0 unloads it as soon as it is idle). When a
// new model does not fit the measured free memory, idle models go, least recently used first.
// A model that fails to load gets that error; the others keep serving.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "server/chat_request.h"
#include "server/request_queue.h"
#include "store/store.h"

namespace pensieve::server {

// A model in use: valid while the lease (or a copy of `hold`) lives.
struct ModelLease {
  std::shared_ptr<const ServerModel> model;
  RequestQueue* queue = nullptr;
  std::shared_ptr<void> hold;  // empty for a pinned (-m) model
  const ServerModel& operator*() const { return *model; }
  const ServerModel* operator->() const { return model.get(); }
  explicit operator bool() const { return model != nullptr; }
};

// A loaded model as the loader hands it over: the server's view plus how to free it.
struct LoadedModel {
  std::shared_ptr<const ServerModel> model;
  std::function<void()> unload;  // frees its host/device memory
};

// What the registry needs from the outside (the CLI fills it in: store + engine).
struct ModelSource {
  std::function<Result<store::Manifest>(const std::string& name)> find;
  std::function<std::vector<store::Manifest>()> list;
  std::function<Result<LoadedModel>(const store::Manifest& m)> load;
  // Bytes free where models load (host RAM: MemAvailable; a GPU: the device's free memory).
  std::function<int64_t()> free_memory;
};

struct RegistryOptions {
  std::chrono::milliseconds keep_alive{std::chrono::minutes(5)};  // < 0: forever
  int max_loaded = 0;    // models loaded at once at most (0: as many as memory holds)
  int workers = 1;
  int max_queue = 16;
};

struct ModelState {
  store::Manifest manifest;
  std::string state;  // loading | loaded | unloading
  int users = 0;
  int64_t expires_in_ms = -1;  // -1: never (or in use)
  std::string device;
  int n_ctx = 0;
};

class ModelRegistry {
 public:
  ModelRegistry(RegistryOptions options, ModelSource source);
  ~ModelRegistry();
  ModelRegistry(const ModelRegistry&) = delete;
  ModelRegistry& operator=(const ModelRegistry&) = delete;

  // The model `name`, loading it first when needed (blocks while it loads). keep_alive: this
  // request's setting (nullopt: the server's default), applied when the lease ends.
  Result<ModelLease> acquire(const std::string& name, std::optional<std::chrono::milliseconds> keep_alive);
  // Unloads `name` now if it is idle, or as soon as it becomes idle (Ollama's keep_alive 0).
  Status release_now(const std::string& name);
  std::vector<ModelState> loaded() const;
  const ModelSource& source() const { return source_; }
  // The error of the last failed load of `name` (canonical), if any.
  std::string last_error(const std::string& name) const;
  // Each loaded model's queue (metrics, shutdown).
  void for_each_queue(const std::function<void(const ServerModel&, RequestQueue&)>& fn) const;
  // Prometheus lines: loads, unloads, load failures, models loaded.
  std::string render_metrics() const;
  void shutdown(bool cancel_running);

 private:
  struct Entry;
  void reaper_loop();
  ModelLease lease_locked(const std::string& key, Entry& e, std::optional<std::chrono::milliseconds> keep_alive);
  void unload_locked(std::unique_lock<std::mutex>& lock, const std::string& name, const char* why);
  bool make_room_locked(std::unique_lock<std::mutex>& lock, int64_t need, const std::string& loading);
  void end_use(const std::string& name, std::optional<std::chrono::milliseconds> keep_alive);

  RegistryOptions options_;
  ModelSource source_;
  mutable std::mutex mu_;
  std::condition_variable cv_;  // loads finishing, uses ending, the reaper's timer
  std::map<std::string, std::shared_ptr<Entry>> entries_;
  std::map<std::string, std::string> errors_;
  int64_t loads_ = 0, unloads_ = 0, failures_ = 0;
  bool stopping_ = false;
  std::thread reaper_;
};

}  // namespace pensieve::server
