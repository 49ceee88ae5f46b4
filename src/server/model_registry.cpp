#include "server/model_registry.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "server/access_log.h"

namespace pensieve::server {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct ModelRegistry::Entry {
  store::Manifest manifest;
  bool loading = true;
  bool unloading = false;  // its memory is being freed: it stays listed until that is done
  std::optional<Error> failed;  // the load failed: what the requests that waited for it get
  LoadedModel loaded;
  std::unique_ptr<RequestQueue> queue;
  int users = 0;
  milliseconds keep_alive{0};
  Clock::time_point last_used = Clock::now();
  bool unload_when_idle = false;
};

ModelRegistry::ModelRegistry(RegistryOptions options, ModelSource source)
    : options_(options), source_(std::move(source)) {
  reaper_ = std::thread([this] { reaper_loop(); });
}

ModelRegistry::~ModelRegistry() { shutdown(true); }

void ModelRegistry::shutdown(bool cancel_running) {
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_) return;
  stopping_ = true;
  cv_.notify_all();
  lock.unlock();
  if (reaper_.joinable()) reaper_.join();
  lock.lock();
  // Loads in progress finish on their own threads; what is loaded goes now.
  std::vector<std::string> names;
  for (auto& [name, e] : entries_)
    if (!e->loading) names.push_back(name);
  for (const auto& n : names) {
    auto it = entries_.find(n);
    if (it == entries_.end()) continue;
    std::shared_ptr<Entry> e = it->second;
    entries_.erase(it);
    lock.unlock();
    e->queue->shutdown(cancel_running);
    if (e->loaded.unload) e->loaded.unload();
    e.reset();  // whatever it held goes before the lock is taken again
    lock.lock();
  }
}

Result<ModelLease> ModelRegistry::acquire(const std::string& name, std::optional<milliseconds> keep_alive) {
  auto manifest = source_.find(name);
  if (!manifest) return manifest.error();
  const std::string key = manifest->name;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (stopping_) return make_error(ErrorKind::overloaded, "the server is shutting down");
    auto it = entries_.find(key);
    if (it == entries_.end()) break;
    std::shared_ptr<Entry> e = it->second;
    if (e->loading || e->unloading) {  // being loaded (or freed) by another thread: wait for that
      cv_.wait(lock);
      if (e->failed) return *e->failed;  // the load this request waited for failed
      continue;
    }
    e->unload_when_idle = false;
    return lease_locked(key, *e, keep_alive);
  }
  // Not loaded: this request loads it, after making room.
  auto e = std::make_shared<Entry>();
  e->manifest = *manifest;
  e->keep_alive = options_.keep_alive;
  entries_[key] = e;
  const int64_t need = manifest->size + manifest->size / 10 + (64LL << 20);
  make_room_locked(lock, need, key);
  lock.unlock();
  log_event("info", "loading model " + key + " (" + manifest->file + ", " + std::to_string(manifest->size >> 20) + " MiB)",
            {{"event", "model_loading"}, {"model", key}});
  const auto t0 = Clock::now();
  auto loaded = source_.load(*manifest);
  if (!loaded && loaded.error().kind == ErrorKind::resource_exhausted) {
    // It did not fit after all: free every idle model and try once more.
    lock.lock();
    make_room_locked(lock, INT64_MAX, key);
    lock.unlock();
    loaded = source_.load(*manifest);
  }
  lock.lock();
  if (!loaded) {
    e->failed = make_error(loaded.error().kind == ErrorKind::invalid_request ? ErrorKind::invalid_request
                                                                             : ErrorKind::model_load_failed,
                           "model '" + key + "' failed to load: " + loaded.error().message);
    entries_.erase(key);
    errors_[key] = loaded.error().message;
    ++failures_;
    cv_.notify_all();
    log_event("error", "cannot load model " + key + ": " + loaded.error().message,
              {{"event", "model_load_failed"}, {"model", key}});
    return *e->failed;
  }
  errors_.erase(key);
  e->loaded = std::move(*loaded);
  e->queue = std::make_unique<RequestQueue>(e->loaded.model->generate,
                                            std::max(options_.workers, e->loaded.model->n_parallel), options_.max_queue);
  e->loading = false;
  ++loads_;
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  log_event("info", "loaded model " + key + " on " + e->loaded.model->device + " in " + std::to_string(std::lround(ms)) + " ms",
            {{"event", "model_loaded"}, {"model", key}, {"load_ms", ms}});
  cv_.notify_all();
  return lease_locked(key, *e, keep_alive);
}

ModelLease ModelRegistry::lease_locked(const std::string& key, Entry& e, std::optional<milliseconds> keep_alive) {
  ++e.users;
  ModelLease lease;
  lease.model = e.loaded.model;
  lease.queue = e.queue.get();
  lease.hold = std::shared_ptr<void>(nullptr, [this, key, keep_alive](void*) { end_use(key, keep_alive); });
  return lease;
}

void ModelRegistry::end_use(const std::string& name, std::optional<milliseconds> keep_alive) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(name);
  if (it == entries_.end()) return;
  Entry& e = *it->second;
  --e.users;
  e.last_used = Clock::now();
  e.keep_alive = keep_alive.value_or(options_.keep_alive);
  cv_.notify_all();
}

Status ModelRegistry::release_now(const std::string& name) {
  auto manifest = source_.find(name);
  if (!manifest) return manifest.error();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(manifest->name);
  if (it != entries_.end()) {
    it->second->unload_when_idle = true;
    it->second->keep_alive = milliseconds(0);
  }
  cv_.notify_all();
  return ok_status();
}

void ModelRegistry::unload_locked(std::unique_lock<std::mutex>& lock, const std::string& name, const char* why) {
  auto it = entries_.find(name);
  if (it == entries_.end() || it->second->loading || it->second->unloading || it->second->users > 0) return;
  std::shared_ptr<Entry> e = it->second;
  e->unloading = true;
  lock.unlock();
  e->queue->shutdown(/*cancel_running=*/false);
  if (e->loaded.unload) e->loaded.unload();
  log_event("info", "unloaded model " + name + " (" + why + ")", {{"event", "model_unloaded"}, {"model", name}});
  e.reset();
  lock.lock();
  entries_.erase(name);  // listed until its memory is back
  ++unloads_;
  cv_.notify_all();
}

bool ModelRegistry::make_room_locked(std::unique_lock<std::mutex>& lock, int64_t need, const std::string& loading) {
  for (;;) {
    int n_loaded = 0;
    bool any_unloading = false;
    std::string lru;
    Clock::time_point oldest = Clock::time_point::max();
    for (auto& [name, e] : entries_) {
      if (name == loading) continue;
      ++n_loaded;
      any_unloading = any_unloading || e->unloading;
      if (!e->loading && !e->unloading && e->users == 0 && e->last_used < oldest) oldest = e->last_used, lru = name;
    }
    const bool over_count = options_.max_loaded > 0 && n_loaded >= options_.max_loaded;
    const int64_t free = source_.free_memory ? source_.free_memory() : -1;
    const bool short_of_memory = free >= 0 && free < need;
    if (!over_count && !short_of_memory) return true;
    if (lru.empty() && any_unloading) {  // memory on its way back (the reaper): wait for it
      cv_.wait(lock);
      continue;
    }
    if (lru.empty()) return false;  // everything loaded is busy: try anyway
    unload_locked(lock, lru, over_count ? "least recently used; --max-loaded reached" : "least recently used; memory needed");
  }
}

void ModelRegistry::reaper_loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    auto next = Clock::now() + std::chrono::seconds(1);
    std::string due;
    for (auto& [name, e] : entries_) {
      if (e->loading || e->unloading || e->users > 0) continue;
      if (e->unload_when_idle || e->keep_alive.count() == 0) {
        due = name;
        break;
      }
      if (e->keep_alive.count() < 0) continue;
      const auto expires = e->last_used + e->keep_alive;
      if (expires <= Clock::now()) {
        due = name;
        break;
      }
      next = std::min(next, expires);
    }
    if (!due.empty()) {
      unload_locked(lock, due, "keep_alive expired");
      continue;
    }
    cv_.wait_until(lock, next);
  }
}

std::vector<ModelState> ModelRegistry::loaded() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ModelState> out;
  const auto now = Clock::now();
  for (auto& [name, e] : entries_) {
    ModelState s;
    s.manifest = e->manifest;
    s.state = e->loading ? "loading" : e->unloading ? "unloading" : "loaded";
    s.users = e->users;
    if (!e->loading && e->users == 0 && e->keep_alive.count() >= 0)
      s.expires_in_ms = std::max<int64_t>(
          0, std::chrono::duration_cast<milliseconds>(e->last_used + e->keep_alive - now).count());
    if (!e->loading) {
      s.device = e->loaded.model->device;
      s.n_ctx = e->loaded.model->info.n_ctx;
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::string ModelRegistry::last_error(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = errors_.find(name);
  return it == errors_.end() ? "" : it->second;
}

void ModelRegistry::for_each_queue(const std::function<void(const ServerModel&, RequestQueue&)>& fn) const {
  std::vector<std::shared_ptr<Entry>> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [name, e] : entries_)
      if (!e->loading && !e->unloading) live.push_back(e);
  }
  for (auto& e : live) fn(*e->loaded.model, *e->queue);
}

std::string ModelRegistry::render_metrics() const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (auto& [name, e] : entries_) n += e->loading ? 0 : 1;
  std::string out;
  out += "# HELP pensieve_model_loads_total Models loaded on demand.\n# TYPE pensieve_model_loads_total counter\n";
  out += "pensieve_model_loads_total " + std::to_string(loads_) + "\n";
  out += "# HELP pensieve_model_unloads_total Models unloaded (keep_alive or memory).\n# TYPE pensieve_model_unloads_total counter\n";
  out += "pensieve_model_unloads_total " + std::to_string(unloads_) + "\n";
  out += "# HELP pensieve_model_load_failures_total Model loads that failed.\n# TYPE pensieve_model_load_failures_total counter\n";
  out += "pensieve_model_load_failures_total " + std::to_string(failures_) + "\n";
  out += "# HELP pensieve_models_loaded Models loaded now.\n# TYPE pensieve_models_loaded gauge\n";
  out += "pensieve_models_loaded " + std::to_string(n) + "\n";
  return out;
}

}  // namespace pensieve::server
