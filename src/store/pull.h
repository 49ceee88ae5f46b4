// `pensieve pull` and POST /api/pull: a GGUF from Hugging Face (hf:OWNER/REPO[:QUANT]) or any
// https URL into the store. Downloads resume (HTTP Range) across dropped connections and across
// runs (the partial file stays in the store's partial/ folder), are checked against the size and
// SHA-256 the hub reports (the LFS oid), and appear under the model's name only when complete
// and verified (rename into blobs/, then the manifest). HF_TOKEN, HF_ENDPOINT and the usual
// proxy variables (https_proxy, no_proxy, ...) are honoured.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "store/store.h"

namespace pensieve::store {

struct PullProgress {
  std::string status;       // "resolving", "downloading", "verifying", "success"
  int64_t total = -1;       // bytes; -1 unknown
  int64_t completed = 0;
  double bytes_per_s = 0;
};

struct PullOptions {
  std::string endpoint;     // empty: $HF_ENDPOINT, else https://huggingface.co
  std::string token;        // empty: $HF_TOKEN
  std::string revision = "main";
  int max_attempts = 6;     // connections tried per file before giving up
  int retry_delay_ms = 500; // doubled after each failed attempt, at most 8 s
  int stall_timeout_s = 60; // a connection that moves no byte for this long is retried
  std::function<void(const PullProgress&)> on_progress;
  std::function<bool()> cancelled;  // polled during the transfer
};

// Where the bytes come from and what they must be.
struct PullSource {
  std::string url;
  std::string sha256;       // expected hex; empty: not known (then only recorded)
  int64_t size = -1;        // expected bytes; -1: not known
  std::string source;       // recorded in the manifest
  std::string default_name; // the store name when the caller gives none
};

// hf:OWNER/REPO[:QUANT] (lists the repo's files through the hub API and picks the .gguf of that
// quant, or the only one, or Q4_K_M) or an http(s) URL of a .gguf file.
Result<PullSource> resolve_pull_source(std::string_view spec, const PullOptions& options);

// Resolves, downloads, verifies and names the model (`name` empty: the source's default name).
Result<Manifest> pull_model(const Store& store, std::string_view spec, std::string_view name,
                            const PullOptions& options);

}  // namespace pensieve::store
