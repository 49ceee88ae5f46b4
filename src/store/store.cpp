#include "store/store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <vector>

#include "gguf/gguf.h"
#include "gguf/keys.h"
#include "store/sha256.h"

namespace pensieve::store {

using nlohmann::json;

namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

Status check_part(std::string_view part, std::string_view whole, std::string_view what) {
  if (part.empty() || part.front() == '.' || part.front() == '-' || part.back() == '.' ||
      part.find("..") != std::string_view::npos)
    return make_error(ErrorKind::invalid_request,
                      "invalid model name '" + std::string(whole) + "': empty " + std::string(what) +
                          " part, or one that starts/ends with '.' or '-' or holds '..'");
  for (char c : part)
    if (!name_char(c))
      return make_error(ErrorKind::invalid_request, "invalid model name '" + std::string(whole) +
                                                        "': only letters, digits, '.', '-', '_' (and '/' between "
                                                        "name parts) are allowed");
  return ok_status();
}

std::string random_suffix() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

Result<ModelName> parse_name(std::string_view text) {
  if (text.empty() || text.size() > 200)
    return make_error(ErrorKind::invalid_request, "a model name has 1..200 characters");
  const std::string s = lower(text);
  ModelName n;
  const size_t colon = s.rfind(':');
  n.name = s.substr(0, colon);
  if (colon != std::string::npos) n.tag = s.substr(colon + 1);
  size_t start = 0;
  for (;;) {
    const size_t slash = n.name.find('/', start);
    const std::string_view part = std::string_view(n.name).substr(start, slash == std::string::npos ? slash : slash - start);
    PS_TRY(check_part(part, text, "name"));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  PS_TRY(check_part(n.tag, text, "tag"));
  return n;
}

std::string now_rfc3339() {
  char buf[32];
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json Manifest::to_json() const {
  return {{"schema", 1},         {"name", name},   {"file", file},         {"sha256", sha256},
          {"size", size},        {"source", source}, {"architecture", architecture}, {"quant", quant},
          {"context", context},  {"n_params", n_params}, {"modified", modified}};
}

Result<Manifest> Manifest::from_json(const json& j) {
  if (!j.is_object()) return make_error(ErrorKind::invalid_request, "a manifest is a JSON object");
  Manifest m;
  try {
    m.name = j.at("name").get<std::string>();
    m.file = j.at("file").get<std::string>();
    m.sha256 = j.value("sha256", "");
    m.size = j.value("size", int64_t(0));
    m.source = j.value("source", "");
    m.architecture = j.value("architecture", "");
    m.quant = j.value("quant", "");
    m.context = j.value("context", int64_t(0));
    m.n_params = j.value("n_params", int64_t(0));
    m.modified = j.value("modified", "");
  } catch (const json::exception& e) {
    return make_error(ErrorKind::invalid_request, std::string("bad manifest: ") + e.what());
  }
  if (m.file.empty() || m.file.find('/') != std::string::npos || m.file.find("..") != std::string::npos)
    return make_error(ErrorKind::invalid_request, "bad manifest: 'file' must be a plain file name");
  return m;
}

Status describe_gguf(const fs::path& file, Manifest& m) {
  auto f = GgufFile::open(file.string());
  if (!f) return make_error(ErrorKind::model_load_failed, f.error().message);
  const GgufFile& g = **f;
  auto arch = g.get_string(keys::kArchitecture);
  m.architecture = arch ? std::string(*arch) : "";
  if (auto ctx = g.get_int(keys::arch_key(keys::kContextLength, m.architecture))) m.context = *ctx;
  m.quant.clear();
  if (auto ft = g.get_int(keys::kFileType)) m.quant = keys::file_type_name(*ft);
  std::map<GgmlType, uint64_t> bytes;
  m.n_params = 0;
  for (const GgufTensorInfo& t : g.tensors()) {
    m.n_params += static_cast<int64_t>(t.n_elements);
    if (t.ne.size() >= 2) bytes[t.type] += t.n_bytes;
  }
  if (m.quant.empty() && !bytes.empty()) {
    auto best = std::max_element(bytes.begin(), bytes.end(), [](auto& a, auto& b) { return a.second < b.second; });
    m.quant = std::string(ggml_type_name(best->first));
    std::transform(m.quant.begin(), m.quant.end(), m.quant.begin(), ::toupper);
  }
  return ok_status();
}

Status write_file_atomic(const fs::path& path, std::string_view data) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  const fs::path tmp = path.parent_path() / (".tmp-" + path.filename().string() + "-" + random_suffix());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(ErrorKind::internal, "cannot write " + tmp.string());
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) {
      ::close(fd);
      fs::remove(tmp, ec);
      return make_error(ErrorKind::internal, "cannot write " + tmp.string());
    }
    done += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return make_error(ErrorKind::internal, "cannot rename into " + path.string());
  }
  return ok_status();
}

fs::path Store::default_root() {
  if (const char* env = std::getenv("PENSIEVE_MODELS"); env && *env) return env;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) return fs::path(xdg) / "pensieve" / "models";
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : ".") / ".local" / "share" / "pensieve" / "models";
}

fs::path Store::manifest_path(const ModelName& n) const { return root_ / "manifests" / n.name / (n.tag + ".json"); }

std::vector<Manifest> Store::list(std::vector<std::string>* warnings) const {
  std::vector<Manifest> out;
  const fs::path dir = root_ / "manifests";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file() || it->path().extension() != ".json") continue;
    if (it->path().filename().string().rfind(".tmp-", 0) == 0) continue;
    std::ifstream in(it->path());
    json j = json::parse(in, nullptr, /*allow_exceptions=*/false);
    auto m = Manifest::from_json(j);
    if (!m) {
      if (warnings) warnings->push_back(it->path().string() + ": " + m.error().message);
      continue;
    }
    out.push_back(std::move(*m));
  }
  std::sort(out.begin(), out.end(), [](const Manifest& a, const Manifest& b) { return a.name < b.name; });
  return out;
}

Result<Manifest> Store::find(std::string_view name) const {
  auto n = parse_name(name);
  if (!n) return n.error();
  const fs::path p = manifest_path(*n);
  std::ifstream in(p);
  if (!in) return make_error(ErrorKind::not_found, "model '" + n->str() + "' not found in " + root_.string());
  json j = json::parse(in, nullptr, false);
  auto m = Manifest::from_json(j);
  if (!m) return make_error(ErrorKind::internal, p.string() + ": " + m.error().message);
  return m;
}

Result<Manifest> Store::write_manifest(const ModelName& n, Manifest m) const {
  m.name = n.str();
  m.modified = now_rfc3339();
  PS_TRY(write_file_atomic(manifest_path(n), m.to_json().dump(2) + "\n"));
  return m;
}

Result<Manifest> Store::adopt_blob(const fs::path& file, const std::string& sha256, std::string_view name,
                                   std::string source) const {
  auto n = parse_name(name);
  if (!n) return n.error();
  Manifest m;
  PS_TRY(describe_gguf(file, m));
  std::error_code ec;
  m.size = static_cast<int64_t>(fs::file_size(file, ec));
  m.sha256 = sha256;
  m.file = "sha256-" + sha256 + ".gguf";
  m.source = std::move(source);
  fs::create_directories(blobs_dir(), ec);
  const fs::path dest = blobs_dir() / m.file;
  if (fs::exists(dest, ec) && static_cast<int64_t>(fs::file_size(dest, ec)) == m.size) {
    fs::remove(file, ec);  // the same content is already there
  } else {
    fs::rename(file, dest, ec);
    if (ec) return make_error(ErrorKind::internal, "cannot move " + file.string() + " into " + dest.string() + ": " + ec.message());
  }
  return write_manifest(*n, std::move(m));
}

Result<Manifest> Store::import_file(const fs::path& file, std::string_view name, std::string source) const {
  auto n = parse_name(name);
  if (!n) return n.error();
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return make_error(ErrorKind::not_found, "no such file: " + file.string());
  {
    Manifest probe;
    PS_TRY(describe_gguf(file, probe));  // refuse anything that is not a GGUF before copying
  }
  // Copy into the store's own folder (same filesystem as blobs/), hashing on the way.
  fs::create_directories(partial_dir(), ec);
  const fs::path tmp = partial_dir() / (".import-" + random_suffix());
  std::FILE* in = std::fopen(file.c_str(), "rb");
  if (!in) return make_error(ErrorKind::not_found, "cannot open " + file.string());
  std::FILE* out = std::fopen(tmp.c_str(), "wb");
  if (!out) {
    std::fclose(in);
    return make_error(ErrorKind::internal, "cannot write " + tmp.string());
  }
  Sha256 h;
  std::vector<char> buf(1 << 20);
  size_t got;
  bool ok = true;
  while ((got = std::fread(buf.data(), 1, buf.size(), in)) > 0) {
    h.update(buf.data(), got);
    if (std::fwrite(buf.data(), 1, got, out) != got) {
      ok = false;
      break;
    }
  }
  ok = ok && !std::ferror(in);
  std::fclose(in);
  ok = std::fflush(out) == 0 && ::fsync(fileno(out)) == 0 && ok;
  ok = std::fclose(out) == 0 && ok;
  if (!ok) {
    fs::remove(tmp, ec);
    return make_error(ErrorKind::internal, "copying " + file.string() + " into the store failed (disk full?)");
  }
  auto m = adopt_blob(tmp, h.hex(), name, std::move(source));
  if (!m) fs::remove(tmp, ec);
  return m;
}

Status Store::remove(std::string_view name) const {
  auto m = find(name);
  if (!m) return m.error();
  auto n = parse_name(name);
  std::error_code ec;
  fs::remove(manifest_path(*n), ec);
  if (ec) return make_error(ErrorKind::internal, "cannot remove " + manifest_path(*n).string() + ": " + ec.message());
  // Empty name folders go too, up to manifests/.
  for (fs::path d = manifest_path(*n).parent_path(); d != root_ / "manifests" && fs::is_empty(d, ec); d = d.parent_path())
    fs::remove(d, ec);
  bool used = false;
  for (const Manifest& other : list())
    if (other.file == m->file) used = true;
  if (!used) fs::remove(blob_path(*m), ec);
  return ok_status();
}

Result<Manifest> Store::copy(std::string_view from, std::string_view to) const {
  auto m = find(from);
  if (!m) return m.error();
  auto n = parse_name(to);
  if (!n) return n.error();
  return write_manifest(*n, *m);
}

std::string resolve_model_arg(const std::string& arg) {
  std::error_code ec;
  if (arg.empty() || fs::exists(arg, ec)) return arg;
  Store store(Store::default_root());
  auto m = store.find(arg);
  if (!m) return arg;
  return store.blob_path(*m).string();
}

}  // namespace pensieve::store
