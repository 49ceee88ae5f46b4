// general.architecture -> family. Adding an architecture: one family file + one line here.
#include <array>
#include <utility>

#include "model/families.h"

namespace pensieve::model {

static const std::array<std::pair<std::string_view, const Family*>, 4> kRegistry = {{
    {"llama", &kLlamaFamily},
    {"mistral", &kLlamaFamily},  // newer converters name Mistral's (llama) graph this way
    {"qwen2", &kQwen2Family},
    {"qwen3", &kQwen3Family},
}};

const Family* find_family(std::string_view arch) {
  for (const auto& [name, family] : kRegistry)
    if (name == arch) return family;
  return nullptr;
}

std::vector<std::string_view> supported_architectures() {
  std::vector<std::string_view> names;
  for (const auto& entry : kRegistry) names.push_back(entry.first);
  return names;
}

}  // namespace pensieve::model
