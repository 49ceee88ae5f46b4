#include "text/tok_vocab.h"

#include <algorithm>
#include <cctype>
#include <unordered_set>

#include "gguf/keys.h"

namespace pensieve::text {

namespace {

// Tokens that end a turn in real chat models; all of them stop generation (llama.cpp's list plus
// Llama 3's base-model end of text and DeepSeek's end of sentence).
constexpr std::string_view kEogTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>",          "<end_of_turn>",         "<|endoftext|>",
    "<|eom_id|>", "<EOT>",      "_<EOT>",           "<|end_of_text|>",       "<｜end▁of▁sentence｜>",
};
// Candidates for the EOT id when tokenizer.ggml.eot_token_id is absent, best first.
constexpr std::string_view kEotTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "<｜end▁of▁sentence｜>",
};

bool pre_adds_bos(std::string_view pre) {
  constexpr std::string_view kNames[] = {"llama3", "llama-v3", "llama-bpe", "falcon3", "tekken", "chameleon"};
  return std::find(std::begin(kNames), std::end(kNames), pre) != std::end(kNames);
}

Error load_error(const GgufFile& file, const std::string& what) {
  return make_error(ErrorKind::model_load_failed, file.path() + ": " + what);
}

}  // namespace

namespace {

uint64_t hash_text(std::string_view s) { return std::hash<std::string_view>{}(s); }

}  // namespace

void TokenIndex::build(const std::vector<std::string>& tokens) {
  size_t cap = 16;
  while (cap < tokens.size() * 2) cap <<= 1;
  slots_.assign(cap, Slot{0, -1});
  mask_ = cap - 1;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const uint64_t h = hash_text(tokens[i]);
    const auto tag = static_cast<uint32_t>(h >> 32);
    for (size_t k = h & mask_;; k = (k + 1) & mask_) {
      Slot& slot = slots_[k];
      if (slot.id < 0) {
        slot = Slot{tag, static_cast<token_id>(i)};
        break;
      }
      if (slot.tag == tag && tokens[slot.id] == tokens[i]) {
        slot.id = static_cast<token_id>(i);
        break;
      }
    }
  }
}

token_id TokenIndex::find(std::string_view text, const std::vector<std::string>& tokens) const {
  if (slots_.empty()) return -1;
  const uint64_t h = hash_text(text);
  const auto tag = static_cast<uint32_t>(h >> 32);
  for (size_t k = h & mask_;; k = (k + 1) & mask_) {
    const Slot& slot = slots_[k];
    if (slot.id < 0) return -1;
    if (slot.tag == tag && tokens[slot.id] == text) return slot.id;
  }
}

Status VocabTokenizer::load_vocab(const GgufFile& file, VocabType type, std::string_view pre_override) {
  type_ = type;
  auto tokens = file.get_string_array(keys::kTokenizerTokens);
  if (!tokens || tokens->empty()) {
    return load_error(file, "tokenizer.ggml.tokens is missing, empty or not an array of strings");
  }
  const size_t n = tokens->size();
  if (n > static_cast<size_t>(INT32_MAX)) return load_error(file, "tokenizer.ggml.tokens has too many entries");
  tokens_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    std::string_view t = (*tokens)[i];
    tokens_.emplace_back(t.empty() ? "[EMPTY_" + std::to_string(i) + "]" : std::string(t));
  }
  if (file.find(keys::kTokenizerScores)) {
    auto scores = file.get_float_array(keys::kTokenizerScores);
    if (!scores || scores->size() != n) {
      return load_error(file, "tokenizer.ggml.scores must be a float array with one entry per token");
    }
    scores_ = std::move(*scores);
  } else {
    scores_.assign(n, 0.0f);
  }
  if (file.find(keys::kTokenizerTokenType)) {
    auto types = file.get_int_array(keys::kTokenizerTokenType);
    if (!types || types->size() != n) {
      return load_error(file, "tokenizer.ggml.token_type must be an integer array with one entry per token");
    }
    token_types_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const int64_t t = (*types)[i];
      token_types_[i] = (t >= 0 && t <= 6) ? static_cast<int32_t>(t) : 0;
    }
  } else {
    token_types_.assign(n, static_cast<int32_t>(TokenType::normal));
  }
  if (!pre_override.empty()) {
    pre_ = std::string(pre_override);
  } else {
    pre_ = std::string(file.get_string(keys::kTokenizerPre).value_or(""));
  }

  token_index_.build(tokens_);
  for (size_t i = 0; i < n; ++i) max_token_len_ = std::max(max_token_len_, tokens_[i].size());

  read_special_ids(file, type);
  add_space_prefix_ = file.get_bool(keys::kTokenizerAddSpacePrefix).value_or(type == VocabType::spm);
  build_eog();
  build_special_matcher();
  set_strip_attributes(file);
  PS_TRY(finish_load(file));

  pieces_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string& text = tokens_[i];
    switch (static_cast<TokenType>(token_types_[i])) {
      case TokenType::normal:
        pieces_[i] = decode_normal_token(text);
        break;
      case TokenType::byte:
        if (text.size() == 6 && text.starts_with("<0x") && text.back() == '>') {
          pieces_[i] = std::string(1, static_cast<char>(std::stoi(text.substr(3, 2), nullptr, 16)));
        } else {
          pieces_[i] = decode_normal_token(text);
        }
        break;
      case TokenType::control:
      case TokenType::unknown:
      case TokenType::user_defined:
        pieces_[i] = text;
        break;
      default:
        break;  // unused / undefined tokens print nothing
    }
  }
  return ok_status();
}

void VocabTokenizer::read_special_ids(const GgufFile& file, VocabType type) {
  const auto n = static_cast<int64_t>(tokens_.size());
  auto pick = [&](std::string_view key, token_id fallback) -> token_id {
    if (fallback >= n) fallback = -1;
    auto v = file.get_int(key);
    if (v && *v >= 0 && *v < n) return static_cast<token_id>(*v);
    return fallback;
  };
  const bool spm = type == VocabType::spm, wpm = type == VocabType::wpm;
  bos_ = pick(keys::kTokenizerBos, spm ? 1 : (wpm ? 101 : -1));
  eos_ = pick(keys::kTokenizerEos, spm ? 2 : -1);
  unk_ = pick(keys::kTokenizerUnk, spm ? 0 : (wpm ? 100 : -1));
  sep_ = pick(keys::kTokenizerSep, wpm ? 102 : -1);
  pad_ = pick(keys::kTokenizerPad, wpm ? 0 : -1);
  mask_ = pick(keys::kTokenizerMask, wpm ? 103 : -1);
  eot_ = pick(keys::kTokenizerEot, -1);
  eom_ = pick(keys::kTokenizerEom, -1);
  if (wpm) {
    // BERT: "BOS" is [CLS] and "EOS" is [SEP]; both are added around the input by default.
    bos_ = pick(keys::kTokenizerCls, bos_);
    eos_ = sep_;
  }
  add_bos_ = spm || wpm || (type == VocabType::bpe && pre_adds_bos(pre_));
  add_eos_ = wpm;
  if (auto v = file.get_bool(keys::kTokenizerAddBos)) add_bos_ = *v;
  if (auto v = file.get_bool(keys::kTokenizerAddEos)) add_eos_ = *v;
  if (add_bos_ && bos_ < 0) add_bos_ = false;
  if (add_eos_ && eos_ < 0) add_eos_ = false;
}

void VocabTokenizer::build_eog() {
  if (eot_ < 0) {
    for (std::string_view t : kEotTexts) {
      if (token_id id = find_token(t); id >= 0) {
        eot_ = id;
        break;
      }
    }
  }
  if (eom_ < 0) eom_ = find_token("<|eom_id|>");
  std::vector<token_id> eog;
  for (std::string_view t : kEogTexts) {
    if (token_id id = find_token(t); id >= 0) {
      eog.push_back(id);
      token_types_[id] = static_cast<int32_t>(TokenType::control);  // as llama.cpp: they are control tokens
    }
  }
  for (token_id id : {eos_, eot_, eom_}) {
    if (id >= 0) eog.push_back(id);
  }
  std::sort(eog.begin(), eog.end());
  eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
  eog_ = std::move(eog);
}

void VocabTokenizer::build_special_matcher() {
  special_tokens_.clear();
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const auto t = static_cast<TokenType>(token_types_[i]);
    if (t == TokenType::control || t == TokenType::user_defined || t == TokenType::unknown) {
      special_tokens_.push_back(static_cast<token_id>(i));
    }
  }
  std::stable_sort(special_tokens_.begin(), special_tokens_.end(),
                   [&](token_id a, token_id b) { return tokens_[a].size() > tokens_[b].size(); });
  trie_edges_.clear();
  trie_token_.assign(1, -1);
  for (token_id id : special_tokens_) {
    int32_t node = 0;
    for (unsigned char c : tokens_[id]) {
      const uint64_t key = (static_cast<uint64_t>(node) << 8) | c;
      auto it = trie_edges_.find(key);
      if (it == trie_edges_.end()) {
        const auto child = static_cast<int32_t>(trie_token_.size());
        trie_token_.push_back(-1);
        it = trie_edges_.emplace(key, child).first;
      }
      node = it->second;
    }
    if (trie_token_[node] < 0) trie_token_[node] = id;
    special_first_byte_[static_cast<unsigned char>(tokens_[id][0])] = true;
  }
}

void VocabTokenizer::set_strip_attributes(const GgufFile& file) {
  std::string name(file.get_string(keys::kName).value_or(""));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (name.find("phi-3") == std::string::npos && name.find("phi3") == std::string::npos) return;
  rstrip_.assign(tokens_.size(), false);
  for (token_id id : special_tokens_) rstrip_[id] = true;
  if (token_id id = find_token("</s>"); id >= 0) rstrip_[id] = true;
  for (std::string_view t : {"<unk>", "<s>", "<|endoftext|>"}) {
    if (token_id id = find_token(t); id >= 0) rstrip_[id] = false;
  }
}

std::vector<token_id> VocabTokenizer::special_tokens_present(std::string_view text, bool parse_special) const {
  std::unordered_set<token_id> found;
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (!special_first_byte_[static_cast<unsigned char>(text[pos])]) continue;
    int32_t node = 0;
    for (size_t i = pos; i < text.size(); ++i) {
      auto it = trie_edges_.find((static_cast<uint64_t>(node) << 8) | static_cast<unsigned char>(text[i]));
      if (it == trie_edges_.end()) break;
      node = it->second;
      const token_id id = trie_token_[node];
      if (id < 0) continue;
      if (parse_special || static_cast<TokenType>(token_types_[id]) == TokenType::user_defined) found.insert(id);
    }
  }
  std::vector<token_id> out;
  if (found.empty()) return out;
  // Every token with the same text is a candidate too (the trie keeps only one of them).
  for (token_id id : special_tokens_) {
    const auto t = static_cast<TokenType>(token_types_[id]);
    if (!parse_special && t != TokenType::user_defined) continue;
    const token_id canonical = find_token(tokens_[id]);
    if (found.count(id) || (canonical >= 0 && found.count(canonical))) out.push_back(id);
  }
  return out;
}

std::vector<VocabTokenizer::Fragment> VocabTokenizer::partition_special(std::string_view text, bool parse_special) const {
  std::vector<Fragment> frags;
  if (text.empty()) return frags;
  frags.push_back({text, -1});
  std::vector<Fragment> next;
  for (token_id id : special_tokens_present(text, parse_special)) {
    const std::string_view tok = tokens_[id];
    next.clear();
    for (const Fragment& f : frags) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      size_t start = 0, p;
      while ((p = f.text.find(tok, start)) != std::string_view::npos) {
        if (p > start) next.push_back({f.text.substr(start, p - start), -1});
        next.push_back({f.text.substr(p, tok.size()), id});
        start = p + tok.size();
        if (!rstrip_.empty() && rstrip_[id]) {
          while (start < f.text.size() && std::isspace(static_cast<unsigned char>(f.text[start]))) ++start;
        }
      }
      if (start < f.text.size()) next.push_back({f.text.substr(start), -1});
    }
    frags.swap(next);
  }
  return frags;
}

std::vector<token_id> VocabTokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  std::vector<token_id> out;
  out.reserve(text.size() / 3 + 4);
  if (add_special && add_bos_) out.push_back(bos_);
  bool after_special = true;
  for (const Fragment& f : partition_special(text, parse_special)) {
    if (f.token >= 0) {
      out.push_back(f.token);
      after_special = true;
    } else {
      encode_text(f.text, after_special, out);
      after_special = false;
    }
  }
  if (add_special && add_eos_) out.push_back(eos_);
  return out;
}

std::string VocabTokenizer::token_to_piece(token_id id, bool special) const {
  if (id < 0 || static_cast<size_t>(id) >= pieces_.size()) return {};
  const auto t = static_cast<TokenType>(token_types_[id]);
  if (!special && (t == TokenType::control || t == TokenType::unknown)) return {};
  return pieces_[id];
}

token_id VocabTokenizer::find_token(std::string_view text) const {
  return token_index_.find(text, tokens_);
}

TokenType VocabTokenizer::token_type(token_id id) const {
  if (id < 0 || static_cast<size_t>(id) >= token_types_.size()) return TokenType::undefined;
  return static_cast<TokenType>(token_types_[id]);
}

float VocabTokenizer::token_score(token_id id) const {
  if (id < 0 || static_cast<size_t>(id) >= scores_.size()) return 0.0f;
  return scores_[id];
}

}  // namespace pensieve::text
