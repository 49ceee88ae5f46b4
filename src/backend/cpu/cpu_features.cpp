#include "backend/cpu/cpu_features.h"

#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace pensieve::cpu {
namespace {

uint64_t read_xcr0() {
  uint32_t lo = 0, hi = 0;
  // xgetbv without needing -mxsave: raw encoding.
  __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

CpuFeatures detect() {
  CpuFeatures f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = (c >> 27) & 1;
  f.fma = (c >> 12) & 1;
  f.f16c = (c >> 29) & 1;
  const bool avx = (c >> 28) & 1;
  if (osxsave && avx) {
    const uint64_t xcr0 = read_xcr0();
    f.os_avx = (xcr0 & 0x6) == 0x6;
    f.os_avx512 = f.os_avx && (xcr0 & 0xE0) == 0xE0;
  }
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  f.avx2 = f.os_avx && ((b >> 5) & 1);
  f.avx512f = f.os_avx512 && ((b >> 16) & 1);
  f.avx512dq = f.os_avx512 && ((b >> 17) & 1);
  f.avx512bw = f.os_avx512 && ((b >> 30) & 1);
  f.avx512vl = f.os_avx512 && ((b >> 31) & 1);
  f.avx512_vnni = f.os_avx512 && ((c >> 11) & 1);
  f.amx_tile = (d >> 24) & 1;
  f.amx_int8 = (d >> 25) & 1;
  unsigned a1 = 0, b1 = 0, c1 = 0, d1 = 0;
  __cpuid_count(7, 1, a1, b1, c1, d1);
  f.avx512_bf16 = f.os_avx512 && ((a1 >> 5) & 1);
  if (!f.os_avx) f.fma = f.f16c = false;
  return f;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

// Linux hands out the AMX tile state only on request (once per process).
bool os_grants_amx() {
  static const bool granted = [] {
    constexpr long kArchReqXcompPerm = 0x1023;
    constexpr long kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return granted;
}

CpuIsa best_cpu_isa() {
  const CpuFeatures& f = cpu_features();
  const bool avx512 = f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx512_vnni &&
                      f.avx512_bf16 && f.fma && f.f16c;
  if (avx512 && f.amx_tile && f.amx_int8 && os_grants_amx()) return CpuIsa::amx;
  if (f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx512_vnni && f.avx512_bf16 &&
      f.fma && f.f16c)
    return CpuIsa::avx512;
  if (f.avx2 && f.fma && f.f16c) return CpuIsa::avx2;
  return CpuIsa::scalar;
}

CpuIsa active_cpu_isa() {
  static const CpuIsa isa = [] {
    CpuIsa best = best_cpu_isa();
    const char* env = std::getenv("PENSIEVE_CPU_ISA");
    // AMX only when asked for: its prefill tiles sum each block's products in another order than
    // the AVX-512 decode kernels, so a token's logits would depend on whether it ran in a batch
    // of 16+ tokens (batched decode, prefill chunking) -- greedy output must not.
    if (env == nullptr || *env == '\0') return best == CpuIsa::amx ? CpuIsa::avx512 : best;
    CpuIsa want = best;
    if (std::strcmp(env, "scalar") == 0) want = CpuIsa::scalar;
    else if (std::strcmp(env, "avx2") == 0) want = CpuIsa::avx2;
    else if (std::strcmp(env, "avx512") == 0) want = CpuIsa::avx512;
    else if (std::strcmp(env, "amx") == 0) want = CpuIsa::amx;
    else std::fprintf(stderr, "pensieve: unknown PENSIEVE_CPU_ISA=%s (scalar|avx2|avx512|amx), using %s\n", env, cpu_isa_name(best));
    if (want > best) {
      std::fprintf(stderr, "pensieve: PENSIEVE_CPU_ISA=%s not supported by this CPU, using %s\n", env, cpu_isa_name(best));
      return best;
    }
    return want;
  }();
  return isa;
}

const char* cpu_isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::amx: return "avx512-vnni+amx";
    case CpuIsa::avx512: return "avx512-vnni";
    case CpuIsa::avx2: return "avx2";
    case CpuIsa::scalar: return "scalar";
  }
  return "scalar";
}

}  // namespace pensieve::cpu
