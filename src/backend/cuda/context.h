// The CUDA device context: device selection and properties, one stream per engine with events
// for completion (no device-wide synchronization on the decode path), a caching buffer pool,
// weight residency (each weight uploaded once at load through pinned staging, freed on unload),
// bounded waits that return a timeout error instead of hanging, cancellation between steps and
// CUDA graph capture/replay. Every CUDA failure comes back as a pensieve::Error.
//
// Thread-safety: a Context is used by one thread at a time (the engine serializes steps); the
// free functions (device_count, device_info) may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "util/status.h"

// Opaque CUDA handle types (the same declarations cuda_runtime_api.h makes), so that this
// header can be included by code compiled without the CUDA headers.
struct CUstream_st;
struct CUevent_st;
struct CUgraphExec_st;

namespace pensieve::cuda {

using Stream = CUstream_st*;

struct DeviceInfo {
  int index = 0;
  std::string name;
  int cc_major = 0, cc_minor = 0;
  int sm_count = 0;
  int64_t total_bytes = 0;
  int64_t free_bytes = 0;  // at query time
  int64_t l2_bytes = 0;
  int64_t smem_per_block_optin = 0;
};

// Number of usable CUDA devices; 0 when there is no device or no driver (never fails).
int device_count();
// Properties of device `index`; platform_unsupported when it does not exist.
Result<DeviceInfo> device_info(int index);
// Free and total memory of the current device (cudaMemGetInfo).
Result<std::pair<int64_t, int64_t>> memory_info();

// ---- caching buffer pool ----

struct PoolStats {
  int64_t bytes_in_use = 0;   // handed out and not yet released
  int64_t bytes_cached = 0;   // released, kept for reuse
  int64_t peak_bytes = 0;     // max of in_use + cached
  int64_t acquires = 0;
  int64_t reuses = 0;         // acquires served from the cache
  int64_t device_mallocs = 0; // cudaMalloc calls made
};

// Device buffers rounded up to size buckets (multiples of 1/4 of a power of two, min 256 B),
// released buffers kept per bucket for reuse. `cap_bytes` bounds in-use + cached bytes;
// a request over the cap (after dropping the cache) fails with resource_exhausted.
class BufferPool {
 public:
  explicit BufferPool(int64_t cap_bytes) : cap_(cap_bytes) {}
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  Result<void*> acquire(int64_t bytes);
  void release(void* p);
  void trim();  // frees every cached buffer
  void free_all();  // frees everything, in use or not (unload)
  PoolStats stats() const { return stats_; }
  void set_cap(int64_t cap_bytes) { cap_ = cap_bytes; }
  int64_t cap() const { return cap_; }
  static int64_t bucket_size(int64_t bytes);

 private:
  int64_t cap_;
  PoolStats stats_;
  std::unordered_map<int64_t, std::vector<void*>> free_;  // bucket size -> buffers
  std::unordered_map<void*, int64_t> live_;               // buffer -> bucket size
};

// ---- weight residency ----

// Device copies of host tensors, keyed by the host address of their bytes (the mmap'd GGUF).
// Uploads go through two pinned staging buffers so the host copy of one chunk overlaps the
// transfer of the previous one.
class WeightResidency {
 public:
  WeightResidency() = default;
  ~WeightResidency();
  WeightResidency(const WeightResidency&) = delete;
  WeightResidency& operator=(const WeightResidency&) = delete;

  // Uploads `bytes` from `host` once; a second call with the same host pointer returns the
  // existing device copy. Waits for the transfer (load time only).
  Result<void*> upload(const void* host, int64_t bytes, Stream stream);
  // Uploads caller-prepared bytes (e.g. a vector converted to F32) under key `host`.
  Result<void*> upload_converted(const void* host, const void* bytes, int64_t n_bytes, Stream stream);
  bool contains(const void* host) const { return map_.count(host) != 0; }
  void* device_ptr(const void* host) const;
  size_t count() const { return map_.size(); }
  int64_t bytes() const { return bytes_; }
  void free_all();

 private:
  Result<void*> copy_in(const void* src, int64_t n_bytes, Stream stream);
  std::unordered_map<const void*, void*> map_;
  int64_t bytes_ = 0;
  void* staging_[2] = {nullptr, nullptr};
  CUevent_st* staging_done_[2] = {nullptr, nullptr};
};

// ---- graphs ----

// An instantiated CUDA graph; empty() until captured.
class Graph {
 public:
  Graph() = default;
  ~Graph();
  Graph(Graph&& o) noexcept : exec_(o.exec_) { o.exec_ = nullptr; }
  Graph& operator=(Graph&& o) noexcept;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  bool empty() const { return exec_ == nullptr; }

 private:
  friend class Context;
  CUgraphExec_st* exec_ = nullptr;
};

struct ContextOptions {
  int64_t pool_cap_bytes = int64_t(1) << 40;  // effectively unbounded unless set
};

class Context {
 public:
  // Selects device `index`, creates the engine's stream. platform_unsupported without a device.
  static Result<std::unique_ptr<Context>> create(int index, const ContextOptions& options = {});
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const DeviceInfo& info() const { return info_; }
  int index() const { return info_.index; }
  Stream stream() const { return stream_; }
  BufferPool& pool() { return pool_; }
  WeightResidency& weights() { return weights_; }

  // Makes this context's device current on the calling thread.
  Status make_current() const;
  // Waits (event + polling, no device-wide sync) for all work issued on the stream so far.
  // timeout: Error{timeout} while the work keeps running; cancelled when the flag is raised.
  Status wait(std::chrono::milliseconds timeout);
  // Calls `enqueue` (which issues work on stream()), then waits as wait() does.
  Status execute_and_wait(const std::function<Status()>& enqueue, std::chrono::milliseconds timeout);
  // The flag is polled between steps and while waiting; nullptr disables cancellation.
  void set_cancel_flag(const std::atomic<bool>* flag) { cancel_ = flag; }
  Status check_cancelled() const;
  // The first asynchronous error of the stream (cudaGetLastError + stream query), if any.
  Status check_async() const;

  // Records the work `enqueue` issues on stream() into a graph instead of running it.
  Result<Graph> capture(const std::function<Status()>& enqueue);
  // The same in two halves, for work issued by several calls (a decode step's ops).
  Status begin_capture();
  Result<Graph> end_capture();
  bool capturing() const { return capturing_; }
  Status launch(const Graph& graph);

 private:
  Context() : pool_(int64_t(1) << 40) {}
  DeviceInfo info_;
  Stream stream_ = nullptr;
  CUevent_st* done_ = nullptr;
  BufferPool pool_;
  WeightResidency weights_;
  const std::atomic<bool>* cancel_ = nullptr;
  bool capturing_ = false;
};

// Development aid for the timeout path: a kernel that keeps the stream busy for `ns`.
Status launch_busy_wait(Stream stream, int64_t ns);

}  // namespace pensieve::cuda
