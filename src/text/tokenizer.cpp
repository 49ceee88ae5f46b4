#include "text/tokenizer.h"

#include <algorithm>

#include "gguf/keys.h"
#include "text/tok_vocab.h"
#include "text/unicode.h"

namespace pensieve::text {

Result<std::shared_ptr<const Tokenizer>> Tokenizer::from_gguf(const GgufFile& file) { return from_gguf(file, ""); }

Result<std::shared_ptr<const Tokenizer>> Tokenizer::from_gguf(const GgufFile& file, std::string_view pre_override) {
  auto model = file.get_string(keys::kTokenizerModel);
  if (!model) {
    return make_error(ErrorKind::model_load_failed, file.path() + ": no tokenizer (tokenizer.ggml.model is missing)");
  }
  if (*model == "llama") return make_spm_tokenizer(file);
  if (*model == "gpt2") return make_bpe_tokenizer(file, pre_override);
  if (*model == "bert") return make_wpm_tokenizer(file);
  return make_error(ErrorKind::model_load_failed,
                    file.path() + ": unsupported tokenizer model '" + std::string(*model) +
                        "' (tokenizer.ggml.model; supported: llama, gpt2, bert)");
}

std::string Tokenizer::decode(std::span<const token_id> ids, bool special) const { return decode(ids, special, true); }

std::string Tokenizer::decode(std::span<const token_id> ids, bool special, bool strip_leading_space) const {
  std::string out;
  bool strip = strip_leading_space && add_space_prefix_;
  for (token_id id : ids) {
    std::string piece = token_to_piece(id, special);
    if (piece.empty()) continue;
    if (strip && piece[0] == ' ') piece.erase(0, 1);
    strip = false;
    out += piece;
  }
  return out;
}

std::string_view Tokenizer::token_text(token_id id) const {
  if (id < 0 || id >= n_vocab()) return {};
  return tokens_[id];
}

bool Tokenizer::is_eog(token_id id) const { return std::binary_search(eog_.begin(), eog_.end(), id); }

bool Tokenizer::is_control(token_id id) const {
  if (id < 0 || static_cast<size_t>(id) >= token_types_.size()) return false;
  return token_types_[id] == static_cast<int32_t>(TokenType::control);
}

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool special) : StreamDecoder(tokenizer, special, true) {}

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool special, bool strip_leading_space)
    : tokenizer_(tokenizer), special_(special), strip_(strip_leading_space && tokenizer.add_space_prefix()) {}

std::string StreamDecoder::push(token_id id) {
  std::string piece = tokenizer_.token_to_piece(id, special_);
  if (piece.empty()) return {};
  if (first_) {
    if (strip_ && piece[0] == ' ') piece.erase(0, 1);
    first_ = false;
  }
  pending_ += piece;
  const size_t hold = unicode::incomplete_utf8_tail(pending_);
  const std::string_view ready = std::string_view(pending_).substr(0, pending_.size() - hold);
  std::string out = unicode::sanitize_utf8(ready);
  pending_.erase(0, ready.size());
  return out;
}

std::string StreamDecoder::flush() {
  std::string out = unicode::sanitize_utf8(pending_);
  pending_.clear();
  return out;
}

}  // namespace pensieve::text
