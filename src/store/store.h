// The model store: GGUF files under names, the way people already manage local models.
//
// Layout under the root ($PENSIEVE_MODELS, default ~/.local/share/pensieve/models):
//   blobs/sha256-<hex>.gguf           the files, named by content (two names can share one)
//   manifests/<name>/<tag>.json       one small JSON manifest per model name
// A name is `name[:tag]` (`qwen2.5-coder:1.5b-q4_k_m`); the tag defaults to `latest`. Names are
// lower-case; `/` in a name (`owner/model`) is a subfolder of manifests/.
//
// Writes are atomic: a blob or manifest is written to a temporary file in the same folder and
// renamed into place, so a reader never sees half a file under a model's name.
// Thread-compatible: a Store holds only its root; concurrent writers of one name race like
// two `mv`s (last one wins), never corrupt.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace pensieve::store {

namespace fs = std::filesystem;

struct ModelName {
  std::string name;  // "qwen2.5-coder" or "owner/model"
  std::string tag = "latest";
  std::string str() const { return name + ":" + tag; }
};

// Parses `name[:tag]`, lower-casing it. Allowed: letters, digits, '.', '-', '_' in each part and
// '/' between name parts; 1..200 characters; no "..", no leading/trailing '/', '.' or '-'.
Result<ModelName> parse_name(std::string_view text);

struct Manifest {
  std::string name;          // canonical "name:tag"
  std::string file;          // blob file name under blobs/
  std::string sha256;        // hex of the blob
  int64_t size = 0;          // bytes
  std::string source;        // "import:/path", "hf:owner/repo/file", "https://..."
  std::string architecture;  // general.architecture
  std::string quant;         // general.file_type name (Q4_K_M) or dominant tensor type
  int64_t context = 0;       // {arch}.context_length
  int64_t n_params = 0;
  std::string modified;      // RFC 3339 UTC, when the manifest was written

  nlohmann::json to_json() const;
  static Result<Manifest> from_json(const nlohmann::json& j);
};

// What a GGUF file says about itself (architecture, quant, context, parameters).
Status describe_gguf(const fs::path& file, Manifest& m);

class Store {
 public:
  explicit Store(fs::path root) : root_(std::move(root)) {}
  // $PENSIEVE_MODELS, else $XDG_DATA_HOME/pensieve/models, else ~/.local/share/pensieve/models.
  static fs::path default_root();

  const fs::path& root() const { return root_; }
  fs::path blobs_dir() const { return root_ / "blobs"; }
  fs::path blob_path(const Manifest& m) const { return blobs_dir() / m.file; }
  // Where partial downloads live until they are complete and verified.
  fs::path partial_dir() const { return root_ / "partial"; }

  // Every model, sorted by name. Manifests that do not parse are skipped (with a warning in
  // `warnings` when given).
  std::vector<Manifest> list(std::vector<std::string>* warnings = nullptr) const;
  // The model named `name` (tag defaulting to latest); not_found when there is none.
  Result<Manifest> find(std::string_view name) const;

  // Copies `file` into the store (hashing it as it goes) and names it `name`. A blob with the
  // same content is reused. The file must be a GGUF that parses.
  Result<Manifest> import_file(const fs::path& file, std::string_view name, std::string source) const;
  // Adopts a complete, verified file already inside the store's folders (a finished download):
  // renames it into blobs/ and writes the manifest.
  Result<Manifest> adopt_blob(const fs::path& file, const std::string& sha256, std::string_view name,
                              std::string source) const;
  // Removes the name; the blob goes too when no other name uses it.
  Status remove(std::string_view name) const;
  // A second name for the same blob.
  Result<Manifest> copy(std::string_view from, std::string_view to) const;

 private:
  fs::path manifest_path(const ModelName& n) const;
  Result<Manifest> write_manifest(const ModelName& n, Manifest m) const;

  fs::path root_;
};

// For `-m`: an existing file path is kept; otherwise a name found in the default store becomes
// its blob's path. Anything else is returned unchanged (the caller reports it as not found).
std::string resolve_model_arg(const std::string& arg);

// Writes `data` to `path` atomically (temporary file in the same folder, fsync, rename).
Status write_file_atomic(const fs::path& path, std::string_view data);

std::string now_rfc3339();

}  // namespace pensieve::store
