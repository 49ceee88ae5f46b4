// The shipped default model (models/pensieve-cmd.gguf): a small model trained by this project that
// turns a request into one shell command. It is found without any download, so that `pensieve cmd`
// (and run/chat/serve/bench without -m) work right after scripts/setup.sh.
#pragma once

#include <string>
#include <vector>

namespace pensieve::cli {

// The model's file name and its GGUF general.name (cmd prompts it in its own terse format).
inline constexpr const char* kShippedModelFile = "pensieve-cmd.gguf";
inline constexpr const char* kShippedModelName = "pensieve-cmd";

// Where it is looked for, in order: $PENSIEVE_CMD_MODEL (a file path, used as given), the
// checkout's models/ (beside the build folder the binary runs from, then the source folder this
// binary was compiled from), then the install location ${prefix}/share/pensieve/models.
std::vector<std::string> shipped_model_candidates();

// The first candidate that exists, or "" (with `searched` listing where it looked).
std::string find_shipped_model(std::string* searched = nullptr);

// For run/chat/serve/bench given no -m: sets `model_path` to the shipped model and prints a
// one-line note that it only knows shell commands; false (after printing where it looked) when
// the shipped model is missing.
bool use_shipped_model(std::string& model_path, const char* command);

}  // namespace pensieve::cli
