// `pensieve run`: one prompt in, generated text streamed to stdout as it is produced.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/command.h"
#include "cli/compat.h"
#include "cli/engine_args.h"
#include "cli/shipped_model.h"
#include "engine/inference.h"
#include "text/chat_template.h"

namespace pensieve::cli {
namespace {

struct RunArgs {
  engine::LoadOptions load;
  engine::GenerateOptions gen;
  std::string prompt;
  std::string prompt_file;
  std::string system;
  bool chat = false;
  bool quiet = false;
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

void add_load_options(CLI::App& app, engine::LoadOptions& lo) {
  lo.n_parallel = 1;  // one user at the terminal: a KV pool of one context
  app.option_defaults()->always_capture_default();  // --help shows every default
  app.add_option("-m,--model", lo.model_path, "GGUF model file (default: the shipped shell-command model)");
  app.add_option("-t,--threads", lo.threads, "CPU threads (0: physical cores)")->check(CLI::NonNegativeNumber);
  app.add_option("-c,--ctx,--ctx-size", lo.n_ctx,
                 "context size in tokens, at most the model's training context (0: the model's, capped by memory)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--kv-type", lo.kv_type, "KV cache element type")->check(CLI::IsMember({"f16", "f32"}));
  auto* device = app.add_option("--device", lo.device, "auto | cpu | cuda | cuda:N");
  add_n_gpu_layers(app, lo.device, device);
  app.add_option("--ubatch,--ubatch-size", lo.n_ubatch, "prompt tokens per forward step (llama.cpp's -ub)")
      ->check(CLI::PositiveNumber);
  // llama.cpp's logical batch: the forward step is at most this many tokens (min of -b and -ub).
  auto batch = std::make_shared<int>(0);
  app.add_option("-b,--batch-size", *batch, "caps --ubatch-size, as llama.cpp's -b does (0: no cap)")
      ->check(CLI::NonNegativeNumber);
  app.parse_complete_callback([&lo, batch] {
    if (*batch > 0 && *batch < lo.n_ubatch) lo.n_ubatch = *batch;
  });
  app.add_flag("--flash-attn")->description("accepted for llama.cpp's -fa: attention is always fused here");
}

void add_sampling_options(CLI::App& app, engine::SamplingParams& sp) {
  app.option_defaults()->always_capture_default();
  app.add_option("--temp", sp.temperature, "temperature, >= 0 (0: greedy)")->check(temperature_range());
  app.add_option("--top-k", sp.top_k, "keep the k most likely tokens, >= 0 (0: off)")->check(top_k_range());
  app.add_option("--top-p", sp.top_p, "nucleus sampling mass, in (0, 1] (1: off)")->check(top_p_range());
  app.add_option("--min-p", sp.min_p, "drop tokens below min-p times the best, in [0, 1] (0: off)")->check(min_p_range());
  app.add_option("--repeat-penalty", sp.repeat_penalty, "penalty of recent tokens, > 0 (1: off)")
      ->check(repeat_penalty_range());
  app.add_option("--frequency-penalty", sp.frequency_penalty, "OpenAI-style frequency penalty")
      ->check(CLI::Range(-2.0, 2.0));
  app.add_option("--presence-penalty", sp.presence_penalty, "OpenAI-style presence penalty")
      ->check(CLI::Range(-2.0, 2.0));
  app.add_option("-s,--seed", sp.seed, "random seed (default: random, printed on stderr)");
}

int run_run(int argc, char** argv) {
  CLI::App app{"Generate text from a prompt, streamed to stdout"};
  app.name("pensieve run");
  RunArgs a;
  a.gen.max_tokens = 256;
  add_load_options(app, a.load);
  auto* prompt_opt = app.add_option("-p,--prompt", a.prompt, "the prompt ('-': read it from stdin)");
  auto* file_opt = app.add_option("-f,--file", a.prompt_file, "read the prompt from this file ('-': stdin)");
  prompt_opt->excludes(file_opt);
  app.add_option("-n,--n-predict", a.gen.max_tokens, "tokens to generate, >= -1 (-1: until the context is full)")
      ->check(n_predict_range());
  add_sampling_options(app, a.gen.sampling);
  app.add_flag("--chat", a.chat, "wrap the prompt in the model's chat template");
  add_accepted_llama_flags(app, /*server=*/false);
  app.add_option("--system", a.system, "system message (with --chat)");
  app.add_option("--stop", a.gen.stop, "stop string (repeatable)");
  app.add_flag("--ignore-eos", a.gen.ignore_eos, "keep generating past end-of-generation tokens");
  app.add_flag("-q,--quiet", a.quiet, "no seed or timing line on stderr");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return e.get_exit_code() == 0 ? code : 2;
  }
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
  if (int rc = check_ctx(a.load.model_path, a.load.n_ctx); rc != 0) return rc;
  auto text = read_prompt(a.prompt, a.prompt_file);
  if (!text) return 1;
  a.prompt = std::move(*text);
  choose_seed(a.gen.sampling, a.quiet);
  engine::InferenceBackend be;
  if (Status st = be.load(a.load); !st.ok()) {
    std::fprintf(stderr, "pensieve: cannot load %s: %s\n", a.load.model_path.c_str(), st.error().message.c_str());
    return load_failure_exit_code(st.error());
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
    std::fputs(a.prompt.c_str(), stdout);  // the continuation follows the prompt's text
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
  if (!a.quiet) {
    const double pp = gen->prefill_ms > 0 ? (gen->n_prompt - gen->n_cached) * 1000.0 / gen->prefill_ms : 0;
    const double tg = gen->decode_ms > 0 && gen->n_generated > 1 ? (gen->n_generated - 1) * 1000.0 / gen->decode_ms : 0;
    std::fprintf(stderr, "\n[%s on %s: prompt %d tokens %.1f t/s, generated %d tokens %.1f t/s, ttft %.0f ms, finish %s]\n",
                 be.variant().c_str(), be.device().c_str(), gen->n_prompt, pp, gen->n_generated, tg, gen->ttft_ms,
                 std::string(engine::finish_reason_name(gen->finish)).c_str());
  }
  return 0;
}

PENSIEVE_COMMAND("run", "generate text from a prompt (streams to stdout)", run_run);

}  // namespace pensieve::cli
