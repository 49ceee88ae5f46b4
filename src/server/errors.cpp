#include "server/errors.h"


namespace pensieve::server {

int anthropic_status(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::invalid_request: return 400;
    case ErrorKind::unauthorized: return 401;
    case ErrorKind::not_found: return 404;
    case ErrorKind::resource_exhausted: return 413;
    case ErrorKind::overloaded: return 529;
    case ErrorKind::timeout: return 504;
    case ErrorKind::cancelled: return 499;
    case ErrorKind::model_load_failed:
    case ErrorKind::platform_unsupported:
    case ErrorKind::internal: return 500;
  }
  return 500;
}

std::string anthropic_error_type(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::invalid_request: return "invalid_request_error";
    case ErrorKind::unauthorized: return "authentication_error";
    case ErrorKind::not_found: return "not_found_error";
    case ErrorKind::resource_exhausted: return "request_too_large";
    case ErrorKind::overloaded: return "overloaded_error";
    case ErrorKind::timeout: return "timeout_error";
    default: return "api_error";
  }
}

int openai_status(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::overloaded: return 429;  // what OpenAI clients retry with backoff
    default: return anthropic_status(kind);
  }
}

static std::string openai_error_type(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::invalid_request:
    case ErrorKind::not_found:
    case ErrorKind::resource_exhausted: return "invalid_request_error";
    case ErrorKind::unauthorized: return "authentication_error";
    case ErrorKind::overloaded: return "rate_limit_error";
    case ErrorKind::timeout: return "timeout";
    default: return "server_error";
  }
}

static nlohmann::json openai_error_code(ErrorKind kind, const std::string& message) {
  if (kind == ErrorKind::unauthorized) return "invalid_api_key";
  if (kind == ErrorKind::overloaded) return "rate_limit_exceeded";
  if (kind == ErrorKind::not_found) return "not_found";
  if (kind == ErrorKind::invalid_request && message.rfind("This model's maximum context length", 0) == 0)
    return "context_length_exceeded";
  return nullptr;
}

nlohmann::json anthropic_error_body(ErrorKind kind, const std::string& message) {
  return {{"type", "error"}, {"error", {{"type", anthropic_error_type(kind)}, {"message", message}}}};
}

nlohmann::json openai_error_body(ErrorKind kind, const std::string& message) {
  return {{"error",
           {{"message", message},
            {"type", openai_error_type(kind)},
            {"param", nullptr},
            {"code", openai_error_code(kind, message)}}}};
}

HttpError to_http_error(WireFormat wire, const Error& error) {
  HttpError out;
  if (wire == WireFormat::anthropic) {
    out.status = anthropic_status(error.kind);
    out.body = anthropic_error_body(error.kind, error.message);
  } else if (wire == WireFormat::ollama) {
    out.status = error.kind == ErrorKind::overloaded ? 503 : anthropic_status(error.kind);
    out.body = {{"error", error.message}};
  } else {
    out.status = openai_status(error.kind);
    out.body = openai_error_body(error.kind, error.message);
  }
  if (error.kind == ErrorKind::overloaded) out.retry_after_s = 1;
  return out;
}

std::string prompt_too_long_message(int n_prompt, int n_ctx) {
  return "prompt is too long: " + std::to_string(n_prompt) + " tokens > " + std::to_string(n_ctx) +
         " maximum";
}

std::string openai_context_length_message(int n_ctx, int n_prompt) {
  return "This model's maximum context length is " + std::to_string(n_ctx) +
         " tokens. However, your messages resulted in " + std::to_string(n_prompt) +
         " tokens. Please reduce the length of the messages.";
}

}  // namespace pensieve::server
