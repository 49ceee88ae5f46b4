// The part every tokenizer shares: the vocabulary read from tokenizer.ggml.* (tokens, scores,
// types, special ids, add_bos/add_eos/add_space_prefix with llama.cpp's defaults, the EOG set),
// special-token partitioning of the input, and token -> piece. SentencePiece, BPE and WordPiece
// derive from VocabTokenizer and only say how a run of plain text becomes tokens.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gguf/gguf.h"
#include "text/tokenizer.h"

namespace pensieve::text {

// tokenizer.ggml.token_type values (llama.cpp's llama_token_type).
enum class TokenType : int32_t {
  undefined = 0,
  normal = 1,
  unknown = 2,
  control = 3,
  user_defined = 4,
  unused = 5,
  byte = 6,
};

// Token text -> id, as an open-addressing table over the vocabulary's own strings (one probe and
// usually one string compare per lookup; the merge loops of SPM and BPE live on this).
class TokenIndex {
 public:
  void build(const std::vector<std::string>& tokens);  // a later duplicate text wins, as in llama.cpp
  token_id find(std::string_view text, const std::vector<std::string>& tokens) const;

 private:
  struct Slot {
    uint32_t tag;  // high bits of the hash, to skip most string compares
    token_id id;   // -1: empty
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

class VocabTokenizer : public Tokenizer {
 public:
  std::vector<token_id> encode(std::string_view text, bool add_special, bool parse_special) const final;
  std::string token_to_piece(token_id id, bool special) const final;

  token_id find_token(std::string_view text) const;  // -1 when the text is not a token
  TokenType token_type(token_id id) const;
  float token_score(token_id id) const;
  token_id unk() const { return unk_; }
  token_id eot() const { return eot_; }

  // A run of input text between special tokens, or one special token.
  struct Fragment {
    std::string_view text;
    token_id token = -1;  // >= 0: this fragment is that special token
  };
  // Splits the text at special tokens the way llama.cpp does: longest special token first, each
  // one cut out everywhere it occurs in the remaining text. User-defined tokens are always
  // recognized; control and unknown tokens only with parse_special.
  std::vector<Fragment> partition_special(std::string_view text, bool parse_special) const;

  // Reads everything tokenizer.ggml.* says that is common to all vocab types.
  Status load_vocab(const GgufFile& file, VocabType type, std::string_view pre_override);

 protected:
  // Appends the tokens of a run of plain text. `after_special`: the run is at the start of the
  // input or directly follows a special token (SentencePiece adds its space prefix there).
  virtual void encode_text(std::string_view text, bool after_special, std::vector<token_id>& out) const = 0;
  // Decoded bytes of a normal token (vocab-type specific: U+2581 -> space, byte-level -> bytes).
  virtual std::string decode_normal_token(std::string_view text) const = 0;
  // Called at the end of load_vocab, after the common fields are set.
  virtual Status finish_load(const GgufFile& file) { return ok_status(); }

  std::vector<float> scores_;
  TokenIndex token_index_;
  std::vector<std::string> pieces_;                              // token_to_piece(id, true), precomputed
  std::vector<token_id> special_tokens_;                         // longest text first
  token_id unk_ = -1, eot_ = -1, eom_ = -1, pad_ = -1, sep_ = -1, mask_ = -1;
  size_t max_token_len_ = 0;
  // Special tokens that swallow the whitespace after them when matched (Phi-3's added tokens
  // have rstrip in Hugging Face; llama.cpp applies the same rule by model name).
  std::vector<bool> rstrip_;

 private:
  void set_strip_attributes(const GgufFile& file);
  void read_special_ids(const GgufFile& file, VocabType type);
  void build_eog();
  void build_special_matcher();
  // Which special tokens occur in `text` at all (so the exact partition only runs for those).
  std::vector<token_id> special_tokens_present(std::string_view text, bool parse_special) const;

  // Byte trie over special token texts: (node << 8 | byte) -> child node; node -> token at node.
  std::unordered_map<uint64_t, int32_t> trie_edges_;
  std::vector<token_id> trie_token_;
  bool special_first_byte_[256] = {};
};

// Constructors for the three vocab types (tok_spm.cpp, tok_bpe.cpp, tok_wpm.cpp).
Result<std::shared_ptr<const Tokenizer>> make_spm_tokenizer(const GgufFile& file);
Result<std::shared_ptr<const Tokenizer>> make_bpe_tokenizer(const GgufFile& file, std::string_view pre_override);
Result<std::shared_ptr<const Tokenizer>> make_wpm_tokenizer(const GgufFile& file);

}  // namespace pensieve::text
