// libFuzzer target: the SSE writers. The input is split into generated text pieces (at 0xFF
// bytes; any bytes, invalid UTF-8 included) and streamed through the Anthropic and OpenAI stream
// renderers, with tool names so the tool-call path runs too, then finished normally or with an
// error. Every event written must be well-formed SSE whose data is one line of valid JSON.
//
// Build: see request_parsers_fuzz.cpp (target sse_writer_fuzz; corpus tests/fuzz/sse_corpus).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/anthropic.h"
#include "server/openai.h"
#include "server/sse.h"

namespace ps = pensieve::server;

// Checks "(id: N\n)?(event: NAME\n)?data: JSON\n\n" blocks (or ": comment\n\n"); traps on anything else.
static void check_sse(const std::string& out) {
  size_t at = 0;
  while (at < out.size()) {
    size_t end = out.find("\n\n", at);
    if (end == std::string::npos) __builtin_trap();  // an unterminated event
    std::string_view block(out.data() + at, end - at);
    at = end + 2;
    if (block.substr(0, 2) == ": ") continue;
    if (block.substr(0, 4) == "id: ") {
      size_t nl = block.find('\n');
      if (nl == std::string_view::npos || block.substr(4, nl - 4).find_first_not_of("0123456789") != std::string_view::npos)
        __builtin_trap();
      block.remove_prefix(nl + 1);
    }
    if (block.substr(0, 7) == "event: ") {
      size_t nl = block.find('\n');
      if (nl == std::string_view::npos) __builtin_trap();
      block.remove_prefix(nl + 1);
    }
    if (block.substr(0, 6) != "data: ") __builtin_trap();
    std::string_view data = block.substr(6);
    if (data.find('\n') != std::string_view::npos || data.find('\r') != std::string_view::npos) __builtin_trap();
    if (data == "[DONE]") continue;
    if (nlohmann::json::parse(data, nullptr, false).is_discarded()) __builtin_trap();
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2 || size > 65536) return 0;
  const uint8_t flags = data[0];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<std::string_view> pieces;
  for (size_t i = 0; i <= text.size();) {
    size_t j = text.find('\xff', i);
    if (j == std::string_view::npos) j = text.size();
    pieces.push_back(text.substr(i, j - i));
    i = j + 1;
  }
  std::vector<std::string> names = (flags & 1) ? std::vector<std::string>{"get_weather", "run"} : std::vector<std::string>{};
  pensieve::engine::Generation g;
  g.text = std::string(text);
  g.n_generated = static_cast<int>(pieces.size());
  g.finish = static_cast<pensieve::engine::FinishReason>((flags >> 1) % 5);
  if (g.finish == pensieve::engine::FinishReason::stop_string) g.stop_string = std::string(pieces.front());
  const bool fail = flags & 0x10;
  const pensieve::Error error = pensieve::make_error(pensieve::ErrorKind::overloaded, std::string(pieces.back()));

  ps::AnthropicStream a("msg_1", std::string(pieces.front()), 3, names);
  std::string out = a.start();
  for (auto p : pieces) out += a.text(p);
  out += fail ? ps::AnthropicStream::error(error) : a.finish(g, flags & 0x20);
  out += ps::AnthropicStream::ping();
  check_sse(out);

  ps::OpenAIStream o("chatcmpl-1", 1, "m", (flags & 0x40) == 0, flags & 0x80, names);
  out = o.start();
  for (auto p : pieces) out += o.text(p);
  out += fail ? ps::OpenAIStream::error(error) : o.finish(g);
  check_sse(out);

  check_sse(ps::sse_event("token", nlohmann::json(std::string(text)), size) + ps::sse_comment("ping"));
  return 0;
}
