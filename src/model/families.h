// The families the registry knows (one definition per family file) and the forward passes
// that more than one family shares.
#pragma once

#include "model/model.h"

namespace pensieve::model {

extern const Family kLlamaFamily;  // llama.cpp
extern const Family kQwen2Family;  // qwen2.cpp
extern const Family kQwen3Family;  // qwen3.cpp

void forward_llama(const Model& m, backend::Ops& ops, const Scratch& s, int n, int n_outputs, const Observer* obs);

}  // namespace pensieve::model
