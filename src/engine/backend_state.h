// The private state behind InferenceBackend (inference.cpp: load/unload and the callers' side;
// engine_loop.cpp: the engine thread). Callers of infer()/stream() hand their request to the
// one engine thread and wait on its RequestChannel; the engine thread batches every running
// request into each forward step (scheduler.h) over one paged KV cache whose full blocks are
// shared between requests with a common prefix (prefix_cache.h).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "backend/ops.h"
#include "engine/inference.h"
#include "engine/sampler.h"
#include "engine/scheduler.h"
#include "engine/stop_strings.h"
#include "gguf/gguf.h"
#include "grammar/token_masks.h"
#include "model/context.h"
#include "model/model.h"

namespace pensieve::engine {

using Clock = std::chrono::steady_clock;

// Between one caller and the engine thread: the pieces of text as they are generated, then the
// result; `cancel` asks the engine to end the request.
struct RequestChannel {
  struct Piece {
    std::string text;
    token_id token;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Piece> pieces;
  std::optional<Result<Generation>> result;
  std::atomic<bool> cancel{false};

  void push(std::string text, token_id token);
  void finish(Result<Generation> r);
};

struct PendingRequest {
  std::vector<token_id> prompt;
  GenerateOptions options;
  std::shared_ptr<RequestChannel> channel;
  Clock::time_point t_submit;
};

// A request inside the engine: what the scheduler tracks (SchedSeq) plus its own sampler
// (seed), stop strings, stream decoder, result so far and the channel to its caller.
struct Sequence : SchedSeq {
  Sequence(model::BlockPool& pool, const text::Tokenizer& tok, PendingRequest&& r)
      : SchedSeq(pool),
        options(std::move(r.options)),
        channel(std::move(r.channel)),
        sampler(options.sampling),
        decoder(tok, /*special=*/false, /*strip_leading_space=*/false),  // continues the prompt
        stop(options.stop),
        t_submit(r.t_submit) {
    tokens = std::move(r.prompt);
    n_prompt = static_cast<int>(tokens.size());
    greedy = sampler.plain_argmax();
  }
  GenerateOptions options;
  std::shared_ptr<RequestChannel> channel;
  Sampler sampler;
  text::StreamDecoder decoder;
  StopMatcher stop;
  Generation gen;
  Clock::time_point t_submit, t_decode;
  bool greedy = false;
  bool prefilled = false;
  // Constrained decoding (options.grammar): this sequence's place in the grammar, whether it
  // applies now (a lazy grammar waits for a trigger) and the recent output bytes a trigger is
  // looked for in.
  std::optional<grammar::Matcher> matcher;
  bool grammar_active = false;
  std::string trigger_tail;
  // Greedy sampling under a grammar: while the grammar is active its token mask goes to the
  // device's argmax (Context::step's `allowed`), so the logits stay where they are.
  bool greedy_grammar = false;
};


// Counters the engine thread updates and anyone may read without a lock.
struct LiveStats {
  std::atomic<int> running{0}, waiting{0};
  std::atomic<int64_t> steps{0}, step_tokens{0}, step_seqs{0}, preemptions{0}, prefix_hit_tokens{0};
  std::atomic<int64_t> blocks_used{0}, blocks_cached{0}, blocks_total{0}, block_size{0};
  std::atomic<int64_t> forward_ns{0}, host_ns{0};  // engine time in forward passes / around them
  std::array<std::atomic<int64_t>, kBatchBuckets> batch_hist{};  // sequences per step
  void reset();
};

// Embedding work for the engine thread (embedding.cpp).
struct EmbedJob {
  const std::vector<std::vector<token_id>>* inputs = nullptr;
  std::promise<Result<std::vector<std::vector<float>>>> done;
};

struct InferenceBackend::Impl {
  std::mutex mutex;  // load / unload against submissions
  LoadOptions options;
  ModelInfo info;
  std::string variant;
  std::string device;
  int n_parallel = 0;

  // Destroyed in reverse order: the context uses ops + model, the model views the file.
  std::unique_ptr<GgufFile> file;
  std::shared_ptr<const text::Tokenizer> tokenizer;
  std::unique_ptr<backend::Ops> ops;
  std::unique_ptr<model::Model> model;
  std::unique_ptr<model::Context> context;
  std::optional<model::Observer> dump;  // PENSIEVE_DUMP

  // The engine thread and what only it touches.
  std::thread engine;
  std::mutex inbox_mu;
  std::condition_variable inbox_cv;
  std::vector<PendingRequest> inbox;
  std::vector<EmbedJob*> embed_inbox;
  bool stopping = false;
  std::unique_ptr<Scheduler> scheduler;
  std::vector<std::unique_ptr<Sequence>> sequences;
  std::vector<float> logits;     // [rows][n_vocab] of the last step
  std::vector<int32_t> argmaxes;  // [rows]
  LiveStats live;
  // Grammars bound to this model's vocabulary (engine thread; built on first use), most
  // recently used last. The server caches compiled grammars per schema, so the same Grammar
  // object comes back for the same schema and its token tables are reused.
  std::shared_ptr<const grammar::TokenVocab> grammar_vocab;
  std::vector<std::pair<std::shared_ptr<const grammar::Grammar>, std::shared_ptr<grammar::TokenGrammar>>> grammars;
  std::vector<uint64_t> mask_words;
  std::vector<uint64_t> step_allowed;  // [rows][allowed_words(n_vocab)] of the step being run
  std::vector<char> row_on_host;       // [rows]: sampled on the host from its logits

  bool loaded() const { return context != nullptr; }
  void reset();
  void start_engine();
  void stop_engine();
  // Checks a request and hands it to the engine thread (caller side, under `mutex`).
  Result<std::shared_ptr<RequestChannel>> submit(const std::vector<token_id>& prompt, const GenerateOptions& options);
  // Submits and waits, calling on_token on the caller's thread.
  Result<Generation> run(const std::vector<token_id>& prompt, const GenerateOptions& options, const OnToken* on_token);

  // ---- engine thread (engine_loop.cpp) ----
  void engine_loop();
  bool step_once();  // one scheduled forward step; false when there was nothing to run
  void admit(PendingRequest&& r);
  void accept(Sequence& s, token_id tok);
  // ---- constrained decoding (engine_grammar.cpp) ----
  std::shared_ptr<grammar::TokenGrammar> token_grammar(const std::shared_ptr<const grammar::Grammar>& g);
  // Masks the row's logits to what the grammar allows, samples, and keeps the output
  // finishable within the sequence's remaining token budget. An error when nothing is allowed.
  // `unfit`: a token already drawn (by the device's masked argmax) that does not fit the budget:
  // the first draw is skipped.
  Result<token_id> sample_constrained(Sequence& s, std::span<float> row_logits, token_id unfit = -1);
  // The grammar's mask for the sequence's next token into `words` (n_words of the vocabulary;
  // the end-of-generation tokens cleared under ignore_eos); false when nothing is allowed.
  bool fill_token_mask(Sequence& s, uint64_t* words);
  // Whether a grammar-allowed token keeps the output finishable within the token budget.
  bool fits_budget(Sequence& s, token_id tok);
  // A greedy row under an active grammar: its mask goes with the step to the device's argmax.
  static bool grammar_on_device(const Sequence& s) { return s.greedy_grammar && s.grammar_active; }
  // A row whose token the device's argmax gives (greedy; under a grammar, over its mask).
  static bool device_argmax(const Sequence& s) { return s.greedy || grammar_on_device(s); }
  int64_t token_budget(const Sequence& s) const;
  // Advances the grammar with an accepted (non-EOG) token; true when the grammar is complete
  // and the generation must end.
  bool advance_grammar(Sequence& s, token_id tok);
  // A lazy grammar not started yet: rules out the tokens that would write a trigger followed
  // by bytes the grammar does not allow (the grammar could not start at that trigger).
  void mask_bad_triggers(Sequence& s, std::span<float> row_logits);
  void finish(Sequence& s, std::optional<Error> error = std::nullopt);
  void publish_stats();
  Result<std::vector<std::vector<float>>> run_embeddings(const std::vector<std::vector<token_id>>& inputs);
};

}  // namespace pensieve::engine
