// What this binary is: version, the commit it was built from, compiler, whether the CUDA backend
// is compiled in. For --version and the startup lines.
#pragma once

#include <string>

namespace pensieve {

const char* pensieve_version();  // "0.1.0"
const char* build_commit();      // `git describe --always --dirty --tags` at build time, or "unknown"
std::string compiler_name();     // e.g. "GCC 12.2.0"
bool cuda_compiled_in();
const char* cuda_toolkit_version();  // the toolkit it was built with, "" without CUDA

}  // namespace pensieve
