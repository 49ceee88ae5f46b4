#include "cli/compat.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <sstream>
#include <string_view>

#include "gguf/gguf.h"
#include "gguf/keys.h"

namespace pensieve::cli {

Argv::Argv(std::vector<std::string> args) : args_(std::move(args)) {
  for (std::string& a : args_) ptrs_.push_back(a.data());
  ptrs_.push_back(nullptr);
}

namespace {

struct Rename {
  std::string_view from, to;
};
// llama.cpp's one-dash, several-letter flags and the long option each one is here.
constexpr Rename kRenames[] = {
    {"-ngl", "--n-gpu-layers"}, {"-np", "--parallel"}, {"-ub", "--ubatch-size"}, {"-fa", "--flash-attn"},
    {"-cb", "--cont-batching"}, {"--grammar-file", "--grammar"}, {"-sys", "--system-prompt"},
    {"-no-cnv", "--no-conversation"},
};

struct Unsupported {
  std::string_view flag, why;
};
// llama.cpp flags a user is likely to try that pensieve does not have, and what to do instead.
constexpr Unsupported kUnsupported[] = {
    {"-hf", "fetch it first: `pensieve pull hf:OWNER/REPO[:QUANT]`, then -m NAME"},
    {"--hf-repo", "fetch it first: `pensieve pull hf:OWNER/REPO[:QUANT]`, then -m NAME"},
    {"-hff", "fetch it first: `pensieve pull hf:OWNER/REPO[:QUANT]`, then -m NAME"},
    {"--hf-file", "fetch it first: `pensieve pull hf:OWNER/REPO[:QUANT]`, then -m NAME"},
    {"-mu", "fetch it first: `pensieve pull hf:OWNER/REPO[:QUANT]`, then -m NAME"},
    {"--model-url", "fetch it first: `pensieve pull hf:OWNER/REPO[:QUANT]`, then -m NAME"},
    {"-cnv", "use `pensieve chat`"},
    {"--conversation", "use `pensieve chat`"},
    {"-ctk", "the KV cache type is one option here: --kv-type f16|f32"},
    {"--cache-type-k", "the KV cache type is one option here: --kv-type f16|f32"},
    {"-ctv", "the KV cache type is one option here: --kv-type f16|f32"},
    {"--cache-type-v", "the KV cache type is one option here: --kv-type f16|f32"},
    {"-sm", "one GPU per process: --device cuda:N"},
    {"--split-mode", "one GPU per process: --device cuda:N"},
    {"-ts", "one GPU per process: --device cuda:N"},
    {"--tensor-split", "one GPU per process: --device cuda:N"},
    {"-mg", "one GPU per process: --device cuda:N"},
    {"--main-gpu", "one GPU per process: --device cuda:N"},
    {"--lora", "LoRA adapters are not supported"},
    {"--lora-scaled", "LoRA adapters are not supported"},
    {"--mmproj", "multimodal models are not supported"},
    {"-md", "speculative decoding is not supported"},
    {"--model-draft", "speculative decoding is not supported"},
    {"-j", "pass the schema as a file or as text: --json-schema FILE|JSON"},
    {"--rope-scaling", "RoPE scaling is not supported; --allow-ctx-extension runs past the training context without it"},
    {"--rope-freq-base", "RoPE scaling is not supported; --allow-ctx-extension runs past the training context without it"},
    {"--rope-freq-scale", "RoPE scaling is not supported; --allow-ctx-extension runs past the training context without it"},
    {"--yarn-orig-ctx", "RoPE scaling is not supported; --allow-ctx-extension runs past the training context without it"},
};

bool is_fa_value(std::string_view v) {
  return v == "on" || v == "off" || v == "auto" || v == "1" || v == "0" || v == "true" || v == "false";
}

}  // namespace

std::optional<Argv> rewrite_llama_args(int argc, char** argv) {
  std::vector<std::string> out;
  bool rest = false;  // after `--`: operands, never flags
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (i == 0 || rest || arg.size() < 2 || arg[0] != '-') {
      out.push_back(std::move(arg));
      continue;
    }
    if (arg == "--") {
      rest = true;
      out.push_back(std::move(arg));
      continue;
    }
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : arg.substr(eq);  // "=..." or ""
    for (const Unsupported& u : kUnsupported) {
      if (name == u.flag) {
        std::fprintf(stderr, "pensieve: not supported: %s (%s)\n", name.c_str(), std::string(u.why).c_str());
        return std::nullopt;
      }
    }
    for (const Rename& r : kRenames) {
      if (name == r.from) {
        arg = std::string(r.to) + value;
        break;
      }
    }
    // llama.cpp's -fa takes on|off|auto in recent versions and nothing in older ones: both work.
    if (name == "-fa" || name == "--flash-attn") {
      std::string v = value.empty() ? "" : value.substr(1);
      if (value.empty() && i + 1 < argc && is_fa_value(argv[i + 1])) v = argv[++i];
      if (v == "off" || v == "0" || v == "false")
        std::fprintf(stderr, "pensieve: note: %s %s ignored: attention is always fused here\n", name.c_str(),
                     v.c_str());
      arg = "--flash-attn";
    }
    out.push_back(std::move(arg));
  }
  return Argv(std::move(out));
}

CLI::Validator sampling_check(engine::SamplingKnob knob) {
  return CLI::Validator(
      [knob](std::string& s) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(s, v)) return "expected a number, got '" + s + "'";
        return engine::check_sampling_value(knob, v, s);
      },
      "");  // the range is in each option's help text: CLI11 would print it glued to the default
}

CLI::Validator n_predict_range() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        long long v = 0;
        if (!CLI::detail::lexical_cast(s, v)) return "expected an integer, got '" + s + "'";
        return v >= -1 ? "" : "must be >= -1 (-1: until the context is full), got " + s;
      },
      "");
}

CLI::Option* add_n_gpu_layers(CLI::App& app, std::string& device, CLI::Option* device_option) {
  auto parse = [](const std::string& v) -> std::optional<std::string> {
    if (v == "all") return "cuda";
    if (v == "auto" || v == "-1") return "auto";
    long long n = 0;
    if (!CLI::detail::lexical_cast(v, n) || n < 0) return std::nullopt;
    return n > 0 ? "cuda" : "cpu";
  };
  return app
      .add_option_function<std::string>(
          "--n-gpu-layers,--gpu-layers", [&device, parse](const std::string& v) { device = *parse(v); },
          "llama.cpp's -ngl: N > 0 or 'all' runs on the GPU (--device cuda), 0 on the CPU, 'auto' or -1 either")
      ->check(CLI::Validator(
          [parse](std::string& v) -> std::string {
            return parse(v) ? "" : "expected a layer count >= 0, 'all' or 'auto', got '" + v + "'";
          },
          "N|all|auto"))
      ->excludes(device_option);
}

void add_accepted_llama_flags(CLI::App& app, bool server) {
  app.add_flag("--jinja")->description("accepted for llama.cpp: the model's own Jinja chat template is always used");
  if (server)
    app.add_flag("--cont-batching")->description("accepted for llama.cpp's -cb: requests are always batched continuously");
}

std::optional<std::string> read_prompt(const std::string& text, const std::string& file) {
  if (file.empty() && text != "-") return text;
  if (file.empty() || file == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream f(file, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "pensieve: cannot read the prompt file %s\n", file.c_str());
    return std::nullopt;
  }
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

int check_ctx(const std::string& model_path, int n_ctx, bool allow_extension) {
  if (n_ctx <= 0) return 0;
  auto file = GgufFile::open(model_path);
  if (!file) {
    std::fprintf(stderr, "pensieve: cannot load %s: %s\n", model_path.c_str(), file.error().message.c_str());
    return 1;
  }
  auto arch = (*file)->get_string(keys::kArchitecture);
  if (!arch) return 0;
  auto train = (*file)->get_int(keys::arch_key(keys::kContextLength, std::string(*arch)));
  if (!train || *train <= 0 || n_ctx <= *train) return 0;
  if (allow_extension) {
    std::fprintf(stderr,
                 "pensieve: note: --ctx %d is beyond the model's training context of %lld tokens "
                 "(--allow-ctx-extension): no RoPE scaling is applied, so output past %lld tokens may degrade\n",
                 n_ctx, static_cast<long long>(*train), static_cast<long long>(*train));
    return 0;
  }
  std::fprintf(stderr,
               "pensieve: --ctx %d is beyond the model's training context of %lld tokens; use --ctx %lld or less "
               "(0: the model's)\n",
               n_ctx, static_cast<long long>(*train), static_cast<long long>(*train));
  return 2;
}

void choose_seed(engine::SamplingParams& sp, bool quiet, bool verbose) {
  if (sp.temperature > 0 && !sp.seed) {
    std::random_device rd;
    sp.seed = (static_cast<uint64_t>(rd()) << 32 | rd()) >> 1;  // fits in int64 too (JSON, other tools)
    if (!quiet) std::fprintf(stderr, "pensieve: seed %llu\n", static_cast<unsigned long long>(*sp.seed));
  } else if (verbose && !quiet) {
    if (sp.temperature <= 0) std::fprintf(stderr, "pensieve: greedy (temperature 0): no seed\n");
    else std::fprintf(stderr, "pensieve: seed %llu (given)\n", static_cast<unsigned long long>(*sp.seed));
  }
  if (verbose && !quiet)
    std::fprintf(stderr,
                 "pensieve: sampling temp %g, top-k %d, top-p %g, min-p %g, repeat-penalty %g (last %d), "
                 "frequency-penalty %g, presence-penalty %g\n",
                 sp.temperature, sp.top_k, sp.top_p, sp.min_p, sp.repeat_penalty, sp.repeat_last_n,
                 sp.frequency_penalty, sp.presence_penalty);
}

}  // namespace pensieve::cli
