// Options and helpers shared by the commands that run a model (run.cpp defines them; chat,
// bench use them).
#pragma once

#include <CLI/CLI.hpp>

#include <vector>

#include <nlohmann/json.hpp>

#include "engine/inference.h"
#include "store/store.h"

namespace pensieve::cli {

// -m takes a GGUF path or a model name from the store (`pensieve list`): names become paths.
inline CLI::Validator model_path_or_name() {
  return CLI::Validator(
      [](std::string& arg) {
        arg = store::resolve_model_arg(arg);
        return std::string();
      },
      "PATH|NAME");
}
// -m/--model, --threads, --ctx, --kv-type, --device, --ubatch; with `allow_ctx_extension`, also
// --allow-ctx-extension (a --ctx beyond the model's training context is refused without it).
void add_load_options(CLI::App& app, engine::LoadOptions& lo, bool* allow_ctx_extension = nullptr);
// Loads the model (cli/model_load.cpp): a cold file is read through first, with a progress line on
// a terminal for files over 1 GB, so its disk time counts as load time; then one summary line on
// stderr ("pensieve: loaded ... in N ms, context N tokens") unless quiet. Returns the load time in ms.
Result<double> load_model(engine::InferenceBackend& be, const engine::LoadOptions& lo, bool quiet);
// A parameter count the way llama-bench prints it: "494.03 M", "8.03 B" (`decimals` after the point).
std::string params_text(int64_t n, int decimals);
// --temp, --top-k, --top-p, --min-p, penalties, --seed.
void add_sampling_options(CLI::App& app, engine::SamplingParams& sp);
// The model's chat template over `messages`, tokenized (BOS only if the template lacks it).
Result<std::vector<engine::token_id>> render_chat(const engine::InferenceBackend& be, const nlohmann::json& messages);
// "[load N ms | prompt N tokens ... | generated N tokens ... | finish R]": load, prompt and
// generation timed apart (the engine's ttft is from the request, after the load).
std::string timing_line(const engine::Generation& g, double load_ms);
// Exit code for a failed load: 2 when the request itself cannot be met on this machine or is
// malformed (e.g. --device cuda without a GPU), 1 for runtime failures (bad file, ...).
inline int load_failure_exit_code(const Error& e) {
  return e.kind == ErrorKind::platform_unsupported || e.kind == ErrorKind::invalid_request ? 2 : 1;
}

}  // namespace pensieve::cli
