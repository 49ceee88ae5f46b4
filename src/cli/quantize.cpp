// `pensieve quantize IN.gguf OUT.gguf TYPE`: write a quantized copy of a model
// (llama.cpp's type mixtures; see quant/quantize_plan.h).
#include <CLI/CLI.hpp>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <string>

#include "cli/command.h"
#include "gguf/gguf.h"
#include "quant/quantize_model.h"

namespace pensieve::cli {
namespace {

double mib(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

std::string human_size(uint64_t bytes) {
  char buf[32];
  if (bytes < 1024 * 1024) {
    std::snprintf(buf, sizeof buf, "%7.1f KiB", static_cast<double>(bytes) / 1024.0);
  } else {
    std::snprintf(buf, sizeof buf, "%7.1f MiB", mib(bytes));
  }
  return buf;
}

void print_progress(const QuantizeProgress& p) {
  const int width = static_cast<int>(std::to_string(p.count).size());
  std::fprintf(stderr, "[%*zu/%zu] %-32.*s %5s -> %-5s %s%s\n", width, p.index + 1, p.count,
               static_cast<int>(p.name.size()), p.name.data(), std::string(ggml_type_name(p.source_type)).c_str(),
               std::string(ggml_type_name(p.type)).c_str(), human_size(p.bytes).c_str(),
               p.converted ? "" : "  (copied)");
}

}  // namespace

int run_quantize(int argc, char** argv) {
  CLI::App app{"Write a quantized copy of a GGUF model (llama.cpp-compatible type mixtures)"};
  app.name("pensieve quantize");
  std::string in_path, out_path, type_name;
  int threads = 0;
  bool quiet = false, force = false, allow_requantize = false;
  app.add_option("input", in_path, "source GGUF model (F32, F16, BF16 or quantized)")->required();
  app.add_option("output", out_path, "GGUF file to write")->required();
  app.add_option("type", type_name, "target: " + std::string(quantize_target_list()) + " (any case)")->required();
  app.option_defaults()->always_capture_default();
  app.add_option("-t,--threads", threads, "threads (0: physical cores)")->check(CLI::NonNegativeNumber);
  app.add_flag("--quiet", quiet, "no per-tensor progress lines");
  app.add_flag("--force", force, "overwrite the output file if it exists");
  app.add_flag("--allow-requantize", allow_requantize,
               "quantize a model that is already quantized (its errors add up: prefer the F16/BF16 original)");
  app.footer("example: pensieve quantize model-f16.gguf model-q4_k_m.gguf Q4_K_M");
  if (auto code = parse_or_usage(app, argc, argv)) return *code;
  const std::optional<QuantizeTarget> target = parse_quantize_target(type_name);
  if (!target) {
    std::fprintf(stderr, "pensieve quantize: unknown type '%s' (expected one of: %s)\n", type_name.c_str(),
                 std::string(quantize_target_list()).c_str());
    std::fprintf(stderr, "usage: pensieve quantize IN.gguf OUT.gguf TYPE [--threads N] [--force] [--allow-requantize]\n");
    return 2;
  }

  // Refusals that protect the user's files and models, before anything is written.
  std::error_code ec;
  if (std::filesystem::exists(out_path, ec) && !force) {
    std::fprintf(stderr, "pensieve quantize: %s exists; pass --force to overwrite it\n", out_path.c_str());
    return 2;
  }
  if (auto in = GgufFile::open(in_path); in.ok() && is_quantized_model((*in)->tensors())) {
    std::string type;
    for (const GgufTensorInfo& t : (*in)->tensors())
      if (is_quantizable_tensor(t.name, t.ne) && t.type != GgmlType::F32 && t.type != GgmlType::F16 &&
          t.type != GgmlType::BF16) {
        type = std::string(ggml_type_name(t.type));
        for (char& c : type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        break;
      }
    if (!allow_requantize) {
      std::fprintf(stderr,
                   "pensieve quantize: %s is already quantized (%s weights); quantizing it again adds to their error. "
                   "Quantize the F16/BF16 original, or pass --allow-requantize\n",
                   in_path.c_str(), type.c_str());
      return 2;
    }
    std::fprintf(stderr, "pensieve quantize: warning: re-quantizing %s (already %s): the errors add up\n",
                 in_path.c_str(), type.c_str());
  }

  QuantizeSummary sum;
  const QuantizeProgressFn progress = quiet ? QuantizeProgressFn{} : QuantizeProgressFn(print_progress);
  const Status st = quantize_model(in_path, out_path, *target, threads, progress, &sum);
  if (!st.ok()) {
    std::fprintf(stderr, "pensieve quantize: %s\n", st.error().message.c_str());
    return 1;
  }
  std::fprintf(stderr,
               "quantized %s -> %s (%s): %zu tensors, %zu converted, %zu with fallback types\n"
               "size %.2f MiB -> %.2f MiB (%.2fx smaller) in %.2f s\n",
               in_path.c_str(), out_path.c_str(), std::string(quantize_target_name(*target)).c_str(), sum.n_tensors,
               sum.n_converted, sum.n_fallback, mib(sum.input_bytes), mib(sum.output_bytes),
               sum.output_bytes ? static_cast<double>(sum.input_bytes) / static_cast<double>(sum.output_bytes) : 0.0,
               sum.seconds);
  return 0;
}

PENSIEVE_COMMAND("quantize", "write a quantized copy of a GGUF model (Q4_K_M, Q3_K_M, Q8_0, ...)", run_quantize);

}  // namespace pensieve::cli
