// Builds the server's view of a model (ServerModel) from a loaded engine::InferenceBackend.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/inference.h"
#include "server/chat_request.h"

namespace pensieve::server {

// id: the canonical model id (empty: derived from the model file name). A chat template that
// does not parse is replaced by ChatML, with a warning in `warning`.
Result<std::shared_ptr<const ServerModel>> bind_backend(std::shared_ptr<engine::InferenceBackend> backend,
                                                        std::string id, std::vector<std::string> aliases,
                                                        std::string* warning);

}  // namespace pensieve::server
