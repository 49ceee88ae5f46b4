// InferenceBackend: load / unload / info, and the callers' side of a generation (submit, then
// wait for pieces and the result). The engine thread is in engine_loop.cpp.
#include <cstdio>
#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>

#include "engine/backend_state.h"
#include "engine/device.h"
#include "gguf/keys.h"
#include "util/thread_pool.h"

namespace pensieve::engine {

std::string_view finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::eos: return "eos";
    case FinishReason::stop_string: return "stop_string";
    case FinishReason::max_tokens: return "max_tokens";
    case FinishReason::context_full: return "context_full";
    case FinishReason::cancelled: return "cancelled";
  }
  return "unknown";
}

namespace {

// The weight type holding the most bytes among the matrices, upper-cased ("Q4_K").
std::string dominant_type(const GgufFile& f, int64_t* n_params) {
  std::map<GgmlType, uint64_t> bytes;
  *n_params = 0;
  for (const GgufTensorInfo& t : f.tensors()) {
    *n_params += static_cast<int64_t>(t.n_elements);
    if (t.ne.size() >= 2) bytes[t.type] += t.n_bytes;
  }
  GgmlType best = GgmlType::F32;
  uint64_t most = 0;
  for (auto [type, b] : bytes)
    if (b > most) most = b, best = type;
  std::string name(ggml_type_name(best));
  std::transform(name.begin(), name.end(), name.begin(), ::toupper);
  return name;
}

// KV bytes per token of context (K and V, all layers).
int64_t kv_bytes_per_token(const model::HParams& h, backend::KvType t) {
  return 2LL * h.n_layer * h.n_head_kv * h.head_dim * backend::kv_type_bytes(t);
}

int64_t mem_available_bytes() {
  const int64_t b = host_available_bytes();
  return b >= 0 ? b : 8LL << 30;
}

// What the host KV pool may take: a quarter of free memory, 1-8 GiB (its pages are only touched
// as sequences fill, but a pool the machine could never hold would fail late instead of early).
int64_t host_kv_budget() { return std::clamp<int64_t>(mem_available_bytes() / 4, 1LL << 30, 8LL << 30); }

// Without an explicit n_ctx: the model's context length, at most `cap` tokens (for a terminal
// session a 128k-context model would otherwise reserve memory and time for a context nobody asked
// for), halved until one sequence's KV cache fits the host budget.
int choose_n_ctx(const model::HParams& h, backend::KvType t, int cap) {
  int n = std::max(h.n_ctx_train, 256);
  if (cap > 0) n = std::min(n, cap);
  while (n > 2048 && int64_t(n) * kv_bytes_per_token(h, t) > host_kv_budget()) n /= 2;
  return n;
}

constexpr int kBlockSize = 16;  // tokens per KV block: the unit of paging and prefix sharing

// Blocks in the KV pool: --kv-budget when given; else n_ctx x n_parallel tokens' worth, capped by
// what the device can hold (a GPU: its free memory after the weights, keeping room for
// activations; the CPU: the host budget), but never below one whole sequence. Sequences share the
// pool, so long contexts stay available when few requests are long.
int choose_n_blocks(const LoadOptions& o, const model::HParams& h, backend::KvType t, int n_ctx, int n_parallel,
                    const backend::Ops& ops) {
  const int64_t per_block = kv_bytes_per_token(h, t) * kBlockSize;
  const int64_t per_seq = (n_ctx + kBlockSize - 1) / kBlockSize;
  if (o.kv_budget_mb > 0) return static_cast<int>(std::max<int64_t>(1, (o.kv_budget_mb << 20) / per_block));
  int64_t n = per_seq * n_parallel;
  if (const int64_t free = ops.free_memory_bytes(); free > 0 && ops.device() != "cpu") {
    const int64_t usable = free - free / 10 - (1LL << 30);
    n = std::min(n, std::max<int64_t>(per_seq, usable / per_block));
  } else if (ops.device() == "cpu") {
    n = std::min(n, std::max<int64_t>(per_seq, host_kv_budget() / per_block));
  }
  return static_cast<int>(std::min<int64_t>(n, 1 << 30));
}

}  // namespace

void InferenceBackend::Impl::start_engine() {
  stopping = false;
  engine = std::thread([this] { engine_loop(); });
}

void InferenceBackend::Impl::stop_engine() {
  if (!engine.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(inbox_mu);
    stopping = true;
  }
  inbox_cv.notify_all();
  engine.join();
}

void InferenceBackend::Impl::reset() {
  stop_engine();
  sequences.clear();
  scheduler.reset();
  context.reset();
  model.reset();
  ops.reset();
  tokenizer.reset();
  file.reset();
  logits = {};
  grammar_vocab.reset();
  grammars.clear();
  argmaxes = {};
  dump.reset();
  live.reset();
  n_parallel = 0;
  info = {};
  variant.clear();
  device.clear();
  malloc_trim(0);  // hand freed heap pages back so RSS drops after unload
}

InferenceBackend::InferenceBackend() : impl_(std::make_unique<Impl>()) {}
InferenceBackend::~InferenceBackend() { impl_->stop_engine(); }

// One pass over each kind of step the engine runs (a prompt part long enough for the big-matmul
// path, one and two decode tokens, logits read back, a token-masked argmax) on throwaway sequences
// before the first request: a device loads its kernels and picks its library routines on first
// use, which would otherwise land on the first requests' latency (tens of milliseconds each).
static void warm_up(model::Context& ctx) {
  model::SequenceKv a(ctx.pool()), b(ctx.pool());
  const int n_prompt = std::min({96, ctx.options().max_step_tokens - 1, ctx.options().n_ctx - 4});
  if (n_prompt < 2 || ctx.options().max_outputs < 2) return;
  const std::vector<int32_t> tokens(static_cast<size_t>(n_prompt), 0);
  const std::span<const int32_t> one(tokens.data(), 1);
  std::vector<float> logits(static_cast<size_t>(ctx.n_vocab()));
  std::vector<uint64_t> allowed(2 * static_cast<size_t>(backend::allowed_words(ctx.n_vocab())), ~uint64_t(0));
  int32_t next[2] = {0, 0};
  const model::SeqStep prompt[] = {{&a, tokens, 1}, {&b, one, 1}};
  const model::SeqStep decode[] = {{&a, one, 1}, {&b, one, 1}};
  // Failures are the first request's to report: this only runs what it will run.
  (void)ctx.step(prompt, nullptr, next);
  (void)ctx.step(std::span<const model::SeqStep>(decode, 1), nullptr, next);
  (void)ctx.step(decode, nullptr, next);
  (void)ctx.step(std::span<const model::SeqStep>(decode, 1), logits.data(), nullptr);
  const backend::MaskSource masks = [&] { return allowed.data(); };
  (void)ctx.step(decode, nullptr, next, nullptr, &masks);
}

Status InferenceBackend::load(const LoadOptions& options) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  Impl& s = *impl_;
  s.reset();
  backend::KvType kv_type;
  if (options.kv_type == "f16") kv_type = backend::KvType::f16;
  else if (options.kv_type == "f32") kv_type = backend::KvType::f32;
  else return make_error(ErrorKind::invalid_request, "kv_type must be f16 or f32, not '" + options.kv_type + "'");
  if (options.n_ctx < 0 || options.threads < 0 || options.n_parallel < 0 || options.kv_budget_mb < 0)
    return make_error(ErrorKind::invalid_request, "n_ctx, threads, n_parallel and kv_budget must not be negative");
  if (options.n_ubatch <= 0) return make_error(ErrorKind::invalid_request, "n_ubatch must be positive");

  auto file = GgufFile::open(options.model_path);
  if (!file) return make_error(ErrorKind::model_load_failed, file.error().message);
  s.file = std::move(*file);
  // The tokenizer (~0.1 s for a 150k-token vocabulary) is built on another thread while the
  // device starts and the weights load: both only read the immutable file. Every exit below
  // waits for it before the file can go away.
  auto tok_future = std::async(std::launch::async, [f = s.file.get()] { return text::Tokenizer::from_gguf(*f); });
  auto fail = [&](Error e) {
    tok_future.wait();
    s.reset();
    return e;
  };
  // Weights plus a KV cache of the requested (or a 4096-token) context, plus 10 % headroom.
  const int64_t weight_bytes = static_cast<int64_t>(s.file->file_size());
  std::string why;
  auto ops = create_ops(options.device, options.threads, weight_bytes + weight_bytes / 10, &why, options.batch_invariant);
  if (!ops) return fail(ops.error());
  if (!options.quiet) std::fprintf(stderr, "pensieve: %s\n", why.c_str());
  s.ops = std::move(*ops);
  s.device = s.ops->device();
  auto model = model::load_model(*s.file, *s.ops, options.on_progress);
  if (!model) return fail(model.error());
  s.model = std::move(*model);
  auto tok = tok_future.get();
  if (!tok) return fail(make_error(ErrorKind::model_load_failed, options.model_path + ": " + tok.error().message));
  s.tokenizer = *tok;
  const model::HParams& h = s.model->hp;
  if (s.tokenizer->n_vocab() > h.n_vocab) {
    const std::string msg = options.model_path + ": the vocabulary has " + std::to_string(s.tokenizer->n_vocab()) +
                            " tokens but the embeddings only " + std::to_string(h.n_vocab);
    s.reset();
    return make_error(ErrorKind::model_load_failed, msg);
  }

  const int n_parallel = options.n_parallel > 0 ? options.n_parallel : (s.device == "cpu" ? 4 : 32);
  model::ContextOptions co;
  co.n_ctx = options.n_ctx > 0 ? options.n_ctx : choose_n_ctx(h, kv_type, options.default_ctx_cap);
  // A step holds one token of every running sequence plus a prefill chunk.
  co.max_step_tokens = std::max(std::min(options.n_ubatch, co.n_ctx), n_parallel);
  co.max_outputs = n_parallel;
  co.block_size = kBlockSize;
  co.kv_type = kv_type;
  co.n_blocks = choose_n_blocks(options, h, kv_type, co.n_ctx, n_parallel, *s.ops);
  auto ctx = model::Context::create(*s.model, *s.ops, co);
  if (!ctx) {
    s.reset();
    return ctx.error();
  }
  s.context = std::move(*ctx);
  if (s.device != "cpu") warm_up(*s.context);
  s.n_parallel = n_parallel;
  s.scheduler = std::make_unique<Scheduler>(s.context->pool(), SchedulerOptions{n_parallel, co.max_step_tokens});
  if (const char* dir = std::getenv("PENSIEVE_DUMP"); dir && *dir) s.dump = model::dump_observer(dir);

  s.options = options;
  s.info.architecture = h.arch;
  auto name = s.file->get_string(keys::kName);
  s.info.name = name && !name->empty() ? std::string(*name) : std::filesystem::path(options.model_path).filename().string();
  s.info.quant = dominant_type(*s.file, &s.info.n_params);
  s.info.n_ctx = co.n_ctx;
  s.info.n_ctx_train = h.n_ctx_train;
  auto tmpl = s.file->get_string(keys::kTokenizerChatTemplate);
  s.info.chat_template = tmpl ? std::string(*tmpl) : std::string(text::chatml_template());
  const auto ft = s.file->get_int(keys::kFileType);
  const std::string ft_name = ft ? keys::file_type_name(*ft) : "";
  s.variant = h.arch + " " + (ft_name.empty() ? s.info.quant : ft_name);
  s.publish_stats();
  s.start_engine();
  return ok_status();
}

void InferenceBackend::unload() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->reset();
}

bool InferenceBackend::loaded() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->loaded();
}

const ModelInfo& InferenceBackend::info() const { return impl_->info; }
const text::Tokenizer& InferenceBackend::tokenizer() const {
  PS_ASSERT(impl_->tokenizer != nullptr, "tokenizer() before load()");
  return *impl_->tokenizer;
}
std::string InferenceBackend::variant() const { return impl_->variant; }
std::string InferenceBackend::device() const { return impl_->device; }
KvUsage InferenceBackend::kv_usage() const {
  const LiveStats& l = impl_->live;
  return KvUsage{(l.blocks_used.load() + l.blocks_cached.load()) * l.block_size.load(),
                 l.blocks_total.load() * l.block_size.load()};
}

EngineStats InferenceBackend::stats() const {
  const LiveStats& l = impl_->live;
  EngineStats e;
  e.running = l.running;
  e.waiting = l.waiting;
  e.steps = l.steps;
  e.step_tokens = l.step_tokens;
  e.step_seqs = l.step_seqs;
  e.preemptions = l.preemptions;
  e.prefix_hit_tokens = l.prefix_hit_tokens;
  e.forward_seconds = static_cast<double>(l.forward_ns) * 1e-9;
  e.host_seconds = static_cast<double>(l.host_ns) * 1e-9;
  e.blocks_used = l.blocks_used;
  e.blocks_cached = l.blocks_cached;
  e.blocks_total = l.blocks_total;
  e.block_size = l.block_size;
  for (int i = 0; i < kBatchBuckets; ++i) e.batch_hist[i] = l.batch_hist[i];
  return e;
}

int InferenceBackend::n_parallel() const { return impl_->n_parallel; }

std::vector<token_id> InferenceBackend::tokenize(std::string_view text) const {
  return tokenizer().encode(text, /*add_special=*/true, /*parse_special=*/true);
}

Result<std::shared_ptr<RequestChannel>> InferenceBackend::Impl::submit(const std::vector<token_id>& prompt,
                                                                      const GenerateOptions& options) {
  if (!loaded()) return make_error(ErrorKind::invalid_request, "no model is loaded");
  const int n_ctx = context->options().n_ctx;
  const int n_prompt = static_cast<int>(prompt.size());
  if (n_prompt == 0) return make_error(ErrorKind::invalid_request, "the prompt is empty");
  if (n_prompt >= n_ctx)
    return make_error(ErrorKind::invalid_request, "the prompt has " + std::to_string(n_prompt) +
                                                      " tokens, more than the context of " + std::to_string(n_ctx) +
                                                      " tokens leaves room for");
  const model::BlockPool& pool = context->pool();
  if (int64_t(n_prompt) + 1 > int64_t(pool.n_blocks()) * pool.block_size())
    return make_error(ErrorKind::invalid_request,
                      "the prompt has " + std::to_string(n_prompt) + " tokens, more than the KV cache of " +
                          std::to_string(int64_t(pool.n_blocks()) * pool.block_size()) + " tokens can hold");
  for (token_id t : prompt)
    if (t < 0 || t >= model->hp.n_vocab)
      return make_error(ErrorKind::invalid_request, "prompt token id " + std::to_string(t) + " is outside the vocabulary");
  auto channel = std::make_shared<RequestChannel>();
  {
    std::lock_guard<std::mutex> lock(inbox_mu);
    if (stopping) return make_error(ErrorKind::cancelled, "the model is being unloaded");
    inbox.push_back(PendingRequest{prompt, options, channel, Clock::now()});
  }
  inbox_cv.notify_one();
  return channel;
}

Result<Generation> InferenceBackend::Impl::run(const std::vector<token_id>& prompt, const GenerateOptions& options,
                                               const OnToken* on_token) {
  std::shared_ptr<RequestChannel> ch;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto r = submit(prompt, options);
    if (!r) return r.error();
    ch = std::move(*r);
  }
  // The consumer's callback runs here, on the caller's thread, so a slow consumer never holds
  // up the engine. When it says stop, the result is cut to what it was given (as if the
  // generation had ended there), whatever the engine ran meanwhile.
  std::deque<RequestChannel::Piece> batch;
  int delivered = 0;             // pieces given to on_token
  size_t delivered_bytes = 0;    // their text: a prefix of the result's text, which joins all pieces
  bool consumer_stopped = false;
  for (;;) {
    std::optional<Result<Generation>> result;
    {
      std::unique_lock<std::mutex> lock(ch->mu);
      ch->cv.wait_for(lock, std::chrono::milliseconds(10), [&] { return !ch->pieces.empty() || ch->result; });
      batch.swap(ch->pieces);
      if (ch->result && batch.empty()) result = std::move(ch->result);
    }
    for (RequestChannel::Piece& p : batch) {
      if (consumer_stopped) break;
      ++delivered;
      delivered_bytes += p.text.size();
      bool keep_going = true;
      try {
        keep_going = on_token == nullptr || (*on_token)(p.text, p.token);
      } catch (...) {
        ch->cancel = true;  // the engine stops this request; the caller gets the exception
        throw;
      }
      if (!keep_going) {
        consumer_stopped = true;
        ch->cancel = true;
      }
    }
    batch.clear();
    if (!consumer_stopped && options.should_stop && options.should_stop()) ch->cancel = true;
    if (!result) continue;
    if (!result->ok() || !consumer_stopped) return std::move(*result);
    Generation g = std::move(result->value());
    g.finish = FinishReason::cancelled;
    g.stop_string.clear();
    if (static_cast<int>(g.tokens.size()) > delivered) g.tokens.resize(delivered);
    g.n_generated = static_cast<int>(g.tokens.size());
    g.text.resize(std::min(g.text.size(), delivered_bytes));
    return g;
  }
}

Result<Generation> InferenceBackend::infer(const std::vector<token_id>& prompt, const GenerateOptions& options) {
  return impl_->run(prompt, options, nullptr);
}

Result<Generation> InferenceBackend::infer(std::string_view prompt, const GenerateOptions& options) {
  std::vector<token_id> tokens;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (!impl_->loaded()) return make_error(ErrorKind::invalid_request, "no model is loaded");
    tokens = impl_->tokenizer->encode(prompt, true, true);
  }
  return impl_->run(tokens, options, nullptr);
}

Result<Generation> InferenceBackend::stream(const std::vector<token_id>& prompt, const GenerateOptions& options,
                                            const OnToken& on_token) {
  return impl_->run(prompt, options, &on_token);
}

}  // namespace pensieve::engine
