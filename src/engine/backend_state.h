// The private state behind InferenceBackend (inference.cpp: load/unload; generate.cpp: the
// generation loop). One sequence is kept between requests so a prompt that shares a prefix
// with the previous request's tokens reuses their KV (prefix reuse, n_cached).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "backend/ops.h"
#include "engine/inference.h"
#include "gguf/gguf.h"
#include "model/context.h"
#include "model/model.h"

namespace pensieve::engine {

struct InferenceBackend::Impl {
  std::mutex mutex;  // one generation (or load/unload) at a time
  LoadOptions options;
  ModelInfo info;
  std::string variant;
  std::string device;

  // Destroyed in reverse order: the context uses ops + model, the model views the file.
  std::unique_ptr<GgufFile> file;
  std::shared_ptr<const text::Tokenizer> tokenizer;
  std::unique_ptr<backend::Ops> ops;
  std::unique_ptr<model::Model> model;
  std::unique_ptr<model::Context> context;
  std::unique_ptr<model::SequenceKv> seq;
  std::vector<token_id> seq_tokens;  // tokens whose K/V is in `seq`, position order
  std::vector<float> logits;
  std::optional<model::Observer> dump;  // PENSIEVE_DUMP
  std::atomic<int64_t> kv_tokens{0}, kv_capacity{0};  // kv_usage(), read without the mutex

  bool loaded() const { return context != nullptr; }
  void reset();
  Result<Generation> generate(const std::vector<token_id>& prompt, const GenerateOptions& options,
                              const OnToken* on_token);
};

}  // namespace pensieve::engine
