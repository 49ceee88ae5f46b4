#include "util/build_info.h"

#include "pensieve_build_commit.h"  // generated into the build folder (cmake/build_info.cmake)

namespace pensieve {

const char* pensieve_version() { return PENSIEVE_VERSION; }
const char* build_commit() { return PENSIEVE_BUILD_COMMIT; }

std::string compiler_name() {
#if defined(__clang__)
  return "Clang " __clang_version__;
#elif defined(__GNUC__)
  return "GCC " + std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) + "." +
         std::to_string(__GNUC_PATCHLEVEL__);
#else
  return "unknown compiler";
#endif
}

bool cuda_compiled_in() { return PENSIEVE_CUDA_TOOLKIT[0] != '\0'; }
const char* cuda_toolkit_version() { return PENSIEVE_CUDA_TOOLKIT; }

}  // namespace pensieve
