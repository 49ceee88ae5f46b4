// Helpers of the engine tests: loading a backend with the options a test names, and greedy
// generation options.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "engine/inference.h"

namespace pensieve::engine {

// The backend for `lo` (quiet), or nullptr with a test failure naming the error.
inline std::unique_ptr<InferenceBackend> load_backend(LoadOptions lo) {
  lo.quiet = true;
  auto be = std::make_unique<InferenceBackend>();
  const Status st = be->load(lo);
  EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message);
  return st.ok() ? std::move(be) : nullptr;
}

// Greedy decoding of n tokens.
inline GenerateOptions greedy_options(int n) {
  GenerateOptions g;
  g.sampling.temperature = 0;
  g.max_tokens = n;
  return g;
}

}  // namespace pensieve::engine
