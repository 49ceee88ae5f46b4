// Auth (constant-time compare, both header styles), CORS, SSE framing, Prometheus metrics.
#include <gtest/gtest.h>

#include "server/auth.h"
#include "server/metrics.h"
#include "server/sse.h"

namespace pensieve::server {
namespace {

TEST(Auth, KeysFromEitherHeader) {
  EXPECT_TRUE(key_accepted("", "", ""));
  EXPECT_TRUE(key_accepted("sekret", "sekret", ""));
  EXPECT_TRUE(key_accepted("sekret", "", "Bearer sekret"));
  EXPECT_TRUE(key_accepted("sekret", "", "bearer sekret"));
  EXPECT_TRUE(key_accepted("sekret", "sdk-default", "Bearer sekret"));
  EXPECT_FALSE(key_accepted("sekret", "", ""));
  EXPECT_FALSE(key_accepted("sekret", "sekre", ""));
  EXPECT_FALSE(key_accepted("sekret", "sekretx", ""));
  EXPECT_FALSE(key_accepted("sekret", "", "Basic sekret"));
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("", "a"));
}

TEST(Auth, CorsOnlyForConfiguredOrigins) {
  EXPECT_EQ(cors_allow_origin({"http://a.test"}, "http://a.test"), "http://a.test");
  EXPECT_EQ(cors_allow_origin({"http://a.test"}, "http://evil.test"), "");
  EXPECT_EQ(cors_allow_origin({}, "http://a.test"), "");
  EXPECT_EQ(cors_allow_origin({"*"}, "http://x"), "*");
}

TEST(Sse, Framing) {
  EXPECT_EQ(sse_event("ping", {{"type", "ping"}}), "event: ping\ndata: {\"type\":\"ping\"}\n\n");
  EXPECT_EQ(sse_event("token", {{"a", 1}}, 7), "id: 7\nevent: token\ndata: {\"a\":1}\n\n");
  EXPECT_EQ(sse_data({{"a", "x\ny"}}), "data: {\"a\":\"x\\ny\"}\n\n");  // newlines stay escaped
  EXPECT_EQ(sse_done(), "data: [DONE]\n\n");
  // Invalid UTF-8 from a model must not throw.
  EXPECT_NO_THROW(sse_data({{"t", std::string("\xff\xfe")}}));
}

TEST(Metrics, PrometheusText) {
  Metrics m;
  m.count_request("/v1/messages", 200);
  m.count_request("/v1/messages", 200);
  m.count_request("/v1/messages", 529);
  m.observe_generation(100, 60, 11, 0.2, 1.0);
  std::string text = m.render({3, 1, 57, 4096});
  EXPECT_NE(text.find("pensieve_requests_total{endpoint=\"/v1/messages\",status=\"200\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("status=\"529\"} 1"), std::string::npos);
  EXPECT_NE(text.find("pensieve_prompt_tokens_total 100"), std::string::npos);
  EXPECT_NE(text.find("pensieve_prefix_cache_tokens_total 60"), std::string::npos);
  EXPECT_NE(text.find("pensieve_prefix_cache_hits_total 1"), std::string::npos);
  EXPECT_NE(text.find("pensieve_time_to_first_token_seconds_bucket{le=\"0.25\"} 1"), std::string::npos);
  EXPECT_NE(text.find("pensieve_time_to_first_token_seconds_bucket{le=\"0.1\"} 0"), std::string::npos);
  EXPECT_NE(text.find("pensieve_inter_token_latency_seconds_count 1"), std::string::npos);
  EXPECT_NE(text.find("pensieve_queue_waiting 3"), std::string::npos);
  EXPECT_NE(text.find("pensieve_kv_cache_tokens 57\n"), std::string::npos);
  EXPECT_NE(text.find("pensieve_kv_cache_capacity_tokens 4096\n"), std::string::npos);
  EXPECT_GT(process_rss_bytes(), 0u);
}

}  // namespace
}  // namespace pensieve::server
