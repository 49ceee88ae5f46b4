// GPU time per op kind of directly issued steps (CudaOps::set_profiling): an event pair around
// each launch, read back when the step's results are read. For benchmarks and tuning only:
// profiled steps run op by op (no CUDA graph), so the sum exceeds a replayed step's time by the
// launch gaps, but the split between op kinds is what a graph replays.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace pensieve::cuda {

struct OpTime {
  double ms = 0;      // summed GPU time
  int64_t count = 0;  // launches
};

class OpProfiler {
 public:
  ~OpProfiler();
  // Around one op's launches on `stream`; `kind` names the op ("matvec_q8", "attention").
  void before(const char* kind, cudaStream_t stream);
  void after(cudaStream_t stream);
  // Adds the recorded intervals to the table; call after the stream has been synchronized.
  void collect();
  const std::map<std::string, OpTime>& table() const { return table_; }
  void clear() { table_.clear(); }

 private:
  struct Pending {
    const char* kind;
    size_t first_event;
  };
  std::vector<cudaEvent_t> events_;
  size_t used_ = 0;
  std::vector<Pending> pending_;
  std::map<std::string, OpTime> table_;
};

}  // namespace pensieve::cuda
