#include "gguf/keys.h"

namespace pensieve::keys {

static std::string substitute(std::string_view pattern, std::string_view placeholder, std::string_view value) {
  std::string out(pattern);
  size_t pos = out.find(placeholder);
  if (pos != std::string::npos) out.replace(pos, placeholder.size(), value);
  return out;
}

std::string arch_key(std::string_view key, std::string_view arch) { return substitute(key, "{arch}", arch); }

std::string layer_tensor(std::string_view name, int layer) {
  return substitute(name, "{layer}", std::to_string(layer));
}

}  // namespace pensieve::keys
