// `pensieve run`: one prompt in, generated text streamed to stdout as it is produced.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "cli/command.h"
#include "cli/compat.h"
#include "cli/engine_args.h"
#include "cli/shipped_model.h"
#include "engine/inference.h"
#include "grammar/json_schema.h"
#include "text/chat_template.h"

namespace pensieve::cli {
namespace {

struct RunArgs {
  engine::LoadOptions load;
  engine::GenerateOptions gen;
  std::string prompt;
  std::string prompt_file;
  std::string system;
  std::string grammar_file, schema_file;
  bool chat = false;
  bool quiet = false;
  bool verbose = false;
  bool no_display_prompt = false;
  bool allow_ctx_extension = false;
};

}  // namespace

// Renders the model's chat template over the messages and tokenizes the text; BOS is added
// only when the template did not already write it.
Result<std::vector<engine::token_id>> render_chat(const engine::InferenceBackend& be, const nlohmann::json& messages) {
  auto tmpl = text::ChatTemplate::parse(be.info().chat_template);
  if (!tmpl) return tmpl.error();
  const text::Tokenizer& tok = be.tokenizer();
  text::ChatTemplateInputs in;
  in.messages = messages;
  in.add_generation_prompt = true;
  in.bos_token = tok.bos() >= 0 ? std::string(tok.token_text(tok.bos())) : "";
  in.eos_token = tok.eos() >= 0 ? std::string(tok.token_text(tok.eos())) : "";
  auto text = tmpl->render(in);
  if (!text) return text.error();
  const bool has_bos = !in.bos_token.empty() && text->rfind(in.bos_token, 0) == 0;
  return tok.encode(*text, /*add_special=*/!has_bos, /*parse_special=*/true);
}

std::string timing_line(const engine::Generation& g, double load_ms) {
  const int n_new = g.n_prompt - g.n_cached;
  const double pp = g.prefill_ms > 0 ? n_new * 1000.0 / g.prefill_ms : 0;
  // The first token comes out of the prompt pass: the generation rate counts the rest.
  const double tg = g.decode_ms > 0 && g.n_generated > 1 ? (g.n_generated - 1) * 1000.0 / g.decode_ms : 0;
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "[load %.0f ms | prompt %d tokens (%d cached) %.0f ms, %.1f t/s | generated %d tokens %.0f ms, "
                "%.1f t/s | ttft %.0f ms | finish %s]",
                load_ms, g.n_prompt, g.n_cached, g.prefill_ms, pp, g.n_generated, g.decode_ms, tg, g.ttft_ms,
                std::string(engine::finish_reason_name(g.finish)).c_str());
  return buf;
}

void add_load_options(CLI::App& app, engine::LoadOptions& lo, bool* allow_ctx_extension) {
  lo.n_parallel = 1;  // one user at the terminal: a KV pool of one context
  app.option_defaults()->always_capture_default();  // --help shows every default
  app.add_option("-m,--model", lo.model_path, "GGUF model file or store name (default: the shipped shell-command model)")
      ->transform(model_path_or_name());
  app.add_option("-t,--threads", lo.threads, "CPU threads (0: physical cores)")->check(CLI::NonNegativeNumber);
  app.add_option("-c,--ctx,--ctx-size", lo.n_ctx,
                 "context size in tokens, at most the model's training context (0: the model's, at most 8192)")
      ->check(CLI::NonNegativeNumber);
  if (allow_ctx_extension)
    app.add_flag("--allow-ctx-extension", *allow_ctx_extension,
                 "allow --ctx beyond the model's training context (no RoPE scaling: quality may drop past it)");
  app.add_option("--kv-type", lo.kv_type, "KV cache element type")->check(CLI::IsMember({"f16", "f32"}));
  auto* device = app.add_option("--device", lo.device, "auto | cpu | cuda | cuda:N");
  add_n_gpu_layers(app, lo.device, device);
  app.add_option("--ubatch,--ubatch-size", lo.n_ubatch, "prompt tokens per forward step, in tokens (llama.cpp's -ub)")
      ->check(CLI::PositiveNumber);
  // llama.cpp's logical batch: the forward step is at most this many tokens (min of -b and -ub).
  auto batch = std::make_shared<int>(0);
  app.add_option("-b,--batch-size", *batch, "caps --ubatch-size, in tokens, as llama.cpp's -b does (0: no cap)")
      ->check(CLI::NonNegativeNumber);
  app.parse_complete_callback([&lo, batch] {
    if (*batch > 0 && *batch < lo.n_ubatch) lo.n_ubatch = *batch;
  });
  app.add_flag("--flash-attn")->description("accepted for llama.cpp's -fa: attention is always fused here");
}

void add_sampling_options(CLI::App& app, engine::SamplingParams& sp) {
  using K = engine::SamplingKnob;
  app.option_defaults()->always_capture_default();
  // Each option's help ends with its range from the shared table (engine/sampling_limits.h).
  auto add = [&app](auto& value, K knob, const char* what) {
    const engine::SamplingRange& r = engine::sampling_range(knob);
    return app.add_option(std::string(r.flag), value, std::string(what) + ", " + std::string(r.rule))
        ->check(sampling_check(knob));
  };
  add(sp.temperature, K::temperature, "temperature");
  add(sp.top_k, K::top_k, "keep the k most likely tokens");
  add(sp.top_p, K::top_p, "nucleus sampling: the smallest set of tokens with this much probability");
  add(sp.min_p, K::min_p, "drop tokens less likely than min-p times the best");
  add(sp.repeat_penalty, K::repeat_penalty, "penalty of the last 64 tokens (CTRL-style)");
  add(sp.frequency_penalty, K::frequency_penalty, "OpenAI-style frequency penalty");
  add(sp.presence_penalty, K::presence_penalty, "OpenAI-style presence penalty");
  app.add_option("-s,--seed", sp.seed, "random seed (default: random, printed on stderr)");
}

int run_run(int argc, char** argv) {
  CLI::App app{"Generate text from a prompt, streamed to stdout"};
  app.name("pensieve run");
  RunArgs a;
  a.gen.max_tokens = 256;
  add_load_options(app, a.load, &a.allow_ctx_extension);
  auto* prompt_opt = app.add_option("-p,--prompt", a.prompt, "the prompt ('-': read it from stdin)");
  auto* file_opt = app.add_option("-f,--file", a.prompt_file, "read the prompt from this file ('-': stdin)");
  prompt_opt->excludes(file_opt);
  app.add_option("-n,--n-predict", a.gen.max_tokens, "tokens to generate, >= -1 (-1: until the context is full)")
      ->check(n_predict_range());
  add_sampling_options(app, a.gen.sampling);
  app.add_flag("--chat", a.chat, "wrap the prompt in the model's chat template");
  add_accepted_llama_flags(app, /*server=*/false);
  app.add_option("--system,--system-prompt", a.system, "system message (with --chat; llama.cpp's -sys)");
  app.add_option("--stop", a.gen.stop, "stop string (repeatable)");
  app.add_flag("--ignore-eos", a.gen.ignore_eos, "keep generating past end-of-generation tokens");
  auto* grammar_opt = app.add_option("--grammar", a.grammar_file,
                                     "constrain the output to a GBNF grammar: a file (or the grammar text itself, as llama.cpp takes it)");
  auto* schema_opt = app.add_option("--json-schema", a.schema_file,
                                    "constrain the output to JSON matching a JSON Schema: a file (or the schema text itself)");
  grammar_opt->excludes(schema_opt);
  app.add_flag("--no-display-prompt", a.no_display_prompt, "print only the generated text, not the prompt before it");
  app.add_flag("--no-conversation")->description("accepted for llama.cpp's -no-cnv: run is always one-shot");
  app.add_flag("-q,--quiet", a.quiet, "nothing on stderr but errors (no seed, load or timing line)");
  app.add_flag("-v,--verbose", a.verbose, "also print the seed when given and the sampling settings");
  if (auto code = parse_or_usage(app, argc, argv)) return *code;
  if (prompt_opt->count() == 0 && file_opt->count() == 0) {
    std::fprintf(stderr, "pensieve run: a prompt is required: -p TEXT, -p - (stdin) or -f FILE\n"
                         "Run with --help for more information.\n");
    return 2;
  }
  if (a.load.model_path.empty() && !use_shipped_model(a.load.model_path, "run")) return 1;
  if (!std::filesystem::exists(a.load.model_path)) {
    std::fprintf(stderr, "pensieve: model file not found: %s\n", a.load.model_path.c_str());
    return 1;
  }
  if (int rc = check_ctx(a.load.model_path, a.load.n_ctx, a.allow_ctx_extension); rc != 0) return rc;
  auto text = read_prompt(a.prompt, a.prompt_file);
  if (!text) return 1;
  a.prompt = std::move(*text);
  if (!a.grammar_file.empty() || !a.schema_file.empty()) {
    const std::string& path = a.grammar_file.empty() ? a.schema_file : a.grammar_file;
    std::stringstream ss;
    const bool inline_text = !std::filesystem::exists(path) &&
                             (path.find("::=") != std::string::npos || path.find_first_of("{") == path.find_first_not_of(" \t\n"));
    if (inline_text) {
      ss << path;
    } else {
      std::ifstream in(path, std::ios::binary);
      if (!in) {
        std::fprintf(stderr, "pensieve: cannot read %s\n", path.c_str());
        return 1;
      }
      ss << in.rdbuf();
    }
    Result<std::shared_ptr<const grammar::Grammar>> g = make_error(ErrorKind::invalid_request, "");
    if (!a.grammar_file.empty()) {
      g = grammar::parse_gbnf(ss.str());
    } else {
      auto schema = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
      if (schema.is_discarded()) g = make_error(ErrorKind::invalid_request, "not valid JSON");
      else g = grammar::compile_json_schema(schema);
    }
    if (!g) {
      std::fprintf(stderr, "pensieve: %s: %s\n", inline_text ? (a.grammar_file.empty() ? "--json-schema" : "--grammar") : path.c_str(),
                   g.error().message.c_str());
      return 2;
    }
    a.gen.grammar = *g;
  }
  choose_seed(a.gen.sampling, a.quiet, a.verbose);
  engine::InferenceBackend be;
  auto load_ms = load_model(be, a.load, a.quiet);
  if (!load_ms) {
    std::fprintf(stderr, "pensieve: cannot load %s: %s\n", a.load.model_path.c_str(), load_ms.error().message.c_str());
    return load_failure_exit_code(load_ms.error());
  }
  std::vector<engine::token_id> prompt;
  if (a.chat) {
    nlohmann::json messages = nlohmann::json::array();
    if (!a.system.empty()) messages.push_back({{"role", "system"}, {"content", a.system}});
    messages.push_back({{"role", "user"}, {"content", a.prompt}});
    auto p = render_chat(be, messages);
    if (!p) {
      std::fprintf(stderr, "pensieve: chat template: %s\n", p.error().message.c_str());
      return 1;
    }
    prompt = std::move(*p);
  } else {
    prompt = be.tokenize(a.prompt);
    // The continuation follows the prompt's text; constrained output stands alone (so that it
    // can be piped into a JSON parser).
    if (!a.gen.grammar && !a.no_display_prompt) std::fputs(a.prompt.c_str(), stdout);
  }
  auto gen = be.stream(prompt, a.gen, [](std::string_view text, engine::token_id) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return true;
  });
  std::fputc('\n', stdout);
  if (!gen) {
    std::fprintf(stderr, "pensieve: %s\n", gen.error().message.c_str());
    return 1;
  }
  if (!a.quiet) std::fprintf(stderr, "\n%s\n", timing_line(*gen, *load_ms).c_str());
  return 0;
}

PENSIEVE_COMMAND("run", "generate text from a prompt (streams to stdout)", run_run);

}  // namespace pensieve::cli
