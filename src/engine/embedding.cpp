// Embeddings on the engine thread: inputs packed into forward steps that return hidden states
// (model::Context::hidden_states), mean-pooled per input and L2-normalised.
#include <cmath>

#include "engine/backend_state.h"

namespace pensieve::engine {

Result<std::vector<std::vector<float>>> InferenceBackend::Impl::run_embeddings(
    const std::vector<std::vector<token_id>>& inputs) {
  const int n_embd = model->hp.n_embd;
  const int n_ctx = context->options().n_ctx;
  const int max_tokens = context->options().max_step_tokens;
  const int max_parts = context->options().max_outputs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto& in = inputs[i];
    if (in.empty()) return make_error(ErrorKind::invalid_request, "input " + std::to_string(i) + " has no tokens");
    if (static_cast<int>(in.size()) > n_ctx)
      return make_error(ErrorKind::invalid_request, "input " + std::to_string(i) + " has " + std::to_string(in.size()) +
                                                        " tokens, more than the context of " + std::to_string(n_ctx));
    for (token_id t : in)
      if (t < 0 || t >= model->hp.n_vocab)
        return make_error(ErrorKind::invalid_request, "token id " + std::to_string(t) + " is outside the vocabulary");
  }
  const size_t n = inputs.size();
  std::vector<std::vector<double>> sums(n, std::vector<double>(n_embd, 0.0));
  std::vector<int> done(n, 0);
  std::vector<std::unique_ptr<model::SequenceKv>> kv(n);
  std::vector<float> rows;
  size_t first = 0;  // inputs before this one are finished
  while (first < n) {
    // One step: the next chunk of each unfinished input, in order, while tokens and parts last.
    std::vector<model::SeqStep> parts;
    std::vector<size_t> owner;
    int budget = max_tokens;
    for (size_t i = first; i < n && budget > 0 && static_cast<int>(parts.size()) < max_parts; ++i) {
      const int left = static_cast<int>(inputs[i].size()) - done[i];
      if (left == 0) continue;
      const int take = std::min(left, budget);
      if (!kv[i]) kv[i] = std::make_unique<model::SequenceKv>(context->pool());
      parts.push_back(model::SeqStep{kv[i].get(), std::span<const int32_t>(inputs[i].data() + done[i], take), 1});
      owner.push_back(i);
      budget -= take;
    }
    const int n_tokens = max_tokens - budget;
    rows.resize(static_cast<size_t>(n_tokens) * n_embd);
    Status st = context->hidden_states(parts, rows.data());
    if (!st.ok()) return st.error();
    size_t row = 0;
    for (size_t p = 0; p < parts.size(); ++p) {
      const size_t i = owner[p];
      auto& sum = sums[i];
      for (size_t t = 0; t < parts[p].tokens.size(); ++t, ++row) {
        const float* r = rows.data() + row * n_embd;
        for (int d = 0; d < n_embd; ++d) sum[d] += r[d];
      }
      done[i] += static_cast<int>(parts[p].tokens.size());
      if (done[i] == static_cast<int>(inputs[i].size())) kv[i].reset();  // its KV blocks go back at once
    }
    while (first < n && done[first] == static_cast<int>(inputs[first].size())) ++first;
  }
  std::vector<std::vector<float>> out(n, std::vector<float>(n_embd));
  for (size_t i = 0; i < n; ++i) {
    double norm = 0;
    for (int d = 0; d < n_embd; ++d) {
      const double mean = sums[i][d] / static_cast<double>(inputs[i].size());
      sums[i][d] = mean;
      norm += mean * mean;
    }
    norm = std::sqrt(norm);
    for (int d = 0; d < n_embd; ++d) out[i][d] = static_cast<float>(norm > 0 ? sums[i][d] / norm : 0.0);
  }
  return out;
}

Result<std::vector<std::vector<float>>> InferenceBackend::embed(const std::vector<std::vector<token_id>>& inputs) {
  if (inputs.empty()) return std::vector<std::vector<float>>{};
  EmbedJob job;
  job.inputs = &inputs;
  auto result = job.done.get_future();
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (!impl_->loaded()) return make_error(ErrorKind::invalid_request, "no model is loaded");
    std::lock_guard<std::mutex> inbox_lock(impl_->inbox_mu);
    if (impl_->stopping) return make_error(ErrorKind::cancelled, "the model is being unloaded");
    impl_->embed_inbox.push_back(&job);
  }
  impl_->inbox_cv.notify_one();
  return result.get();
}

int InferenceBackend::n_embd() const { return impl_->model ? impl_->model->hp.n_embd : 0; }

}  // namespace pensieve::engine
