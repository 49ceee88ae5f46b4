#include "store/pull.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "store/sha256.h"

namespace pensieve::store {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool is_hex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

// One curl easy handle with the settings every request shares.
struct Curl {
  CURL* h = curl_easy_init();
  curl_slist* headers = nullptr;
  char err[CURL_ERROR_SIZE] = {};
  Curl(const std::string& url, const std::string& token) {
    static const bool inited = curl_global_init(CURL_GLOBAL_DEFAULT) == 0;
    (void)inited;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "pensieve/0.1");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    // curl sends a custom Authorization header only to the first host, not to a CDN it is
    // redirected to (the behaviour the hub's signed download URLs need).
    if (!token.empty()) headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
    if (headers) curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  }
  ~Curl() {
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
  }
  long status() const {
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    return code;
  }
  std::string failure(CURLcode rc) const { return err[0] ? std::string(err) : curl_easy_strerror(rc); }
};

size_t append_to_string(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

Result<std::string> http_get_text(const std::string& url, const PullOptions& o, const std::string& token) {
  Curl c(url, token);
  std::string body;
  curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, append_to_string);
  curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(c.h, CURLOPT_TIMEOUT, 120L);
  const CURLcode rc = curl_easy_perform(c.h);
  if (rc != CURLE_OK) return make_error(ErrorKind::internal, "GET " + url + ": " + c.failure(rc));
  const long code = c.status();
  if (code == 401 || code == 403)
    return make_error(ErrorKind::unauthorized, "GET " + url + ": HTTP " + std::to_string(code) +
                                                   " (a gated or private repository needs HF_TOKEN)");
  if (code == 404) return make_error(ErrorKind::not_found, "GET " + url + ": HTTP 404 (no such repository or revision)");
  if (code != 200) return make_error(ErrorKind::internal, "GET " + url + ": HTTP " + std::to_string(code));
  return body;
}

struct HubFile {
  std::string path;
  int64_t size = -1;
  std::string sha256;
};

// The quant as a whole word of the file name: "Q4_K" does not match "...-Q4_K_M.gguf".
bool names_quant(const std::string& file, const std::string& quant) {
  const std::string f = upper(file), q = upper(quant);
  for (size_t pos = f.find(q); pos != std::string::npos; pos = f.find(q, pos + 1)) {
    const bool start_ok = pos == 0 || !std::isalnum(static_cast<unsigned char>(f[pos - 1]));
    const size_t end = pos + q.size();
    const bool end_ok = end == f.size() || (!std::isalnum(static_cast<unsigned char>(f[end])) && f[end] != '_');
    if (start_ok && end_ok) return true;
  }
  return false;
}

Result<PullSource> resolve_hf(std::string_view spec, const PullOptions& o, const std::string& endpoint,
                              const std::string& token) {
  std::string rest(spec.substr(3));  // after "hf:"
  std::string quant;
  if (size_t colon = rest.find(':'); colon != std::string::npos) {
    quant = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  }
  const size_t slash = rest.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == rest.size() || rest.find('/', slash + 1) != std::string::npos)
    return make_error(ErrorKind::invalid_request, "expected hf:OWNER/REPO[:QUANT], got '" + std::string(spec) + "'");
  const std::string repo = rest;
  const std::string api = endpoint + "/api/models/" + repo + "/tree/" + o.revision + "?recursive=true";
  auto body = http_get_text(api, o, token);
  if (!body) return body.error();
  json tree = json::parse(*body, nullptr, false);
  if (!tree.is_array()) return make_error(ErrorKind::internal, "the hub's file list for " + repo + " is not a JSON array");
  std::vector<HubFile> ggufs;
  for (const json& e : tree) {
    if (!e.is_object() || e.value("type", "") != "file") continue;
    const std::string path = e.value("path", "");
    if (path.size() < 5 || lower(path.substr(path.size() - 5)) != ".gguf") continue;
    if (lower(path).find("mmproj") != std::string::npos) continue;  // vision projectors
    HubFile f{path, e.value("size", int64_t(-1)), ""};
    if (e.contains("lfs") && e["lfs"].is_object()) {
      f.sha256 = lower(e["lfs"].value("oid", e["lfs"].value("sha256", "")));
      f.size = e["lfs"].value("size", f.size);
      if (!is_hex64(f.sha256)) f.sha256.clear();
    }
    ggufs.push_back(std::move(f));
  }
  if (ggufs.empty()) return make_error(ErrorKind::not_found, repo + " has no .gguf file");
  std::vector<HubFile> picked;
  const std::string want = quant.empty() ? (ggufs.size() == 1 ? "" : "Q4_K_M") : quant;
  for (const HubFile& f : ggufs)
    if (want.empty() || names_quant(f.path.substr(f.path.rfind('/') + 1), want)) picked.push_back(f);
  if (picked.empty() || picked.size() > 1) {
    std::string names;
    for (const HubFile& f : (picked.empty() ? ggufs : picked)) names += "\n  " + f.path;
    if (picked.empty())
      return make_error(ErrorKind::not_found, repo + " has no .gguf file for quant '" + want +
                                                  "'; pick one with hf:" + repo + ":QUANT from:" + names);
    return make_error(ErrorKind::invalid_request,
                      repo + " has several .gguf files for '" + want + "' (a split model is not supported):" + names);
  }
  const HubFile& f = picked[0];
  if (f.path.find("-of-0") != std::string::npos)
    return make_error(ErrorKind::invalid_request, f.path + " is one part of a split GGUF, which pensieve cannot load");
  PullSource s;
  s.url = endpoint + "/" + repo + "/resolve/" + o.revision + "/" + f.path;
  s.sha256 = f.sha256;
  s.size = f.size;
  s.source = "hf:" + repo + "/" + f.path;
  // qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF + Q4_K_M -> qwen2.5-coder-1.5b-instruct:q4_k_m
  std::string base = lower(repo.substr(slash + 1));
  if (base.size() > 5 && base.substr(base.size() - 5) == "-gguf") base.resize(base.size() - 5);
  std::string tag = want.empty() ? "latest" : lower(want);
  s.default_name = base + ":" + tag;
  return s;
}

// The default name of a URL: its file name without .gguf, lower-cased, with characters a name
// cannot hold replaced by '-'.
std::string name_from_url(const std::string& url) {
  std::string file = url.substr(0, url.find_first_of("?#"));
  file = file.substr(file.rfind('/') + 1);
  if (file.size() > 5 && lower(file.substr(file.size() - 5)) == ".gguf") file.resize(file.size() - 5);
  std::string out;
  for (char c : lower(file)) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-') ? c : '-';
  while (!out.empty() && (out.front() == '.' || out.front() == '-')) out.erase(out.begin());
  while (!out.empty() && (out.back() == '.' || out.back() == '-')) out.pop_back();
  return out.empty() ? "model" : out;
}

struct Transfer {
  std::FILE* out = nullptr;
  int64_t start = 0;       // bytes already on disk when this attempt began
  int64_t received = 0;    // bytes written in this attempt
  const PullOptions* o = nullptr;
  int64_t total = -1;
  Clock::time_point t0 = Clock::now();
  Clock::time_point last_report{};
  bool write_failed = false;
  bool range_ignored = false;  // the server answered a range request with the whole file
  Curl* curl = nullptr;
  bool checked_status = false;
};

size_t write_body(char* data, size_t size, size_t n, void* p) {
  auto* t = static_cast<Transfer*>(p);
  if (!t->checked_status) {
    t->checked_status = true;
    const long code = t->curl->status();
    if (code != 200 && code != 206) return 0;  // an error page is not the file
    if (t->start > 0 && code == 200) t->range_ignored = true;  // rewrite from the start
    if (t->range_ignored) {
      if (std::fseek(t->out, 0, SEEK_SET) != 0 || ::ftruncate(fileno(t->out), 0) != 0) return 0;
      t->start = 0;
    }
  }
  if (std::fwrite(data, 1, size * n, t->out) != size * n) {
    t->write_failed = true;
    return 0;
  }
  t->received += static_cast<int64_t>(size * n);
  return size * n;
}

int on_xfer(void* p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(p);
  if (t->o->cancelled && t->o->cancelled()) return 1;
  const auto now = Clock::now();
  if (t->o->on_progress && now - t->last_report > std::chrono::milliseconds(250)) {
    t->last_report = now;
    PullProgress pr;
    pr.status = "downloading";
    pr.total = t->total > 0 ? t->total : (dltotal > 0 ? t->start + dltotal : -1);
    pr.completed = t->start + dlnow;
    const double secs = std::chrono::duration<double>(now - t->t0).count();
    pr.bytes_per_s = secs > 0 ? dlnow / secs : 0;
    t->o->on_progress(pr);
  }
  return 0;
}

// Downloads `url` into `path`, resuming from what is already there; retries dropped connections.
Status download(const PullSource& src, const fs::path& path, const PullOptions& o, const std::string& token) {
  std::error_code ec;
  int delay = o.retry_delay_ms;
  std::string last_error;
  for (int attempt = 1; attempt <= o.max_attempts; ++attempt) {
    int64_t have = fs::exists(path, ec) ? static_cast<int64_t>(fs::file_size(path, ec)) : 0;
    if (src.size > 0 && have == src.size) return ok_status();
    if (src.size > 0 && have > src.size) {  // not a prefix of this file: start over
      fs::remove(path, ec);
      have = 0;
    }
    std::FILE* out = std::fopen(path.c_str(), have > 0 ? "r+b" : "wb");
    if (!out) return make_error(ErrorKind::internal, "cannot write " + path.string());
    std::fseek(out, 0, SEEK_END);
    Curl c(src.url, token);
    Transfer t;
    t.out = out;
    t.start = have;
    t.o = &o;
    t.total = src.size;
    t.curl = &c;
    curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c.h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c.h, CURLOPT_XFERINFOFUNCTION, on_xfer);
    curl_easy_setopt(c.h, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(c.h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c.h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(o.stall_timeout_s));
    // A plain Range header, not CURLOPT_RESUME_FROM: a server that ignores it and sends the whole
    // file (200) is then rewritten from the start (write_body) instead of failing the download.
    const std::string range = std::to_string(have) + "-";
    if (have > 0) curl_easy_setopt(c.h, CURLOPT_RANGE, range.c_str());
    const CURLcode rc = curl_easy_perform(c.h);
    const long code = c.status();
    const bool flushed = std::fflush(out) == 0 && ::fsync(fileno(out)) == 0;
    std::fclose(out);
    if (o.cancelled && o.cancelled()) return make_error(ErrorKind::cancelled, "the download was cancelled");
    if (t.write_failed || !flushed) return make_error(ErrorKind::internal, "writing " + path.string() + " failed (disk full?)");
    if (rc == CURLE_OK && (code == 200 || code == 206)) {
      const int64_t now_have = static_cast<int64_t>(fs::file_size(path, ec));
      if (src.size < 0 || now_have >= src.size) return ok_status();
      last_error = "the connection ended after " + std::to_string(now_have) + " of " + std::to_string(src.size) + " bytes";
    } else if (code == 416 && src.size > 0 && have == src.size) {
      return ok_status();
    } else if (code == 401 || code == 403) {
      return make_error(ErrorKind::unauthorized, "GET " + src.url + ": HTTP " + std::to_string(code) +
                                                     " (a gated or private repository needs HF_TOKEN)");
    } else if (code == 404) {
      return make_error(ErrorKind::not_found, "GET " + src.url + ": HTTP 404");
    } else if (code == 416) {
      fs::remove(path, ec);  // our partial file is not a prefix of theirs
      last_error = "HTTP 416 for a resumed download; starting over";
    } else {
      last_error = rc != CURLE_OK ? c.failure(rc) : "HTTP " + std::to_string(code);
      if (code >= 400 && code < 500 && code != 408 && code != 429)
        return make_error(ErrorKind::internal, "GET " + src.url + ": " + last_error);
    }
    if (o.on_progress) {
      PullProgress pr;
      pr.status = "retrying (" + last_error + ")";
      pr.total = src.size;
      pr.completed = fs::exists(path, ec) ? static_cast<int64_t>(fs::file_size(path, ec)) : 0;
      o.on_progress(pr);
    }
    if (attempt < o.max_attempts) std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    delay = std::min(delay * 2, 8000);
  }
  return make_error(ErrorKind::internal, "downloading " + src.url + " failed after " + std::to_string(o.max_attempts) +
                                             " attempts: " + last_error + " (run the pull again to resume)");
}

}  // namespace

Result<PullSource> resolve_pull_source(std::string_view spec, const PullOptions& o) {
  std::string endpoint = o.endpoint.empty() ? env_or("HF_ENDPOINT", "https://huggingface.co") : o.endpoint;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  const std::string token = o.token.empty() ? env_or("HF_TOKEN", "") : o.token;
  if (spec.rfind("hf:", 0) == 0) return resolve_hf(spec, o, endpoint, token);
  if (spec.rfind("hf.co/", 0) == 0) {  // Ollama's spelling; the model keeps it as its name
    auto s = resolve_hf("hf:" + std::string(spec.substr(6)), o, endpoint, token);
    if (s) s->default_name = lower(std::string(spec.substr(0, spec.find(':', 6)))) + ":" +
                             s->default_name.substr(s->default_name.rfind(':') + 1);
    return s;
  }
  if (spec.rfind("https://", 0) == 0 || spec.rfind("http://", 0) == 0) {
    PullSource s;
    s.url = std::string(spec);
    s.source = s.url;
    s.default_name = name_from_url(s.url) + ":latest";
    return s;
  }
  return make_error(ErrorKind::invalid_request,
                    "pull takes hf:OWNER/REPO[:QUANT] or an https:// URL of a .gguf file, not '" + std::string(spec) + "'");
}

Result<Manifest> pull_model(const Store& store, std::string_view spec, std::string_view name, const PullOptions& o) {
  if (o.on_progress) o.on_progress(PullProgress{"resolving " + std::string(spec)});
  auto src = resolve_pull_source(spec, o);
  if (!src) return src.error();
  const std::string final_name = name.empty() ? src->default_name : std::string(name);
  auto parsed = parse_name(final_name);
  if (!parsed) return parsed.error();
  // The hub's token goes only to the hub, never to an arbitrary URL.
  const std::string token = spec.rfind("hf", 0) == 0 ? (o.token.empty() ? env_or("HF_TOKEN", "") : o.token) : "";
  std::error_code ec;
  fs::create_directories(store.partial_dir(), ec);
  // The partial file is named by what it will be, so a later pull of the same file resumes it.
  Sha256 key;
  key.update(src->url.data(), src->url.size());
  const fs::path partial = store.partial_dir() / ((src->sha256.empty() ? key.hex() : src->sha256) + ".partial");
  // One pull of a file at a time (a second process or request would write the same partial file).
  const fs::path lock_path = partial.string() + ".lock";
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) return make_error(ErrorKind::internal, "cannot create " + lock_path.string());
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd);
    return make_error(ErrorKind::overloaded, "another pull of " + src->source + " is running");
  }
  struct Unlock {
    int fd;
    fs::path path;
    ~Unlock() {
      std::error_code ec;
      fs::remove(path, ec);
      ::close(fd);
    }
  } unlock{lock_fd, lock_path};
  PS_TRY(download(*src, partial, o, token));
  if (o.on_progress) o.on_progress(PullProgress{"verifying sha256 digest", src->size, src->size});
  const int64_t size = static_cast<int64_t>(fs::file_size(partial, ec));
  if (src->size >= 0 && size != src->size) {
    fs::remove(partial, ec);
    return make_error(ErrorKind::internal, "size mismatch: expected " + std::to_string(src->size) + " bytes, got " +
                                               std::to_string(size) + "; the download was removed");
  }
  auto digest = sha256_file(partial);
  if (!digest) return digest.error();
  if (!src->sha256.empty() && *digest != src->sha256) {
    fs::remove(partial, ec);
    return make_error(ErrorKind::internal, "sha256 mismatch: the hub says " + src->sha256 + ", the download is " +
                                               *digest + "; the download was removed");
  }
  auto m = store.adopt_blob(partial, *digest, final_name, src->source);
  if (!m) {
    fs::remove(partial, ec);
    return m.error();
  }
  if (o.on_progress) o.on_progress(PullProgress{"success", m->size, m->size});
  return m;
}

}  // namespace pensieve::store
