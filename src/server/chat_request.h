// The one internal request both API adapters parse into, and the model as the server sees it.
// Adapters (anthropic.cpp, openai.cpp, jobs) fill a ChatRequest; prompt.cpp renders it through
// the model's chat template; generation.cpp runs it through the RequestQueue.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/inference.h"
#include "text/chat_template.h"

namespace pensieve::server {

using engine::token_id;

// Blocking generation on the engine; the RequestQueue's worker threads are its only callers.
using GenerateFn = std::function<Result<engine::Generation>(
    const std::vector<token_id>& prompt, const engine::GenerateOptions& options,
    const engine::OnToken& on_token)>;

// What the server needs from a loaded model. Built from an engine::InferenceBackend by
// bind_backend() (model_binding.cpp); everything here is immutable after construction.
struct ServerModel {
  std::string id;                    // canonical id: first --alias, else the file stem
  std::vector<std::string> aliases;  // extra ids that resolve to this model
  engine::ModelInfo info;
  std::string variant;               // e.g. "qwen2 Q4_K_M"
  std::string device;                // cpu | cuda:0
  text::ChatTemplate chat_template;
  std::string bos_token, eos_token;  // text of BOS/EOS for the template
  std::function<std::vector<token_id>(std::string_view)> tokenize;  // BOS rule applied once
  GenerateFn generate;
  std::function<engine::KvUsage()> kv_usage;  // may be empty (scripted test models)
  std::function<engine::EngineStats()> engine_stats;  // may be empty (scripted test models)
  int n_parallel = 1;  // generations the engine runs together
  // Mean-pooled, L2-normalised last hidden states per input (engine::InferenceBackend::embed);
  // may be empty (scripted test models).
  std::function<Result<std::vector<std::vector<float>>>(const std::vector<std::vector<token_id>>&)> embed;
};

struct ToolCall {
  std::string id;
  std::string name;
  nlohmann::json arguments = nlohmann::json::object();
};

enum class ToolChoice { auto_, any, tool, none };

struct ChatRequest {
  std::string model;  // as the client sent it; echoed back
  // Messages in the shape Hugging Face chat templates expect: {role, content: string,
  // tool_calls?: [{id, type:"function", function:{name, arguments: object}}], tool_call_id?}.
  nlohmann::json messages = nlohmann::json::array();
  nlohmann::json tools;  // [{type:"function", function:{name, description, parameters}}] or null
  ToolChoice tool_choice = ToolChoice::auto_;
  std::string tool_choice_name;  // ToolChoice::tool
  std::string prefill;           // a trailing assistant turn: generation continues it
  bool raw_prompt = false;       // /v1/completions: `prompt` is used as is, no template
  std::string prompt;
  engine::GenerateOptions options;
  bool max_tokens_given = false;
  // Structured output (structured_output.h): a JSON Schema the whole reply must match
  // (OpenAI response_format / top-level json_schema, Anthropic output_config.format), or GBNF
  // text (`grammar`); at most one of them. Tool calls are constrained from `tools` itself;
  // tool_strict[i]: tool i asked for strict:true (its schema must convert, else a 400).
  std::optional<nlohmann::json> response_schema;
  std::string grammar;
  std::vector<bool> tool_strict;
  bool stream = false;
  bool include_usage = false;  // OpenAI stream_options.include_usage
};

}  // namespace pensieve::server
