// Shared building blocks of the decoder-only transformer families, written against
// backend::Ops. A family's forward pass (llama.cpp, qwen3.cpp) is a short sequence of these.
#pragma once

#include "backend/ops.h"
#include "model/model.h"

namespace pensieve::model {

// Hands a device activation to the observer (a host copy), when one is set.
void observe(const Observer* obs, backend::Ops& ops, std::string_view name, int layer, const float* data,
             int64_t n_rows, int width);

// s.q, s.k, s.v = x W (+ bias) for n tokens of the normed input s.xb.
void qkv_projection(backend::Ops& ops, const LayerWeights& L, const Scratch& s, int n);

// Rope on s.q / s.k, KV-cache write, causal attention, output projection into s.xb.
void self_attention(backend::Ops& ops, const Model& m, const LayerWeights& L, const Scratch& s, int layer, int n,
                    const Observer* obs);

// s.xb = W_down (silu(W_gate s.xb) * W_up s.xb).
void ffn_swiglu(backend::Ops& ops, const LayerWeights& L, const Scratch& s, int n);

// Final norm of the output rows of s.x and the vocabulary projection into s.logits; with
// s.hidden_only, the final norm of all n tokens' rows into s.xb instead.
void output_logits(backend::Ops& ops, const Model& m, const Scratch& s, int n, int n_outputs, const Observer* obs);

}  // namespace pensieve::model
