// libFuzzer target for the tokenizers: arbitrary bytes through encode (Qwen2 byte-level BPE,
// Llama SentencePiece, BERT WordPiece), arbitrary ids through decode and the StreamDecoder, and
// every pre-tokenizer's split. Checks invariants, not just "no crash":
//   - BPE and SPM decode(encode(x)) == x (SPM: for text without a literal U+2581);
//   - StreamDecoder output is valid UTF-8 and, for valid input, equals decode();
//   - pre-tokenizer pieces tile the input.
// Fixtures: $PENSIEVE_SHARED_DIR (default: ../shared next to the source tree).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "text/tok_pretokenize.h"
#include "text/tokenizer.h"
#include "text/unicode.h"

namespace {

using pensieve::GgufFile;
using pensieve::text::Tokenizer;

struct Loaded {
  std::unique_ptr<GgufFile> file;
  std::shared_ptr<const Tokenizer> tok;
};

std::string shared_dir() {
  if (const char* env = std::getenv("PENSIEVE_SHARED_DIR")) return env;
  std::string here = __FILE__;  // <root>/tests/fuzz/tokenizer_fuzz.cpp -> <root>/../shared
  return here.substr(0, here.rfind("/tests/fuzz/")) + "/../shared";
}

Loaded load(const std::string& name) {
  Loaded l;
  auto f = GgufFile::open(shared_dir() + "/fixtures/tokenizer/ggml-vocab-" + name + ".gguf");
  if (!f.ok()) {
    std::fprintf(stderr, "tokenizer_fuzz: %s\n", f.error().message.c_str());
    std::abort();
  }
  l.file = std::move(f.value());
  auto t = Tokenizer::from_gguf(*l.file);
  if (!t.ok()) {
    std::fprintf(stderr, "tokenizer_fuzz: %s\n", t.error().message.c_str());
    std::abort();
  }
  l.tok = t.value();
  return l;
}

struct State {
  Loaded qwen2 = load("qwen2");
  Loaded spm = load("llama-spm");
  Loaded bert = load("bert-bge");
  std::vector<std::unique_ptr<pensieve::text::PreTokenizer>> pre;
  State() {
    for (auto name : pensieve::text::PreTokenizer::known_names()) {
      pre.push_back(std::move(pensieve::text::PreTokenizer::create(name).value()));
    }
  }
};

State& state() {
  static State s;
  return s;
}

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "tokenizer_fuzz: invariant failed: %s\n", what);
    std::abort();
  }
}

bool is_valid_utf8(std::string_view s) { return pensieve::text::unicode::sanitize_utf8(s) == s; }

void stream_check(const Tokenizer& tok, const std::vector<int32_t>& ids, bool special) {
  pensieve::text::StreamDecoder sd(tok, special);
  std::string streamed;
  for (int32_t id : ids) {
    std::string chunk = sd.push(id);
    check(is_valid_utf8(chunk), "stream chunk is valid UTF-8");
    streamed += chunk;
  }
  streamed += sd.flush();
  check(is_valid_utf8(streamed), "stream is valid UTF-8");
  const std::string whole = tok.decode(ids, special);
  if (is_valid_utf8(whole)) check(streamed == whole, "stream == decode for valid UTF-8");
}

void fuzz_encode(const Loaded& l, std::string_view text, bool add_special, bool parse_special, bool lossless) {
  const auto ids = l.tok->encode(text, add_special, parse_special);
  for (int32_t id : ids) check(id >= 0 && id < l.tok->n_vocab(), "ids in range");
  if (lossless && !add_special && !parse_special) check(l.tok->decode(ids) == text, "decode(encode(x)) == x");
  stream_check(*l.tok, ids, parse_special);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  State& s = state();
  const uint8_t mode = data[0];
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool add_special = mode & 0x10, parse_special = mode & 0x20;
  switch (mode & 0x7) {
    case 0:
    case 1:
      fuzz_encode(s.qwen2, rest, add_special, parse_special, true);
      break;
    case 2:
    case 3:
      fuzz_encode(s.spm, rest, add_special, parse_special, rest.find("\xE2\x96\x81") == std::string_view::npos);
      break;
    case 4:
      fuzz_encode(s.bert, rest, add_special, parse_special, false);
      break;
    case 5: {  // arbitrary ids, including negative and out-of-range ones
      std::vector<int32_t> ids;
      for (size_t i = 0; i + 4 <= rest.size(); i += 4) {
        int32_t id;
        std::memcpy(&id, rest.data() + i, 4);
        if (mode & 0x40) id = static_cast<int32_t>(static_cast<uint32_t>(id) % 160000u);
        ids.push_back(id);
      }
      const Loaded& l = (mode & 0x80) ? s.spm : s.qwen2;
      stream_check(*l.tok, ids, parse_special);
      break;
    }
    default: {  // every pre-tokenizer tiles the input
      const auto& pt = s.pre[(mode >> 3) % s.pre.size()];
      std::string joined;
      for (const std::string& piece : pt->split(rest)) {
        check(!piece.empty(), "pieces are not empty");
        joined += piece;
      }
      check(joined == rest, "pieces tile the input");
      break;
    }
  }
  return 0;
}
