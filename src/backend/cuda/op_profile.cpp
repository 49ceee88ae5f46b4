#include "backend/cuda/op_profile.h"

namespace pensieve::cuda {

OpProfiler::~OpProfiler() {
  for (cudaEvent_t e : events_) cudaEventDestroy(e);
}

void OpProfiler::before(const char* kind, cudaStream_t stream) {
  while (events_.size() < used_ + 2) {
    cudaEvent_t e = nullptr;
    if (cudaEventCreate(&e) != cudaSuccess) return;
    events_.push_back(e);
  }
  pending_.push_back(Pending{kind, used_});
  cudaEventRecord(events_[used_], stream);
  used_ += 2;
}

void OpProfiler::after(cudaStream_t stream) {
  if (!pending_.empty() && pending_.back().first_event + 2 == used_)
    cudaEventRecord(events_[pending_.back().first_event + 1], stream);
}

void OpProfiler::collect() {
  for (const Pending& p : pending_) {
    float ms = 0;
    if (cudaEventElapsedTime(&ms, events_[p.first_event], events_[p.first_event + 1]) != cudaSuccess) continue;
    OpTime& t = table_[p.kind];
    t.ms += ms;
    t.count++;
  }
  pending_.clear();
  used_ = 0;
}

}  // namespace pensieve::cuda
