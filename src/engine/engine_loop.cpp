// The engine thread: schedule -> one forward step over every running sequence -> sample ->
// detokenize / stop-check -> finish or continue. Each sequence keeps its own sampler (seed),
// stop strings, stream decoder and limits; the scheduler decides who runs (scheduler.h).
#include <algorithm>

#include "engine/backend_state.h"
#include "engine/sampler.h"
#include "engine/stop_strings.h"

namespace pensieve::engine {
namespace {

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

int batch_bucket(int n) {
  for (int i = 0; i < kBatchBuckets - 1; ++i)
    if (n <= kBatchBucketBounds[i]) return i;
  return kBatchBuckets - 1;
}

}  // namespace

void RequestChannel::push(std::string text, token_id token) {
  {
    std::lock_guard<std::mutex> lock(mu);
    pieces.push_back(Piece{std::move(text), token});
  }
  cv.notify_one();
}

void RequestChannel::finish(Result<Generation> r) {
  {
    std::lock_guard<std::mutex> lock(mu);
    result = std::move(r);
  }
  cv.notify_one();
}

void LiveStats::reset() {
  running = waiting = 0;
  steps = step_tokens = step_seqs = preemptions = prefix_hit_tokens = 0;
  forward_ns = host_ns = 0;
  blocks_used = blocks_cached = blocks_total = block_size = 0;
  for (auto& b : batch_hist) b = 0;
}

void InferenceBackend::Impl::admit(PendingRequest&& r) {
  auto s = std::make_unique<Sequence>(context->pool(), *tokenizer, std::move(r));
  s->gen.n_prompt = s->n_prompt;
  if (s->options.grammar) {
    s->matcher.emplace(token_grammar(s->options.grammar));
    s->grammar_active = s->options.grammar_triggers.empty();
    s->greedy_grammar = s->greedy;  // greedy: the mask goes to the device's argmax
    s->greedy = false;  // otherwise the logits are needed on the host for the mask
  }
  scheduler->add(s.get());
  sequences.push_back(std::move(s));
}

void InferenceBackend::Impl::finish(Sequence& s, std::optional<Error> error) {
  scheduler->remove(&s);
  publish_stats();  // before the caller wakes: it may read them at once
  if (error) {
    s.channel->finish(*error);
  } else {
    Generation& g = s.gen;
    // Whatever the decoder or the stop matcher still holds belongs to the output, unless a stop
    // string ended it or the request was cancelled.
    if (g.finish != FinishReason::stop_string && g.finish != FinishReason::cancelled) {
      std::string rest = s.stop.push(s.decoder.flush());
      if (!s.stop.stopped()) rest += s.stop.flush();
      else g.finish = FinishReason::stop_string, g.stop_string = s.stop.matched();
      if (!rest.empty()) {
        g.text += rest;
        s.channel->push(rest, g.tokens.empty() ? -1 : g.tokens.back());
      }
    }
    const auto now = Clock::now();
    g.n_generated = static_cast<int>(g.tokens.size());
    g.n_cached = std::max(s.n_cached, 0);
    if (!s.prefilled) g.prefill_ms = ms_between(s.t_submit, now);
    g.decode_ms = s.prefilled ? ms_between(s.t_decode, now) : 0;
    if (g.ttft_ms == 0) g.ttft_ms = ms_between(s.t_submit, now);
    s.channel->finish(std::move(g));
  }
  std::erase_if(sequences, [&](const std::unique_ptr<Sequence>& p) { return p.get() == &s; });
}

// A sampled token: stop on EOS, emit its text, stop on a stop string, max_tokens, cancellation
// or a full context; else it becomes the sequence's next token to run.
void InferenceBackend::Impl::accept(Sequence& s, token_id tok) {
  Generation& g = s.gen;
  const auto now = Clock::now();
  if (g.tokens.empty()) g.ttft_ms = ms_between(s.t_submit, now);
  if (!s.options.ignore_eos && tokenizer->is_eog(tok)) {
    g.finish = FinishReason::eos;
    return finish(s);
  }
  g.tokens.push_back(tok);
  const bool grammar_done = s.matcher && advance_grammar(s, tok);
  std::string piece = s.stop.push(s.decoder.push(tok));
  g.text += piece;
  s.channel->push(std::move(piece), tok);
  if (s.stop.stopped()) {
    g.finish = FinishReason::stop_string;
    g.stop_string = s.stop.matched();
    return finish(s);
  }
  if (grammar_done) {  // complete: nothing but the end of the generation could follow
    g.finish = FinishReason::eos;
    return finish(s);
  }
  if (s.options.max_tokens > 0 && static_cast<int>(g.tokens.size()) >= s.options.max_tokens) {
    g.finish = FinishReason::max_tokens;
    return finish(s);
  }
  if (s.channel->cancel.load()) {
    g.finish = FinishReason::cancelled;
    return finish(s);
  }
  if (static_cast<int>(s.tokens.size()) + 1 > context->options().n_ctx) {  // no room to run it
    g.finish = FinishReason::context_full;
    return finish(s);
  }
  s.tokens.push_back(tok);
}

bool InferenceBackend::Impl::step_once() {
  const auto t_begin = Clock::now();
  // Cancelled requests leave before the step, running or waiting.
  std::vector<Sequence*> cancelled;
  for (auto& s : sequences)
    if (s->channel->cancel.load()) cancelled.push_back(s.get());
  for (Sequence* s : cancelled) {
    s->gen.finish = FinishReason::cancelled;
    finish(*s);
  }

  const StepPlan plan = scheduler->schedule();
  for (SchedSeq* p : plan.out_of_memory) {
    auto& s = static_cast<Sequence&>(*p);
    s.gen.finish = FinishReason::context_full;  // the KV pool cannot hold it even alone
    finish(s);
  }
  if (plan.parts.empty()) return false;

  std::vector<model::SeqStep> parts;
  parts.reserve(plan.parts.size());
  int n_out = 0, n_tokens = 0;
  int host_rows = 0;  // output rows sampled on the host (their logits must come back)
  for (const PlannedPart& p : plan.parts) {
    auto& s = static_cast<Sequence&>(*p.seq);
    const int start = s.kv.n_tokens();
    parts.push_back(model::SeqStep{&s.kv, std::span<const int32_t>(s.tokens.data() + start, p.n_tokens), p.output ? 1 : 0});
    n_tokens += p.n_tokens;
    if (p.output) {
      ++n_out;
      host_rows += !device_argmax(s);
    }
  }
  const bool no_output = n_out == 0;  // a prefill chunk mid-prompt: one row is read anyway
  if (no_output) parts.back().n_outputs = 1, n_out = 1;
  const int n_vocab = model->hp.n_vocab;
  // Greedy rows take their argmax where the logits are (under a grammar, over its token mask);
  // the rows sampled on the host read their own logits after the step. When most rows sample
  // on the host, all logits come back in one copy instead (and every row takes the host path).
  const bool bulk_logits = !no_output && host_rows * 2 > n_out;
  row_on_host.assign(n_out, bulk_logits);
  bool any_mask = false;
  if (!bulk_logits) {
    int row = 0;
    for (const PlannedPart& p : plan.parts) {
      if (!p.output) continue;
      auto& s = static_cast<Sequence&>(*p.seq);
      row_on_host[row++] = !device_argmax(s);
      any_mask = any_mask || grammar_on_device(s);
    }
  }
  // The grammar rows' token masks, made when the step asks (on the GPU: while its forward pass
  // runs, so the grammar's host work is off the step's critical path).
  const backend::MaskSource make_masks = [&]() -> const uint64_t* {
    const int64_t words = backend::allowed_words(n_vocab);
    step_allowed.assign(static_cast<size_t>(n_out) * words, ~uint64_t(0));
    int row = 0;
    for (const PlannedPart& p : plan.parts) {
      if (!p.output) continue;
      auto& s = static_cast<Sequence&>(*p.seq);
      const int r = row++;
      if (!grammar_on_device(s)) continue;
      uint64_t* w = step_allowed.data() + static_cast<size_t>(r) * words;
      std::fill(w, w + words, 0);  // tokens past the tokenizer's vocabulary stay out
      if (!fill_token_mask(s, w)) {  // nothing allowed: the host path reports it
        std::fill(w, w + words, ~uint64_t(0));
        row_on_host[r] = true;
      }
    }
    return step_allowed.data();
  };
  argmaxes.resize(n_out);
  if (bulk_logits) logits.resize(static_cast<size_t>(n_out) * n_vocab);
  const model::Observer* obs = dump ? &*dump : nullptr;
  const auto t_forward = Clock::now();
  const Status st = context->step(parts, bulk_logits ? logits.data() : nullptr, argmaxes.data(), obs,
                                  any_mask ? &make_masks : nullptr);
  const auto t_forward_end = Clock::now();
  live.forward_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(t_forward_end - t_forward).count();
  live.host_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(t_forward - t_begin).count();
  // The host's share after the forward pass: sampling, grammar masks, streaming the text.
  struct AddHostTime {
    std::atomic<int64_t>& ns;
    Clock::time_point t0;
    ~AddHostTime() { ns += std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count(); }
  } add_host_time{live.host_ns, t_forward_end};
  ++live.steps;
  live.step_tokens += n_tokens;
  live.step_seqs += static_cast<int64_t>(plan.parts.size());
  ++live.batch_hist[batch_bucket(static_cast<int>(plan.parts.size()))];
  if (!st.ok()) {  // the step failed for all of them
    for (const PlannedPart& p : plan.parts) finish(static_cast<Sequence&>(*p.seq), st.error());
    return true;
  }
  scheduler->after_step(plan);
  if (no_output) return true;

  // Row r's logits on the host: a slice of the bulk copy, or read now (they stay on the device
  // until the next step).
  auto host_logits = [&](int r) -> Result<std::span<float>> {
    if (bulk_logits) return std::span<float>(logits.data() + static_cast<size_t>(r) * n_vocab, n_vocab);
    logits.resize(n_vocab);
    PS_TRY(context->read_logits_row(r, logits.data()));
    return std::span<float>(logits.data(), n_vocab);
  };
  int row = 0;
  const auto now = Clock::now();
  for (const PlannedPart& p : plan.parts) {
    if (!p.output) continue;
    auto& s = static_cast<Sequence&>(*p.seq);
    const int r = row++;
    if (!s.prefilled) {
      s.prefilled = true;
      s.gen.prefill_ms = ms_between(s.t_submit, now);
      s.t_decode = now;
    }
    if (s.options.max_tokens == 0) {
      s.gen.finish = FinishReason::max_tokens;
      finish(s);
      continue;
    }
    token_id tok;
    if (!row_on_host[r]) {
      tok = argmaxes[r];
      if (grammar_on_device(s) && !fits_budget(s, tok)) {
        // Near the end of the token budget the grammar's choice must also stay finishable: this
        // row's logits (still on the device) take the host path.
        auto row_logits = host_logits(r);
        if (!row_logits.ok()) {
          finish(s, row_logits.error());
          continue;
        }
        auto t = sample_constrained(s, *row_logits, /*unfit=*/tok);
        if (!t.ok()) {
          finish(s, t.error());
          continue;
        }
        tok = *t;
      }
    } else {
      auto host_row = host_logits(r);
      if (!host_row.ok()) {
        finish(s, host_row.error());
        continue;
      }
      const std::span<float> row_logits = *host_row;
      if (s.matcher && s.grammar_active) {
        // The mask work runs here, per sequence, after the step; a state seen before (most
        // steps of JSON output) is one cached mask copy (token_masks.h).
        auto t = sample_constrained(s, row_logits);
        if (!t.ok()) {
          finish(s, t.error());
          continue;
        }
        tok = *t;
      } else if (s.matcher) {  // a lazy grammar waiting for its trigger
        mask_bad_triggers(s, row_logits);
        tok = s.sampler.sample(row_logits, s.tokens);
      } else {
        tok = s.greedy ? argmax(row_logits) : s.sampler.sample(row_logits, s.tokens);
      }
    }
    accept(s, tok);
  }
  return true;
}

void InferenceBackend::Impl::publish_stats() {
  const model::BlockPool& pool = context->pool();
  live.running = scheduler->n_running();
  live.waiting = scheduler->n_waiting();
  live.preemptions = scheduler->preemptions();
  live.prefix_hit_tokens = scheduler->cached_tokens();
  live.blocks_used = pool.n_used();
  live.blocks_cached = pool.n_cached();
  live.blocks_total = pool.n_blocks();
  live.block_size = pool.block_size();
}

void InferenceBackend::Impl::engine_loop() {
  std::vector<PendingRequest> arrived;
  std::vector<EmbedJob*> embeds;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(inbox_mu);
      inbox_cv.wait(lock, [&] { return stopping || !inbox.empty() || !embed_inbox.empty() || !sequences.empty(); });
      if (stopping) break;
      arrived.swap(inbox);
      embeds.swap(embed_inbox);
    }
    for (EmbedJob* job : embeds) job->done.set_value(run_embeddings(*job->inputs));
    embeds.clear();
    if (arrived.empty() && sequences.empty()) continue;
    for (PendingRequest& r : arrived) admit(std::move(r));
    arrived.clear();
    const bool ran = step_once();
    publish_stats();
    if (!ran && !sequences.empty()) {
      // Nothing could run (waiting for KV room that only a cancellation can free): don't spin.
      std::unique_lock<std::mutex> lock(inbox_mu);
      inbox_cv.wait_for(lock, std::chrono::milliseconds(5));
    }
  }
  // Unloading: every request still here ends as cancelled.
  {
    std::lock_guard<std::mutex> lock(inbox_mu);
    for (EmbedJob* job : embed_inbox) job->done.set_value(make_error(ErrorKind::cancelled, "the model was unloaded"));
    embed_inbox.clear();
    for (PendingRequest& r : inbox) admit(std::move(r));
    inbox.clear();
  }
  while (!sequences.empty()) finish(*sequences.back(), make_error(ErrorKind::cancelled, "the model was unloaded"));
  publish_stats();
}

}  // namespace pensieve::engine
