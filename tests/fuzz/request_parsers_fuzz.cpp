// libFuzzer target: the JSON request parsers of both APIs, from raw body bytes. The first byte
// picks the parser (Anthropic messages / count_tokens, OpenAI chat / completions / job, the tool
// call parser of model output); the rest is the body. Any crash, sanitizer report or stack
// overflow is a bug: bad input must come back as an invalid_request error.
//
// cmake -S . -B build-fuzz -G Ninja -DPENSIEVE_FUZZ=ON -DPENSIEVE_TESTS=OFF -DPENSIEVE_CUDA=OFF \
//   -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang && cmake --build build-fuzz --target request_parsers_fuzz
// build-fuzz/request_parsers_fuzz tests/fuzz/request_corpus -max_total_time=600
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/anthropic.h"
#include "server/json_limits.h"
#include "server/openai.h"
#include "server/tool_calls.h"

namespace ps = pensieve::server;

static void touch(const ps::ChatRequest& r) {
  // What prompt rendering does with a parsed request: walk and dump every part.
  (void)r.messages.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).size();
  (void)r.tools.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).size();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > (1 << 20)) return 0;
  const int mode = data[0] % 6;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  if (mode == 5) {  // model output with tool calls
    auto reply = ps::parse_reply(text, {"get_weather", "run"}, "toolu_");
    for (const auto& c : reply.calls) (void)c.arguments.dump().size();
    ps::ToolCallParser streaming({"get_weather", "run"}, "call_");
    for (size_t i = 0; i < text.size(); i += 7) (void)streaming.push(text.substr(i, 7));
    (void)streaming.finish();
    return 0;
  }
  auto body = ps::parse_json_limited(text, "the request body", 64);
  if (!body.ok()) return 0;
  try {
    pensieve::Result<ps::ChatRequest> r = pensieve::make_error(pensieve::ErrorKind::internal, "");
    switch (mode) {
      case 0: r = ps::parse_anthropic_request(body.value(), false); break;
      case 1: r = ps::parse_anthropic_request(body.value(), true); break;
      case 2: r = ps::parse_openai_chat_request(body.value()); break;
      case 3: r = ps::parse_openai_completion_request(body.value()); break;
      default: r = ps::parse_openai_chat_request(body.value()); break;
    }
    if (r.ok()) touch(r.value());
  } catch (const nlohmann::json::exception&) {
    // A wrongly typed field read without a check: the server answers it with a 400.
  }
  return 0;
}
