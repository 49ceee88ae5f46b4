// Helpers shared by the test binaries: where the fixtures are, and skipping visibly without them.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace pensieve::testing {

inline std::string shared_dir() { return PENSIEVE_SHARED_DIR; }
inline std::string fixtures_dir() { return shared_dir() + "/fixtures"; }
inline std::string source_dir() { return PENSIEVE_SOURCE_DIR; }
inline std::string pensieve_binary() { return PENSIEVE_BINARY; }
inline bool have_fixtures() { return std::filesystem::exists(fixtures_dir()); }

// Under CI (the environment variable CI is set and not "0"/"false"), where scripts/setup.sh has
// installed every prerequisite, a missing prerequisite is a failure; elsewhere a visible skip
// (ctest reports it as "Skipped", never "Passed").
inline bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && *ci != '\0' && std::string(ci) != "0" && std::string(ci) != "false";
}

}  // namespace pensieve::testing

// Skips the current test with a visible message, or fails it under CI.
#define PS_SKIP_OR_FAIL(message)                                                              \
  do {                                                                                        \
    if (::pensieve::testing::in_ci()) GTEST_FAIL() << "CI is set, so this may not skip: " << message; \
    GTEST_SKIP() << "skipped: " << message;                                                  \
  } while (0)

// Skips (fails under CI) the current test when ../shared/fixtures is absent.
#define PS_REQUIRE_FIXTURES()                                                                 \
  do {                                                                                        \
    if (!::pensieve::testing::have_fixtures())                                               \
      PS_SKIP_OR_FAIL("fixtures not found at " << ::pensieve::testing::fixtures_dir());      \
  } while (0)
