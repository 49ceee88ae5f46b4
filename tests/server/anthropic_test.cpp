// Anthropic adapter: request parsing and validation, message JSON, and the streamed event
// sequence checked against the grammar of research/anthropic-api.md §4.
#include <gtest/gtest.h>

#include "server/anthropic.h"
#include "server/errors.h"
#include "server/sse_parse.h"

namespace pensieve::server {
namespace {

using nlohmann::json;

json minimal() { return {{"model", "claude-sonnet-4-6"}, {"max_tokens", 64}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}}; }

Error parse_error(const json& body) {
  auto r = parse_anthropic_request(body, false);
  EXPECT_FALSE(r.ok()) << body.dump();
  return r.ok() ? Error{} : r.error();
}

TEST(AnthropicRequest, SystemBlocksDropBillingHeaderAndJoin) {
  json body = minimal();
  body["system"] = {{{"type", "text"}, {"text", "x-anthropic-billing-header: cc_version=2.1.112.4c3; cch=00000;"}},
                    {{"type", "text"}, {"text", "You are a Claude agent."}, {"cache_control", {{"type", "ephemeral"}}}},
                    {{"type", "text"}, {"text", "Main prompt."}}};
  body["metadata"] = {{"user_id", "{\"device_id\":\"x\"}"}};
  body["thinking"] = {{"type", "adaptive"}};
  body["context_management"] = {{"edits", json::array()}};
  auto r = parse_anthropic_request(body, false);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->messages.size(), 2u);
  EXPECT_EQ(r->messages[0]["role"], "system");
  EXPECT_EQ(r->messages[0]["content"], "You are a Claude agent.\nMain prompt.");
  EXPECT_EQ(r->model, "claude-sonnet-4-6");
  EXPECT_EQ(r->options.max_tokens, 64);
  EXPECT_FLOAT_EQ(r->options.sampling.temperature, 1.0f);
}

TEST(AnthropicRequest, ToolRoundTripBlocks) {
  json body = minimal();
  body["messages"] = json::array({
      {{"role", "user"}, {"content", "list files"}},
      {{"role", "assistant"},
       {"content",
        {{{"type", "thinking"}, {"thinking", "need ls"}, {"signature", ""}},
         {{"type", "text"}, {"text", "Running it."}},
         {{"type", "tool_use"}, {"id", "toolu_1"}, {"name", "Bash"}, {"input", {{"command", "ls"}}}}}}},
      {{"role", "user"},
       {"content",
        {{{"type", "tool_result"},
          {"tool_use_id", "toolu_1"},
          {"is_error", true},
          {"content", {{{"type", "text"}, {"text", "permission denied"}}}},
          {"cache_control", {{"type", "ephemeral"}}}},
         {{"type", "text"}, {"text", "<system-reminder>x</system-reminder>"}}}}},
  });
  body["tools"] = {{{"name", "Bash"}, {"description", "run"}, {"input_schema", {{"type", "object"}}}}};
  body["tool_choice"] = {{"type", "tool"}, {"name", "Bash"}};
  auto r = parse_anthropic_request(body, false);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const json& m = r->messages;
  ASSERT_EQ(m.size(), 4u) << m.dump();
  EXPECT_EQ(m[1]["role"], "assistant");
  EXPECT_EQ(m[1]["content"], "Running it.");
  EXPECT_EQ(m[1]["reasoning_content"], "need ls");
  EXPECT_EQ(m[1]["tool_calls"][0]["function"]["name"], "Bash");
  EXPECT_EQ(m[1]["tool_calls"][0]["function"]["arguments"]["command"], "ls");
  EXPECT_EQ(m[2]["role"], "tool");
  EXPECT_EQ(m[2]["tool_call_id"], "toolu_1");
  EXPECT_EQ(m[2]["content"], "Error: permission denied");
  EXPECT_EQ(m[3]["role"], "user");
  EXPECT_EQ(r->tools[0]["function"]["name"], "Bash");
  EXPECT_EQ(r->tools[0]["function"]["parameters"]["type"], "object");
  EXPECT_EQ(r->tool_choice, ToolChoice::tool);
  EXPECT_EQ(r->tool_choice_name, "Bash");
}

TEST(AnthropicRequest, RolesCtxMsgAndMidConversationSystem) {
  json body = minimal();
  body["messages"] = json::array({{{"role", "ctx"}, {"content", "a"}},
                                  {{"role", "msg"}, {"content", "b"}},
                                  {{"role", "system"}, {"content", "late system"}}});
  auto r = parse_anthropic_request(body, false);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->messages[0]["role"], "user");
  EXPECT_EQ(r->messages[1]["role"], "user");
  EXPECT_EQ(r->messages[2]["role"], "system");
}

TEST(AnthropicRequest, TrailingAssistantIsPrefill) {
  json body = minimal();
  body["messages"].push_back({{"role", "assistant"}, {"content", "The answer is"}});
  auto r = parse_anthropic_request(body, false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->prefill, "The answer is");
  EXPECT_EQ(r->messages.size(), 1u);
}

TEST(AnthropicRequest, ValidationErrorsNameTheField) {
  json b = minimal();
  b["max_tokens"] = 0;
  EXPECT_NE(parse_error(b).message.find("max_tokens"), std::string::npos);
  b = minimal();
  b.erase("max_tokens");
  EXPECT_NE(parse_error(b).message.find("max_tokens"), std::string::npos);
  b = minimal();
  b["temperature"] = 1.5;
  EXPECT_NE(parse_error(b).message.find("temperature"), std::string::npos);
  b = minimal();
  b["messages"][0]["content"] = {{{"type", "image"}, {"source", {{"type", "base64"}, {"media_type", "image/png"}, {"data", ""}}}}};
  Error e = parse_error(b);
  EXPECT_EQ(e.kind, ErrorKind::invalid_request);
  EXPECT_NE(e.message.find("'image'"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("messages.0.content.0"), std::string::npos) << e.message;
  b = minimal();
  b["messages"][0]["role"] = "robot";
  EXPECT_NE(parse_error(b).message.find("role"), std::string::npos);
  b = minimal();
  b["tools"] = {{{"type", "web_search_20250305"}, {"name", "web_search"}}};
  EXPECT_NE(parse_error(b).message.find("web_search"), std::string::npos);
  b = minimal();
  b["tool_choice"] = {{"type", "tool"}, {"name", "missing"}};
  EXPECT_NE(parse_error(b).message.find("missing"), std::string::npos);
}

TEST(AnthropicRequest, TextDocumentsAreRenderedPdfIsRefused) {
  json b = minimal();
  b["messages"][0]["content"] = {{{"type", "document"}, {"title", "T"}, {"source", {{"type", "text"}, {"media_type", "text/plain"}, {"data", "body"}}}}};
  auto r = parse_anthropic_request(b, false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->messages[0]["content"], "T\n\nbody");
  b["messages"][0]["content"][0]["source"] = {{"type", "base64"}, {"media_type", "application/pdf"}, {"data", ""}};
  EXPECT_NE(parse_error(b).message.find("document"), std::string::npos);
}

TEST(AnthropicRequest, CountTokensNeedsNoMaxTokens) {
  json b = minimal();
  b.erase("max_tokens");
  EXPECT_TRUE(parse_anthropic_request(b, true).ok());
}

engine::Generation gen(engine::FinishReason f, int n_prompt, int n_cached, int n_out) {
  engine::Generation g;
  g.finish = f;
  g.n_prompt = n_prompt;
  g.n_cached = n_cached;
  g.n_generated = n_out;
  return g;
}

TEST(AnthropicResponse, MessageJsonAndStopReasons) {
  ParsedReply reply{"hello", {}};
  json m = anthropic_message("msg_1", "claude-x", reply, gen(engine::FinishReason::eos, 100, 80, 5), false);
  EXPECT_EQ(m["type"], "message");
  EXPECT_EQ(m["model"], "claude-x");
  EXPECT_EQ(m["content"][0]["text"], "hello");
  EXPECT_EQ(m["stop_reason"], "end_turn");
  EXPECT_EQ(m["usage"]["input_tokens"], 20);
  EXPECT_EQ(m["usage"]["cache_read_input_tokens"], 80);
  EXPECT_EQ(m["usage"]["output_tokens"], 5);
  auto stop = gen(engine::FinishReason::stop_string, 1, 0, 1);
  stop.stop_string = "END";
  m = anthropic_message("m", "x", reply, stop, false);
  EXPECT_EQ(m["stop_reason"], "stop_sequence");
  EXPECT_EQ(m["stop_sequence"], "END");
  EXPECT_EQ(anthropic_message("m", "x", reply, gen(engine::FinishReason::max_tokens, 1, 0, 1), false)["stop_reason"], "max_tokens");
  EXPECT_EQ(anthropic_message("m", "x", reply, gen(engine::FinishReason::max_tokens, 1, 0, 1), true)["stop_reason"],
            "model_context_window_exceeded");
  ParsedReply call{"", {ToolCall{"toolu_1", "Bash", {{"command", "ls"}}}}};
  m = anthropic_message("m", "x", call, gen(engine::FinishReason::eos, 1, 0, 1), false);
  EXPECT_EQ(m["stop_reason"], "tool_use");
  ASSERT_EQ(m["content"].size(), 1u);
  EXPECT_EQ(m["content"][0]["type"], "tool_use");
  EXPECT_EQ(m["content"][0]["input"]["command"], "ls");
}

// Checks the grammar: message_start, (block_start delta* block_stop)*, message_delta, message_stop,
// with contiguous indices and delta types matching block types.
void check_grammar(const std::vector<testing::SseEvent>& ev) {
  ASSERT_GE(ev.size(), 3u);
  EXPECT_EQ(ev.front().event, "message_start");
  EXPECT_EQ(ev[ev.size() - 2].event, "message_delta");
  EXPECT_EQ(ev.back().event, "message_stop");
  int open = -1, next = 0;
  std::string open_type;
  for (const auto& e : ev) {
    json d = json::parse(e.data);
    EXPECT_EQ(d["type"], e.event);  // data.type == event name
    if (e.event == "content_block_start") {
      EXPECT_EQ(open, -1);
      EXPECT_EQ(d["index"], next);
      open = next++;
      open_type = d["content_block"]["type"];
    } else if (e.event == "content_block_delta") {
      EXPECT_EQ(d["index"], open);
      EXPECT_EQ(d["delta"]["type"], open_type == "text" ? "text_delta" : "input_json_delta");
    } else if (e.event == "content_block_stop") {
      EXPECT_EQ(d["index"], open);
      open = -1;
    }
  }
  EXPECT_EQ(open, -1);
}

TEST(AnthropicStream, TextThenToolUseSequence) {
  AnthropicStream s("msg_1", "claude-x", 50, {"Bash"});
  std::string out = s.start();
  std::string model_output = "Let me look.\n<tool_call>\n{\"name\": \"Bash\", \"arguments\": {\"command\": \"ls -la\"}}\n</tool_call>";
  for (char c : model_output) out += s.text(std::string(1, c));
  out += s.finish(gen(engine::FinishReason::eos, 50, 40, 30), false);
  auto ev = testing::parse_sse(out);
  check_grammar(ev);
  std::string text, partial_json;
  json tool_start;
  for (const auto& e : ev) {
    json d = json::parse(e.data);
    if (e.event == "content_block_delta" && d["delta"]["type"] == "text_delta") text += d["delta"]["text"];
    if (e.event == "content_block_delta" && d["delta"]["type"] == "input_json_delta") partial_json += d["delta"]["partial_json"];
    if (e.event == "content_block_start" && d["content_block"]["type"] == "tool_use") tool_start = d["content_block"];
  }
  EXPECT_EQ(text, "Let me look.");
  EXPECT_EQ(tool_start["name"], "Bash");
  EXPECT_EQ(json::parse(partial_json)["command"], "ls -la");
  json delta = json::parse(ev[ev.size() - 2].data);
  EXPECT_EQ(delta["delta"]["stop_reason"], "tool_use");
  EXPECT_EQ(delta["usage"]["output_tokens"], 30);
  EXPECT_EQ(delta["usage"]["cache_read_input_tokens"], 40);
  EXPECT_EQ(delta["usage"]["input_tokens"], 10);
  json start = json::parse(ev[0].data);
  EXPECT_EQ(start["message"]["usage"]["input_tokens"], 50);
  EXPECT_TRUE(start["message"]["content"].empty());
}

TEST(AnthropicStream, EmptyReplyStillHasOneTextBlock) {
  AnthropicStream s("m", "x", 3, {});
  std::string out = s.start() + s.finish(gen(engine::FinishReason::eos, 3, 0, 1), false);
  auto ev = testing::parse_sse(out);
  check_grammar(ev);
  EXPECT_EQ(ev.size(), 5u);
}

TEST(AnthropicStream, WithoutToolsTextIsNotHeldBack) {
  AnthropicStream s("m", "x", 3, {});
  EXPECT_NE(s.text("{\"name\"").find("text_delta"), std::string::npos);
}

TEST(AnthropicErrors, ShapesStatusesAndClaudeCodeWording) {
  HttpError e = to_http_error(WireFormat::anthropic, make_error(ErrorKind::overloaded, "Overloaded"));
  EXPECT_EQ(e.status, 529);
  EXPECT_EQ(e.body["type"], "error");
  EXPECT_EQ(e.body["error"]["type"], "overloaded_error");
  EXPECT_GT(e.retry_after_s, 0);
  EXPECT_EQ(to_http_error(WireFormat::anthropic, make_error(ErrorKind::unauthorized, "k")).status, 401);
  EXPECT_EQ(to_http_error(WireFormat::anthropic, make_error(ErrorKind::not_found, "k")).body["error"]["type"], "not_found_error");
  EXPECT_EQ(to_http_error(WireFormat::anthropic, make_error(ErrorKind::resource_exhausted, "k")).status, 413);
  EXPECT_EQ(to_http_error(WireFormat::openai, make_error(ErrorKind::overloaded, "k")).status, 429);
  // The regex Claude Code applies (research/anthropic-api.md §5).
  std::string msg = prompt_too_long_message(70000, 65536);
  EXPECT_EQ(msg, "prompt is too long: 70000 tokens > 65536 maximum");
  auto ev = testing::parse_sse(AnthropicStream::error(make_error(ErrorKind::overloaded, "Overloaded")));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].event, "error");
  EXPECT_EQ(json::parse(ev[0].data)["error"]["type"], "overloaded_error");
}

}  // namespace
}  // namespace pensieve::server

namespace pensieve::server {
namespace {

TEST(AnthropicRequest, OutputConfigJsonSchemaBecomesASystemInstruction) {
  nlohmann::json b = {{"model", "claude-haiku-4-5-20251001"},
                      {"max_tokens", 100},
                      {"output_config", {{"format", {{"type", "json_schema"}, {"schema", {{"type", "object"}, {"required", {"title"}}}}}}}},
                      {"messages", {{{"role", "user"}, {"content", "title this"}}}}};
  auto r = parse_anthropic_request(b, false);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->messages[0]["role"], "system");
  EXPECT_NE(r->messages[0]["content"].get<std::string>().find("\"required\":[\"title\"]"), std::string::npos);
}

}  // namespace
}  // namespace pensieve::server
