// The batching scheduler: which sequences run in the next forward step, and how many of their
// tokens (host only; no device code, testable without a model).
//
// A sequence knows all its tokens (prompt + output so far) and how many have K/V (kv.n_tokens());
// each step brings sequences closer to computing all of them: a decoding sequence needs one
// token, a prefilling one a chunk. Every step (vLLM's shape, research/batching.md):
//  1. running sequences that decode get their one token each, oldest first;
//  2. running sequences that prefill get chunks from what is left of the token budget (a quarter
//     of it kept for admissions while requests wait);
//  3. waiting sequences are admitted (FIFO) while there are free slots (max_running) and
//     budget, starting from their longest cached prefix (prefix_cache.h).
// When the KV pool cannot hold a sequence's tokens, the most recently admitted other running
// sequence is preempted: its blocks are released (its full blocks stay cached) and it goes back
// to the front of the queue to be recomputed later. A sequence that is alone and still does not
// fit is reported as out of memory.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "model/kv_cache.h"

namespace pensieve::engine {

// What the scheduler knows of a sequence (the engine's Sequence extends it).
struct SchedSeq {
  explicit SchedSeq(model::BlockPool& pool) : kv(pool) {}
  virtual ~SchedSeq() = default;
  uint64_t id = 0;                  // admission order (set by Scheduler::add)
  std::vector<int32_t> tokens;      // prompt + output tokens accepted so far
  int n_prompt = 0;                 // tokens[0, n_prompt) are the prompt (set by add())
  model::SequenceKv kv;             // K/V of tokens[0, kv.n_tokens())
  std::vector<uint64_t> block_keys; // prefix-cache keys of kv's leading full blocks
  int n_cached = -1;                // tokens found in the prefix cache at first admission
  int n_preempted = 0;
  int remaining() const { return static_cast<int>(tokens.size()) - kv.n_tokens(); }
};

struct SchedulerOptions {
  int max_running = 4;        // sequences in flight at once (--parallel)
  int max_step_tokens = 512;  // tokens per forward step (decode tokens + prefill chunks)
  // A prompt is computed in parts of at least this many tokens (unless it is shorter), after a
  // prefix-cache hit too: the CPU's batched kernels give a token the same bits in every call of
  // 6 tokens or more, so a request's prompt gets the same K/V and logits however it was chunked
  // or how much of it came from the cache. Applies when max_step_tokens >= 4x this.
  int min_prefill_part = 8;
};

struct PlannedPart {
  SchedSeq* seq = nullptr;
  int n_tokens = 0;     // tokens[kv.n_tokens(), + n_tokens) run this step
  bool output = false;  // the part reaches the last known token: its next token is sampled
};

struct StepPlan {
  std::vector<PlannedPart> parts;         // decodes first, then prefill chunks
  std::vector<SchedSeq*> out_of_memory;   // removed: alone and still no room in the KV pool
  int n_decode = 0;                       // parts with one token that produce output
};

class Scheduler {
 public:
  Scheduler(model::BlockPool& pool, SchedulerOptions options);

  void add(SchedSeq* seq);     // queues a new sequence (tokens set, kv empty)
  void remove(SchedSeq* seq);  // finished or cancelled: leaves the lists, frees its KV
  StepPlan schedule();
  // After the step ran: publishes the full blocks the step completed.
  void after_step(const StepPlan& plan);

  int n_running() const { return static_cast<int>(running_.size()); }
  int n_waiting() const { return static_cast<int>(waiting_.size()); }
  int64_t preemptions() const { return preemptions_; }
  int64_t cached_tokens() const { return cached_tokens_; }  // prefix-cache hits, all admissions
  const std::vector<SchedSeq*>& running() const { return running_; }
  const std::deque<SchedSeq*>& waiting() const { return waiting_; }
  const SchedulerOptions& options() const { return options_; }

 private:
  // Reserves room for n more tokens of s, preempting newer sequences as needed; false when s
  // itself had to go (preempted, or out of memory when nothing else could be freed).
  bool reserve(SchedSeq* s, int n, StepPlan& plan);
  void preempt(SchedSeq* victim, StepPlan& plan);
  // The prefill part of s within `budget`: 0 when it must wait for a step with more room.
  int prefill_part(const SchedSeq* s, int budget) const;

  model::BlockPool& pool_;
  SchedulerOptions options_;
  int min_part_ = 1;  // options_.min_prefill_part where the step budget allows it
  uint64_t next_id_ = 1;
  std::vector<SchedSeq*> running_;  // admission order
  std::deque<SchedSeq*> waiting_;
  int64_t preemptions_ = 0, cached_tokens_ = 0;
};

}  // namespace pensieve::engine
