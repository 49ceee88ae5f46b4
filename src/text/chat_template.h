// Chat templates: tokenizer.chat_template rendered by a small Jinja2-subset interpreter,
// configured as Hugging Face's apply_chat_template does (trim_blocks, lstrip_blocks,
// loopcontrols, tojson, raise_exception, strftime_now).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace pensieve::text {

struct ChatTemplateInputs {
  nlohmann::json messages = nlohmann::json::array();  // [{role, content, tool_calls?, ...}]
  nlohmann::json tools;                                // null when there are none
  bool add_generation_prompt = true;
  std::string bos_token;
  std::string eos_token;
  std::string date;                 // "YYYY-MM-DD" pins strftime_now; empty = today
  nlohmann::json extra = nlohmann::json::object();  // more top-level variables

  // Optional order-preserving copies of `messages` / `tools`. nlohmann::json sorts object keys,
  // while Python dicts (and so `tojson` in reference renderings) keep insertion order; when these
  // are not null they are used instead of `messages` / `tools`.
  nlohmann::ordered_json messages_ordered;
  nlohmann::ordered_json tools_ordered;
};

class ChatTemplate {
 public:
  // Parses once; a syntax error is an invalid_request error with line and column.
  static Result<ChatTemplate> parse(std::string_view source);
  // Plain Jinja rendering; raise_exception and runtime errors come back as errors.
  Result<std::string> render(const ChatTemplateInputs& inputs) const;
  const std::string& source() const;

  // Rendering as llama.cpp's Jinja path prepares a prompt: when the template does not support a
  // system role (it raises, or a probe's system text does not appear), the system message is
  // merged into the first user message as system + "\n" + user; then a leading bos_token and a
  // trailing eos_token string are stripped (the tokenizer adds them as special tokens).
  Result<std::string> render_for_prompt(const ChatTemplateInputs& inputs) const;
  // Whether a system message reaches the rendering (probed once at parse time).
  bool supports_system_role() const;

  ChatTemplate();
  ~ChatTemplate();
  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;
  ChatTemplate(const ChatTemplate&);
  ChatTemplate& operator=(const ChatTemplate&);

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

// Folds every system message into the next user message (system + "\n" + user), as llama.cpp
// does for templates without a system role; a trailing system text becomes a user turn.
nlohmann::json fold_system_messages(const nlohmann::json& messages);

// The ChatML template used when a model has none.
std::string_view chatml_template();

}  // namespace pensieve::text
