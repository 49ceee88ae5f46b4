// The CLI's sampling flags and the server's request fields agree on every value: each range of the
// shared table (engine/sampling_limits.h) is probed at and around its edges through the real
// binary (`pensieve run`: exit 2 when refused) and through the server's request parsers (OpenAI
// and, for its fields, Anthropic), and the verdicts must match the table's and each other's.
#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_test_util.h"
#include "engine/sampling_limits.h"
#include "server/anthropic.h"
#include "server/openai.h"

namespace pensieve::testing {
namespace {

using nlohmann::json;
using engine::SamplingKnob;

class SamplingRanges : public CliTest {
 protected:
  SamplingRanges() : CliTest("run") {}
};

std::string text_of(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Values at, just inside and just outside each edge, plus a middle one.
std::vector<double> probes(const engine::SamplingRange& r) {
  const double step = r.integer ? 1 : 0.001;
  std::vector<double> v = {r.lo - step, r.lo, r.lo + step, -1, 0, 0.5, 1, 2, 3, 11};
  if (std::isfinite(r.hi)) v.insert(v.end(), {r.hi - step, r.hi, r.hi + step});
  if (r.integer) std::erase_if(v, [](double x) { return x != std::floor(x); });
  return v;
}

TEST_F(SamplingRanges, CliAndServerAcceptTheSameValues) {
  PS_REQUIRE_FIXTURES();
  const std::string model = fixtures_dir() + "/models/stories260K.gguf";
  int probed = 0;
  for (const engine::SamplingRange& r : engine::sampling_ranges()) {
    for (double v : probes(r)) {
      const bool table_ok = engine::check_sampling_value(r.knob, v).empty();
      // The binary: refused values are a usage error before anything loads.
      const RunResult cli = run({"-m", model, "-p", "Hi", "-n", "1", "-q", std::string(r.flag), text_of(v)});
      EXPECT_EQ(cli.exit_code, table_ok ? 0 : 2) << r.flag << " " << v << ": " << cli.err;
      if (!table_ok) {
        EXPECT_NE(cli.err.find(std::string(r.flag) + ": must be " + std::string(r.rule)), std::string::npos) << cli.err;
      }
      // The OpenAI parser (its own temperature cap of 2 on top of the table).
      json body = {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
      body[std::string(r.field)] = r.integer ? json(static_cast<int64_t>(v)) : json(v);
      const bool openai_ok = server::parse_openai_chat_request(body).ok();
      const bool api_cap = r.knob == SamplingKnob::temperature && v > 2;
      EXPECT_EQ(openai_ok, table_ok && !api_cap) << r.field << " " << v;
      // The Anthropic parser, for the fields the Messages API has (its temperature cap is 1).
      if (r.knob == SamplingKnob::temperature || r.knob == SamplingKnob::top_p || r.knob == SamplingKnob::top_k) {
        json a = {{"model", "m"}, {"max_tokens", 4}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
        a[std::string(r.field)] = r.integer ? json(static_cast<int64_t>(v)) : json(v);
        const bool anthropic_ok = server::parse_anthropic_request(a, false).ok();
        EXPECT_EQ(anthropic_ok, table_ok && !(r.knob == SamplingKnob::temperature && v > 1)) << r.field << " " << v;
      }
      ++probed;
    }
  }
  EXPECT_GE(probed, 60);
}

// The four places the two used to differ, spelled out.
TEST_F(SamplingRanges, FormerDifferences) {
  using K = SamplingKnob;
  EXPECT_EQ(engine::check_sampling_value(K::top_p, 0), "");  // the CLI refused it, the server took it
  EXPECT_EQ(engine::check_sampling_value(K::repeat_penalty, 0), "must be in (0, 10] (1: off), got 0");
  EXPECT_EQ(engine::check_sampling_value(K::repeat_penalty, 50), "must be in (0, 10] (1: off), got 50");
  json body = {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"top_k", -3}};
  auto r = server::parse_openai_chat_request(body);
  ASSERT_FALSE(r.ok());  // the OpenAI route took any integer
  EXPECT_EQ(r.error().message, "top_k: must be an integer >= 0 (0: off), got -3");
  EXPECT_NE(engine::check_sampling_value(K::temperature, std::nan("")), "");
  EXPECT_NE(engine::check_sampling_value(K::top_k, 1.5), "");
}

}  // namespace
}  // namespace pensieve::testing
