// OpenAI adapter: request parsing, response JSON, chunk stream with tool_calls and usage.
#include <gtest/gtest.h>

#include "server/errors.h"
#include "server/openai.h"
#include "server/sse_parse.h"

namespace pensieve::server {
namespace {

using nlohmann::json;

json minimal() { return {{"model", "gpt-x"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}}; }

engine::Generation gen(engine::FinishReason f, int n_prompt, int n_cached, int n_out) {
  engine::Generation g;
  g.finish = f;
  g.n_prompt = n_prompt;
  g.n_cached = n_cached;
  g.n_generated = n_out;
  return g;
}

TEST(OpenAIRequest, MessagesToolsAndSampling) {
  json b = minimal();
  b["messages"] = json::array({
      {{"role", "developer"}, {"content", "be brief"}},
      {{"role", "user"}, {"content", {{{"type", "text"}, {"text", "wea"}}, {{"type", "text"}, {"text", "ther?"}}}}},
      {{"role", "assistant"},
       {"content", nullptr},
       {"tool_calls", {{{"id", "call_1"}, {"type", "function"}, {"function", {{"name", "get_weather"}, {"arguments", "{\"city\":\"Paris\"}"}}}}}}},
      {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "sunny"}},
  });
  b["tools"] = {{{"type", "function"}, {"function", {{"name", "get_weather"}, {"parameters", {{"type", "object"}}}}}}};
  b["tool_choice"] = "required";
  b["max_completion_tokens"] = 12;
  b["temperature"] = 1.7;
  b["stop"] = "END";
  b["seed"] = 7;
  b["response_format"] = {{"type", "text"}};
  b["stream"] = true;
  b["stream_options"] = {{"include_usage", true}};
  auto r = parse_openai_chat_request(b);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->messages[0]["role"], "system");
  EXPECT_EQ(r->messages[1]["content"], "weather?");
  EXPECT_EQ(r->messages[2]["tool_calls"][0]["function"]["arguments"]["city"], "Paris");
  EXPECT_EQ(r->messages[3]["tool_call_id"], "call_1");
  EXPECT_EQ(r->tool_choice, ToolChoice::any);
  EXPECT_EQ(r->options.max_tokens, 12);
  EXPECT_FLOAT_EQ(r->options.sampling.temperature, 1.7f);
  EXPECT_EQ(r->options.stop, std::vector<std::string>{"END"});
  EXPECT_EQ(r->options.sampling.seed.value(), 7u);
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->include_usage);
}

TEST(OpenAIRequest, Rejections) {
  json b = minimal();
  b["n"] = 2;
  auto r = parse_openai_chat_request(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::invalid_request);
  EXPECT_EQ(r.error().message, "n: only n=1 is supported by this server");
  b = minimal();
  b["temperature"] = 2.5;
  r = parse_openai_chat_request(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "temperature: must be at most 2 in this API");
  b = minimal();
  b["tool_choice"] = {{"type", "function"}, {"function", json::object()}};
  r = parse_openai_chat_request(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "tool_choice.function.name: expected the name of a tool");
  b = minimal();
  b["response_format"] = {{"type", 5}};
  r = parse_openai_chat_request(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "response_format.type: expected a string");
  // A wrong-typed field that the converter reads with nlohmann's get<>: a 400, not an exception.
  b = minimal();
  b["stream_options"] = {{"include_usage", "yes"}};
  r = parse_openai_chat_request(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::invalid_request);
  EXPECT_EQ(r.error().message, "stream_options.include_usage: expected a boolean");
  b = minimal();
  b["messages"][0]["content"] = {{{"type", "image_url"}, {"image_url", {{"url", "data:"}}}}};
  r = parse_openai_chat_request(b);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("image_url"), std::string::npos);
  b = minimal();
  b.erase("messages");
  EXPECT_FALSE(parse_openai_chat_request(b).ok());
  EXPECT_FALSE(parse_openai_completion_request({{"model", "m"}, {"prompt", {1, 2, 3}}}).ok());
}

TEST(OpenAIRequest, CompletionDefaults) {
  auto r = parse_openai_completion_request({{"model", "m"}, {"prompt", "Once upon"}});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->raw_prompt);
  EXPECT_EQ(r->prompt, "Once upon");
  EXPECT_EQ(r->options.max_tokens, 16);
}

TEST(OpenAIResponse, ChatJsonWithToolCalls) {
  ParsedReply reply{"", {ToolCall{"call_1", "get_weather", {{"city", "Paris"}}}}};
  json r = openai_chat_response("chatcmpl-1", 5, "gpt-x", reply, gen(engine::FinishReason::eos, 40, 30, 9));
  EXPECT_EQ(r["object"], "chat.completion");
  const json& choice = r["choices"][0];
  EXPECT_EQ(choice["finish_reason"], "tool_calls");
  EXPECT_TRUE(choice["message"]["content"].is_null());
  EXPECT_EQ(json::parse(choice["message"]["tool_calls"][0]["function"]["arguments"].get<std::string>())["city"], "Paris");
  EXPECT_EQ(r["usage"]["prompt_tokens"], 40);
  EXPECT_EQ(r["usage"]["prompt_tokens_details"]["cached_tokens"], 30);
  EXPECT_EQ(r["usage"]["total_tokens"], 49);
  json t = openai_chat_response("c", 5, "m", ParsedReply{"x", {}}, gen(engine::FinishReason::max_tokens, 1, 0, 1));
  EXPECT_EQ(t["choices"][0]["finish_reason"], "length");
}

TEST(OpenAIStream, ChunksToolCallsUsageAndDone) {
  OpenAIStream s("chatcmpl-1", 5, "gpt-x", true, true, {"get_weather"});
  std::string out = s.start();
  for (std::string piece : {"Sure. <tool", "_call>{\"name\": \"get_weather\", ", "\"arguments\": {\"city\": \"Oslo\"}}</tool_call>"})
    out += s.text(piece);
  out += s.finish(gen(engine::FinishReason::eos, 10, 0, 20));
  auto ev = testing::parse_sse(out);
  ASSERT_GE(ev.size(), 5u);
  EXPECT_EQ(ev.back().data, "[DONE]");
  for (const auto& e : ev) EXPECT_TRUE(e.event.empty());  // OpenAI streams have no event lines
  json first = json::parse(ev[0].data);
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
  std::string content;
  json call;
  for (size_t i = 0; i + 1 < ev.size(); ++i) {
    json c = json::parse(ev[i].data);
    EXPECT_EQ(c["id"], "chatcmpl-1");
    if (c["choices"].empty()) continue;
    const json& d = c["choices"][0]["delta"];
    if (d.contains("content")) content += d["content"].get<std::string>();
    if (d.contains("tool_calls")) call = d["tool_calls"][0];
  }
  EXPECT_EQ(content, "Sure.");
  EXPECT_EQ(call["index"], 0);
  EXPECT_EQ(call["function"]["name"], "get_weather");
  json finish = json::parse(ev[ev.size() - 3].data);
  EXPECT_EQ(finish["choices"][0]["finish_reason"], "tool_calls");
  json usage = json::parse(ev[ev.size() - 2].data);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["completion_tokens"], 20);
}

TEST(OpenAIErrors, Shape) {
  HttpError e = to_http_error(WireFormat::openai, make_error(ErrorKind::invalid_request, openai_context_length_message(100, 150)));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.body["error"]["type"], "invalid_request_error");
  EXPECT_EQ(e.body["error"]["code"], "context_length_exceeded");
  EXPECT_EQ(to_http_error(WireFormat::openai, make_error(ErrorKind::unauthorized, "k")).body["error"]["code"], "invalid_api_key");
}

}  // namespace
}  // namespace pensieve::server
