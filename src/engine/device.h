// The one place an Ops instance is made from a device name (LoadOptions.device).
#pragma once

#include <memory>
#include <string>

#include "backend/ops.h"
#include "util/status.h"

namespace pensieve::engine {

// device: "auto" | "cpu" | "cuda" | "cuda:N". `why` receives a line for the log saying what
// was picked and why.
Result<std::unique_ptr<backend::Ops>> create_ops(const std::string& device, int threads, std::string* why);

}  // namespace pensieve::engine
