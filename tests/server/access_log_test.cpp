// The access log's pieces: timestamps, request ids, and the text and JSON request lines
// (the real server's lines are checked end to end in tests/clients/test/logs.test.mjs).
#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "server/access_log.h"

namespace pensieve::server {
namespace {

using std::chrono::system_clock;

TEST(AccessLog, Iso8601IsUtcWithMilliseconds) {
  // 2026-12-02T17:33:41.123Z: 1796232821 s since the epoch (date -u -d @1796232821).
  system_clock::time_point t{std::chrono::milliseconds(int64_t(1796232821) * 1000 + 123)};
  EXPECT_EQ(iso8601_utc(t), "2026-12-02T17:33:41.123Z");
  EXPECT_EQ(iso8601_utc(system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso8601_utc(system_clock::time_point{std::chrono::milliseconds(999)}), "1970-01-01T00:00:00.999Z");
}

TEST(AccessLog, RequestIdsFromClientsOnlyWhenWellFormed) {
  EXPECT_TRUE(is_valid_request_id("abc-123"));
  EXPECT_TRUE(is_valid_request_id("trace.42:a_b"));
  EXPECT_TRUE(is_valid_request_id(std::string(128, 'x')));
  EXPECT_FALSE(is_valid_request_id(""));
  EXPECT_FALSE(is_valid_request_id(std::string(129, 'x')));
  EXPECT_FALSE(is_valid_request_id("a b"));
  EXPECT_FALSE(is_valid_request_id("a\nb"));
  EXPECT_FALSE(is_valid_request_id("a\"b"));
  EXPECT_FALSE(is_valid_request_id("<script>"));

  http::Request req;
  req.headers = {{"X-Request-Id", "mine-1"}};
  EXPECT_EQ(request_id_for(req), "mine-1");
  req.headers = {{"Request-Id", "first"}, {"x-request-id", "second"}};
  EXPECT_EQ(request_id_for(req), "first");
  req.headers = {{"request-id", "bad id"}, {"x-request-id", "good"}};
  EXPECT_EQ(request_id_for(req), "good");
  req.headers = {{"request-id", "bad id"}};
  EXPECT_EQ(request_id_for(req).rfind("req_", 0), 0u);
}

TEST(AccessLog, NewIdsAreDistinctHex) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    std::string id = new_request_id();
    ASSERT_EQ(id.size(), 28u) << id;
    ASSERT_EQ(id.substr(0, 4), "req_");
    ASSERT_EQ(id.find_first_not_of("0123456789abcdef", 4), std::string::npos) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(AccessLog, StampReplacesAnyEarlierId) {
  http::Response res;
  res.set_header("request-id", "old");
  res.set_header("X-Request-Id", "old");
  stamp_request_id(res, "new");
  int n = 0;
  for (const auto& [k, v] : res.headers) {
    if (http::iequals(k, "request-id") || http::iequals(k, "x-request-id")) {
      EXPECT_EQ(v, "new");
      ++n;
    }
  }
  EXPECT_EQ(n, 2);
  EXPECT_EQ(res.stats->request_id, "new");
}

AccessRecord generated_record() {
  AccessRecord r;
  r.time = system_clock::time_point{std::chrono::milliseconds(int64_t(1796232821) * 1000 + 5)};
  r.client = "127.0.0.1:5555";
  r.request_id = "req_1";
  r.method = "POST";
  r.path = "/v1/messages";
  r.status = 200;
  r.total_ms = 120.4;
  r.stats.generated = true;
  r.stats.model = "tiny";
  r.stats.n_prompt = 12;
  r.stats.n_cached = 4;
  r.stats.n_generated = 20;
  r.stats.ttft_ms = 3.25;
  r.stats.decode_ms = 400;
  return r;
}

TEST(AccessLog, TextLine) {
  AccessRecord r = generated_record();
  EXPECT_EQ(format_access_line(LogFormat::text, r),
            "pensieve: 2026-12-02T17:33:41.005Z 127.0.0.1:5555 req_1 POST /v1/messages 200 model=tiny in=12 out=20 "
            "cached=4 ttft=3.2ms 50.0 tok/s 120ms");
  // Nothing generated, a note, and client text made printable.
  AccessRecord e;
  e.time = r.time;
  e.method = "GET";
  e.path = "/x\x1b[31m\n";
  e.status = 404;
  e.total_ms = 0.4;
  e.stats.note = "Not found";
  EXPECT_EQ(format_access_line(LogFormat::text, e),
            "pensieve: 2026-12-02T17:33:41.005Z - - GET /x?[31m? 404 0ms Not found");
}

TEST(AccessLog, JsonLine) {
  AccessRecord r = generated_record();
  r.stats.note = "cancelled: client disconnected";
  auto j = nlohmann::json::parse(format_access_line(LogFormat::json, r));
  EXPECT_EQ(j["time"], "2026-12-02T17:33:41.005Z");
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["msg"], "request");
  EXPECT_EQ(j["client"], "127.0.0.1:5555");
  EXPECT_EQ(j["request_id"], "req_1");
  EXPECT_EQ(j["method"], "POST");
  EXPECT_EQ(j["path"], "/v1/messages");
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["model"], "tiny");
  EXPECT_EQ(j["prompt_tokens"], 12);
  EXPECT_EQ(j["cached_tokens"], 4);
  EXPECT_EQ(j["generated_tokens"], 20);
  EXPECT_DOUBLE_EQ(j["ttft_ms"].get<double>(), 3.3);
  EXPECT_DOUBLE_EQ(j["tokens_per_s"].get<double>(), 50.0);
  EXPECT_DOUBLE_EQ(j["duration_ms"].get<double>(), 120.4);
  EXPECT_EQ(j["note"], "cancelled: client disconnected");
  // A server error is an error-level line; invalid UTF-8 from a client still makes valid JSON.
  AccessRecord e;
  e.status = 500;
  e.path = "/\xff\xfe";
  auto k = nlohmann::json::parse(format_access_line(LogFormat::json, e));
  EXPECT_EQ(k["level"], "error");
  EXPECT_FALSE(k.contains("model"));
  EXPECT_FALSE(k.contains("prompt_tokens"));
}

TEST(AccessLog, FormatNames) {
  EXPECT_EQ(parse_log_format("text"), LogFormat::text);
  EXPECT_EQ(parse_log_format("json"), LogFormat::json);
  EXPECT_FALSE(parse_log_format("xml").has_value());
}

}  // namespace
}  // namespace pensieve::server
