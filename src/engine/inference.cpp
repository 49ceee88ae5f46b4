// InferenceBackend: load / unload / info. The generation loop is in generate.cpp.
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

// llama.cpp's general.file_type names (enum llama_ftype), for variant().
std::string file_type_name(int64_t ft) {
  static const std::map<int64_t, std::string> names = {
      {0, "F32"},     {1, "F16"},     {2, "Q4_0"},    {3, "Q4_1"},    {7, "Q8_0"},    {8, "Q5_0"},
      {9, "Q5_1"},    {10, "Q2_K"},   {11, "Q3_K_S"}, {12, "Q3_K_M"}, {13, "Q3_K_L"}, {14, "Q4_K_S"},
      {15, "Q4_K_M"}, {16, "Q5_K_S"}, {17, "Q5_K_M"}, {18, "Q6_K"},   {32, "BF16"}};
  auto it = names.find(ft);
  return it == names.end() ? "" : it->second;
}

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
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit)
    if (key == "MemAvailable:") return kb * 1024;
  return 8LL << 30;
}

// The model's context length, halved until its KV cache fits a quarter of free memory
// (at most 8 GiB): the cache pages are only touched as the context fills, but a context the
// machine could never hold would fail late instead of early.
int choose_n_ctx(const model::HParams& h, backend::KvType t) {
  const int64_t budget = std::clamp<int64_t>(mem_available_bytes() / 4, 1LL << 30, 8LL << 30);
  int n = std::max(h.n_ctx_train, 256);
  while (n > 2048 && n * kv_bytes_per_token(h, t) > budget) n /= 2;
  return n;
}

}  // namespace

void InferenceBackend::Impl::reset() {
  seq.reset();
  context.reset();
  model.reset();
  ops.reset();
  tokenizer.reset();
  file.reset();
  seq_tokens = {};
  logits = {};
  dump.reset();
  kv_tokens = 0;
  kv_capacity = 0;
  info = {};
  variant.clear();
  device.clear();
  malloc_trim(0);  // hand freed heap pages back so RSS drops after unload
}

InferenceBackend::InferenceBackend() : impl_(std::make_unique<Impl>()) {}
InferenceBackend::~InferenceBackend() = default;

Status InferenceBackend::load(const LoadOptions& options) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  Impl& s = *impl_;
  s.reset();
  backend::KvType kv_type;
  if (options.kv_type == "f16") kv_type = backend::KvType::f16;
  else if (options.kv_type == "f32") kv_type = backend::KvType::f32;
  else return make_error(ErrorKind::invalid_request, "kv_type must be f16 or f32, not '" + options.kv_type + "'");
  if (options.n_ctx < 0 || options.n_ubatch <= 0 || options.threads < 0)
    return make_error(ErrorKind::invalid_request, "n_ctx, n_ubatch and threads must not be negative");

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
  auto ops = create_ops(options.device, options.threads, weight_bytes + weight_bytes / 10, &why);
  if (!ops) return fail(ops.error());
  if (!options.quiet) std::fprintf(stderr, "pensieve: %s\n", why.c_str());
  s.ops = std::move(*ops);
  s.device = s.ops->device();
  auto model = model::load_model(*s.file, *s.ops);
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

  model::ContextOptions co;
  co.n_ctx = options.n_ctx > 0 ? options.n_ctx : choose_n_ctx(h, kv_type);
  co.max_tokens = std::min(options.n_ubatch, co.n_ctx);
  co.max_outputs = 1;
  co.kv_type = kv_type;
  auto ctx = model::Context::create(*s.model, *s.ops, co);
  if (!ctx) {
    s.reset();
    return ctx.error();
  }
  s.context = std::move(*ctx);
  s.seq = std::make_unique<model::SequenceKv>(s.context->pool());
  s.kv_capacity = co.n_ctx;
  s.logits.resize(h.n_vocab);
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
  const std::string ft_name = ft ? file_type_name(*ft) : "";
  s.variant = h.arch + " " + (ft_name.empty() ? s.info.quant : ft_name);
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
KvUsage InferenceBackend::kv_usage() const { return KvUsage{impl_->kv_tokens.load(), impl_->kv_capacity.load()}; }

std::vector<token_id> InferenceBackend::tokenize(std::string_view text) const {
  return tokenizer().encode(text, /*add_special=*/true, /*parse_special=*/true);
}

Result<Generation> InferenceBackend::infer(const std::vector<token_id>& prompt, const GenerateOptions& options) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->generate(prompt, options, nullptr);
}

Result<Generation> InferenceBackend::infer(std::string_view prompt, const GenerateOptions& options) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (!impl_->loaded()) return make_error(ErrorKind::invalid_request, "no model is loaded");
  return impl_->generate(impl_->tokenizer->encode(prompt, true, true), options, nullptr);
}

Result<Generation> InferenceBackend::stream(const std::vector<token_id>& prompt, const GenerateOptions& options,
                                            const OnToken& on_token) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->generate(prompt, options, &on_token);
}

}  // namespace pensieve::engine
