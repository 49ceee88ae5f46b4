#include "backend/cuda/context.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <thread>

#include "backend/cuda/cuda_error.h"

namespace pensieve::cuda {

namespace {

std::string mib(int64_t bytes) { return std::to_string(bytes / (1024 * 1024)) + " MiB"; }

Error out_of_memory(int64_t requested, const char* what) {
  size_t free_b = 0, total_b = 0;
  cudaMemGetInfo(&free_b, &total_b);
  cudaGetLastError();  // the failed malloc left an error; clear it
  return make_error(ErrorKind::resource_exhausted,
                    std::string("out of GPU memory: ") + what + " needs " + std::to_string(requested) +
                        " bytes (" + mib(requested) + "), " + std::to_string(free_b) + " bytes (" +
                        mib(static_cast<int64_t>(free_b)) + ") free of " + mib(static_cast<int64_t>(total_b)));
}

constexpr int64_t kStagingBytes = int64_t(64) << 20;  // per pinned staging buffer

}  // namespace

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return n;
}

Result<DeviceInfo> device_info(int index) {
  const int n = device_count();
  if (n == 0) return make_error(ErrorKind::platform_unsupported, "no CUDA device found (no GPU or no driver)");
  if (index < 0 || index >= n)
    return make_error(ErrorKind::platform_unsupported,
                      "CUDA device " + std::to_string(index) + " does not exist (" + std::to_string(n) + " found)");
  cudaDeviceProp p{};
  PS_CUDA_TRY(cudaGetDeviceProperties(&p, index));
  DeviceInfo d;
  d.index = index;
  d.name = p.name;
  d.cc_major = p.major;
  d.cc_minor = p.minor;
  d.sm_count = p.multiProcessorCount;
  d.total_bytes = static_cast<int64_t>(p.totalGlobalMem);
  d.l2_bytes = p.l2CacheSize;
  d.smem_per_block_optin = static_cast<int64_t>(p.sharedMemPerBlockOptin);
  int prev = 0;
  cudaGetDevice(&prev);
  if (cudaSetDevice(index) == cudaSuccess) {
    size_t free_b = 0, total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) d.free_bytes = static_cast<int64_t>(free_b);
    cudaSetDevice(prev);
  }
  cudaGetLastError();
  return d;
}

Result<std::pair<int64_t, int64_t>> memory_info() {
  size_t free_b = 0, total_b = 0;
  PS_CUDA_TRY(cudaMemGetInfo(&free_b, &total_b));
  return std::pair<int64_t, int64_t>(static_cast<int64_t>(free_b), static_cast<int64_t>(total_b));
}

// ---------------------------------------------------------------- BufferPool

int64_t BufferPool::bucket_size(int64_t bytes) {
  if (bytes <= 256) return 256;
  int64_t p = 256;
  while (p * 2 < bytes) p *= 2;  // p < bytes <= 2p
  const int64_t step = p / 4;    // buckets p + step, p + 2 step, ... 2p: at most 25 % waste
  return (bytes + step - 1) / step * step;
}

BufferPool::~BufferPool() { free_all(); }

Result<void*> BufferPool::acquire(int64_t bytes) {
  stats_.acquires++;
  const int64_t size = bucket_size(std::max<int64_t>(bytes, 1));
  auto it = free_.find(size);
  if (it != free_.end() && !it->second.empty()) {
    void* p = it->second.back();
    it->second.pop_back();
    stats_.bytes_cached -= size;
    stats_.bytes_in_use += size;
    stats_.reuses++;
    live_[p] = size;
    return p;
  }
  if (stats_.bytes_in_use + stats_.bytes_cached + size > cap_) trim();
  if (stats_.bytes_in_use + size > cap_)
    return make_error(ErrorKind::resource_exhausted,
                      "GPU buffer pool cap reached: " + std::to_string(size) + " bytes requested, " +
                          std::to_string(stats_.bytes_in_use) + " in use, cap " + std::to_string(cap_));
  void* p = nullptr;
  if (cudaMalloc(&p, size) != cudaSuccess) {
    cudaGetLastError();
    trim();  // give cached buffers back and retry once
    if (cudaMalloc(&p, size) != cudaSuccess) return out_of_memory(size, "a buffer");
  }
  stats_.device_mallocs++;
  stats_.bytes_in_use += size;
  stats_.peak_bytes = std::max(stats_.peak_bytes, stats_.bytes_in_use + stats_.bytes_cached);
  live_[p] = size;
  return p;
}

void BufferPool::release(void* p) {
  if (p == nullptr) return;
  auto it = live_.find(p);
  PS_ASSERT(it != live_.end(), "BufferPool::release of a pointer it did not hand out");
  const int64_t size = it->second;
  live_.erase(it);
  stats_.bytes_in_use -= size;
  stats_.bytes_cached += size;
  free_[size].push_back(p);
}

void BufferPool::trim() {
  for (auto& [size, list] : free_) {
    for (void* p : list) cudaFree(p);
    stats_.bytes_cached -= size * static_cast<int64_t>(list.size());
    list.clear();
  }
  free_.clear();
}

void BufferPool::free_all() {
  trim();
  for (auto& [p, size] : live_) cudaFree(p);
  live_.clear();
  stats_.bytes_in_use = 0;
}

// ---------------------------------------------------------------- WeightResidency

WeightResidency::~WeightResidency() { free_all(); }

void* WeightResidency::device_ptr(const void* host) const {
  auto it = map_.find(host);
  return it == map_.end() ? nullptr : it->second;
}

Result<void*> WeightResidency::copy_in(const void* src, int64_t n_bytes, Stream stream) {
  void* dev = nullptr;
  // 64 bytes of padding: the dequantizers' unaligned word loads may read just past the end.
  if (cudaMalloc(&dev, static_cast<size_t>(n_bytes + 64)) != cudaSuccess)
    return out_of_memory(n_bytes, "a weight");
  for (int i = 0; i < 2; ++i) {
    if (staging_[i] == nullptr) {
      PS_CUDA_TRY(cudaMallocHost(&staging_[i], kStagingBytes));
      PS_CUDA_TRY(cudaEventCreateWithFlags(&staging_done_[i], cudaEventDisableTiming));
    }
  }
  // Double-buffered: while chunk i transfers from staging[i % 2], the host fills the other.
  const auto* s = static_cast<const uint8_t*>(src);
  int64_t off = 0;
  for (int i = 0; off < n_bytes; ++i) {
    const int b = i % 2;
    const int64_t n = std::min(kStagingBytes, n_bytes - off);
    PS_CUDA_TRY(cudaEventSynchronize(staging_done_[b]));
    std::memcpy(staging_[b], s + off, static_cast<size_t>(n));
    PS_CUDA_TRY(cudaMemcpyAsync(static_cast<uint8_t*>(dev) + off, staging_[b], static_cast<size_t>(n),
                                cudaMemcpyHostToDevice, stream));
    PS_CUDA_TRY(cudaEventRecord(staging_done_[b], stream));
    off += n;
  }
  PS_CUDA_TRY(cudaStreamSynchronize(stream));
  return dev;
}

Result<void*> WeightResidency::upload(const void* host, int64_t bytes, Stream stream) {
  return upload_converted(host, host, bytes, stream);
}

Result<void*> WeightResidency::upload_converted(const void* host, const void* bytes, int64_t n_bytes,
                                                Stream stream) {
  if (void* p = device_ptr(host)) return p;
  auto dev = copy_in(bytes, n_bytes, stream);
  if (!dev.ok()) return dev;
  map_[host] = *dev;
  bytes_ += n_bytes;
  return dev;
}

void WeightResidency::free_all() {
  for (auto& [host, dev] : map_) cudaFree(dev);
  map_.clear();
  bytes_ = 0;
  for (int i = 0; i < 2; ++i) {
    if (staging_[i]) cudaFreeHost(staging_[i]);
    if (staging_done_[i]) cudaEventDestroy(staging_done_[i]);
    staging_[i] = nullptr;
    staging_done_[i] = nullptr;
  }
}

// ---------------------------------------------------------------- Graph

Graph::~Graph() {
  if (exec_) cudaGraphExecDestroy(exec_);
}

Graph& Graph::operator=(Graph&& o) noexcept {
  if (this != &o) {
    if (exec_) cudaGraphExecDestroy(exec_);
    exec_ = o.exec_;
    o.exec_ = nullptr;
  }
  return *this;
}

// ---------------------------------------------------------------- Context

Result<std::unique_ptr<Context>> Context::create(int index, const ContextOptions& options) {
  auto info = device_info(index);
  if (!info.ok()) return info.error();
  PS_CUDA_TRY(cudaSetDevice(index));
  std::unique_ptr<Context> c(new Context());
  c->info_ = *info;
  c->pool_.set_cap(options.pool_cap_bytes);
  PS_CUDA_TRY(cudaStreamCreateWithFlags(&c->stream_, cudaStreamNonBlocking));
  PS_CUDA_TRY(cudaEventCreateWithFlags(&c->done_, cudaEventDisableTiming));
  return c;
}

Context::~Context() {
  cudaSetDevice(info_.index);
  if (stream_) cudaStreamSynchronize(stream_);
  weights_.free_all();
  pool_.free_all();
  if (done_) cudaEventDestroy(done_);
  if (stream_) cudaStreamDestroy(stream_);
}

Status Context::make_current() const {
  PS_CUDA_TRY(cudaSetDevice(info_.index));
  return ok_status();
}

Status Context::check_cancelled() const {
  if (cancel_ && cancel_->load(std::memory_order_relaxed))
    return make_error(ErrorKind::cancelled, "cancelled");
  return ok_status();
}

Status Context::check_async() const {
  cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) e = cudaStreamQuery(stream_);
  if (e != cudaSuccess && e != cudaErrorNotReady) return cuda_error(e, "a kernel on the stream");
  return ok_status();
}

Status Context::wait(std::chrono::milliseconds timeout) {
  PS_CUDA_TRY(cudaEventRecord(done_, stream_));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // Spin briefly (decode steps finish in well under a millisecond), then back off.
  for (int polls = 0;; ++polls) {
    const cudaError_t e = cudaEventQuery(done_);
    if (e == cudaSuccess) return ok_status();
    if (e != cudaErrorNotReady) return cuda_error(e, "waiting for the stream");
    PS_TRY(check_cancelled());
    if (std::chrono::steady_clock::now() >= deadline)
      return make_error(ErrorKind::timeout, "GPU work did not finish within " + std::to_string(timeout.count()) + " ms");
    if (polls > 2000) std::this_thread::sleep_for(std::chrono::microseconds(polls > 20000 ? 200 : 20));
  }
}

Status Context::execute_and_wait(const std::function<Status()>& enqueue, std::chrono::milliseconds timeout) {
  PS_TRY(check_cancelled());
  PS_TRY(enqueue());
  PS_CUDA_TRY(cudaGetLastError());
  return wait(timeout);
}

Status Context::begin_capture() {
  PS_CUDA_TRY(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
  capturing_ = true;
  return ok_status();
}

Result<Graph> Context::end_capture() {
  capturing_ = false;
  cudaGraph_t graph = nullptr;
  const cudaError_t end = cudaStreamEndCapture(stream_, &graph);
  if (end != cudaSuccess) {
    if (graph) cudaGraphDestroy(graph);
    cudaGetLastError();
    return cuda_error(end, "cudaStreamEndCapture");
  }
  Graph g;
  const cudaError_t inst = cudaGraphInstantiate(&g.exec_, graph, 0);
  cudaGraphDestroy(graph);
  if (inst != cudaSuccess) {
    cudaGetLastError();
    return cuda_error(inst, "cudaGraphInstantiate");
  }
  return g;
}

Result<Graph> Context::capture(const std::function<Status()>& enqueue) {
  PS_TRY(begin_capture());
  const Status issued = enqueue();
  auto g = end_capture();
  if (!issued.ok()) return issued.error();
  return g;
}

Status Context::launch(const Graph& graph) {
  if (graph.empty()) return make_error(ErrorKind::internal, "launch of an empty CUDA graph");
  PS_CUDA_TRY(cudaGraphLaunch(graph.exec_, stream_));
  return ok_status();
}

}  // namespace pensieve::cuda
