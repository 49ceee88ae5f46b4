// OpenAI request -> ChatRequest.
#include "server/json_limits.h"
#include "server/openai.h"

#include "engine/sampling_limits.h"

namespace pensieve::server {

namespace {

using nlohmann::json;

Error bad(const std::string& message) { return make_error(ErrorKind::invalid_request, message); }

Result<std::string> content_text(const json& content, const std::string& where) {
  if (content.is_null()) return std::string();
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) return bad(where + ".content: expected a string or an array of content parts");
  std::string out;
  for (size_t i = 0; i < content.size(); ++i) {
    const json& p = content[i];
    std::string type = p.is_object() ? p.value("type", "") : "";
    if (type == "text") {
      out += p.value("text", "");
    } else {
      return bad(where + ".content." + std::to_string(i) + ": '" + type +
                 "' content parts are not supported by this server (text-only model)");
    }
  }
  return out;
}

Result<json> tool_call_arguments(const json& fn, const std::string& where) {
  if (!fn.contains("arguments") || fn["arguments"].is_null()) return json::object();
  const json& a = fn["arguments"];
  if (a.is_object()) return a;  // some clients send an object
  if (!a.is_string()) return bad(where + ".function.arguments: expected a JSON string");
  std::string s = a;
  if (s.empty()) return json::object();
  auto parsed = parse_json_limited(s, where + ".function.arguments");
  if (!parsed.ok()) return parsed.error();
  if (!parsed->is_object()) return bad(where + ".function.arguments: not a JSON object");
  return std::move(parsed.value());
}

Status convert_messages(const json& messages, ChatRequest& out) {
  if (!messages.is_array() || messages.empty()) return bad("messages: expected a non-empty array");
  for (size_t i = 0; i < messages.size(); ++i) {
    const json& m = messages[i];
    std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) return bad(where + ".role: required");
    std::string role = m["role"];
    if (role == "developer") role = "system";
    if (role == "function") role = "tool";
    if (role != "system" && role != "user" && role != "assistant" && role != "tool")
      return bad(where + ".role: unknown role '" + role + "'");
    auto text = content_text(m.contains("content") ? m["content"] : json(), where);
    if (!text.ok()) return text.error();
    json msg = {{"role", role}, {"content", text.value()}};
    if (role == "tool") msg["tool_call_id"] = m.value("tool_call_id", m.value("name", ""));
    if (role == "assistant" && m.contains("tool_calls") && m["tool_calls"].is_array()) {
      json calls = json::array();
      for (size_t k = 0; k < m["tool_calls"].size(); ++k) {
        const json& c = m["tool_calls"][k];
        std::string at = where + ".tool_calls[" + std::to_string(k) + "]";
        const json& fn = c.contains("function") ? c["function"] : json::object();
        auto args = tool_call_arguments(fn, at);
        if (!args.ok()) return args.error();
        calls.push_back({{"id", c.value("id", "")},
                         {"type", "function"},
                         {"function", {{"name", fn.value("name", "")}, {"arguments", args.value()}}}});
      }
      if (!calls.empty()) msg["tool_calls"] = std::move(calls);
    }
    if (role == "assistant" && m.contains("reasoning_content") && m["reasoning_content"].is_string())
      msg["reasoning_content"] = m["reasoning_content"];
    out.messages.push_back(std::move(msg));
  }
  return ok_status();
}

Status convert_tools(const json& body, ChatRequest& out) {
  if (body.contains("tools") && body["tools"].is_array() && !body["tools"].empty()) {
    out.tools = json::array();
    for (size_t i = 0; i < body["tools"].size(); ++i) {
      const json& t = body["tools"][i];
      if (!t.is_object() || !t.contains("function") || !t["function"].is_object() ||
          !t["function"].contains("name") || !t["function"]["name"].is_string())
        return bad("tools[" + std::to_string(i) + "].function.name: required");
      const json& fn = t["function"];
      out.tool_strict.push_back(fn.contains("strict") && fn["strict"].is_boolean() && fn["strict"].get<bool>());
      out.tools.push_back({{"type", "function"},
                           {"function",
                            {{"name", fn["name"]},
                             {"description", fn.value("description", "")},
                             {"parameters", fn.contains("parameters") ? fn["parameters"] : json{{"type", "object"}}}}}});
    }
  }
  if (!body.contains("tool_choice") || body["tool_choice"].is_null()) return ok_status();
  const json& tc = body["tool_choice"];
  if (tc.is_string()) {
    std::string s = tc;
    if (s == "auto") out.tool_choice = ToolChoice::auto_;
    else if (s == "none") out.tool_choice = ToolChoice::none;
    else if (s == "required") out.tool_choice = ToolChoice::any;
    else return bad("tool_choice: expected 'none', 'auto', 'required' or a function");
  } else if (tc.is_object() && tc.contains("function") && tc["function"].is_object()) {
    const json& fn = tc["function"];
    if (!fn.contains("name") || !fn["name"].is_string() || fn["name"].get<std::string>().empty())
      return bad("tool_choice.function.name: expected the name of a tool");
    out.tool_choice = ToolChoice::tool;
    out.tool_choice_name = fn["name"];
  } else {
    return bad("tool_choice: expected 'none', 'auto', 'required' or a function");
  }
  return ok_status();
}

// A sampling field, checked against the engine's table (the CLI's flags use the same one), and
// then against `api_max` (OpenAI's own cap, e.g. temperature <= 2), when given.
template <class T>
Status sampling_field(const json& body, engine::SamplingKnob knob, T& dst, double api_max = 0) {
  const std::string key(engine::sampling_range(knob).field);
  if (!body.contains(key) || body[key].is_null()) return ok_status();
  if (!body[key].is_number()) return bad(key + ": expected a number");
  const double v = body[key];
  if (std::string why = engine::check_sampling_value(knob, v); !why.empty()) return bad(key + ": " + why);
  if (api_max > 0 && v > api_max) return bad(key + ": must be at most " + std::to_string(int(api_max)) + " in this API");
  dst = static_cast<T>(v);
  return ok_status();
}

// Known fields must have their documented JSON type (null counts as absent); unknown fields are
// ignored. Checked before any field is used, so `stream: "yes"` is a 400, not a silent default.
Status check_types(const json& body) {
  struct Field {
    const char* name;
    bool (*ok)(const json&);
    const char* expected;
  };
  auto boolean = [](const json& j) { return j.is_boolean(); };
  auto integer = [](const json& j) { return j.is_number_integer(); };
  auto number = [](const json& j) { return j.is_number(); };
  auto object = [](const json& j) { return j.is_object(); };
  auto array = [](const json& j) { return j.is_array(); };
  auto string = [](const json& j) { return j.is_string(); };
  auto int_or_bool = [](const json& j) { return j.is_boolean() || j.is_number_integer(); };
  auto string_or_object = [](const json& j) { return j.is_string() || j.is_object(); };
  static const Field kFields[] = {
      {"stream", boolean, "a boolean"},         {"seed", integer, "an integer"},
      {"response_format", object, "an object"}, {"stream_options", object, "an object"},
      {"top_k", integer, "an integer"},         {"n", integer, "an integer"},
      {"ignore_eos", boolean, "a boolean"},     {"tools", array, "an array"},
      {"echo", boolean, "a boolean"},           {"user", string, "a string"},
      {"logprobs", int_or_bool, "a boolean"},   {"top_logprobs", integer, "an integer"},
      {"parallel_tool_calls", boolean, "a boolean"}, {"tool_choice", string_or_object, "a string or an object"},
      {"temperature", number, "a number"},      {"top_p", number, "a number"},
      {"metadata", object, "an object"},        {"store", boolean, "a boolean"},
      {"grammar", string, "a string (GBNF)"},    {"json_schema", object, "an object"},
  };
  for (const Field& f : kFields) {
    auto it = body.find(f.name);
    if (it == body.end() || it->is_null() || f.ok(*it)) continue;
    return bad(std::string(f.name) + ": expected " + f.expected + ", got " + it->type_name());
  }
  if (auto so = body.find("stream_options"); so != body.end() && so->is_object()) {
    auto iu = so->find("include_usage");
    if (iu != so->end() && !iu->is_null() && !iu->is_boolean())
      return bad("stream_options.include_usage: expected a boolean");
  }
  if (auto rf = body.find("response_format"); rf != body.end() && rf->is_object()) {
    auto type = rf->find("type");
    if (type != rf->end() && !type->is_string()) return bad("response_format.type: expected a string");
    auto js = rf->find("json_schema");
    if (js != rf->end() && !js->is_null() && !js->is_object()) return bad("response_format.json_schema: expected an object");
  }
  return ok_status();
}

// Fields shared by chat and text completions.
Status convert_common(const json& body, ChatRequest& out, int default_max_tokens) {
  PS_TRY(check_types(body));
  if (!body.contains("model") || !body["model"].is_string()) return bad("model: required");
  out.model = body["model"];
  if (body.contains("n") && !body["n"].is_null() && body["n"] != 1)
    return bad("n: only n=1 is supported by this server");
  if (body.contains("logprobs")) {
    const json& lp = body["logprobs"];
    if ((lp.is_boolean() && lp.get<bool>()) || (lp.is_number_integer() && lp.get<int64_t>() > 0))
      return bad("logprobs: not supported by this server");
  }
  out.options.max_tokens = default_max_tokens;
  for (const char* key : {"max_completion_tokens", "max_tokens"}) {
    if (!body.contains(key) || body[key].is_null()) continue;
    if (!body[key].is_number_integer() || body[key].get<int64_t>() < 1)
      return bad(std::string(key) + ": must be an integer >= 1");
    out.options.max_tokens = static_cast<int>(std::min<int64_t>(body[key].get<int64_t>(), 1 << 30));
    out.max_tokens_given = true;
    break;
  }
  auto& s = out.options.sampling;
  s.temperature = 1.0f;  // OpenAI's default
  using K = engine::SamplingKnob;
  PS_TRY(sampling_field(body, K::temperature, s.temperature, /*api_max=*/2));
  PS_TRY(sampling_field(body, K::top_p, s.top_p));
  PS_TRY(sampling_field(body, K::min_p, s.min_p));
  PS_TRY(sampling_field(body, K::frequency_penalty, s.frequency_penalty));
  PS_TRY(sampling_field(body, K::presence_penalty, s.presence_penalty));
  PS_TRY(sampling_field(body, K::repeat_penalty, s.repeat_penalty));
  if (body.contains("top_k") && body["top_k"].is_number_integer()) {
    const int64_t k = body["top_k"];
    if (std::string why = engine::check_sampling_value(K::top_k, static_cast<double>(k)); !why.empty())
      return bad("top_k: " + why);
    s.top_k = static_cast<int>(std::min<int64_t>(k, 1 << 30));
  }
  if (body.contains("seed") && body["seed"].is_number_integer()) s.seed = body["seed"].get<uint64_t>();
  if (body.contains("stop") && !body["stop"].is_null()) {
    const json& st = body["stop"];
    if (st.is_string()) {
      if (!st.get<std::string>().empty()) out.options.stop.push_back(st);
    } else if (st.is_array()) {
      for (const auto& x : st) {
        if (!x.is_string()) return bad("stop: expected a string or an array of strings");
        if (!x.get<std::string>().empty()) out.options.stop.push_back(x);
      }
    } else {
      return bad("stop: expected a string or an array of strings");
    }
  }
  if (body.contains("stream") && body["stream"].is_boolean()) out.stream = body["stream"];
  if (body.contains("stream_options") && body["stream_options"].is_object())
    out.include_usage = body["stream_options"].value("include_usage", false);
  if (body.contains("ignore_eos") && body["ignore_eos"].is_boolean()) out.options.ignore_eos = body["ignore_eos"];
  // llama-server's fields: GBNF text, or a JSON Schema, for the whole output.
  if (body.contains("grammar") && body["grammar"].is_string() && !body["grammar"].get<std::string>().empty())
    out.grammar = body["grammar"];
  if (body.contains("json_schema") && body["json_schema"].is_object()) {
    if (!out.grammar.empty()) return bad("json_schema: not together with grammar");
    out.response_schema = body["json_schema"];
  }
  return ok_status();
}

}  // namespace

static Result<ChatRequest> parse_openai_chat_request_unchecked(const json& body) {
  if (!body.is_object()) return bad("the request body must be a JSON object");
  ChatRequest out;
  PS_TRY(convert_common(body, out, -1));  // absent max_tokens: until EOS or the end of the context
  PS_TRY(convert_messages(body.contains("messages") ? body["messages"] : json(), out));
  PS_TRY(convert_tools(body, out));
  // response_format: the reply is constrained to JSON (structured_output.cpp); the system turn
  // also asks for it, so that the model means what it writes.
  if (body.contains("response_format") && body["response_format"].is_object()) {
    const json& rf = body["response_format"];
    if (rf.contains("type") && !rf["type"].is_string()) return bad("response_format.type: expected a string");
    std::string type = rf.value("type", "text");
    if (type != "text" && type != "json_object" && type != "json_schema")
      return bad("response_format.type: expected 'text', 'json_object' or 'json_schema'");
    if (type != "text" && (!out.grammar.empty() || out.response_schema))
      return bad("response_format: not together with grammar or json_schema");
    if (type == "json_object") out.response_schema = json{{"type", "object"}};
    if (type == "json_schema") {
      const json js = rf.contains("json_schema") && rf["json_schema"].is_object() ? rf["json_schema"] : json::object();
      if (js.contains("schema") && !js["schema"].is_object() && !js["schema"].is_boolean())
        return bad("response_format.json_schema.schema: expected an object");
      out.response_schema = js.contains("schema") ? js["schema"] : json{{"type", "object"}};
    }
    if (type == "json_object" || type == "json_schema") {
      std::string hint = "Respond with a single valid JSON object and nothing else.";
      if (type == "json_schema" && body["response_format"].contains("json_schema") &&
          body["response_format"]["json_schema"].is_object())
        hint += " It must match this JSON schema: " +
                body["response_format"]["json_schema"].value("schema", json::object()).dump();
      out.messages.insert(out.messages.begin(), json{{"role", "system"}, {"content", hint}});
    }
  }
  return out;
}

static Result<ChatRequest> parse_openai_completion_request_unchecked(const json& body) {
  if (!body.is_object()) return bad("the request body must be a JSON object");
  ChatRequest out;
  PS_TRY(convert_common(body, out, 16));  // the legacy endpoint's default
  if (body.value("echo", false)) return bad("echo: not supported by this server");
  const json& p = body.contains("prompt") ? body["prompt"] : json();
  if (p.is_string()) {
    out.prompt = p;
  } else if (p.is_array() && p.size() == 1 && p[0].is_string()) {
    out.prompt = p[0];
  } else if (p.is_array() && p.size() > 1 && p[0].is_string()) {
    return bad("prompt: only a single prompt per request is supported");
  } else {
    return bad("prompt: expected a string");
  }
  out.raw_prompt = true;
  return out;
}

// A field of an unexpected JSON type (a number where a string belongs...) makes nlohmann::json
// throw while converting: that is a 400 naming the type error, never a 500.
Result<ChatRequest> parse_openai_chat_request(const json& body) {
  try {
    return parse_openai_chat_request_unchecked(body);
  } catch (const nlohmann::json::exception& e) {
    return bad(std::string("a field has the wrong type: ") + e.what());
  }
}

Result<ChatRequest> parse_openai_completion_request(const json& body) {
  try {
    return parse_openai_completion_request_unchecked(body);
  } catch (const nlohmann::json::exception& e) {
    return bad(std::string("a field has the wrong type: ") + e.what());
  }
}

}  // namespace pensieve::server
