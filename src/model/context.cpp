#include "model/context.h"

#include <algorithm>

namespace pensieve::model {

Context::Context(const Model& model, backend::Ops& ops, const ContextOptions& opt, int n_blocks)
    : model_(model), ops_(ops), opt_(opt), pool_(n_blocks, opt.block_size) {}

Result<std::unique_ptr<Context>> Context::create(const Model& model, backend::Ops& ops, const ContextOptions& opt) {
  if (opt.n_ctx <= 0 || opt.max_step_tokens <= 0 || opt.max_outputs <= 0 || opt.block_size <= 0 ||
      opt.n_seq_max <= 0 || opt.n_blocks < 0)
    return make_error(ErrorKind::invalid_request, "invalid context options");
  const int blocks_per_seq = (opt.n_ctx + opt.block_size - 1) / opt.block_size;
  const int n_blocks = opt.n_blocks > 0 ? opt.n_blocks : blocks_per_seq * opt.n_seq_max;
  // The device's KV storage first: a pool too big for the machine fails here with a clear error,
  // before any host bookkeeping is sized for it.
  PS_TRY(ops.init(opt.max_step_tokens));
  const HParams& h = model.hp;
  PS_TRY(ops.init_kv_cache(backend::KvCacheShape{h.n_layer, h.n_head_kv, h.head_dim, opt.block_size, n_blocks,
                                                 opt.kv_type}));
  std::unique_ptr<Context> ctx(new Context(model, ops, opt, n_blocks));
  ctx->scratch_ = make_scratch(model, ops, opt.max_step_tokens, opt.max_outputs);
  return ctx;
}

Status Context::check(std::span<const SeqStep> batch, int* n_tokens, int* n_out) const {
  *n_tokens = 0;
  *n_out = 0;
  if (batch.empty()) return make_error(ErrorKind::invalid_request, "an empty step");
  for (const SeqStep& p : batch) {
    const int n = static_cast<int>(p.tokens.size());
    if (p.kv == nullptr || n <= 0 || p.n_outputs < 0 || p.n_outputs > n)
      return make_error(ErrorKind::invalid_request, "a step part needs a sequence, tokens and 0..n outputs");
    if (p.kv->n_tokens() + n > opt_.n_ctx)
      return make_error(ErrorKind::invalid_request, "the context of " + std::to_string(opt_.n_ctx) + " tokens is full");
    for (int32_t t : p.tokens)
      if (t < 0 || t >= model_.hp.n_vocab)
        return make_error(ErrorKind::invalid_request, "token id " + std::to_string(t) + " is outside the vocabulary");
    *n_tokens += n;
    *n_out += p.n_outputs;
  }
  if (*n_tokens > opt_.max_step_tokens)
    return make_error(ErrorKind::invalid_request, "a step takes 1.." + std::to_string(opt_.max_step_tokens) + " tokens");
  if (*n_out == 0 || *n_out > opt_.max_outputs)
    return make_error(ErrorKind::invalid_request, "a step produces 1.." + std::to_string(opt_.max_outputs) + " output rows");
  return ok_status();
}

Status Context::step(std::span<const SeqStep> batch, float* logits, int32_t* argmax, const Observer* obs,
                     const backend::MaskSource* masks) {
  return run_step(batch, logits, argmax, masks, nullptr, obs);
}

Status Context::hidden_states(std::span<const SeqStep> batch, float* hidden, const Observer* obs) {
  return run_step(batch, nullptr, nullptr, nullptr, hidden, obs);
}

Status Context::read_logits_row(int row, float* logits) {
  if (row < 0 || row >= opt_.max_outputs) return make_error(ErrorKind::invalid_request, "no such output row");
  ops_.read(scratch_.logits + static_cast<int64_t>(row) * model_.hp.n_vocab, model_.hp.n_vocab, logits);
  return ops_.status();
}

Status Context::run_step(std::span<const SeqStep> batch, float* logits, int32_t* argmax, const backend::MaskSource* masks,
                         float* hidden, const Observer* obs) {
  int n_tokens = 0, n_out = 0;
  PS_TRY(check(batch, &n_tokens, &n_out));
  for (const SeqStep& p : batch)
    if (!p.kv->reserve(p.kv->n_tokens() + static_cast<int>(p.tokens.size())))
      return make_error(ErrorKind::resource_exhausted, "the KV cache is full");

  const int n_seqs = static_cast<int>(batch.size());
  int max_blocks = 1;
  for (const SeqStep& p : batch) max_blocks = std::max(max_blocks, static_cast<int>(p.kv->block_table().size()));
  tokens_.clear();
  positions_.clear();
  seq_ids_.clear();
  slots_.clear();
  out_rows_.clear();
  seq_lens_.resize(n_seqs);
  table_.assign(static_cast<size_t>(n_seqs) * max_blocks, -1);
  for (int s = 0; s < n_seqs; ++s) {
    const SeqStep& p = batch[s];
    const int start = p.kv->n_tokens();
    const int n = static_cast<int>(p.tokens.size());
    for (int i = 0; i < n; ++i) {
      if (i >= n - p.n_outputs) out_rows_.push_back(static_cast<int32_t>(tokens_.size()));
      tokens_.push_back(p.tokens[i]);
      positions_.push_back(start + i);
      seq_ids_.push_back(s);
      slots_.push_back(static_cast<int32_t>(p.kv->slot(start + i)));
    }
    const auto& bt = p.kv->block_table();
    std::copy(bt.begin(), bt.end(), table_.begin() + static_cast<size_t>(s) * max_blocks);
    seq_lens_[s] = start + n;
  }

  backend::StepInputs in;
  in.tokens = tokens_;
  in.positions = positions_;
  in.seq_ids = seq_ids_;
  in.kv_slots = slots_;
  in.block_tables = table_;
  in.max_blocks = max_blocks;
  in.seq_lens = seq_lens_;
  in.output_rows = out_rows_;
  using Output = backend::StepInputs::Output;
  in.output = hidden != nullptr    ? Output::hidden
              : logits != nullptr  ? Output::logits
              : masks != nullptr  ? Output::masked_argmax
                                   : Output::argmax;
  ops_.begin_step(in);
  scratch_.hidden_only = hidden != nullptr;
  model_.family->forward(model_, ops_, scratch_, n_tokens, n_out, obs);
  scratch_.hidden_only = false;
  if (hidden != nullptr) {
    ops_.read(scratch_.xb, static_cast<int64_t>(n_tokens) * model_.hp.n_embd, hidden);
  } else if (logits != nullptr) {
    ops_.read(scratch_.logits, static_cast<int64_t>(n_out) * model_.hp.n_vocab, logits);
  } else {
    ops_.read_argmax(scratch_.logits, n_out, model_.hp.n_vocab, argmax, masks);
  }
  PS_TRY(ops_.status());
  if (logits == nullptr && hidden == nullptr)
    for (int r = 0; r < n_out; ++r)
      if (argmax[r] < 0 || argmax[r] >= model_.hp.n_vocab)
        return make_error(ErrorKind::internal, "the device returned token id " + std::to_string(argmax[r]));
  for (const SeqStep& p : batch) p.kv->set_n_tokens(p.kv->n_tokens() + static_cast<int>(p.tokens.size()));
  return ok_status();
}

Status Context::decode(SequenceKv& seq, std::span<const int32_t> tokens, bool all_logits, float* logits,
                       const Observer* obs) {
  const SeqStep part{&seq, tokens, all_logits ? static_cast<int>(tokens.size()) : 1};
  return step(std::span<const SeqStep>(&part, 1), logits, nullptr, obs);
}

Status Context::decode_greedy(SequenceKv& seq, std::span<const int32_t> tokens, int32_t* next_token,
                              const Observer* obs) {
  const SeqStep part{&seq, tokens, 1};
  return step(std::span<const SeqStep>(&part, 1), nullptr, next_token, obs);
}

}  // namespace pensieve::model
