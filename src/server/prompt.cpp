#include "server/prompt.h"

namespace pensieve::server {

void merge_consecutive_roles(nlohmann::json& messages) {
  nlohmann::json merged = nlohmann::json::array();
  for (auto& m : messages) {
    if (!merged.empty()) {
      auto& last = merged.back();
      const std::string role = m.value("role", "");
      bool mergeable = role == "user" || role == "system" || role == "assistant";
      if (mergeable && last.value("role", "") == role) {
        std::string a = last.value("content", ""), b = m.value("content", "");
        last["content"] = a.empty() ? b : b.empty() ? a : a + "\n\n" + b;
        if (m.contains("tool_calls")) {
          if (!last.contains("tool_calls")) last["tool_calls"] = nlohmann::json::array();
          for (auto& c : m["tool_calls"]) last["tool_calls"].push_back(c);
        }
        continue;
      }
    }
    merged.push_back(std::move(m));
  }
  messages = std::move(merged);
}

static std::string tool_choice_instruction(const ChatRequest& request) {
  if (request.tool_choice == ToolChoice::any)
    return "You must answer by calling one of the provided tools.";
  if (request.tool_choice == ToolChoice::tool)
    return "You must answer by calling the tool \"" + request.tool_choice_name + "\".";
  return "";
}

static void add_system_instruction(nlohmann::json& messages, const std::string& instruction) {
  if (instruction.empty()) return;
  if (!messages.empty() && messages[0].value("role", "") == "system") {
    std::string content = messages[0].value("content", "");
    messages[0]["content"] = content.empty() ? instruction : content + "\n\n" + instruction;
  } else {
    messages.insert(messages.begin(), nlohmann::json{{"role", "system"}, {"content", instruction}});
  }
}

// Templates written for one leading system turn may refuse a later one: turn those into user
// turns (what vLLM does for Claude Code's mid-conversation system messages).
static bool demote_late_system_turns(nlohmann::json& messages) {
  bool changed = false;
  for (size_t i = 1; i < messages.size(); ++i) {
    if (messages[i].value("role", "") == "system") {
      messages[i]["role"] = "user";
      changed = true;
    }
  }
  if (changed) merge_consecutive_roles(messages);
  return changed;
}

Result<std::string> render_prompt(const ServerModel& model, const ChatRequest& request) {
  if (request.raw_prompt) return request.prompt;
  text::ChatTemplateInputs inputs;
  inputs.messages = request.messages;
  merge_consecutive_roles(inputs.messages);
  if (request.tool_choice != ToolChoice::none && request.tools.is_array() && !request.tools.empty()) {
    inputs.tools = request.tools;
    add_system_instruction(inputs.messages, tool_choice_instruction(request));
  }
  // Templates that refuse a system role (Gemma's, Mistral's older ones) get it folded into the
  // first user turn, as the models' own docs suggest; every Claude Code request has a system.
  if (!model.chat_template.supports_system_role()) inputs.messages = text::fold_system_messages(inputs.messages);
  inputs.add_generation_prompt = true;
  inputs.bos_token = model.bos_token;
  inputs.eos_token = model.eos_token;
  auto rendered = model.chat_template.render(inputs);
  if (!rendered.ok() && demote_late_system_turns(inputs.messages)) rendered = model.chat_template.render(inputs);
  if (!rendered.ok()) {
    return make_error(ErrorKind::invalid_request,
                      "the model's chat template could not render this conversation: " + rendered.error().message);
  }
  return rendered.value() + request.prefill;
}

Result<PreparedPrompt> prepare_prompt(const ServerModel& model, const ChatRequest& request) {
  auto text = render_prompt(model, request);
  if (!text.ok()) return text.error();
  PreparedPrompt p;
  p.text = std::move(text.value());
  p.tokens = model.tokenize(p.text);
  if (p.tokens.empty()) return make_error(ErrorKind::invalid_request, "the prompt is empty");
  return p;
}

Result<bool> fit_context(WireFormat wire, int n_prompt, int n_ctx, ChatRequest& request) {
  if (n_ctx <= 0) return false;
  if (n_prompt >= n_ctx) {
    std::string msg = wire == WireFormat::anthropic ? prompt_too_long_message(n_prompt, n_ctx)
                                                    : openai_context_length_message(n_ctx, n_prompt);
    return make_error(ErrorKind::invalid_request, msg);
  }
  int room = n_ctx - n_prompt;
  int& max_tokens = request.options.max_tokens;
  if (!request.max_tokens_given || max_tokens < 0 || max_tokens > room) {
    bool clamped = request.max_tokens_given && max_tokens > room;
    max_tokens = room;
    return clamped;
  }
  return false;
}

}  // namespace pensieve::server
