#include "backend/cuda/cublas_loader.h"

#include <dlfcn.h>

#include <mutex>

namespace pensieve::cuda {

namespace {

struct Loaded {
  CublasApi api{};
  bool ok = false;
  std::string why;
};

template <class F>
bool resolve(void* lib, const char* name, F* fn, std::string* why) {
  *fn = reinterpret_cast<F>(dlsym(lib, name));
  if (*fn == nullptr) *why = std::string("cuBLAS has no ") + name;
  return *fn != nullptr;
}

Loaded load() {
  Loaded l;
  // The soname first (the run path, LD_LIBRARY_PATH, ldconfig), then the toolkit the build used.
  const char* names[] = {"libcublas.so." PENSIEVE_CUBLAS_MAJOR, PENSIEVE_CUDA_LIB_DIR "/libcublas.so." PENSIEVE_CUBLAS_MAJOR,
                         "libcublas.so"};
  void* lib = nullptr;
  for (const char* n : names)
    if ((lib = dlopen(n, RTLD_NOW | RTLD_LOCAL)) != nullptr) break;
  if (lib == nullptr) {
    const char* err = dlerror();
    l.why = std::string("cannot load cuBLAS (libcublas.so." PENSIEVE_CUBLAS_MAJOR "): ") + (err ? err : "not found");
    return l;
  }
  CublasApi& a = l.api;
  l.ok = resolve(lib, "cublasCreate_v2", &a.create, &l.why) && resolve(lib, "cublasDestroy_v2", &a.destroy, &l.why) &&
         resolve(lib, "cublasSetStream_v2", &a.set_stream, &l.why) &&
         resolve(lib, "cublasGetStream_v2", &a.get_stream, &l.why) &&
         resolve(lib, "cublasSetWorkspace_v2", &a.set_workspace, &l.why) &&
         resolve(lib, "cublasSetMathMode", &a.set_math_mode, &l.why) &&
         resolve(lib, "cublasGetStatusString", &a.status_string, &l.why) &&
         resolve(lib, "cublasSgemm_v2", &a.sgemm, &l.why) && resolve(lib, "cublasGemmEx", &a.gemm_ex, &l.why);
  return l;  // the library stays loaded for the life of the process
}

}  // namespace

const CublasApi* cublas_api(std::string* why) {
  static std::once_flag once;
  static Loaded loaded;
  std::call_once(once, [] { loaded = load(); });
  if (!loaded.ok && why) *why = loaded.why;
  return loaded.ok ? &loaded.api : nullptr;
}

}  // namespace pensieve::cuda
