// `pensieve serve`: the HTTP server (Anthropic Messages + OpenAI Chat Completions + jobs).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <pthread.h>
#include <sys/resource.h>

#include "backend/cpu/cpu_features.h"
#include "cli/command.h"
#include "cli/compat.h"
#include "cli/engine_args.h"
#include "engine/device.h"
#include "engine/inference.h"
#include "server/access_log.h"
#include "server/model_binding.h"
#include "server/ollama.h"
#include "store/store.h"
#include "server/request_checks.h"
#include "server/server.h"
#include "util/thread_pool.h"

namespace pensieve::cli {

namespace {

struct ServeArgs {
  std::string model_path;
  std::vector<std::string> aliases;
  int n_ctx = 0;
  bool allow_ctx_extension = false;
  int threads = 0;
  int n_parallel = 0;
  bool batch_invariant = false;
  int64_t kv_budget_mb = 0;
  std::string device = "auto";
  int n_ubatch = engine::LoadOptions{}.n_ubatch;
  int n_batch = 0;
  server::ServerConfig config;
  double max_body_mb = 32;
  int max_header_kb = 64;
  std::string log_format = "text";
  std::string url;  // where it listens, once bound
  std::string keep_alive = "5m";  // store mode: idle time before a model is unloaded
  int max_loaded = 0;
};

void add_options(CLI::App& app, ServeArgs& a) {
  app.option_defaults()->always_capture_default();  // --help shows every default
  app.add_option("-m,--model", a.model_path, "GGUF model file or store name (none: serve the whole store by name)")
      ->transform(model_path_or_name());
  app.add_option("--ollama-port", a.config.ollama_port,
                 "also listen on this port, where Ollama clients look (11434); every API answers on both")
      ->check(CLI::Range(1, 65535));
  app.add_option("--models", a.config.models_dir, "the model store (default: $PENSIEVE_MODELS or ~/.local/share/pensieve/models)");
  app.add_option("--keep-alive", a.keep_alive, "without -m: idle time before a model is unloaded (5m, 30s, 0, -1: never)");
  app.add_option("--max-loaded", a.max_loaded, "without -m: models loaded at once at most (0: as many as memory holds)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--host", a.config.host, "address to listen on (default: loopback only)");
  app.add_option("--port", a.config.port, "port; 0 picks a free one and prints it")->check(CLI::Range(0, 65535));
  app.add_option("--api-key", a.config.api_key, "require this key (x-api-key or Bearer); env PENSIEVE_API_KEY");
  app.add_option("--alias", a.aliases, "model id(s) to serve under; the first is the canonical id");
  app.add_option("-c,--ctx,--ctx-size", a.n_ctx,
                 "context size in tokens, at most the model's training context (0: the model's, capped by memory)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--allow-ctx-extension", a.allow_ctx_extension,
               "allow --ctx beyond the model's training context (no RoPE scaling: quality may drop past it)");
  app.add_option("-t,--threads", a.threads, "CPU threads (0: physical cores)")->check(CLI::NonNegativeNumber);
  auto* device = app.add_option("--device", a.device, "auto | cpu | cuda | cuda:N");
  add_n_gpu_layers(app, a.device, device);
  app.add_option("--ubatch,--ubatch-size", a.n_ubatch, "prompt tokens per forward step (llama.cpp's -ub)")
      ->check(CLI::PositiveNumber);
  app.add_option("-b,--batch-size", a.n_batch, "caps --ubatch-size, as llama.cpp's -b does (0: no cap)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--flash-attn")->description("accepted for llama.cpp's -fa: attention is always fused here");
  add_accepted_llama_flags(app, /*server=*/true);
  app.add_option("--max-queue", a.config.max_queue, "requests that may wait for the engine before 529/429")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--parallel", a.n_parallel,
                 "generations batched together (0: 4 on a CPU, 32 on a GPU); more wait in the queue")
      ->check(CLI::Range(0, 512));
  app.add_flag("--batch-invariant", a.batch_invariant,
               "GPU: a request's tokens never depend on what shares its steps (slower single streams)");
  app.add_option("--kv-budget", a.kv_budget_mb, "KV cache pool in MiB (0: --ctx x --parallel tokens; GPU: capped by free memory)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--cors-origin", a.config.cors_origins, "allow browser requests from this origin ('*': any)");
  app.add_option("--allowed-hosts", a.config.allowed_hosts,
                 "Host header names answered besides loopback ones ('*': any; '.example.com': its subdomains)")
      ->delimiter(',');
  app.add_option("--max-json-depth", a.config.max_json_depth, "deepest JSON nesting accepted in a request (400 beyond)")
      ->check(CLI::Range(2, 10000));
  app.add_option("--max-body-mb", a.max_body_mb, "request body limit in MiB (413 beyond)")->check(CLI::PositiveNumber);
  app.add_option("--ping-interval-ms", a.config.ping_interval_ms, "keep-alive event interval of idle streams")
      ->check(CLI::Range(10, 600000));
  app.add_option("--jobs-max", a.config.max_jobs, "finished jobs kept for GET and stream resumption")
      ->check(CLI::PositiveNumber);
  app.add_option("--jobs-ttl", a.config.job_ttl_s, "seconds a finished job is kept")->check(CLI::PositiveNumber);
  app.add_option("--max-connections", a.config.max_connections, "open connections served at once (503 beyond)")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--header-timeout", a.config.header_timeout_s, "seconds a client has to send a request header")
      ->check(CLI::Range(1, 3600));
  app.add_option("--body-timeout", a.config.read_timeout_s, "seconds a client has to send a request body")
      ->check(CLI::Range(1, 3600));
  app.add_option("--idle-timeout", a.config.idle_timeout_s, "seconds a keep-alive connection may stay idle")
      ->check(CLI::Range(1, 3600));
  app.add_option("--max-header-kb", a.max_header_kb, "request header limit in KiB (431 beyond)")
      ->check(CLI::Range(1, 1024));
  app.add_flag("--quiet", [&a](int64_t) { a.config.log_requests = false; }, "no per-request log lines");
  app.add_option("--log-format", a.log_format,
                 "stderr log lines: text, or json (one object a line: time, level, msg, request fields)")
      ->check(CLI::IsMember({"text", "json"}));
}

// Every connection is a file descriptor: raise the soft limit to the hard one. Returns the limit.
int raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur > 1 << 20 ? 1 << 20 : static_cast<int>(rl.rlim_cur);
}

// The one line an operator reads to know what is being served, and how.
void log_startup_summary(const ServeArgs& a, const server::ServerModel& m, const engine::EngineStats& es, double load_ms) {
  const int threads = a.threads > 0 ? a.threads : ThreadPool::physical_cores();
  const char* isa = cpu::cpu_isa_name(cpu::active_cpu_isa());
  const long long kv_tokens = static_cast<long long>(es.blocks_total * es.block_size);
  const bool key = !a.config.api_key.empty();
  char line[1024];
  std::snprintf(line, sizeof line,
                "model %s (%s) on %s, context %d tokens, %d parallel, KV pool %lld tokens, loaded in %.0f ms; "
                "serving %s, %d threads, ISA %s, API key %s, log %s",
                m.id.c_str(), m.variant.c_str(), m.device.c_str(), m.info.n_ctx, m.n_parallel, kv_tokens, load_ms,
                a.url.c_str(), threads, isa, key ? "on" : "off", a.log_format.c_str());
  server::log_event("info", line,
                    {{"event", "ready"},
                     {"url", a.url},
                     {"model", m.id},
                     {"variant", m.variant},
                     {"model_path", a.model_path},
                     {"device", m.device},
                     {"threads", threads},
                     {"isa", isa},
                     {"context", m.info.n_ctx},
                     {"parallel", m.n_parallel},
                     {"kv_pool_tokens", kv_tokens},
                     {"api_key", key},
                     {"load_ms", static_cast<int64_t>(load_ms)}});
}

std::atomic<int> g_load_failed{0};  // the exit code once loading failed (0: not failed)
std::atomic<bool> g_load_done{false};

// The command line's load settings, for the -m model and for every model of the store.
engine::LoadOptions load_options(const ServeArgs& a, std::string model_path) {
  engine::LoadOptions lo;
  lo.model_path = std::move(model_path);
  lo.device = a.device;
  lo.threads = a.threads;
  lo.n_ctx = a.n_ctx;
  lo.default_ctx_cap = 0;  // a server's sequences may be long (Claude Code's first request: ~25k tokens)
  lo.n_ubatch = a.n_batch > 0 ? std::min(a.n_batch, a.n_ubatch) : a.n_ubatch;
  lo.n_parallel = a.n_parallel;
  lo.kv_budget_mb = a.kv_budget_mb;
  lo.batch_invariant = a.batch_invariant;
  return lo;
}

void load_model(ServeArgs& a, server::Server& srv) {
  auto backend = std::make_shared<engine::InferenceBackend>();
  engine::LoadOptions lo = load_options(a, a.model_path);
  lo.quiet = server::log_format() == server::LogFormat::json;  // the summary names the device
  auto t0 = std::chrono::steady_clock::now();
  Status st = backend->load(lo);
  if (!st.ok()) {
    server::log_event("error", "cannot load " + a.model_path + ": " + st.error().message,
                      {{"model_path", a.model_path}});
    srv.set_model(nullptr, st.error().message);
    g_load_failed = load_failure_exit_code(st.error());
    return;
  }
  std::string id = a.aliases.empty() ? std::filesystem::path(a.model_path).stem().string() : a.aliases[0];
  if (a.aliases.empty()) {  // -m NAME: serve under the store name, not the blob's file name
    store::Store st(store::Store::default_root());
    for (const store::Manifest& m : st.list())
      if (st.blob_path(m) == std::filesystem::path(a.model_path)) id = m.name;
  }
  std::vector<std::string> extra(a.aliases.size() > 1 ? a.aliases.begin() + 1 : a.aliases.end(), a.aliases.end());
  std::string warning;
  auto model = server::bind_backend(backend, id, extra, &warning);
  if (!model.ok()) {
    server::log_event("error", model.error().message);
    srv.set_model(nullptr, model.error().message);
    g_load_failed = 1;
    return;
  }
  if (!warning.empty()) server::log_event("warning", "warning: " + warning);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  log_startup_summary(a, **model, backend->stats(), ms);
  srv.set_model(model.value());
}

// Store mode: models come from the store by name and load with the command line's settings.
server::ModelSource store_source(const ServeArgs& a) {
  store::Store st(a.config.models_dir.empty() ? store::Store::default_root() : std::filesystem::path(a.config.models_dir));
  server::ModelSource src;
  src.find = [st](const std::string& name) { return st.find(name); };
  src.list = [st] { return st.list(); };
  src.load = [st, a](const store::Manifest& m) -> Result<server::LoadedModel> {
    auto backend = std::make_shared<engine::InferenceBackend>();
    engine::LoadOptions lo = load_options(a, st.blob_path(m).string());
    if (a.n_ctx > 0 && m.context > 0 && !a.allow_ctx_extension) lo.n_ctx = std::min<int64_t>(a.n_ctx, m.context);
    lo.quiet = true;
    PS_TRY(backend->load(lo));
    std::string warning;
    auto model = server::bind_backend(backend, m.name, {}, &warning);
    if (!model) return model.error();
    if (!warning.empty()) server::log_event("warning", "warning: " + m.name + ": " + warning);
    return server::LoadedModel{*model, [backend] { backend->unload(); }};
  };
  const bool gpu = a.device != "cpu";
  src.free_memory = [gpu]() -> int64_t {
    if (gpu) {
      const int64_t dev = engine::device_free_memory_bytes();
      if (dev >= 0) return dev;
    }
    return engine::host_available_bytes();
  };
  return src;
}

}  // namespace

int run_serve(int argc, char** argv) {
  CLI::App app{"Serve a model (-m) or the model store (no -m) over HTTP: Anthropic /v1/messages, OpenAI /v1/chat/completions, Ollama /api/*, /v1/jobs, a web chat page at /"};
  app.name("pensieve serve");
  ServeArgs a;
  add_options(app, a);
  if (auto code = parse_or_usage(app, argc, argv)) return *code;  // also describes it for `completions`
  server::set_log_format(*server::parse_log_format(a.log_format));
  if (a.config.api_key.empty())
    if (const char* env = std::getenv("PENSIEVE_API_KEY")) a.config.api_key = env;
  a.config.max_body_bytes = static_cast<size_t>(a.max_body_mb * 1024 * 1024);
  a.config.max_header_bytes = static_cast<size_t>(a.max_header_kb) * 1024;
  a.config.max_connections = std::max(16, std::min(a.config.max_connections, raise_fd_limit() - 64));
  const bool store_mode = a.model_path.empty();
  std::optional<std::chrono::milliseconds> keep_alive;
  if (store_mode) {
    auto ka = server::parse_keep_alive(a.keep_alive);
    if (!ka) {
      server::log_event("error", "--keep-alive: " + ka.error().message);
      return 2;
    }
    keep_alive = *ka;
  } else {
    if (!std::filesystem::exists(a.model_path)) {
      server::log_event("error", "model file not found: " + a.model_path);
      return 1;
    }
    if (int rc = check_ctx(a.model_path, a.n_ctx, a.allow_ctx_extension); rc != 0) return rc;
  }

  // Signals are taken synchronously by this thread (sigtimedwait); every other thread blocks them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  // Store mode: a request whose model is loading waits on its handler thread, so there are
  // more of them than with one pinned model (other requests keep being served meanwhile).
  if (store_mode) a.config.http_threads = std::max(a.config.http_threads, 16);
  server::Server srv(a.config);
  auto port = srv.bind();
  if (!port.ok()) {
    server::log_event("error", port.error().message);
    return 1;
  }
  // Everything goes to stderr (stdout stays empty): harnesses wait for this line there.
  const bool v6 = a.config.host.find(':') != std::string::npos;
  a.url = "http://" + (v6 ? "[" + a.config.host + "]" : a.config.host) + ":" + std::to_string(port.value());
  server::log_event("info", "listening on " + a.url, {{"event", "listening"}, {"url", a.url}});
  if (a.config.ollama_port >= 0)
    server::log_event("info", "also listening on port " + std::to_string(a.config.ollama_port) + " (for Ollama clients)",
                      {{"event", "listening"}, {"port", a.config.ollama_port}});
  if (!server::is_loopback_name(a.config.host) && a.config.api_key.empty())
    server::log_event("warning", "warning: listening on " + a.config.host + " without --api-key");

  if (store_mode) {
    server::RegistryOptions ro;
    ro.keep_alive = keep_alive.value_or(std::chrono::minutes(5));
    ro.max_loaded = a.max_loaded;
    ro.workers = a.config.workers;
    ro.max_queue = a.config.max_queue;
    srv.serve_store(ro, store_source(a));
    store::Store st(a.config.models_dir.empty() ? store::Store::default_root() : std::filesystem::path(a.config.models_dir));
    const size_t n_models = st.list().size();
    server::log_event("info", "serving the model store " + st.root().string() + " (" + std::to_string(n_models) +
                                  " models; a request's `model` picks one)",
                      {{"event", "store"}, {"models_dir", st.root().string()}});
    if (n_models == 0)
      server::log_event("warning",
                        "the store is empty: add a model with `pensieve pull hf:OWNER/REPO[:QUANT]` or "
                        "`pensieve import FILE.gguf NAME` (the server sees it at once), or serve one file with -m",
                        {{"event", "store_empty"}});
  }
  std::thread http([&srv] { srv.run(); });
  std::thread loader([&a, &srv, store_mode] {
    if (!store_mode) load_model(a, srv);
    g_load_done = true;
  });
  int exit_code = 0;
  for (;;) {
    timespec tick{0, 200 * 1000 * 1000};
    int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig == SIGINT || sig == SIGTERM) {
      server::log_event("info", std::string(sig == SIGINT ? "SIGINT" : "SIGTERM") + " received, shutting down");
      break;
    }
    if (g_load_failed.load()) {
      exit_code = g_load_failed.load();
      break;
    }
  }
  srv.stop();
  http.join();
  // A signal while a large model is still loading: loading cannot be interrupted, and waiting
  // for it would hold the exit for many seconds. Nothing is left to flush but stdio.
  for (int i = 0; i < 50 && !g_load_done.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (!g_load_done.load()) {
    server::log_event("warning", "exiting while the model is still loading");
    std::fflush(nullptr);
    std::_Exit(exit_code);
  }
  loader.join();
  return exit_code;
}

PENSIEVE_COMMAND("serve", "serve a model, or the whole store, over HTTP (Anthropic, OpenAI, Ollama APIs, jobs, web chat)", run_serve);

}  // namespace pensieve::cli
