#include "gguf/keys.h"

#include <map>

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

std::string file_type_name(int64_t ft) {
  static const std::map<int64_t, std::string> names = {
      {0, "F32"},     {1, "F16"},     {2, "Q4_0"},    {3, "Q4_1"},    {7, "Q8_0"},    {8, "Q5_0"},
      {9, "Q5_1"},    {10, "Q2_K"},   {11, "Q3_K_S"}, {12, "Q3_K_M"}, {13, "Q3_K_L"}, {14, "Q4_K_S"},
      {15, "Q4_K_M"}, {16, "Q5_K_S"}, {17, "Q5_K_M"}, {18, "Q6_K"},   {32, "BF16"}};
  auto it = names.find(ft);
  return it == names.end() ? "" : it->second;
}

}  // namespace pensieve::keys
