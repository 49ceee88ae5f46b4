// pensieve chat-template (MODEL.gguf | --template FILE) --messages FILE.json [--tools FILE.json]
//     [--add-generation-prompt] [--bos-token S] [--eos-token S] [--date YYYY-MM-DD] [--for-prompt]
// Prints a chat template's rendering of a conversation to stdout, byte for byte.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>

#include "cli/command.h"
#include "gguf/gguf.h"
#include "gguf/keys.h"
#include "text/chat_template.h"

namespace pensieve::cli {

namespace {

constexpr const char* kUsage =
    "usage: pensieve chat-template (MODEL.gguf | --template FILE) --messages FILE.json [--tools FILE.json]\n"
    "       [--add-generation-prompt] [--bos-token S] [--eos-token S] [--date YYYY-MM-DD] [--for-prompt]\n";
constexpr const char* kName = "pensieve chat-template";

struct ChatTemplateArgs {
  std::string model;
  std::string template_file;
  std::string messages_file;
  std::string tools_file;
  bool add_generation_prompt = false;
  std::optional<std::string> bos_token;
  std::optional<std::string> eos_token;
  std::string date;
  bool for_prompt = false;
};

int runtime_error(const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", kName, message.c_str());
  return 1;
}

bool read_all(const std::string& path, std::string& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  out = ss.str();
  return !f.bad();
}

Result<nlohmann::ordered_json> read_json(const std::string& path) {
  std::string text;
  if (!read_all(path, text)) return make_error(ErrorKind::not_found, "cannot read " + path);
  try {
    return nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return make_error(ErrorKind::invalid_request, path + ": invalid JSON: " + e.what());
  }
}

// The token string of a special-token id stored under `key` (e.g. tokenizer.ggml.bos_token_id).
std::string special_token(const GgufFile& file, std::string_view key) {
  auto id = file.get_int(key);
  auto tokens = file.get_string_array(keys::kTokenizerTokens);
  if (!id || !tokens || *id < 0 || size_t(*id) >= tokens->size()) return "";
  return std::string((*tokens)[size_t(*id)]);
}

// Loads the template source and default bos/eos tokens from a GGUF file.
Status load_from_gguf(const std::string& path, std::string& source, ChatTemplateArgs& a) {
  auto file = GgufFile::open(path);
  if (!file.ok()) return file.error();
  const GgufFile& f = **file;
  if (auto tmpl = f.get_string("tokenizer.chat_template")) {
    source = std::string(*tmpl);
  } else {
    std::fprintf(stderr, "%s: %s has no tokenizer.chat_template; using ChatML\n", kName, path.c_str());
    source = std::string(text::chatml_template());
  }
  if (!a.bos_token) a.bos_token = special_token(f, keys::kTokenizerBos);
  if (!a.eos_token) a.eos_token = special_token(f, keys::kTokenizerEos);
  return ok_status();
}

int parse_args(int argc, char** argv, ChatTemplateArgs& a) {
  CLI::App app{"Render a chat template (from a GGUF or a file) over a conversation, as Hugging Face does"};
  auto* model_opt = app.add_option("model", a.model, "GGUF model whose tokenizer.chat_template is used");
  auto* tmpl_opt = app.add_option("--template", a.template_file, "Jinja template file instead of a model");
  model_opt->excludes(tmpl_opt);
  app.add_option("--messages", a.messages_file, "JSON file: [messages] or {\"messages\": [...], \"tools\": [...]}")
      ->required();
  app.add_option("--tools", a.tools_file, "JSON file with the tool definitions (an array)");
  app.add_flag("--add-generation-prompt", a.add_generation_prompt, "end with the assistant turn's header");
  app.add_option("--bos-token", a.bos_token, "bos_token string (default: the model's BOS token, or empty)");
  app.add_option("--eos-token", a.eos_token, "eos_token string (default: the model's EOS token, or empty)");
  app.add_option("--date", a.date, "pin strftime_now to this date (YYYY-MM-DD)");
  app.add_flag("--for-prompt", a.for_prompt,
               "render as a prompt: merge system into user where unsupported, strip leading BOS / trailing EOS");
  if (auto code = parse_or_usage(app, argc, argv, kUsage)) return *code;
  if (model_opt->count() == 0 && tmpl_opt->count() == 0) {
    std::fputs(kUsage, stderr);
    std::fprintf(stderr, "%s: give a MODEL.gguf or --template FILE\n", kName);
    return 2;
  }
  if (!a.date.empty() && !std::regex_match(a.date, std::regex(R"(\d{4}-\d{2}-\d{2})"))) {
    std::fputs(kUsage, stderr);
    std::fprintf(stderr, "%s: --date must look like 2026-01-15, got '%s'\n", kName, a.date.c_str());
    return 2;
  }
  return -1;  // parsed; go on
}

}  // namespace

int run_chat_template(int argc, char** argv) {
  ChatTemplateArgs a;
  if (int code = parse_args(argc, argv, a); code >= 0) return code;

  std::string source;
  if (!a.template_file.empty()) {
    if (!read_all(a.template_file, source)) return runtime_error("cannot read " + a.template_file);
  } else if (Status st = load_from_gguf(a.model, source, a); !st.ok()) {
    return runtime_error(st.error().message);
  }

  text::ChatTemplateInputs in;
  auto messages = read_json(a.messages_file);
  if (!messages.ok()) return runtime_error(messages.error().message);
  if (messages->is_object() && messages->contains("messages")) {
    in.messages_ordered = (*messages)["messages"];
    if (messages->contains("tools")) in.tools_ordered = (*messages)["tools"];
  } else {
    in.messages_ordered = *messages;
  }
  if (!in.messages_ordered.is_array()) return runtime_error(a.messages_file + ": messages must be a JSON array");
  if (!a.tools_file.empty()) {
    auto tools = read_json(a.tools_file);
    if (!tools.ok()) return runtime_error(tools.error().message);
    in.tools_ordered = *tools;
  }
  in.add_generation_prompt = a.add_generation_prompt;
  in.bos_token = a.bos_token.value_or("");
  in.eos_token = a.eos_token.value_or("");
  in.date = a.date;

  auto tmpl = text::ChatTemplate::parse(source);
  if (!tmpl.ok()) return runtime_error(tmpl.error().message);
  auto out = a.for_prompt ? tmpl->render_for_prompt(in) : tmpl->render(in);
  if (!out.ok()) return runtime_error(out.error().message);
  std::fwrite(out->data(), 1, out->size(), stdout);
  return 0;
}

PENSIEVE_COMMAND("chat-template", "render a model's chat template over a conversation", run_chat_template);

}  // namespace pensieve::cli
