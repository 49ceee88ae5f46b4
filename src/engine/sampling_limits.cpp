#include "engine/sampling_limits.h"

#include <cmath>
#include <cstdio>
#include <limits>

namespace pensieve::engine {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// top_p 0 keeps only the most likely token (the sampler always keeps one), so it is allowed as the
// APIs allow it; a repeat penalty must be positive (it divides logits) and 10 is already extreme.
constexpr SamplingRange kRanges[] = {
    {SamplingKnob::temperature, "temperature", "--temp", 0, kInf, false, false, ">= 0 (0: greedy)"},
    {SamplingKnob::top_k, "top_k", "--top-k", 0, kInf, false, true, "an integer >= 0 (0: off)"},
    {SamplingKnob::top_p, "top_p", "--top-p", 0, 1, false, false, "in [0, 1] (1: off)"},
    {SamplingKnob::min_p, "min_p", "--min-p", 0, 1, false, false, "in [0, 1] (0: off)"},
    {SamplingKnob::repeat_penalty, "repeat_penalty", "--repeat-penalty", 0, 10, true, false, "in (0, 10] (1: off)"},
    {SamplingKnob::frequency_penalty, "frequency_penalty", "--frequency-penalty", -2, 2, false, false,
     "in [-2, 2] (0: off)"},
    {SamplingKnob::presence_penalty, "presence_penalty", "--presence-penalty", -2, 2, false, false,
     "in [-2, 2] (0: off)"},
};

}  // namespace

std::span<const SamplingRange> sampling_ranges() { return kRanges; }

const SamplingRange& sampling_range(SamplingKnob knob) {
  for (const SamplingRange& r : kRanges)
    if (r.knob == knob) return r;
  return kRanges[0];  // unreachable: every knob has a row
}

std::string check_sampling_value(SamplingKnob knob, double value, std::string_view text) {
  const SamplingRange& r = sampling_range(knob);
  const bool ok = !std::isnan(value) && (r.lo_open ? value > r.lo : value >= r.lo) && value <= r.hi &&
                  (!r.integer || value == std::floor(value));
  if (ok) return {};
  std::string shown(text);
  if (shown.empty()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", value);
    shown = buf;
  }
  return "must be " + std::string(r.rule) + ", got " + shown;
}

}  // namespace pensieve::engine
