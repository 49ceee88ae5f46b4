// Helpers shared by the test binaries: where the fixtures are, and skipping visibly without them.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace pensieve::testing {

inline std::string shared_dir() { return PENSIEVE_SHARED_DIR; }
inline std::string fixtures_dir() { return shared_dir() + "/fixtures"; }
inline std::string source_dir() { return PENSIEVE_SOURCE_DIR; }
inline std::string pensieve_binary() { return PENSIEVE_BINARY; }
inline bool have_fixtures() { return std::filesystem::exists(fixtures_dir()); }

}  // namespace pensieve::testing

// Skips the current test with a visible message when ../shared/fixtures is absent.
#define PS_REQUIRE_FIXTURES()                                                                 \
  do {                                                                                        \
    if (!::pensieve::testing::have_fixtures())                                               \
      GTEST_SKIP() << "skipped: fixtures not found at " << ::pensieve::testing::fixtures_dir(); \
  } while (0)
