// pensieve info MODEL.gguf [--json]
// What a GGUF file holds: architecture, hyperparameters, tensor types, parameter count,
// tokenizer summary and special tokens, chat template head, GGUF version and alignment.
// Reads the metadata directly (keys from gguf/keys.h); loads no weights and no tokenizer.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>
#include <string>

#include "cli/command.h"
#include "gguf/gguf.h"
#include "gguf/keys.h"

namespace pensieve::cli {

namespace {

using nlohmann::json;

constexpr const char* kUsage = "usage: pensieve info MODEL.gguf [--json]\n";
constexpr int kTemplateLines = 8;
constexpr int64_t kNoToken = 4294967295;  // "no such token" as stored by converters (u32 -1)

// "494.03 M", "292.99 K", "7.24 B".
std::string human_count(uint64_t n) {
  char buf[32];
  if (n < 1000) {
    std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(n));
  } else if (n < 1000000) {
    std::snprintf(buf, sizeof buf, "%.2f K", n / 1e3);
  } else if (n < 1000000000) {
    std::snprintf(buf, sizeof buf, "%.2f M", n / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f B", n / 1e9);
  }
  return buf;
}

std::string human_bytes(uint64_t n) {
  char buf[32];
  if (n < (1u << 20)) {
    std::snprintf(buf, sizeof buf, "%.2f KiB", n / 1024.0);
  } else if (n < (1ull << 30)) {
    std::snprintf(buf, sizeof buf, "%.2f MiB", n / 1048576.0);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f GiB", n / 1073741824.0);
  }
  return buf;
}

// Token text for one line of output: control characters escaped, the rest as is.
std::string escape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out;
}

// An integer hyperparameter; per-layer arrays (some families) report their first value.
json int_or_null(const GgufFile& f, const std::string& key) {
  const GgufValue* v = f.find(key);
  if (v == nullptr) return nullptr;
  if (v->type == GgufType::ARRAY && !v->arr.empty()) v = &v->arr[0];
  if (auto x = v->as_int()) return *x;
  return nullptr;
}

json float_or_null(const GgufFile& f, const std::string& key) {
  if (auto x = f.get_float(key)) return *x;
  return nullptr;
}

json string_or_null(const GgufFile& f, std::string_view key) {
  if (auto s = f.get_string(key)) return json(std::string(*s));
  return nullptr;
}

json hyperparameters(const GgufFile& f, const std::string& arch, size_t n_tokens) {
  auto k = [&](std::string_view key) { return keys::arch_key(key, arch); };
  json h;
  h["context_length"] = int_or_null(f, k(keys::kContextLength));
  h["embedding_length"] = int_or_null(f, k(keys::kEmbeddingLength));
  h["block_count"] = int_or_null(f, k(keys::kBlockCount));
  h["head_count"] = int_or_null(f, k(keys::kHeadCount));
  h["head_count_kv"] = int_or_null(f, k(keys::kHeadCountKv));
  // head_dim: explicit key_length (qwen3) or embedding / heads.
  h["head_dim"] = int_or_null(f, k(keys::kKeyLength));
  if (h["head_dim"].is_null() && h["embedding_length"].is_number() && h["head_count"].is_number() &&
      h["head_count"].get<int64_t>() > 0) {
    h["head_dim"] = h["embedding_length"].get<int64_t>() / h["head_count"].get<int64_t>();
  }
  h["feed_forward_length"] = int_or_null(f, k(keys::kFeedForwardLength));
  h["rope_dimension_count"] = int_or_null(f, k(keys::kRopeDimensionCount));
  h["rope_freq_base"] = float_or_null(f, k(keys::kRopeFreqBase));
  h["rope_scaling_type"] = string_or_null(f, k(keys::kRopeScalingType));
  h["rope_scaling_factor"] = float_or_null(f, k(keys::kRopeScalingFactor));
  if (h["rope_scaling_factor"].is_null()) h["rope_scaling_factor"] = float_or_null(f, k(keys::kRopeScaleLinear));
  h["rms_norm_eps"] = float_or_null(f, k(keys::kRmsEps));
  h["vocab_size"] = int_or_null(f, k(keys::kVocabSize));
  if (h["vocab_size"].is_null() && n_tokens > 0) h["vocab_size"] = n_tokens;
  return h;
}

json tensor_summary(const GgufFile& f) {
  std::map<uint32_t, std::pair<uint64_t, uint64_t>> by_type;  // type id -> (count, bytes)
  uint64_t params = 0;
  uint64_t bytes = 0;
  for (const GgufTensorInfo& t : f.tensors()) {
    auto& e = by_type[static_cast<uint32_t>(t.type)];
    e.first += 1;
    e.second += t.n_bytes;
    params += t.n_elements;
    bytes += t.n_bytes;
  }
  json types = json::array();
  for (const auto& [id, e] : by_type) {
    types.push_back({{"type", std::string(ggml_type_name(static_cast<GgmlType>(id)))}, {"count", e.first}, {"bytes", e.second}});
  }
  return {{"count", f.tensors().size()}, {"bytes", bytes}, {"parameters", params},
          {"parameters_text", human_count(params)}, {"types", types}};
}

json tokenizer_summary(const GgufFile& f, const GgufValue* tokens) {
  json t;
  t["model"] = string_or_null(f, keys::kTokenizerModel);
  t["pre"] = string_or_null(f, keys::kTokenizerPre);
  t["tokens"] = tokens ? json(tokens->arr.size()) : json(nullptr);
  const GgufValue* merges = f.find(keys::kTokenizerMerges);
  t["merges"] = merges && merges->type == GgufType::ARRAY ? json(merges->arr.size()) : json(nullptr);
  json specials = json::object();
  const std::pair<const char*, std::string_view> ids[] = {{"bos", keys::kTokenizerBos}, {"eos", keys::kTokenizerEos},
                                                          {"eot", keys::kTokenizerEot}, {"pad", keys::kTokenizerPad},
                                                          {"unk", keys::kTokenizerUnk}};
  for (const auto& [label, key] : ids) {
    std::optional<int64_t> id = f.get_int(key);
    if (!id) continue;
    json s = {{"id", *id}};
    if (tokens && *id >= 0 && static_cast<uint64_t>(*id) < tokens->arr.size() &&
        tokens->elem_type == GgufType::STRING) {
      s["text"] = std::string(tokens->arr[*id].str);
    } else {
      s["text"] = nullptr;  // "none" (u32 -1) or out of range
    }
    specials[label] = s;
  }
  t["special"] = specials;
  t["add_bos"] = f.get_bool(keys::kTokenizerAddBos) ? json(*f.get_bool(keys::kTokenizerAddBos)) : json(nullptr);
  t["add_eos"] = f.get_bool(keys::kTokenizerAddEos) ? json(*f.get_bool(keys::kTokenizerAddEos)) : json(nullptr);
  return t;
}

json collect(const GgufFile& f) {
  json j;
  j["file"] = {{"path", f.path()},         {"size", f.file_size()},           {"gguf_version", f.version()},
               {"alignment", f.alignment()}, {"metadata_count", f.metadata().size()}, {"data_offset", f.data_offset()}};
  const std::string arch(f.get_string(keys::kArchitecture).value_or(""));
  j["architecture"] = arch.empty() ? json(nullptr) : json(arch);
  j["name"] = string_or_null(f, keys::kName);
  const GgufValue* tokens = f.find(keys::kTokenizerTokens);
  if (tokens && tokens->type != GgufType::ARRAY) tokens = nullptr;
  j["hyperparameters"] = hyperparameters(f, arch, tokens ? tokens->arr.size() : 0);
  j["tensors"] = tensor_summary(f);
  j["tokenizer"] = tokenizer_summary(f, tokens);
  j["chat_template"] = string_or_null(f, keys::kTokenizerChatTemplate);
  return j;
}

// ---- text rendering ----

std::string show(const json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v.get<double>());
    return buf;
  }
  return v.dump();
}

void print_text(const json& j) {
  const json& file = j["file"];
  std::printf("file:            %s\n", file["path"].get<std::string>().c_str());
  std::printf("size:            %s (%llu bytes)\n", human_bytes(file["size"].get<uint64_t>()).c_str(),
              static_cast<unsigned long long>(file["size"].get<uint64_t>()));
  std::printf("gguf:            v%s, alignment %s, %s metadata keys, data at offset %s\n", show(file["gguf_version"]).c_str(),
              show(file["alignment"]).c_str(), show(file["metadata_count"]).c_str(), show(file["data_offset"]).c_str());
  std::printf("architecture:    %s\n", show(j["architecture"]).c_str());
  std::printf("name:            %s\n", show(j["name"]).c_str());
  const json& t = j["tensors"];
  std::printf("parameters:      %s (%s)\n", t["parameters_text"].get<std::string>().c_str(), show(t["parameters"]).c_str());

  std::printf("hyperparameters:\n");
  const json& h = j["hyperparameters"];
  const std::pair<const char*, const char*> rows[] = {
      {"context length", "context_length"}, {"embedding", "embedding_length"}, {"layers", "block_count"},
      {"heads", "head_count"},              {"kv heads", "head_count_kv"},     {"head dim", "head_dim"},
      {"ffn length", "feed_forward_length"}, {"rope dims", "rope_dimension_count"}, {"rope freq base", "rope_freq_base"},
      {"rope scaling", "rope_scaling_type"}, {"rope scale factor", "rope_scaling_factor"}, {"rms norm eps", "rms_norm_eps"},
      {"vocab size", "vocab_size"}};
  for (const auto& [label, key] : rows) std::printf("  %-18s %s\n", label, show(h[key]).c_str());

  std::printf("tensors:         %s, %s\n", show(t["count"]).c_str(), human_bytes(t["bytes"].get<uint64_t>()).c_str());
  for (const json& e : t["types"]) {
    std::printf("  %-8s %6s tensors  %12s\n", e["type"].get<std::string>().c_str(), show(e["count"]).c_str(),
                human_bytes(e["bytes"].get<uint64_t>()).c_str());
  }

  const json& tok = j["tokenizer"];
  std::printf("tokenizer:\n");
  std::printf("  %-18s %s (pre: %s)\n", "model", show(tok["model"]).c_str(), show(tok["pre"]).c_str());
  std::printf("  %-18s %s\n", "tokens", show(tok["tokens"]).c_str());
  std::printf("  %-18s %s\n", "merges", show(tok["merges"]).c_str());
  for (const char* label : {"bos", "eos", "eot", "pad", "unk"}) {
    if (!tok["special"].contains(label)) {
      std::printf("  %-18s -\n", label);
      continue;
    }
    const json& s = tok["special"][label];
    const int64_t id = s["id"].get<int64_t>();
    if (s["text"].is_null()) {
      std::printf("  %-18s %s (%lld)\n", label, id == kNoToken ? "none" : "out of range", static_cast<long long>(id));
    } else {
      std::printf("  %-18s %lld '%s'\n", label, static_cast<long long>(id), escape(s["text"].get<std::string>()).c_str());
    }
  }
  std::printf("  %-18s %s / %s\n", "add bos / eos", show(tok["add_bos"]).c_str(), show(tok["add_eos"]).c_str());

  if (j["chat_template"].is_null()) {
    std::printf("chat template:   none\n");
    return;
  }
  const std::string tmpl = j["chat_template"].get<std::string>();
  int total = 0;
  for (char c : tmpl) total += c == '\n';
  if (!tmpl.empty() && tmpl.back() != '\n') ++total;
  std::printf("chat template:   %d lines, %zu bytes%s\n", total, tmpl.size(), total > kTemplateLines ? " (first 8 lines)" : "");
  size_t start = 0;
  for (int line = 0; line < kTemplateLines && start < tmpl.size(); ++line) {
    size_t end = tmpl.find('\n', start);
    if (end == std::string::npos) end = tmpl.size();
    std::printf("  | %s\n", escape(std::string_view(tmpl).substr(start, end - start)).c_str());
    start = end + 1;
  }
}

}  // namespace

int run_info(int argc, char** argv) {
  std::string model;
  bool as_json = false;
  CLI::App app{"Show what a GGUF model file holds: architecture, hyperparameters, tensors, tokenizer"};
  app.add_option("model", model, "GGUF file")->required();
  app.add_flag("--json", as_json, "print one JSON object instead of text");
  if (auto code = parse_or_usage(app, argc, argv, kUsage)) return *code;
  auto file = GgufFile::open(model);
  if (!file.ok()) {
    std::fprintf(stderr, "pensieve info: %s\n", file.error().message.c_str());
    return 1;
  }
  const json j = collect(**file);
  if (as_json) {
    std::printf("%s\n", j.dump(2, ' ', false, json::error_handler_t::replace).c_str());
  } else {
    print_text(j);
  }
  return 0;
}

PENSIEVE_COMMAND("info", "show a GGUF model's architecture, hyperparameters, tensors and tokenizer", run_info);

}  // namespace pensieve::cli
