// The HTTP layer's pure pieces: routing, query parameters, response framing, request checks.
#include <gtest/gtest.h>

#include "server/http/router.h"
#include "server/http/wire.h"
#include "server/request_checks.h"

namespace pensieve::server {
namespace {

TEST(HttpRouter, MatchesSegmentsCapturesAndTellsWrongMethodFromUnknownPath) {
  http::Router r;
  int hit = 0;
  r.add("GET", "/v1/jobs/*", [&](const http::Request&, http::Response&) { hit = 1; });
  r.add("GET", "/v1/jobs/*/stream", [&](const http::Request&, http::Response&) { hit = 2; });
  r.add("DELETE", "/v1/jobs/*", [&](const http::Request&, http::Response&) { hit = 3; });
  http::Request req;
  req.method = "GET";
  req.path = "/v1/jobs/job_1/stream";
  bool known = false;
  std::string allow;
  const http::Handler* h = r.find(req, &known, &allow);
  ASSERT_NE(h, nullptr);
  http::Response res;
  (*h)(req, res);
  EXPECT_EQ(hit, 2);
  EXPECT_EQ(req.params, std::vector<std::string>{"job_1"});
  req.method = "HEAD";  // served by GET
  req.path = "/v1/jobs/x";
  EXPECT_NE(r.find(req, &known, &allow), nullptr);
  req.method = "PUT";
  EXPECT_EQ(r.find(req, &known, &allow), nullptr);
  EXPECT_TRUE(known);
  EXPECT_EQ(allow, "GET, DELETE");
  req.path = "/v1/jobs//stream";  // an empty id is no id
  EXPECT_EQ(r.find(req, &known, &allow), nullptr);
  req.path = "/nope";
  EXPECT_EQ(r.find(req, &known, &allow), nullptr);
  EXPECT_FALSE(known);
}

TEST(HttpRequest, HeadersAnyCaseAndDecodedQueryParameters) {
  http::Request req;
  req.headers = {{"Last-Event-ID", "12"}, {"x-api-key", "k"}};
  req.query = "a=1&last_event_id=4%32&q=a+b";
  EXPECT_EQ(req.header("last-event-id"), "12");
  EXPECT_TRUE(req.has_header("X-API-KEY"));
  EXPECT_EQ(req.header("missing"), "");
  EXPECT_EQ(req.query_param("last_event_id"), "42");
  EXPECT_EQ(req.query_param("q"), "a b");
  EXPECT_EQ(req.query_param("zz"), "");
}

TEST(HttpWire, ResponsesAndChunks) {
  http::Response res;
  res.status = 413;
  res.set_content("{}", "application/json");
  std::string bytes = http::serialize_response(res, false, false);
  EXPECT_EQ(bytes.rfind("HTTP/1.1 413 Payload Too Large\r\n", 0), 0u);
  EXPECT_NE(bytes.find("Content-Length: 2\r\n"), std::string::npos);
  EXPECT_NE(bytes.find("Connection: close\r\n\r\n{}"), std::string::npos);
  EXPECT_EQ(http::serialize_response(res, true, true).find("{}"), std::string::npos);  // HEAD
  EXPECT_EQ(http::chunk("hello"), "5\r\nhello\r\n");
  EXPECT_EQ(http::chunk(""), "");
  EXPECT_EQ(http::last_chunk(), "0\r\n\r\n");
}

TEST(RequestChecks, HostNamesAndPolicy) {
  EXPECT_EQ(host_without_port("LocalHost:8080"), "localhost");
  EXPECT_EQ(host_without_port("[::1]:80"), "::1");
  EXPECT_EQ(host_without_port("::1"), "::1");
  EXPECT_TRUE(is_loopback_name("127.0.0.1"));
  EXPECT_TRUE(is_loopback_name("127.8.9.10"));
  EXPECT_TRUE(is_loopback_name("app.localhost"));
  EXPECT_TRUE(is_loopback_name("::1"));
  EXPECT_FALSE(is_loopback_name("128.0.0.1"));
  EXPECT_FALSE(is_loopback_name("localhost.evil.com"));
  EXPECT_FALSE(is_loopback_name("127.0.0.1.evil.com"));
  ServerConfig c;  // 127.0.0.1
  EXPECT_TRUE(host_allowed(c, "127.0.0.1:8080"));
  EXPECT_FALSE(host_allowed(c, "evil.example:8080"));
  EXPECT_TRUE(host_allowed(c, ""));  // HTTP/1.0 without Host (browsers always send one)
  c.allowed_hosts = {"box.lan", ".corp.example"};
  EXPECT_TRUE(host_allowed(c, "BOX.lan:1"));
  EXPECT_TRUE(host_allowed(c, "a.corp.example"));
  EXPECT_FALSE(host_allowed(c, "corp.example.evil"));
  ServerConfig exposed;
  exposed.host = "0.0.0.0";
  EXPECT_TRUE(host_allowed(exposed, "anything"));
}

TEST(RequestChecks, HeaderBytesAndContentType) {
  EXPECT_TRUE(header_value_clean("Bearer abc\tdef"));
  EXPECT_FALSE(header_value_clean(std::string("sekret\0garbage", 14)));
  EXPECT_FALSE(header_value_clean("a\rb"));
  EXPECT_FALSE(header_value_clean("a\x7f"));
  EXPECT_TRUE(is_json_content_type("application/json"));
  EXPECT_TRUE(is_json_content_type("Application/JSON ; charset=utf-8"));
  EXPECT_FALSE(is_json_content_type("text/plain"));
  EXPECT_FALSE(is_json_content_type("application/jsonp"));
  EXPECT_FALSE(is_json_content_type(""));
  ServerConfig c;
  HeaderList h = {{"Host", "localhost"}, {"Content-Type", "text/plain"}};
  auto e = screen_request(c, "POST", "/v1/messages", h, WireFormat::anthropic);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->status, 415);
  EXPECT_FALSE(screen_request(c, "GET", "/v1/models", h, WireFormat::openai).has_value());
  h.emplace_back("Host", "localhost");
  EXPECT_EQ(screen_request(c, "GET", "/health", h, WireFormat::openai)->status, 400);  // two Hosts
}

TEST(RequestChecks, OnlyOwnPagesAndCorsOriginsMayPost) {
  ServerConfig c;
  EXPECT_TRUE(origin_allowed(c, "POST", "", "127.0.0.1:8080"));  // curl, SDKs: no Origin
  EXPECT_TRUE(origin_allowed(c, "POST", "http://127.0.0.1:8080", "127.0.0.1:8080"));  // the web page
  EXPECT_TRUE(origin_allowed(c, "POST", "http://LOCALHOST:8080", "localhost:8080"));
  EXPECT_FALSE(origin_allowed(c, "POST", "https://evil.example", "127.0.0.1:8080"));
  EXPECT_FALSE(origin_allowed(c, "DELETE", "http://127.0.0.1:9999", "127.0.0.1:8080"));  // another local port
  EXPECT_FALSE(origin_allowed(c, "POST", "null", "127.0.0.1:8080"));
  EXPECT_TRUE(origin_allowed(c, "GET", "https://evil.example", "127.0.0.1:8080"));  // reads: CORS guards them
  c.cors_origins = {"http://ui.test"};
  EXPECT_TRUE(origin_allowed(c, "POST", "http://ui.test", "127.0.0.1:8080"));
  EXPECT_FALSE(origin_allowed(c, "POST", "http://ui.test.evil", "127.0.0.1:8080"));
  c.cors_origins = {"*"};
  EXPECT_TRUE(origin_allowed(c, "POST", "https://evil.example", "127.0.0.1:8080"));
  // Through the screen: a cross-site form post to the Ollama routes (which take any Content-Type,
  // as Ollama's own curl examples send none) is a 403.
  ServerConfig d;
  HeaderList h = {{"Host", "127.0.0.1:11434"}, {"Origin", "https://evil.example"},
                  {"Content-Type", "text/plain"}};
  auto e = screen_request(d, "POST", "/api/delete", h, WireFormat::ollama);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->status, 403);
  EXPECT_NE(e->body.dump().find("--cors-origin"), std::string::npos) << e->body.dump();
  h[1].second = "http://127.0.0.1:11434";
  EXPECT_FALSE(screen_request(d, "POST", "/api/delete", h, WireFormat::ollama).has_value());
}

}  // namespace
}  // namespace pensieve::server
