// Tokenizers built from a GGUF's tokenizer.ggml.* metadata: SentencePiece-style ("llama"),
// byte-level BPE ("gpt2", with the pre-tokenizer named by tokenizer.ggml.pre) and WordPiece ("bert").
// After construction a Tokenizer is immutable: all methods are const and thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf.h"
#include "util/status.h"

namespace pensieve::text {

using token_id = int32_t;

enum class VocabType { spm, bpe, wpm };

class Tokenizer {
 public:
  static Result<std::shared_ptr<const Tokenizer>> from_gguf(const GgufFile& file);
  // Same, but with the pre-tokenizer named here instead of tokenizer.ggml.pre (tests, tools).
  static Result<std::shared_ptr<const Tokenizer>> from_gguf(const GgufFile& file, std::string_view pre_tokenizer_override);
  virtual ~Tokenizer() = default;

  // add_special: BOS/EOS as the model's add_bos_token / add_eos_token say.
  // parse_special: text spelling a special/control token becomes that token.
  virtual std::vector<token_id> encode(std::string_view text, bool add_special, bool parse_special) const = 0;

  // Bytes of one token as it appears in text (byte-fallback and byte-level tokens decoded;
  // SPM's U+2581 becomes a space). Special/control tokens give their text only when `special`.
  virtual std::string token_to_piece(token_id id, bool special) const = 0;

  // Concatenated pieces; SPM drops the leading space the encoder added.
  std::string decode(std::span<const token_id> ids, bool special = false) const;
  // strip_leading_space=false keeps it (decoding a continuation of earlier text). Rule when true:
  // if add_space_prefix(), the first token that yields any text loses one leading ' ' (tokens
  // yielding nothing, e.g. BOS when !special, are skipped over). Output bytes are raw (may be
  // invalid UTF-8 if the ids split a character); StreamDecoder gives sanitized text.
  std::string decode(std::span<const token_id> ids, bool special, bool strip_leading_space) const;

  VocabType type() const { return type_; }
  std::string_view pre_tokenizer() const { return pre_; }
  int32_t n_vocab() const { return static_cast<int32_t>(tokens_.size()); }
  std::string_view token_text(token_id id) const;  // the raw vocab string
  token_id bos() const { return bos_; }             // -1 when the model has none
  token_id eos() const { return eos_; }
  bool add_bos() const { return add_bos_; }
  bool add_eos() const { return add_eos_; }
  // SentencePiece's dummy prefix: a space is added before text at the start / after a special token.
  bool add_space_prefix() const { return add_space_prefix_; }
  // End of generation: EOS, EOT, EOM and the end tokens real chat models use (<|im_end|>, ...).
  bool is_eog(token_id id) const;
  const std::vector<token_id>& eog_tokens() const { return eog_; }
  bool is_control(token_id id) const;

 protected:
  VocabType type_ = VocabType::spm;
  std::string pre_;
  std::vector<std::string> tokens_;
  std::vector<int32_t> token_types_;
  token_id bos_ = -1, eos_ = -1;
  bool add_bos_ = false, add_eos_ = false;
  bool add_space_prefix_ = false;
  std::vector<token_id> eog_;
};

// Turns a stream of tokens into text without ever emitting half a UTF-8 character:
// bytes of an incomplete sequence are held back until it completes (or flush()).
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool special = false);
  // strip_leading_space: as decode(); pass false when the stream continues earlier text.
  StreamDecoder(const Tokenizer& tokenizer, bool special, bool strip_leading_space);
  std::string push(token_id id);  // complete UTF-8 text that became available
  std::string flush();             // whatever is held back (invalid bytes become U+FFFD)

 private:
  const Tokenizer& tokenizer_;
  bool special_;
  bool first_ = true;
  bool strip_ = true;
  std::string pending_;
};

}  // namespace pensieve::text
