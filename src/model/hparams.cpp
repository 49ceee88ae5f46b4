#include "model/hparams.h"

#include <algorithm>
#include <cmath>

#include "gguf/keys.h"

namespace pensieve::model {
namespace {

Error bad(const GgufFile& f, const std::string& what) {
  return make_error(ErrorKind::model_load_failed, f.path() + ": " + what);
}

// A required positive integer key of the architecture.
Result<int> need_int(const GgufFile& f, std::string_view key, const std::string& arch) {
  const std::string k = keys::arch_key(key, arch);
  auto v = f.get_int(k);
  if (!v) return bad(f, "missing metadata key '" + k + "'");
  if (*v <= 0 || *v > (1 << 30)) return bad(f, "metadata key '" + k + "' has invalid value " + std::to_string(*v));
  return static_cast<int>(*v);
}

int opt_int(const GgufFile& f, std::string_view key, const std::string& arch, int fallback) {
  auto v = f.get_int(keys::arch_key(key, arch));
  return v && *v > 0 && *v <= (1 << 30) ? static_cast<int>(*v) : fallback;
}

float opt_float(const GgufFile& f, std::string_view key, const std::string& arch, float fallback) {
  auto v = f.get_float(keys::arch_key(key, arch));
  return v ? static_cast<float>(*v) : fallback;
}

}  // namespace

Result<HParams> read_hparams(const GgufFile& f, const std::string& arch) {
  HParams hp;
  hp.arch = arch;
  auto n_embd = need_int(f, keys::kEmbeddingLength, arch);
  if (!n_embd) return n_embd.error();
  auto n_layer = need_int(f, keys::kBlockCount, arch);
  if (!n_layer) return n_layer.error();
  auto n_head = need_int(f, keys::kHeadCount, arch);
  if (!n_head) return n_head.error();
  auto n_ff = need_int(f, keys::kFeedForwardLength, arch);
  if (!n_ff) return n_ff.error();
  hp.n_embd = *n_embd;
  hp.n_layer = *n_layer;
  hp.n_head = *n_head;
  hp.n_ff = *n_ff;
  hp.n_head_kv = opt_int(f, keys::kHeadCountKv, arch, hp.n_head);
  hp.n_ctx_train = opt_int(f, keys::kContextLength, arch, 2048);
  hp.head_dim = opt_int(f, keys::kKeyLength, arch, hp.n_embd / hp.n_head);
  const int v_dim = opt_int(f, keys::kValueLength, arch, hp.head_dim);
  if (v_dim != hp.head_dim) return bad(f, "value_length != key_length is not supported");
  hp.n_rot = opt_int(f, keys::kRopeDimensionCount, arch, hp.head_dim);
  hp.n_vocab = opt_int(f, keys::kVocabSize, arch, 0);  // else from token_embd (loader)
  hp.rms_eps = opt_float(f, keys::kRmsEps, arch, 1e-5f);
  hp.rope_freq_base = opt_float(f, keys::kRopeFreqBase, arch, 10000.0f);

  if (hp.n_head % hp.n_head_kv != 0)
    return bad(f, "head_count " + std::to_string(hp.n_head) + " is not a multiple of head_count_kv " +
                      std::to_string(hp.n_head_kv));
  if (hp.n_rot > hp.head_dim || hp.n_rot % 2 != 0)
    return bad(f, "rope dimension count " + std::to_string(hp.n_rot) + " is invalid for head size " +
                      std::to_string(hp.head_dim));
  if (!(hp.rms_eps > 0) || !(hp.rope_freq_base > 0)) return bad(f, "invalid rms epsilon or rope base");

  // Rope scaling: the explicit type, else the legacy scale_linear key.
  const auto type = f.get_string(keys::arch_key(keys::kRopeScalingType, arch));
  hp.rope_factor = opt_float(f, keys::kRopeScalingFactor, arch, 0.0f);
  if (type) {
    if (*type == "none") hp.rope_scaling = RopeScaling::none;
    else if (*type == "linear") hp.rope_scaling = RopeScaling::linear;
    else if (*type == "yarn") hp.rope_scaling = RopeScaling::yarn;
    else if (*type == "llama3") hp.rope_scaling = RopeScaling::llama3;
    else return bad(f, "unsupported rope scaling type '" + std::string(*type) + "'");
  } else if (float lin = opt_float(f, keys::kRopeScaleLinear, arch, 0.0f); lin > 0 && lin != 1.0f) {
    hp.rope_scaling = RopeScaling::linear;
    hp.rope_factor = lin;
  }
  if (hp.rope_scaling != RopeScaling::none && !(hp.rope_factor > 0)) hp.rope_scaling = RopeScaling::none;
  if (hp.rope_scaling == RopeScaling::none) hp.rope_factor = 1.0f;
  hp.rope_orig_ctx = opt_int(f, keys::kRopeScalingOrigCtx, arch, hp.n_ctx_train);
  hp.yarn_attn_factor = opt_float(f, keys::kRopeScalingAttnFactor, arch, 1.0f);
  hp.yarn_beta_fast = opt_float(f, keys::kRopeScalingYarnBetaFast, arch, 32.0f);
  hp.yarn_beta_slow = opt_float(f, keys::kRopeScalingYarnBetaSlow, arch, 1.0f);
  return hp;
}

namespace {

// YaRN: the dims below `low` rotate fast (keep extrapolated speed), those above `high` are
// interpolated, a linear ramp between (as in the YaRN paper and llama.cpp's rope_yarn).
float yarn_corr_dim(int n_rot, int orig_ctx, float beta, float base) {
  return n_rot * std::log(orig_ctx / (beta * 2 * static_cast<float>(M_PI))) / (2 * std::log(base));
}

// Llama 3.x: wavelengths longer than orig_ctx / low_freq_factor are divided by the factor,
// shorter than orig_ctx / high_freq_factor kept, smooth in between (Meta's reference code).
float llama3_scale(float inv_freq, float factor, int orig_ctx) {
  const float low_freq_factor = 1.0f, high_freq_factor = 4.0f;
  const float wavelen = 2 * static_cast<float>(M_PI) / inv_freq;
  const float low_wavelen = orig_ctx / low_freq_factor, high_wavelen = orig_ctx / high_freq_factor;
  if (wavelen < high_wavelen) return inv_freq;
  if (wavelen > low_wavelen) return inv_freq / factor;
  const float smooth = (orig_ctx / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor);
  return (1 - smooth) * inv_freq / factor + smooth * inv_freq;
}

}  // namespace

backend::RopeTable make_rope_table(const HParams& hp, backend::RopeStyle style, const float* freq_factors) {
  backend::RopeTable rope;
  rope.style = style;
  rope.n_rot = hp.n_rot;
  const int half = hp.n_rot / 2;
  rope.inv_freq.resize(half);
  float low = 0, high = 0;
  if (hp.rope_scaling == RopeScaling::yarn) {
    low = std::max(0.0f, std::floor(yarn_corr_dim(hp.n_rot, hp.rope_orig_ctx, hp.yarn_beta_fast, hp.rope_freq_base)));
    high = std::min(static_cast<float>(hp.n_rot - 1),
                    std::ceil(yarn_corr_dim(hp.n_rot, hp.rope_orig_ctx, hp.yarn_beta_slow, hp.rope_freq_base)));
    rope.mscale = hp.yarn_attn_factor * (1.0f + 0.1f * std::log(hp.rope_factor));
  }
  for (int i = 0; i < half; ++i) {
    float f = static_cast<float>(1.0 / std::pow(static_cast<double>(hp.rope_freq_base), 2.0 * i / hp.n_rot));
    if (freq_factors) f /= freq_factors[i];
    switch (hp.rope_scaling) {
      case RopeScaling::linear:
        f /= hp.rope_factor;
        break;
      case RopeScaling::yarn: {
        const float ramp = 1.0f - std::clamp((i - low) / std::max(0.001f, high - low), 0.0f, 1.0f);
        f = f / hp.rope_factor * (1 - ramp) + f * ramp;
        break;
      }
      case RopeScaling::llama3:
        if (!freq_factors) f = llama3_scale(f, hp.rope_factor, hp.rope_orig_ctx);
        break;
      default:
        break;
    }
    rope.inv_freq[i] = f;
  }
  return rope;
}

}  // namespace pensieve::model
