// The Ollama adapter: requests into the internal ChatRequest (options, format, tools, images,
// keep_alive) and model replies into Ollama's tool-call shape.
#include <gtest/gtest.h>

#include "server/ollama.h"

namespace pensieve::server {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

TEST(OllamaKeepAlive, NumbersDurationsAndForever) {
  EXPECT_EQ(parse_keep_alive(json(30))->value(), milliseconds(30000));
  EXPECT_EQ(parse_keep_alive(json(0))->value(), milliseconds(0));
  EXPECT_EQ(parse_keep_alive(json("5m"))->value(), milliseconds(300000));
  EXPECT_EQ(parse_keep_alive(json("1h30m"))->value(), milliseconds(5400000));
  EXPECT_EQ(parse_keep_alive(json("250ms"))->value(), milliseconds(250));
  EXPECT_EQ(parse_keep_alive(json("1.5s"))->value(), milliseconds(1500));
  EXPECT_LT(parse_keep_alive(json(-1))->value().count(), 0);
  EXPECT_LT(parse_keep_alive(json("-1m"))->value().count(), 0);
  EXPECT_FALSE(parse_keep_alive(json(nullptr))->has_value());
  for (const json& bad : {json("5 minutes"), json("m"), json(true), json::array()})
    EXPECT_FALSE(parse_keep_alive(bad).ok()) << bad.dump();
}

TEST(OllamaChat, OptionsBecomeGenerateOptions) {
  json body = {{"model", "m"},
               {"messages", {{{"role", "user"}, {"content", "hi"}}}},
               {"stream", false},
               {"keep_alive", "10m"},
               {"options", {{"num_predict", 7}, {"top_k", 5}, {"seed", 3}, {"stop", {"\n\n"}}, {"num_ctx", 64},
                            {"repeat_penalty", 1.1}, {"repeat_last_n", 16}}}};
  auto r = parse_ollama_chat(body);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->chat.model, "m");
  EXPECT_FALSE(r->chat.stream);
  EXPECT_EQ(r->chat.options.max_tokens, 7);
  EXPECT_EQ(r->chat.options.sampling.top_k, 5);
  EXPECT_EQ(r->chat.options.sampling.seed, 3u);
  EXPECT_FLOAT_EQ(r->chat.options.sampling.temperature, 0.8f);  // Ollama's default, not OpenAI's 1
  EXPECT_FLOAT_EQ(r->chat.options.sampling.repeat_penalty, 1.1f);
  EXPECT_EQ(r->chat.options.sampling.repeat_last_n, 16);
  EXPECT_EQ(r->chat.options.stop, std::vector<std::string>{"\n\n"});
  EXPECT_EQ(r->num_ctx, 64);
  EXPECT_EQ(r->keep_alive->count(), 600000);
  // Streaming is Ollama's default; num_predict -1 runs to EOS or the end of the context.
  body.erase("stream");
  body["options"] = {{"num_predict", -1}};
  r = parse_ollama_chat(body);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->chat.stream);
  EXPECT_LT(r->chat.options.max_tokens, 0);
}

TEST(OllamaChat, ToolHistoryInOllamaShape) {
  json body = {{"model", "m"},
               {"tools", {{{"type", "function"}, {"function", {{"name", "get_weather"}, {"parameters", {{"type", "object"}}}}}}}},
               {"messages",
                {{{"role", "user"}, {"content", "weather?"}},
                 {{"role", "assistant"}, {"content", ""},
                  {"tool_calls", {{{"function", {{"name", "get_weather"}, {"arguments", {{"city", "Paris"}}}}}}}}},
                 {{"role", "tool"}, {"content", "21C"}, {"tool_name", "get_weather"}}}}};
  auto r = parse_ollama_chat(body);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const json& msgs = r->chat.messages;
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[1]["tool_calls"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(msgs[1]["tool_calls"][0]["function"]["arguments"]["city"], "Paris");
  EXPECT_EQ(msgs[2]["role"], "tool");
  EXPECT_EQ(msgs[2]["tool_call_id"], "get_weather");
  EXPECT_EQ(tool_names(r->chat.tools), std::vector<std::string>{"get_weather"});
  // A Qwen-style reply with a call comes back as Ollama's {function: {name, arguments}}.
  ParsedReply reply = parse_reply("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>",
                                  tool_names(r->chat.tools), "call_");
  json calls = ollama_tool_calls(reply.calls);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0], json({{"function", {{"name", "get_weather"}, {"arguments", {{"city", "Oslo"}}}}}}));
}

TEST(OllamaChat, FormatImagesAndBadFields) {
  json base = {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
  json j = base;
  j["format"] = "json";
  auto r = parse_ollama_chat(j);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->chat.messages[0]["role"], "system");  // the JSON request, through the system turn
  // A JSON schema: the reply is constrained to it (response_format json_schema, strict).
  j["format"] = {{"type", "object"}, {"properties", {{"n", {{"type", "integer"}}}}}, {"required", {"n"}}};
  r = parse_ollama_chat(j);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->chat.response_schema, j["format"]);
  j["format"] = 42;
  EXPECT_FALSE(parse_ollama_chat(j).ok());
  j = base;
  j["messages"][0]["images"] = {"aGk="};
  EXPECT_NE(parse_ollama_chat(j).error().message.find("images"), std::string::npos);
  j = base;
  j["options"] = {{"num_ctx", "big"}};
  EXPECT_FALSE(parse_ollama_chat(j).ok());
  j = base;
  j.erase("model");
  EXPECT_FALSE(parse_ollama_chat(j).ok());
  EXPECT_FALSE(parse_ollama_chat(json::array()).ok());
  j = base;
  j["messages"] = json::array();
  EXPECT_TRUE(parse_ollama_chat(j)->load_only);
}

TEST(OllamaGenerate, SystemRawAndLoadOnly) {
  auto r = parse_ollama_generate({{"model", "m"}, {"prompt", "Why?"}, {"system", "Be brief."}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->chat.messages.size(), 2u);
  EXPECT_EQ(r->chat.messages[0]["content"], "Be brief.");
  EXPECT_FALSE(r->chat.raw_prompt);
  r = parse_ollama_generate({{"model", "m"}, {"prompt", "[INST] x [/INST]"}, {"raw", true}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->chat.prompt, "[INST] x [/INST]");
  EXPECT_LT(r->chat.options.max_tokens, 0);
  EXPECT_TRUE(parse_ollama_generate({{"model", "m"}})->load_only);
  EXPECT_FALSE(parse_ollama_generate({{"model", "m"}, {"prompt", "x"}, {"suffix", "y"}}).ok());
  EXPECT_FALSE(parse_ollama_generate({{"model", "m"}, {"prompt", 5}}).ok());
}

}  // namespace
}  // namespace pensieve::server
