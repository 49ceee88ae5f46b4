// The generation loop of one request: prefix reuse, chunked prefill, then sample / detokenize /
// stop-check / decode until a finish condition.
#include <algorithm>
#include <chrono>

#include "engine/backend_state.h"
#include "engine/sampler.h"
#include "engine/stop_strings.h"

namespace pensieve::engine {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

}  // namespace

Result<Generation> InferenceBackend::Impl::generate(const std::vector<token_id>& prompt,
                                                    const GenerateOptions& options, const OnToken* on_token) {
  if (!loaded()) return make_error(ErrorKind::invalid_request, "no model is loaded");
  const int n_ctx = context->options().n_ctx;
  const int n_prompt = static_cast<int>(prompt.size());
  if (n_prompt == 0) return make_error(ErrorKind::invalid_request, "the prompt is empty");
  if (n_prompt >= n_ctx)
    return make_error(ErrorKind::invalid_request, "the prompt has " + std::to_string(n_prompt) +
                                                      " tokens, more than the context of " + std::to_string(n_ctx) +
                                                      " tokens leaves room for");
  for (token_id t : prompt)
    if (t < 0 || t >= model->hp.n_vocab)
      return make_error(ErrorKind::invalid_request, "prompt token id " + std::to_string(t) + " is outside the vocabulary");

  const auto t_start = Clock::now();
  Generation gen;
  gen.n_prompt = n_prompt;

  // Prefix reuse: keep the KV of the longest common prefix with the previous tokens; at least
  // the last prompt token is run again, since its logits are needed.
  int n_cached = static_cast<int>(std::mismatch(seq_tokens.begin(), seq_tokens.end(), prompt.begin(), prompt.end()).first -
                                  seq_tokens.begin());
  n_cached = std::min(n_cached, n_prompt - 1);
  seq->truncate(n_cached);
  seq_tokens.resize(n_cached);
  kv_tokens = n_cached;
  gen.n_cached = n_cached;

  const model::Observer* obs = dump ? &*dump : nullptr;
  Sampler sampler(options.sampling);
  // Greedy without penalties: the argmax is taken on the device, and only the token comes back.
  const bool greedy = sampler.plain_argmax();
  token_id next = -1;
  auto step = [&](std::span<const int32_t> tokens) {
    Status st = greedy ? context->decode_greedy(*seq, tokens, &next, obs)
                       : context->decode(*seq, tokens, false, logits.data(), obs);
    kv_tokens = seq->n_tokens();  // unchanged when the step failed
    return st;
  };
  const int chunk = context->options().max_tokens;
  for (int pos = n_cached; pos < n_prompt; pos += chunk) {
    const int n = std::min(chunk, n_prompt - pos);
    const std::span<const int32_t> part(prompt.data() + pos, n);
    if (Status st = step(part); !st.ok()) return st.error();
    seq_tokens.insert(seq_tokens.end(), part.begin(), part.end());
  }
  gen.prefill_ms = ms_since(t_start);

  text::StreamDecoder decoder(*tokenizer, /*special=*/false, /*strip_leading_space=*/false);  // continues the prompt
  StopMatcher stop(options.stop);
  std::vector<token_id> history = prompt;
  const auto t_decode = Clock::now();
  auto emit = [&](const std::string& piece, token_id tok) {
    gen.text += piece;
    return on_token == nullptr || (*on_token)(piece, tok);
  };

  gen.finish = FinishReason::max_tokens;
  bool done = options.max_tokens == 0;
  while (!done) {
    const token_id tok = greedy ? next : sampler.sample(logits, history);
    if (gen.tokens.empty()) gen.ttft_ms = ms_since(t_start);
    if (!options.ignore_eos && tokenizer->is_eog(tok)) {
      gen.finish = FinishReason::eos;
      break;
    }
    gen.tokens.push_back(tok);
    history.push_back(tok);
    const std::string piece = stop.push(decoder.push(tok));
    if (!emit(piece, tok)) {
      gen.finish = FinishReason::cancelled;
      break;
    }
    if (stop.stopped()) {
      gen.finish = FinishReason::stop_string;
      gen.stop_string = stop.matched();
      break;
    }
    if (options.max_tokens > 0 && static_cast<int>(gen.tokens.size()) >= options.max_tokens) break;
    if (options.should_stop && options.should_stop()) {
      gen.finish = FinishReason::cancelled;
      break;
    }
    if (seq->n_tokens() + 1 > n_ctx) {  // no room to run the token just sampled
      gen.finish = FinishReason::context_full;
      break;
    }
    const int32_t one[1] = {tok};
    if (Status st = step(one); !st.ok()) return st.error();
    seq_tokens.push_back(tok);
  }
  // Whatever the decoder or the stop matcher still holds belongs to the output, unless a stop
  // string ended it or the consumer cancelled.
  if (gen.finish != FinishReason::stop_string && gen.finish != FinishReason::cancelled) {
    std::string rest = stop.push(decoder.flush());
    if (!stop.stopped()) rest += stop.flush();
    else gen.finish = FinishReason::stop_string, gen.stop_string = stop.matched();
    if (!rest.empty()) emit(rest, gen.tokens.empty() ? -1 : gen.tokens.back());
  }
  gen.n_generated = static_cast<int>(gen.tokens.size());
  gen.decode_ms = ms_since(t_decode);
  if (gen.ttft_ms == 0) gen.ttft_ms = ms_since(t_start);
  return gen;
}

}  // namespace pensieve::engine
