// Every GGUF metadata key and tensor name pensieve reads or writes, in one place.
// Architecture-scoped keys are templates with "{arch}"; tensor names with "{layer}".
// Model code never spells a key string: it calls arch_key(kBlockCount, arch) etc.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pensieve::keys {

// general.*
inline constexpr std::string_view kArchitecture = "general.architecture";
inline constexpr std::string_view kName = "general.name";
inline constexpr std::string_view kAlignment = "general.alignment";
inline constexpr std::string_view kFileType = "general.file_type";
inline constexpr std::string_view kQuantizationVersion = "general.quantization_version";

// {arch}.*
inline constexpr std::string_view kContextLength = "{arch}.context_length";
inline constexpr std::string_view kEmbeddingLength = "{arch}.embedding_length";
inline constexpr std::string_view kBlockCount = "{arch}.block_count";
inline constexpr std::string_view kFeedForwardLength = "{arch}.feed_forward_length";
inline constexpr std::string_view kHeadCount = "{arch}.attention.head_count";
inline constexpr std::string_view kHeadCountKv = "{arch}.attention.head_count_kv";
inline constexpr std::string_view kKeyLength = "{arch}.attention.key_length";
inline constexpr std::string_view kValueLength = "{arch}.attention.value_length";
inline constexpr std::string_view kRmsEps = "{arch}.attention.layer_norm_rms_epsilon";
inline constexpr std::string_view kRopeDimensionCount = "{arch}.rope.dimension_count";
inline constexpr std::string_view kRopeFreqBase = "{arch}.rope.freq_base";
inline constexpr std::string_view kRopeScaleLinear = "{arch}.rope.scale_linear";
inline constexpr std::string_view kRopeScalingType = "{arch}.rope.scaling.type";
inline constexpr std::string_view kRopeScalingFactor = "{arch}.rope.scaling.factor";
inline constexpr std::string_view kRopeScalingOrigCtx = "{arch}.rope.scaling.original_context_length";
inline constexpr std::string_view kRopeScalingAttnFactor = "{arch}.rope.scaling.attn_factor";
inline constexpr std::string_view kRopeScalingYarnLogMul = "{arch}.rope.scaling.yarn_log_multiplier";
inline constexpr std::string_view kRopeScalingYarnBetaFast = "{arch}.rope.scaling.yarn_beta_fast";
inline constexpr std::string_view kRopeScalingYarnBetaSlow = "{arch}.rope.scaling.yarn_beta_slow";
inline constexpr std::string_view kVocabSize = "{arch}.vocab_size";

// tokenizer.*
inline constexpr std::string_view kTokenizerModel = "tokenizer.ggml.model";
inline constexpr std::string_view kTokenizerPre = "tokenizer.ggml.pre";
inline constexpr std::string_view kTokenizerTokens = "tokenizer.ggml.tokens";
inline constexpr std::string_view kTokenizerScores = "tokenizer.ggml.scores";
inline constexpr std::string_view kTokenizerTokenType = "tokenizer.ggml.token_type";
inline constexpr std::string_view kTokenizerMerges = "tokenizer.ggml.merges";
inline constexpr std::string_view kTokenizerBos = "tokenizer.ggml.bos_token_id";
inline constexpr std::string_view kTokenizerEos = "tokenizer.ggml.eos_token_id";
inline constexpr std::string_view kTokenizerEot = "tokenizer.ggml.eot_token_id";
inline constexpr std::string_view kTokenizerEom = "tokenizer.ggml.eom_token_id";
inline constexpr std::string_view kTokenizerUnk = "tokenizer.ggml.unknown_token_id";
inline constexpr std::string_view kTokenizerSep = "tokenizer.ggml.seperator_token_id";  // sic, as in GGUF
inline constexpr std::string_view kTokenizerPad = "tokenizer.ggml.padding_token_id";
inline constexpr std::string_view kTokenizerCls = "tokenizer.ggml.cls_token_id";
inline constexpr std::string_view kTokenizerMask = "tokenizer.ggml.mask_token_id";
inline constexpr std::string_view kTokenizerAddBos = "tokenizer.ggml.add_bos_token";
inline constexpr std::string_view kTokenizerAddEos = "tokenizer.ggml.add_eos_token";
inline constexpr std::string_view kTokenizerAddSpacePrefix = "tokenizer.ggml.add_space_prefix";
inline constexpr std::string_view kTokenizerRemoveExtraWhitespaces = "tokenizer.ggml.remove_extra_whitespaces";
inline constexpr std::string_view kTokenizerChatTemplate = "tokenizer.chat_template";

// Tensor names.
inline constexpr std::string_view kTokenEmbd = "token_embd.weight";
inline constexpr std::string_view kOutputNorm = "output_norm.weight";
inline constexpr std::string_view kOutput = "output.weight";
inline constexpr std::string_view kRopeFreqs = "rope_freqs.weight";
inline constexpr std::string_view kAttnNorm = "blk.{layer}.attn_norm.weight";
inline constexpr std::string_view kAttnQ = "blk.{layer}.attn_q.weight";
inline constexpr std::string_view kAttnK = "blk.{layer}.attn_k.weight";
inline constexpr std::string_view kAttnV = "blk.{layer}.attn_v.weight";
inline constexpr std::string_view kAttnQBias = "blk.{layer}.attn_q.bias";
inline constexpr std::string_view kAttnKBias = "blk.{layer}.attn_k.bias";
inline constexpr std::string_view kAttnVBias = "blk.{layer}.attn_v.bias";
inline constexpr std::string_view kAttnQNorm = "blk.{layer}.attn_q_norm.weight";
inline constexpr std::string_view kAttnKNorm = "blk.{layer}.attn_k_norm.weight";
inline constexpr std::string_view kAttnOutput = "blk.{layer}.attn_output.weight";
inline constexpr std::string_view kFfnNorm = "blk.{layer}.ffn_norm.weight";
inline constexpr std::string_view kFfnGate = "blk.{layer}.ffn_gate.weight";
inline constexpr std::string_view kFfnUp = "blk.{layer}.ffn_up.weight";
inline constexpr std::string_view kFfnDown = "blk.{layer}.ffn_down.weight";

// "{arch}.block_count" + "qwen2" -> "qwen2.block_count".
std::string arch_key(std::string_view key, std::string_view arch);
// "blk.{layer}.attn_q.weight" + 3 -> "blk.3.attn_q.weight".
std::string layer_tensor(std::string_view name, int layer);
// llama.cpp's general.file_type names (enum llama_ftype: 15 -> "Q4_K_M"); "" when unknown.
std::string file_type_name(int64_t file_type);

}  // namespace pensieve::keys
