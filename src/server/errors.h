// Error mapping for the two wire protocols: an Error (kind + message) becomes the HTTP status and
// body each API's clients expect. Anthropic: {"type":"error","error":{"type","message"}};
// OpenAI: {"error":{"message","type","param","code"}}.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace pensieve::server {

enum class WireFormat { anthropic, openai, ollama };  // ollama: {"error": "..."} (ollama.h)

struct HttpError {
  int status = 500;
  nlohmann::json body;
  int retry_after_s = 0;  // > 0: send retry-after (overloaded)
};

int anthropic_status(ErrorKind kind);
std::string anthropic_error_type(ErrorKind kind);
int openai_status(ErrorKind kind);

HttpError to_http_error(WireFormat wire, const Error& error);
// The body only (for mid-stream `error` events).
nlohmann::json anthropic_error_body(ErrorKind kind, const std::string& message);
nlohmann::json openai_error_body(ErrorKind kind, const std::string& message);

// Anthropic's exact wording (Claude Code parses these texts; research/anthropic-api.md §5).
std::string prompt_too_long_message(int n_prompt, int n_ctx);
// OpenAI's wording for the same condition.
std::string openai_context_length_message(int n_ctx, int n_prompt);

}  // namespace pensieve::server
