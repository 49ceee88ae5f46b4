// What this x86-64 CPU can execute, read once from cpuid/xgetbv. Portable code: no ISA flags.
#pragma once

namespace pensieve::cpu {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512_vnni = false;
  bool avx512_bf16 = false;
  bool amx_tile = false;
  bool amx_int8 = false;
  bool os_avx = false;     // XCR0 enables YMM state
  bool os_avx512 = false;  // XCR0 enables ZMM/opmask state
};

// Detected once (thread-safe static).
const CpuFeatures& cpu_features();

// Kernel levels, lowest to highest. AVX-512 here means F+BW+VL+DQ+VNNI+BF16 (the flags the
// *_avx512.cpp files are compiled with); amx = avx512 plus AMX-INT8 tiles for prefill, only when
// the OS granted this process the tile state (arch_prctl ARCH_REQ_XCOMP_PERM).
enum class CpuIsa { scalar = 0, avx2 = 1, avx512 = 2, amx = 3 };
inline constexpr int kNumCpuIsas = 4;

// The best level this CPU (and OS) supports.
CpuIsa best_cpu_isa();

// The level in use: best_cpu_isa() lowered by PENSIEVE_CPU_ISA=scalar|avx2|avx512|amx if set
// (a request above what the CPU supports is ignored, with a warning on stderr).
CpuIsa active_cpu_isa();

const char* cpu_isa_name(CpuIsa isa);

}  // namespace pensieve::cpu
