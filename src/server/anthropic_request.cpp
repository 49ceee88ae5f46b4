// Anthropic request -> ChatRequest.
#include <cmath>

#include "server/anthropic.h"

#include "engine/sampling_limits.h"

namespace pensieve::server {

namespace {

using nlohmann::json;

Error bad(const std::string& message) { return make_error(ErrorKind::invalid_request, message); }

bool is_number(const json& j) { return j.is_number(); }

// Text of a tool_result's content: a string or a list of blocks.
Result<std::string> tool_result_text(const json& content, const std::string& where) {
  if (content.is_null()) return std::string();
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) return bad(where + ".content: expected a string or an array of blocks");
  std::string out;
  for (size_t i = 0; i < content.size(); ++i) {
    const json& b = content[i];
    std::string type = b.is_object() ? b.value("type", "") : "";
    if (type == "text") {
      if (!out.empty()) out += "\n";
      out += b.value("text", "");
    } else if (type == "image" || type == "document") {
      return bad(where + ".content." + std::to_string(i) + ": '" + type +
                 "' blocks are not supported by this server (text-only model)");
    }
  }
  return out;
}

Result<std::string> document_text(const json& block, const std::string& where) {
  const json& src = block.contains("source") ? block["source"] : json();
  std::string type = src.is_object() ? src.value("type", "") : "";
  std::string text;
  if (type == "text") {
    text = src.value("data", "");
  } else if (type == "content" && src.contains("content")) {
    auto t = tool_result_text(src["content"], where + ".source");
    if (!t.ok()) return t.error();
    text = t.value();
  } else {
    return bad(where + ": 'document' blocks with a '" + type +
               "' source are not supported by this server (only text documents are)");
  }
  std::string title = block.value("title", "");
  return title.empty() ? text : title + "\n\n" + text;
}

struct Converted {
  std::string text;
  std::string reasoning;
  json tool_calls = json::array();
  json tool_messages = json::array();  // role "tool" turns from tool_result blocks
};

Result<Converted> convert_blocks(const json& content, const std::string& role, const std::string& where) {
  Converted c;
  if (content.is_string()) {
    c.text = content.get<std::string>();
    return c;
  }
  if (!content.is_array()) return bad(where + ".content: expected a string or an array of content blocks");
  for (size_t i = 0; i < content.size(); ++i) {
    const json& b = content[i];
    std::string at = where + ".content." + std::to_string(i);
    if (!b.is_object() || !b.contains("type") || !b["type"].is_string())
      return bad(at + ": expected a content block object with a 'type'");
    std::string type = b["type"];
    if (type == "text") {
      if (!b.contains("text") || !b["text"].is_string()) return bad(at + ".text: Field required");
      if (!c.text.empty()) c.text += "\n";
      c.text += b["text"].get<std::string>();
    } else if (type == "image") {
      return bad(at + ": 'image' content blocks are not supported by this server (text-only model)");
    } else if (type == "document") {
      auto t = document_text(b, at);
      if (!t.ok()) return t.error();
      if (!c.text.empty()) c.text += "\n";
      c.text += t.value();
    } else if (type == "tool_use") {
      if (role != "assistant") return bad(at + ": tool_use blocks belong in assistant turns");
      json input = b.contains("input") ? b["input"] : json::object();
      if (!input.is_object()) return bad(at + ".input: expected an object");
      c.tool_calls.push_back({{"id", b.value("id", "")},
                              {"type", "function"},
                              {"function", {{"name", b.value("name", "")}, {"arguments", input}}}});
    } else if (type == "tool_result") {
      auto t = tool_result_text(b.contains("content") ? b["content"] : json(), at);
      if (!t.ok()) return t.error();
      std::string text = t.value();
      // Keep is_error visible to the model (other local servers drop it).
      if (b.value("is_error", false)) text = "Error: " + text;
      c.tool_messages.push_back({{"role", "tool"}, {"tool_call_id", b.value("tool_use_id", "")}, {"content", text}});
    } else if (type == "thinking") {
      if (!c.reasoning.empty()) c.reasoning += "\n";
      c.reasoning += b.value("thinking", "");
    }
    // redacted_thinking, server_tool_use, web_search_tool_result, search_result, tool_reference,
    // container_upload and unknown types carry nothing a local text model can use: dropped.
  }
  return c;
}

Status convert_messages(const json& messages, ChatRequest& out) {
  if (!messages.is_array()) return bad("messages: Field required (an array of messages)");
  if (messages.empty()) return bad("messages: at least one message is required");
  for (size_t i = 0; i < messages.size(); ++i) {
    const json& m = messages[i];
    std::string where = "messages." + std::to_string(i);
    if (!m.is_object()) return bad(where + ": expected an object");
    if (!m.contains("role") || !m["role"].is_string()) return bad(where + ".role: Field required");
    std::string role = m["role"];
    if (role == "ctx" || role == "msg") role = "user";  // newer Claude Code (vLLM does the same)
    if (role != "user" && role != "assistant" && role != "system")
      return bad(where + ".role: Input should be 'user' or 'assistant'");
    if (!m.contains("content")) return bad(where + ".content: Field required");
    auto conv = convert_blocks(m["content"], role, where);
    if (!conv.ok()) return conv.error();
    Converted& c = conv.value();
    for (auto& t : c.tool_messages) out.messages.push_back(std::move(t));
    if (role == "assistant") {
      json msg = {{"role", "assistant"}, {"content", c.text}};
      if (!c.tool_calls.empty()) msg["tool_calls"] = std::move(c.tool_calls);
      if (!c.reasoning.empty()) msg["reasoning_content"] = c.reasoning;
      out.messages.push_back(std::move(msg));
    } else if (!c.text.empty() || c.tool_messages.empty()) {
      out.messages.push_back({{"role", role}, {"content", c.text}});
    }
  }
  // A final assistant turn is a prefill: the reply continues it.
  json& last = out.messages.back();
  if (last["role"] == "assistant" && !last.contains("tool_calls")) {
    out.prefill = last.value("content", "");
    out.messages.erase(out.messages.size() - 1);
  }
  return ok_status();
}

Status convert_system(const json& system, ChatRequest& out) {
  if (system.is_null()) return ok_status();
  std::string text;
  if (system.is_string()) {
    std::string s = system;
    if (is_billing_header(s)) {
      size_t nl = s.find('\n');
      s = nl == std::string::npos ? "" : s.substr(nl + 1);
    }
    text = s;
  } else if (system.is_array()) {
    for (size_t i = 0; i < system.size(); ++i) {
      const json& b = system[i];
      if (!b.is_object() || b.value("type", "") != "text" || !b.contains("text") || !b["text"].is_string())
        return bad("system." + std::to_string(i) + ": expected a text block");
      std::string t = b["text"];
      if (is_billing_header(t)) continue;
      if (!text.empty()) text += "\n";
      text += t;
    }
  } else {
    return bad("system: expected a string or an array of text blocks");
  }
  if (!text.empty()) out.messages.push_back({{"role", "system"}, {"content", text}});
  return ok_status();
}

Status convert_tools(const json& body, ChatRequest& out) {
  if (body.contains("tools") && !body["tools"].is_null()) {
    const json& tools = body["tools"];
    if (!tools.is_array()) return bad("tools: expected an array");
    out.tools = json::array();
    for (size_t i = 0; i < tools.size(); ++i) {
      const json& t = tools[i];
      std::string where = "tools." + std::to_string(i);
      if (!t.is_object() || !t.contains("name") || !t["name"].is_string())
        return bad(where + ".name: Field required");
      std::string type = t.value("type", "custom");
      if (type != "custom" && !t.contains("input_schema"))
        return bad(where + ": server tool '" + type + "' (" + t["name"].get<std::string>() +
                   ") cannot run on this local server; only custom tools are supported");
      json schema = t.contains("input_schema") ? t["input_schema"] : json{{"type", "object"}};
      out.tool_strict.push_back(t.contains("strict") && t["strict"].is_boolean() && t["strict"].get<bool>());
      out.tools.push_back({{"type", "function"},
                           {"function",
                            {{"name", t["name"]}, {"description", t.value("description", "")}, {"parameters", schema}}}});
    }
  }
  if (body.contains("tool_choice") && !body["tool_choice"].is_null()) {
    const json& tc = body["tool_choice"];
    std::string type = tc.is_object() ? tc.value("type", "") : "";
    if (type == "auto") out.tool_choice = ToolChoice::auto_;
    else if (type == "any") out.tool_choice = ToolChoice::any;
    else if (type == "none") out.tool_choice = ToolChoice::none;
    else if (type == "tool") {
      out.tool_choice = ToolChoice::tool;
      out.tool_choice_name = tc.value("name", "");
      if (out.tool_choice_name.empty()) return bad("tool_choice.name: Field required");
      bool declared = false;
      for (const auto& name : tool_names(out.tools)) declared |= name == out.tool_choice_name;
      if (!declared) return bad("tool_choice.name: no tool named '" + out.tool_choice_name + "' in tools");
    } else {
      return bad("tool_choice.type: expected 'auto', 'any', 'tool' or 'none'");
    }
  }
  return ok_status();
}

Status convert_sampling(const json& body, ChatRequest& out) {
  auto& s = out.options.sampling;
  s.temperature = 1.0f;  // the Messages API default
  // The engine's ranges (engine/sampling_limits.h, the CLI's too), then the API's own cap.
  using K = engine::SamplingKnob;
  for (K knob : {K::temperature, K::top_p, K::top_k}) {
    const std::string key(engine::sampling_range(knob).field);
    if (!body.contains(key) || body[key].is_null()) continue;
    const json& v = body[key];
    if (knob == K::top_k ? !v.is_number_integer() : !is_number(v))
      return bad(key + (knob == K::top_k ? ": expected an integer" : ": expected a number"));
    const double x = v.get<double>();
    if (std::string why = engine::check_sampling_value(knob, x); !why.empty()) return bad(key + ": " + why);
    if (knob == K::temperature && x > 1.0) return bad("temperature: must be at most 1 in this API");
    if (knob == K::temperature) s.temperature = static_cast<float>(x);
    if (knob == K::top_p) s.top_p = static_cast<float>(x);
    if (knob == K::top_k) s.top_k = static_cast<int>(std::min<double>(x, 1 << 30));
  }
  if (body.contains("stop_sequences") && !body["stop_sequences"].is_null()) {
    const json& st = body["stop_sequences"];
    if (!st.is_array()) return bad("stop_sequences: expected an array of strings");
    for (const auto& x : st) {
      if (!x.is_string()) return bad("stop_sequences: expected an array of strings");
      if (!x.get<std::string>().empty()) out.options.stop.push_back(x);
    }
  }
  if (body.contains("ignore_eos") && body["ignore_eos"].is_boolean()) out.options.ignore_eos = body["ignore_eos"];
  return ok_status();
}

}  // namespace

bool is_billing_header(std::string_view text) {
  return text.rfind("x-anthropic-billing-header:", 0) == 0;
}

static Result<ChatRequest> parse_anthropic_request_unchecked(const json& body, bool count_tokens) {
  if (!body.is_object()) return bad("the request body must be a JSON object");
  ChatRequest out;
  if (!body.contains("model") || !body["model"].is_string()) return bad("model: Field required");
  out.model = body["model"];
  if (!count_tokens) {
    if (!body.contains("max_tokens")) return bad("max_tokens: Field required");
    if (!body["max_tokens"].is_number_integer()) return bad("max_tokens: expected an integer");
    int64_t mt = body["max_tokens"];
    if (mt < 1) return bad("max_tokens: must be greater than or equal to 1");
    out.options.max_tokens = static_cast<int>(std::min<int64_t>(mt, 1 << 30));
    out.max_tokens_given = true;
    if (body.contains("stream") && !body["stream"].is_null()) {
      if (!body["stream"].is_boolean()) return bad("stream: expected a boolean");
      out.stream = body["stream"];
    }
    PS_TRY(convert_sampling(body, out));
  }
  PS_TRY(convert_system(body.contains("system") ? body["system"] : json(), out));
  PS_TRY(convert_messages(body.contains("messages") ? body["messages"] : json(), out));
  PS_TRY(convert_tools(body, out));
  // Structured output (Claude Code asks for session titles this way): constrained decoding
  // (structured_output.cpp), and an instruction in the system turn so the model means it.
  if (body.contains("output_config") && body["output_config"].is_object() &&
      body["output_config"].contains("format") && body["output_config"]["format"].is_object() &&
      body["output_config"]["format"].value("type", "") == "json_schema") {
    const json& format = body["output_config"]["format"];
    if (format.contains("schema") && !format["schema"].is_object() && !format["schema"].is_boolean())
      return bad("output_config.format.schema: expected an object");
    out.response_schema = format.contains("schema") ? format["schema"] : json{{"type", "object"}};
    std::string hint = "Respond with a single valid JSON object and nothing else. It must match this JSON schema: " +
                       format.value("schema", json::object()).dump();
    if (!out.messages.empty() && out.messages[0]["role"] == "system")
      out.messages[0]["content"] = out.messages[0]["content"].get<std::string>() + "\n\n" + hint;
    else
      out.messages.insert(out.messages.begin(), json{{"role", "system"}, {"content", hint}});
  }
  return out;
}

// A field of an unexpected JSON type (a number where a string belongs...) makes nlohmann::json
// throw while converting: that is a 400 naming the type error, never a 500.
Result<ChatRequest> parse_anthropic_request(const json& body, bool count_tokens) {
  try {
    return parse_anthropic_request_unchecked(body, count_tokens);
  } catch (const nlohmann::json::exception& e) {
    return bad(std::string("a field has the wrong type: ") + e.what());
  }
}

}  // namespace pensieve::server
