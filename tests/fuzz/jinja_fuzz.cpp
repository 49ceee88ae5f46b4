// libFuzzer target: the input is a template source, parsed and rendered over a small fixed
// conversation. Any crash, sanitizer report, hang or unbounded growth is a bug: bad templates
// must come back as errors.
//
// Build (ASan + UBSan):
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc tests/fuzz/jinja_fuzz.cpp \
//     src/text/jinja_*.cpp src/text/chat_template.cpp src/util/status.cpp -o jinja_fuzz
// or cmake -DPENSIEVE_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "text/jinja_ast.h"
#include "text/jinja_render.h"

namespace {

namespace jinja = pensieve::text::jinja;

const jinja::Value& context_messages() {
  static const jinja::Value v = jinja::from_json(nlohmann::ordered_json::parse(R"([
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Hi ✓ there"},
    {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {"a": [1, 2.5, null, true]}}}]},
    {"role": "tool", "content": "{\"ok\": 1}"}
  ])"));
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384) return 0;  // real templates are a few KB; longer inputs only slow the search
  std::string_view source(reinterpret_cast<const char*>(data), size);
  std::shared_ptr<jinja::Template> tmpl;
  try {
    tmpl = jinja::parse_template(source);
  } catch (const jinja::JinjaError&) {
    return 0;
  }
  // Smaller budgets than the server's so that each run stays in the millisecond range.
  jinja::Limits limits;
  limits.max_output_bytes = 1 << 20;
  limits.max_list_items = 1 << 16;
  limits.max_steps = 200'000;
  std::vector<std::pair<std::string, jinja::Value>> globals = {
      {"messages", context_messages()},
      {"tools", jinja::from_json(nlohmann::json::parse(R"([{"type":"function","function":{"name":"f"}}])"))},
      {"add_generation_prompt", jinja::Value::boolean(true)},
      {"bos_token", jinja::Value::string("<s>")},
      {"eos_token", jinja::Value::string("</s>")},
  };
  try {
    jinja::Renderer r(*tmpl, std::move(globals), "2026-01-15", limits);
    std::string out = r.render();
    if (out.size() > limits.max_output_bytes) __builtin_trap();
  } catch (const jinja::JinjaError&) {
  }
  return 0;
}
