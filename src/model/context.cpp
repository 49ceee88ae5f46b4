#include "model/context.h"

#include <algorithm>

namespace pensieve::model {

Context::Context(const Model& model, backend::Ops& ops, const ContextOptions& opt, int n_blocks)
    : model_(model), ops_(ops), opt_(opt), pool_(n_blocks, opt.block_size) {}

Result<std::unique_ptr<Context>> Context::create(const Model& model, backend::Ops& ops, const ContextOptions& opt) {
  if (opt.n_ctx <= 0 || opt.max_tokens <= 0 || opt.max_outputs <= 0 || opt.block_size <= 0 || opt.n_seq_max <= 0)
    return make_error(ErrorKind::invalid_request, "invalid context options");
  const int blocks_per_seq = (opt.n_ctx + opt.block_size - 1) / opt.block_size;
  const int n_blocks = blocks_per_seq * opt.n_seq_max;
  std::unique_ptr<Context> ctx(new Context(model, ops, opt, n_blocks));
  PS_TRY(ops.init(opt.max_tokens));
  const HParams& h = model.hp;
  PS_TRY(ops.init_kv_cache(backend::KvCacheShape{h.n_layer, h.n_head_kv, h.head_dim, opt.block_size, n_blocks,
                                                 opt.kv_type}));
  ctx->scratch_ = make_scratch(model, ops, opt.max_tokens, opt.max_outputs);
  return ctx;
}

Status Context::run_step(SequenceKv& seq, std::span<const int32_t> tokens, bool all_logits, int* n_out,
                         const Observer* obs) {
  const int n = static_cast<int>(tokens.size());
  const int start = seq.n_tokens();
  if (n <= 0 || n > opt_.max_tokens)
    return make_error(ErrorKind::invalid_request, "a step takes 1.." + std::to_string(opt_.max_tokens) + " tokens");
  if (all_logits && n > opt_.max_outputs)
    return make_error(ErrorKind::invalid_request, "more logit rows than max_outputs");
  if (start + n > opt_.n_ctx)
    return make_error(ErrorKind::invalid_request, "the context of " + std::to_string(opt_.n_ctx) + " tokens is full");
  for (int32_t t : tokens)
    if (t < 0 || t >= model_.hp.n_vocab)
      return make_error(ErrorKind::invalid_request, "token id " + std::to_string(t) + " is outside the vocabulary");
  if (!seq.reserve(start + n)) return make_error(ErrorKind::resource_exhausted, "the KV cache is full");

  positions_.resize(n);
  slots_.resize(n);
  seq_ids_.assign(n, 0);
  for (int i = 0; i < n; ++i) {
    positions_[i] = start + i;
    slots_[i] = static_cast<int32_t>(seq.slot(start + i));
  }
  table_ = seq.block_table();
  seq_lens_.assign(1, start + n);
  out_rows_.clear();
  for (int i = all_logits ? 0 : n - 1; i < n; ++i) out_rows_.push_back(i);

  backend::StepInputs in;
  in.tokens = tokens;
  in.positions = positions_;
  in.seq_ids = seq_ids_;
  in.kv_slots = slots_;
  in.block_tables = table_;
  in.max_blocks = static_cast<int>(table_.size());
  in.seq_lens = seq_lens_;
  in.output_rows = out_rows_;
  ops_.begin_step(in);
  *n_out = static_cast<int>(out_rows_.size());
  model_.family->forward(model_, ops_, scratch_, n, *n_out, obs);
  return ok_status();
}

Status Context::decode(SequenceKv& seq, std::span<const int32_t> tokens, bool all_logits, float* logits,
                       const Observer* obs) {
  int n_out = 0;
  PS_TRY(run_step(seq, tokens, all_logits, &n_out, obs));
  ops_.read(scratch_.logits, static_cast<int64_t>(n_out) * model_.hp.n_vocab, logits);
  PS_TRY(ops_.status());
  seq.set_n_tokens(seq.n_tokens() + static_cast<int>(tokens.size()));
  return ok_status();
}

Status Context::decode_greedy(SequenceKv& seq, std::span<const int32_t> tokens, int32_t* next_token,
                              const Observer* obs) {
  int n_out = 0;
  PS_TRY(run_step(seq, tokens, false, &n_out, obs));
  ops_.read_argmax(scratch_.logits, 1, model_.hp.n_vocab, next_token);
  PS_TRY(ops_.status());
  if (*next_token < 0 || *next_token >= model_.hp.n_vocab)
    return make_error(ErrorKind::internal, "the device returned token id " + std::to_string(*next_token));
  seq.set_n_tokens(seq.n_tokens() + static_cast<int>(tokens.size()));
  return ok_status();
}

}  // namespace pensieve::model
