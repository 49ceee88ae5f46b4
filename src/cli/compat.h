// llama.cpp compatibility of the command line: its multi-letter single-dash flags, a table of its
// flags pensieve does not have, the sampling ranges (the server's, see below), prompt sources
// (-p TEXT, -p - for stdin, -f FILE) and the context check against the model's training length.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

#include "engine/inference.h"
#include "engine/sampling_limits.h"

namespace pensieve::cli {

// An argv whose strings this object owns (argv[0] first, as main() received it).
class Argv {
 public:
  explicit Argv(std::vector<std::string> args);
  int argc() const { return static_cast<int>(args_.size()); }
  char** argv() { return ptrs_.data(); }

 private:
  std::vector<std::string> args_;
  std::vector<char*> ptrs_;
};

// CLI11 only knows one-letter short options, so llama.cpp's `-ngl`, `-np`, `-fa`, `-ub` (one dash,
// several letters) are rewritten here to their long forms before CLI11 parses: -ngl N ->
// --n-gpu-layers N, -np N -> --parallel N, -ub N -> --ubatch-size N, -fa [on|off|auto] ->
// --flash-attn (the value word, if any, is dropped: attention is always fused in pensieve).
// llama.cpp flags pensieve does not have (-hf, --lora, ...) are refused: nullopt after a
// "pensieve: not supported: -hf (...)" line on stderr; the caller exits 2. Nothing after `--`
// is touched.
std::optional<Argv> rewrite_llama_args(int argc, char** argv);

// Sampling ranges, checked at parse time against engine/sampling_limits.h, the table the server
// checks its request fields against too; a bad value is a usage error (exit 2).
CLI::Validator sampling_check(engine::SamplingKnob knob);
CLI::Validator n_predict_range();  // >= -1 (-1: until the context is full)

// llama.cpp's -ngl/--n-gpu-layers/--gpu-layers VALUE on pensieve's --device OPTION: there is no
// partial offload here, so any layer count > 0 and "all" mean --device cuda, 0 means cpu, and
// "auto" or -1 (recent llama.cpp's default) mean auto. The option excludes --device.
CLI::Option* add_n_gpu_layers(CLI::App& app, std::string& device, CLI::Option* device_option);

// llama.cpp flags for what pensieve always does, accepted so scripts keep working: --jinja (the
// model's own Jinja chat template is always used) and, with `server`, -cb/--cont-batching
// (requests are always batched continuously).
void add_accepted_llama_flags(CLI::App& app, bool server);

// The prompt of -p TEXT / -p - (stdin) / -f FILE (-f - is stdin too), byte for byte.
// nullopt after an error line on stderr (unreadable file).
std::optional<std::string> read_prompt(const std::string& text, const std::string& file);

// Refuses a context beyond the model's training length before anything is loaded: 0 when fine
// (n_ctx 0, or the file has no context_length), 2 after a message on stderr when it is beyond,
// 1 when the file cannot be read. With `allow_extension` (--allow-ctx-extension) beyond is allowed,
// with a note: positions past the training length get no RoPE scaling, so quality may drop.
int check_ctx(const std::string& model_path, int n_ctx, bool allow_extension = false);

// A random run (temperature > 0, no --seed) gets a seed chosen here so it can be printed
// ("pensieve: seed N" on stderr unless quiet) and passed back with --seed to reproduce the run.
// `verbose` (--verbose) also prints a given seed and the sampling settings.
void choose_seed(engine::SamplingParams& sp, bool quiet, bool verbose = false);

}  // namespace pensieve::cli
