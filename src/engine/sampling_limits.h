// The ranges of the sampling settings: one table that both the CLI's flags (--temp, --top-p, ...)
// and the server's request fields (temperature, top_p, ...) are checked against, so a value the
// one refuses the other refuses too. The APIs add their own caps on top (OpenAI's temperature
// <= 2, Anthropic's <= 1): those are the API's rules, not the engine's.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace pensieve::engine {

enum class SamplingKnob { temperature, top_k, top_p, min_p, repeat_penalty, frequency_penalty, presence_penalty };

struct SamplingRange {
  SamplingKnob knob;
  std::string_view field;  // the API's name, e.g. "top_p"
  std::string_view flag;   // the CLI's, e.g. "--top-p"
  double lo, hi;           // hi may be +infinity
  bool lo_open;            // lo itself is refused
  bool integer;            // whole numbers only
  std::string_view rule;   // for messages and --help, e.g. "in [0, 1] (1: off)"
};

std::span<const SamplingRange> sampling_ranges();
const SamplingRange& sampling_range(SamplingKnob knob);

// "" when `value` is allowed, else "must be <rule>, got <value>" (NaN is never allowed).
// `text` is the value as the user wrote it, for the message; empty: printed from `value`.
std::string check_sampling_value(SamplingKnob knob, double value, std::string_view text = {});

}  // namespace pensieve::engine
