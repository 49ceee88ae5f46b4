#include "engine/scheduler.h"

#include <algorithm>

#include "engine/prefix_cache.h"
#include "util/status.h"

namespace pensieve::engine {

Scheduler::Scheduler(model::BlockPool& pool, SchedulerOptions options) : pool_(pool), options_(options) {
  PS_ASSERT(options_.max_running > 0 && options_.max_step_tokens >= options_.max_running,
            "the step budget must cover one token of every running sequence");
  if (options_.min_prefill_part > 1 && options_.max_step_tokens >= 4 * options_.min_prefill_part)
    min_part_ = options_.min_prefill_part;
}

int Scheduler::prefill_part(const SchedSeq* s, int budget) const {
  const int remaining = s->remaining();
  int n = std::min(remaining, budget);
  if (n < remaining && remaining - n < min_part_) n = remaining - min_part_;  // no short tail
  // A part that does not finish the prompt ends on a block boundary, so that the sequence can
  // adopt blocks another request computes meanwhile (extend_prefix) before its next part.
  const int bs = pool_.block_size();
  if (n < remaining) {
    const int aligned = n - (s->kv.n_tokens() + n) % bs;
    if (aligned >= min_part_) n = aligned;  // min_part_ >= 1
  }
  if (n < remaining && n < min_part_) return 0;  // not enough room this step
  return n;
}

void Scheduler::add(SchedSeq* seq) {
  PS_ASSERT(seq->kv.n_tokens() == 0 && !seq->tokens.empty());
  seq->id = next_id_++;
  seq->n_prompt = static_cast<int>(seq->tokens.size());
  waiting_.push_back(seq);
}

// Releases all of s's blocks (its published full blocks stay in the prefix cache).
static void drop_kv(SchedSeq* s) {
  s->kv.truncate(0);
  s->block_keys.clear();
}

void Scheduler::remove(SchedSeq* seq) {
  std::erase(running_, seq);
  std::erase(waiting_, seq);
  drop_kv(seq);
}

void Scheduler::preempt(SchedSeq* victim, StepPlan& plan) {
  std::erase_if(plan.parts, [&](const PlannedPart& p) { return p.seq == victim; });
  std::erase(running_, victim);
  drop_kv(victim);
  ++victim->n_preempted;
  ++preemptions_;
  waiting_.push_front(victim);
}

bool Scheduler::reserve(SchedSeq* s, int n, StepPlan& plan) {
  while (!s->kv.reserve(s->kv.n_tokens() + n)) {
    // The newest running sequence gives way: another one if it is newer than s, else s itself.
    SchedSeq* victim = nullptr;
    for (auto it = running_.rbegin(); it != running_.rend() && victim == nullptr; ++it)
      if (*it != s) victim = *it;
    if (victim != nullptr && victim->id > s->id) {
      preempt(victim, plan);
      continue;
    }
    if (victim == nullptr) {  // alone and still no room: it can never proceed
      std::erase(running_, s);
      drop_kv(s);
      plan.out_of_memory.push_back(s);
    } else {
      preempt(s, plan);
    }
    return false;
  }
  return true;
}

StepPlan Scheduler::schedule() {
  StepPlan plan;
  int budget = options_.max_step_tokens;
  // 1. Decodes, oldest first. Iterate over a copy: reserve() may preempt (remove) sequences.
  const std::vector<SchedSeq*> decoding = [&] {
    std::vector<SchedSeq*> v;
    for (SchedSeq* s : running_)
      if (s->remaining() == 1) v.push_back(s);
    return v;
  }();
  for (SchedSeq* s : decoding) {
    if (std::find(running_.begin(), running_.end(), s) == running_.end()) continue;  // preempted
    if (budget < 1) break;
    if (!reserve(s, 1, plan)) continue;
    plan.parts.push_back(PlannedPart{s, 1, true});
    --budget;
  }
  // 2. Prefill chunks of running sequences, oldest first. While others wait for a slot, a quarter
  // of the budget is kept for them: a long prompt must not hold a short one back for seconds.
  const bool admitting = !waiting_.empty() && static_cast<int>(running_.size()) < options_.max_running;
  const int kept = admitting ? budget / 4 : 0;
  budget -= kept;
  const std::vector<SchedSeq*> prefilling = [&] {
    std::vector<SchedSeq*> v;
    for (SchedSeq* s : running_)
      if (s->remaining() > 1) v.push_back(s);
    return v;
  }();
  // Blocks of their prompts that other requests computed since the last step cost no budget.
  for (SchedSeq* s : prefilling) {
    const int start = s->kv.n_tokens();
    if (extend_prefix(pool_, s->tokens, s->kv, s->block_keys, min_part_) > 0 && start < s->n_prompt) {
      // Prompt tokens found in the cache (a preempted sequence also finds its own output's blocks).
      const int hit = std::min(s->kv.n_tokens(), s->n_prompt) - start;
      s->n_cached = std::max(s->n_cached, 0) + hit;
      cached_tokens_ += hit;
    }
  }
  for (SchedSeq* s : prefilling) {
    if (budget <= 0) break;
    if (std::find(running_.begin(), running_.end(), s) == running_.end()) continue;
    const int n = prefill_part(s, budget);
    if (n == 0) continue;
    if (!reserve(s, n, plan)) continue;
    plan.parts.push_back(PlannedPart{s, n, n == s->remaining()});
    budget -= n;
  }
  budget += kept;
  // 3. Admissions: while there is a free slot, budget and room for the first chunk.
  while (!waiting_.empty() && budget > 0 && static_cast<int>(running_.size()) < options_.max_running) {
    SchedSeq* s = waiting_.front();
    const int cached = match_prefix(pool_, s->tokens, s->kv, s->block_keys, min_part_);
    const int n = prefill_part(s, budget);
    if (n == 0) {  // too little of this step is left for its first part: the next step
      drop_kv(s);
      break;
    }
    if (!s->kv.reserve(s->kv.n_tokens() + n)) {
      // No room now; the blocks it adopted go back to the cache and it waits for others to end.
      drop_kv(s);
      if (running_.empty()) {  // nothing will ever free room for it
        waiting_.pop_front();
        plan.out_of_memory.push_back(s);
        continue;
      }
      break;
    }
    if (s->n_cached < 0) {
      s->n_cached = cached;
      cached_tokens_ += cached;
    }
    waiting_.pop_front();
    running_.push_back(s);
    plan.parts.push_back(PlannedPart{s, n, n == s->remaining()});
    budget -= n;
  }
  plan.n_decode = 0;
  for (const PlannedPart& p : plan.parts)
    if (p.n_tokens == 1 && p.output) ++plan.n_decode;
  return plan;
}

void Scheduler::after_step(const StepPlan& plan) {
  for (const PlannedPart& p : plan.parts) publish_blocks(pool_, p.seq->tokens, p.seq->kv, p.seq->block_keys);
}

}  // namespace pensieve::engine
