// Options and helpers shared by the commands that run a model (run.cpp defines them; chat,
// bench use them).
#pragma once

#include <CLI/CLI.hpp>

#include <vector>

#include <nlohmann/json.hpp>

#include "engine/inference.h"

namespace pensieve::cli {

// -m/--model, --threads, --ctx, --kv-type, --device, --ubatch.
void add_load_options(CLI::App& app, engine::LoadOptions& lo);
// --temp, --top-k, --top-p, --min-p, penalties, --seed.
void add_sampling_options(CLI::App& app, engine::SamplingParams& sp);
// The model's chat template over `messages`, tokenized (BOS only if the template lacks it).
Result<std::vector<engine::token_id>> render_chat(const engine::InferenceBackend& be, const nlohmann::json& messages);

}  // namespace pensieve::cli
