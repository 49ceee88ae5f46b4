// The Ollama API's wire format (https://github.com/ollama/ollama/blob/main/docs/api.md): its
// requests translated into the one internal ChatRequest (through the OpenAI adapter, whose
// fields Ollama's mostly mirror), its NDJSON stream lines and replies, and its errors
// ({"error": "..."}). The routes are routes_ollama.cpp and routes_ollama_models.cpp.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "server/chat_request.h"
#include "server/tool_calls.h"

namespace pensieve::server {

struct OllamaRequest {
  ChatRequest chat;
  std::optional<std::chrono::milliseconds> keep_alive;  // nullopt: the server's default
  int num_ctx = 0;          // options.num_ctx (0: not given)
  bool load_only = false;   // /api/generate or /api/chat with nothing to generate: load/unload
};

// /api/chat and /api/generate bodies. Errors are invalid_request with the field named.
Result<OllamaRequest> parse_ollama_chat(const nlohmann::json& body);
Result<OllamaRequest> parse_ollama_generate(const nlohmann::json& body);
// keep_alive: a number of seconds or a duration string ("5m", "1h30m", "10s", "-1"); <0 forever.
Result<std::optional<std::chrono::milliseconds>> parse_keep_alive(const nlohmann::json& v);

std::string ollama_done_reason(const engine::Generation& g);
// The final line's counters and durations (nanoseconds), merged into `out`.
void ollama_stats(const engine::Generation& g, double total_ms, nlohmann::json& out);
std::string ollama_now();  // RFC 3339 with nanoseconds, as Ollama writes created_at
// Tool calls in Ollama's shape: [{"function": {"name", "arguments": {...}}}].
nlohmann::json ollama_tool_calls(const std::vector<ToolCall>& calls);

}  // namespace pensieve::server
