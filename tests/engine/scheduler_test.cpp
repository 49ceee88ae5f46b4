// The batching scheduler and the prefix cache on the host, without a model: block states and
// LRU eviction, prefix matching, decode-first budgets, FIFO admission, preemption order.
#include <gtest/gtest.h>

#include <numeric>

#include "engine/prefix_cache.h"
#include "engine/scheduler.h"

namespace pensieve::engine {
namespace {

std::vector<int32_t> iota_tokens(int n, int first = 100) {
  std::vector<int32_t> v(n);
  std::iota(v.begin(), v.end(), first);
  return v;
}

// A sequence whose KV is as if computed: as the engine would after a step.
void mark_computed(SchedSeq& s, const PlannedPart& p) { s.kv.set_n_tokens(s.kv.n_tokens() + p.n_tokens); }

TEST(BlockPool, CachedBlocksAreEvictedLeastRecentlyReleasedFirst) {
  model::BlockPool pool(3, 4);
  const auto t = iota_tokens(4);
  int a = pool.allocate(), b = pool.allocate(), c = pool.allocate();
  pool.publish(a, 11, 0, t);
  pool.publish(b, 22, 0, t);
  EXPECT_EQ(pool.allocate(), -1);
  pool.release(b);  // cached first
  pool.release(a);  // cached second
  pool.release(c);  // no key: free
  EXPECT_EQ(pool.n_cached(), 2);
  EXPECT_EQ(pool.n_available(), 3);
  EXPECT_EQ(pool.find(11, 0, t), a);
  EXPECT_EQ(pool.find(11, 5, t), -1);  // another parent: a miss, never a wrong block
  EXPECT_EQ(pool.find(11, 0, iota_tokens(4, 7)), -1);
  EXPECT_EQ(pool.allocate(), c);  // free blocks go before cached ones
  EXPECT_EQ(pool.allocate(), b);  // then the least recently released cached one
  EXPECT_EQ(pool.evictions(), 1);
  EXPECT_EQ(pool.find(22, 0, t), -1);  // its content is forgotten
  pool.retain(a);                       // a cached block comes back with its content
  EXPECT_EQ(pool.n_cached(), 0);
  EXPECT_EQ(pool.ref_count(a), 1);
  EXPECT_EQ(pool.find(11, 0, t), a);
}

TEST(PrefixCache, MatchesWholeBlocksAndLeavesOneTokenToCompute) {
  model::BlockPool pool(16, 4);
  const auto prompt = iota_tokens(12);  // exactly 3 blocks
  std::vector<uint64_t> keys;
  {
    model::SequenceKv kv(pool);
    ASSERT_TRUE(kv.reserve(12));
    kv.set_n_tokens(12);
    publish_blocks(pool, prompt, kv, keys);
    EXPECT_EQ(keys.size(), 3u);
  }
  EXPECT_EQ(pool.n_cached(), 3);
  model::SequenceKv same(pool);
  std::vector<uint64_t> got;
  // The same 12 tokens: two blocks are reused, the last one is recomputed for its logits.
  EXPECT_EQ(match_prefix(pool, prompt, same, got), 8);
  EXPECT_EQ(same.n_tokens(), 8);
  EXPECT_EQ(got, std::vector<uint64_t>(keys.begin(), keys.begin() + 2));
  // Diverging inside the second block: only the first block matches.
  auto other = prompt;
  other[6] = 7;
  other.push_back(1);
  model::SequenceKv diverged(pool);
  EXPECT_EQ(match_prefix(pool, other, diverged, got), 4);
  EXPECT_EQ(pool.ref_count(same.block_table()[0]), 2);  // shared, read-only
}

TEST(Scheduler, DecodesFirstThenPrefillChunksWithinTheBudget) {
  model::BlockPool pool(64, 4);
  Scheduler sched(pool, SchedulerOptions{4, 8});
  SchedSeq a(pool), b(pool);
  a.tokens = iota_tokens(3);
  b.tokens = iota_tokens(20, 500);
  sched.add(&a);
  sched.add(&b);
  StepPlan p = sched.schedule();
  // a's whole prompt, then b's first 4 tokens: 5 fit, but an unfinished part ends on a block.
  ASSERT_EQ(p.parts.size(), 2u);
  EXPECT_EQ(p.parts[0].seq, &a);
  EXPECT_EQ(p.parts[0].n_tokens, 3);
  EXPECT_TRUE(p.parts[0].output);
  EXPECT_EQ(p.parts[1].n_tokens, 4);
  EXPECT_FALSE(p.parts[1].output);
  for (auto& part : p.parts) mark_computed(*part.seq, part);
  a.tokens.push_back(9);  // a sampled a token: it decodes now
  p = sched.schedule();
  ASSERT_EQ(p.parts.size(), 2u);
  EXPECT_EQ(p.parts[0].seq, &a);  // the decode goes first
  EXPECT_EQ(p.parts[0].n_tokens, 1);
  EXPECT_EQ(p.parts[1].seq, &b);
  EXPECT_EQ(p.parts[1].n_tokens, 4);  // 7 fit; 4 reach the next block boundary
  EXPECT_EQ(p.n_decode, 1);
}

TEST(Scheduler, AdmitsInOrderUpToMaxRunning) {
  model::BlockPool pool(64, 4);
  Scheduler sched(pool, SchedulerOptions{2, 64});
  SchedSeq a(pool), b(pool), c(pool);
  for (SchedSeq* s : {&a, &b, &c}) {
    s->tokens = iota_tokens(5);
    sched.add(s);
  }
  StepPlan p = sched.schedule();
  ASSERT_EQ(p.parts.size(), 2u);
  EXPECT_EQ(p.parts[0].seq, &a);
  EXPECT_EQ(p.parts[1].seq, &b);
  EXPECT_EQ(sched.n_waiting(), 1);
  sched.remove(&a);  // a finished: c gets its slot
  for (auto& part : p.parts)
    if (part.seq != &a) mark_computed(*part.seq, part);
  b.tokens.push_back(1);
  p = sched.schedule();
  ASSERT_EQ(p.parts.size(), 2u);
  EXPECT_EQ(p.parts[1].seq, &c);
}

TEST(Scheduler, PreemptsTheNewestWhenThePoolRunsOut) {
  model::BlockPool pool(4, 4);  // 16 tokens in all
  Scheduler sched(pool, SchedulerOptions{4, 64});
  SchedSeq old_seq(pool), new_seq(pool);
  old_seq.tokens = iota_tokens(7);
  new_seq.tokens = iota_tokens(7, 300);
  sched.add(&old_seq);
  sched.add(&new_seq);
  StepPlan p = sched.schedule();  // 2 blocks each
  ASSERT_EQ(p.parts.size(), 2u);
  for (auto& part : p.parts) mark_computed(*part.seq, part);
  // Both decode past their 2nd block: the older one needs a 3rd, so the newer gives way.
  old_seq.tokens.push_back(1), new_seq.tokens.push_back(1);
  p = sched.schedule();
  for (auto& part : p.parts) mark_computed(*part.seq, part);
  old_seq.tokens.push_back(1);
  new_seq.tokens.push_back(1);
  p = sched.schedule();
  ASSERT_EQ(p.parts.size(), 1u);
  EXPECT_EQ(p.parts[0].seq, &old_seq);
  EXPECT_EQ(sched.preemptions(), 1);
  EXPECT_EQ(new_seq.kv.n_tokens(), 0);  // freed, to be recomputed
  EXPECT_EQ(sched.waiting().front(), &new_seq);
  EXPECT_EQ(new_seq.n_preempted, 1);
}

TEST(Scheduler, ASequenceThatCannotFitAloneIsReported) {
  model::BlockPool pool(2, 4);  // 8 tokens
  Scheduler sched(pool, SchedulerOptions{2, 64});
  SchedSeq s(pool);
  s.tokens = iota_tokens(8);
  sched.add(&s);
  StepPlan p = sched.schedule();
  ASSERT_EQ(p.parts.size(), 1u);
  mark_computed(s, p.parts[0]);
  s.tokens.push_back(1);  // a 9th token needs a 3rd block
  p = sched.schedule();
  EXPECT_TRUE(p.parts.empty());
  ASSERT_EQ(p.out_of_memory.size(), 1u);
  EXPECT_EQ(p.out_of_memory[0], &s);
  EXPECT_EQ(sched.n_running(), 0);
  EXPECT_EQ(pool.n_available(), 2);
}

}  // namespace
}  // namespace pensieve::engine

namespace pensieve::engine {
namespace {

// Prompt parts are at least min_prefill_part tokens: no short tail after a chunk, none after a
// prefix-cache hit, and a part that would be short waits for a step with more room.
TEST(Scheduler, PromptPartsAreNeverShorterThanTheMinimum) {
  model::BlockPool pool(64, 4);
  Scheduler sched(pool, SchedulerOptions{4, 32, 8});
  SchedSeq a(pool);
  // 32 + 3 would leave a 3-token tail; 27 + 8 would not, and 24 + 11 also ends on a block.
  a.tokens = iota_tokens(35);
  sched.add(&a);
  StepPlan p = sched.schedule();
  ASSERT_EQ(p.parts.size(), 1u);
  EXPECT_EQ(p.parts[0].n_tokens, 24);
  mark_computed(a, p.parts[0]);
  sched.after_step(p);
  p = sched.schedule();
  ASSERT_EQ(p.parts.size(), 1u);
  EXPECT_EQ(p.parts[0].n_tokens, 11);
  EXPECT_TRUE(p.parts[0].output);
  mark_computed(a, p.parts[0]);
  sched.after_step(p);
  sched.remove(&a);  // its 8 whole blocks stay cached
  // The same 35 tokens again: the cache could give 32 (8 blocks), but 28 leaves 7 to compute;
  // 24 (6 blocks) leaves 11.
  SchedSeq b(pool);
  b.tokens = iota_tokens(35);
  sched.add(&b);
  p = sched.schedule();
  ASSERT_EQ(p.parts.size(), 1u);
  EXPECT_EQ(b.n_cached, 24);
  EXPECT_EQ(p.parts[0].n_tokens, 11);
}

}  // namespace
}  // namespace pensieve::engine

namespace pensieve::engine {
namespace {

// A long prompt being prefilled does not keep a new short one out: a quarter of the step is
// kept for admissions while requests wait.
TEST(Scheduler, ALongPrefillLeavesRoomForANewShortPrompt) {
  model::BlockPool pool(256, 4);
  Scheduler sched(pool, SchedulerOptions{4, 64, 8});
  SchedSeq long_seq(pool), short_seq(pool);
  long_seq.tokens = iota_tokens(600);
  sched.add(&long_seq);
  StepPlan p = sched.schedule();
  ASSERT_EQ(p.parts.size(), 1u);
  EXPECT_EQ(p.parts[0].n_tokens, 64);  // alone: the whole step
  mark_computed(long_seq, p.parts[0]);
  short_seq.tokens = iota_tokens(12, 900);
  sched.add(&short_seq);
  p = sched.schedule();
  ASSERT_EQ(p.parts.size(), 2u);
  EXPECT_EQ(p.parts[0].seq, &long_seq);
  EXPECT_EQ(p.parts[0].n_tokens, 48);
  EXPECT_EQ(p.parts[1].seq, &short_seq);
  EXPECT_EQ(p.parts[1].n_tokens, 12);
  EXPECT_TRUE(p.parts[1].output);
}

}  // namespace
}  // namespace pensieve::engine

namespace pensieve::engine {
namespace {

// Two requests with the same long prompt, the second admitted while the first still prefills:
// before each of its parts the second adopts the blocks the first has published meanwhile,
// instead of computing them again.
TEST(Scheduler, AConcurrentSamePromptAdoptsBlocksAsTheyArePublished) {
  model::BlockPool pool(256, 4);
  Scheduler sched(pool, SchedulerOptions{4, 64, 8});
  SchedSeq first(pool), second(pool);
  first.tokens = iota_tokens(300);
  second.tokens = iota_tokens(300);
  second.tokens.push_back(7);  // its own question after the shared prompt
  sched.add(&first);
  StepPlan p = sched.schedule();
  for (auto& part : p.parts) mark_computed(*part.seq, part);
  sched.after_step(p);  // 64 tokens published
  sched.add(&second);
  p = sched.schedule();  // second: 64 from the cache, then a part of its own
  EXPECT_EQ(second.n_cached, 64);
  for (auto& part : p.parts) mark_computed(*part.seq, part);
  sched.after_step(p);
  const int second_done = second.kv.n_tokens();
  p = sched.schedule();
  // first's newer blocks were adopted: second is further on than its own parts alone took it.
  EXPECT_GT(second.n_cached, 64);
  EXPECT_GE(second.kv.n_tokens(), first.kv.n_tokens() - 4);
  EXPECT_GT(second.kv.n_tokens(), second_done);
  EXPECT_EQ(sched.cached_tokens(), second.n_cached);
}

}  // namespace
}  // namespace pensieve::engine
