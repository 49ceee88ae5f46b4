// Helpers of the model tests: load a GGUF on the CPU ops and run token ids through it, and
// read the fixture files (ids, logits).
#pragma once

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "gguf/gguf.h"
#include "model/context.h"
#include "model/model.h"
#include "test_util.h"

namespace pensieve::testing {

struct LoadedModel {
  std::unique_ptr<GgufFile> file;
  std::unique_ptr<backend::Ops> ops;
  std::unique_ptr<model::Model> model;
  std::unique_ptr<model::Context> ctx;
  std::unique_ptr<model::SequenceKv> seq;

  int n_vocab() const { return model->hp.n_vocab; }
  // Runs `tokens` as one step; returns logits of every token (all) or of the last one.
  std::vector<float> run(const std::vector<int32_t>& tokens, bool all = false) {
    std::vector<float> logits((all ? tokens.size() : 1) * n_vocab());
    Status st = ctx->decode(*seq, tokens, all, logits.data());
    EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message);
    return logits;
  }
};

// Loads `path` on the given op set (CPU or a device) with a fresh context and sequence.
inline std::unique_ptr<LoadedModel> load_with_ops(const std::string& path, std::unique_ptr<backend::Ops> ops,
                                                  backend::KvType kv, int max_outputs = 32, int n_ctx = 512,
                                                  int max_tokens = 64) {
  auto lm = std::make_unique<LoadedModel>();
  auto file = GgufFile::open(path);
  if (!file.ok()) {
    ADD_FAILURE() << file.error().message;
    return nullptr;
  }
  lm->file = std::move(*file);
  lm->ops = std::move(ops);
  auto m = model::load_model(*lm->file, *lm->ops);
  if (!m.ok()) {
    ADD_FAILURE() << m.error().message;
    return nullptr;
  }
  lm->model = std::move(*m);
  model::ContextOptions co;
  co.n_ctx = n_ctx;
  co.max_step_tokens = max_tokens;
  co.max_outputs = max_outputs;
  co.kv_type = kv;
  auto ctx = model::Context::create(*lm->model, *lm->ops, co);
  if (!ctx.ok()) {
    ADD_FAILURE() << ctx.error().message;
    return nullptr;
  }
  lm->ctx = std::move(*ctx);
  lm->seq = std::make_unique<model::SequenceKv>(lm->ctx->pool());
  return lm;
}

inline std::unique_ptr<LoadedModel> load_for_test(const std::string& path, backend::KvType kv = backend::KvType::f32,
                                                  int threads = 1, int max_outputs = 32, int n_ctx = 512,
                                                  int max_tokens = 64) {
  return load_with_ops(path, cpu::make_cpu_ops(threads), kv, max_outputs, n_ctx, max_tokens);
}

inline std::vector<int32_t> parse_ids(const std::string& line) {
  std::istringstream in(line);
  std::vector<int32_t> ids;
  std::string word;
  while (in >> word)
    if (!word.empty() && (isdigit(static_cast<unsigned char>(word[0])) || word[0] == '-')) ids.push_back(std::stoi(word));
  return ids;
}

inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

// A logits file: per non-comment line "pos input argmax l0 l1 ...".
struct LogitsRow {
  int pos = 0, input = 0, argmax = 0;
  std::vector<float> logits;
};
inline std::vector<LogitsRow> read_logits(const std::string& path) {
  std::vector<LogitsRow> rows;
  for (const std::string& line : read_lines(path)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream in(line);
    LogitsRow r;
    in >> r.pos >> r.input >> r.argmax;
    float v;
    while (in >> v) r.logits.push_back(v);
    rows.push_back(std::move(r));
  }
  return rows;
}

inline int argmax(const float* x, int n) {
  int best = 0;
  for (int i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;
  return best;
}

// Greedy generation of n tokens after prefilling `prompt` (as one step).
inline std::vector<int32_t> greedy(LoadedModel& lm, const std::vector<int32_t>& prompt, int n) {
  std::vector<int32_t> out;
  std::vector<float> logits = lm.run(prompt);
  for (int i = 0; i < n; ++i) {
    const int32_t t = argmax(logits.data(), lm.n_vocab());
    out.push_back(t);
    if (i + 1 < n) logits = lm.run({t});
  }
  return out;
}

}  // namespace pensieve::testing
