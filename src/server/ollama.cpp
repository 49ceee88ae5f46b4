#include "server/ollama.h"

#include <cmath>
#include <ctime>

#include "server/openai.h"

namespace pensieve::server {

using nlohmann::json;
using std::chrono::milliseconds;

namespace {

Error bad(std::string message) { return make_error(ErrorKind::invalid_request, std::move(message)); }

// Ollama's `options` as the OpenAI adapter's fields; what it has no field for is applied after.
Status translate_options(const json& body, json& oa, OllamaRequest& out) {
  if (!body.contains("options") || body["options"].is_null()) return ok_status();
  const json& o = body["options"];
  if (!o.is_object()) return bad("options: expected an object");
  for (const char* k : {"temperature", "top_p", "min_p", "top_k", "seed", "frequency_penalty", "presence_penalty",
                        "repeat_penalty", "stop"})
    if (o.contains(k) && !o[k].is_null()) oa[k] = o[k];
  if (o.contains("num_predict") && !o["num_predict"].is_null()) {
    if (!o["num_predict"].is_number_integer()) return bad("options.num_predict: expected an integer");
    const int64_t n = o["num_predict"];
    if (n > 0) oa["max_tokens"] = n;  // -1 (and -2): until EOS or the end of the context; 0: apply_after
  }
  if (o.contains("num_ctx") && !o["num_ctx"].is_null()) {
    if (!o["num_ctx"].is_number_integer() || o["num_ctx"].get<int64_t>() < 1)
      return bad("options.num_ctx: expected a positive integer");
    out.num_ctx = static_cast<int>(std::min<int64_t>(o["num_ctx"].get<int64_t>(), 1 << 30));
  }
  if (o.contains("repeat_last_n") && !o["repeat_last_n"].is_null() && !o["repeat_last_n"].is_number_integer())
    return bad("options.repeat_last_n: expected an integer");
  return ok_status();
}

void apply_after(const json& body, OllamaRequest& out) {
  auto& s = out.chat.options.sampling;
  const json o = body.contains("options") && body["options"].is_object() ? body["options"] : json::object();
  if (!o.contains("temperature") || o["temperature"].is_null()) s.temperature = 0.8f;  // Ollama's default
  if (o.contains("repeat_last_n") && o["repeat_last_n"].is_number_integer()) s.repeat_last_n = o["repeat_last_n"];
  if (o.contains("num_predict") && o["num_predict"].is_number_integer() && o["num_predict"].get<int64_t>() == 0)
    out.chat.options.max_tokens = 0;
}

// format: "json" is response_format json_object, a JSON schema is response_format json_schema
// (strict): either way the reply is grammar-constrained, so it parses (and matches the schema).
Status translate_format(const json& body, json& oa) {
  if (!body.contains("format") || body["format"].is_null()) return ok_status();
  const json& f = body["format"];
  if (f.is_string()) {
    const std::string v = f;
    if (v.empty()) return ok_status();
    if (v != "json") return bad("format: expected \"json\" or a JSON schema object, got \"" + v + "\"");
    oa["response_format"] = {{"type", "json_object"}};
    return ok_status();
  }
  if (f.is_object()) {
    oa["response_format"] = {{"type", "json_schema"},
                             {"json_schema", {{"name", "format"}, {"strict", true}, {"schema", f}}}};
    return ok_status();
  }
  return bad("format: expected \"json\" or a JSON schema object");
}

Status reject_images(const json& j, const std::string& where) {
  if (j.contains("images") && j["images"].is_array() && !j["images"].empty())
    return bad(where + "images: the models this server runs are text-only; images are not supported");
  return ok_status();
}

Status common(const json& body, json& oa, OllamaRequest& out) {
  if (!body.is_object()) return bad("the request body must be a JSON object");
  if (!body.contains("model") || !body["model"].is_string()) return bad("model is required");
  oa["model"] = body["model"];
  PS_TRY(translate_options(body, oa, out));
  PS_TRY(translate_format(body, oa));
  if (body.contains("keep_alive")) {
    auto ka = parse_keep_alive(body["keep_alive"]);
    if (!ka) return ka.error();
    out.keep_alive = *ka;
  }
  if (body.contains("stream") && !body["stream"].is_null() && !body["stream"].is_boolean())
    return bad("stream: expected a boolean");
  return ok_status();
}

}  // namespace

Result<std::optional<milliseconds>> parse_keep_alive(const json& v) {
  if (v.is_null()) return std::optional<milliseconds>();
  if (v.is_number()) {
    const double s = v.get<double>();
    if (!std::isfinite(s)) return bad("keep_alive: expected a number of seconds or a duration");
    return std::optional<milliseconds>(s < 0 ? milliseconds(-1) : milliseconds(static_cast<int64_t>(s * 1000)));
  }
  if (!v.is_string()) return bad("keep_alive: expected a number of seconds or a duration like \"5m\"");
  const std::string s = v;
  if (s.empty()) return std::optional<milliseconds>();
  if (s[0] == '-') return std::optional<milliseconds>(milliseconds(-1));
  double total_ms = 0;
  size_t i = 0;
  bool any = false;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) ++j;
    if (j == i) return bad("keep_alive: cannot read duration \"" + s + "\"");
    const double n = std::atof(s.substr(i, j - i).c_str());
    size_t k = j;
    while (k < s.size() && std::isalpha(static_cast<unsigned char>(s[k]))) ++k;
    const std::string unit = s.substr(j, k - j);
    double scale;
    if (unit == "ms") scale = 1;
    else if (unit == "s" || unit.empty()) scale = 1000;
    else if (unit == "m") scale = 60000;
    else if (unit == "h") scale = 3600000;
    else return bad("keep_alive: unknown unit \"" + unit + "\" in \"" + s + "\"");
    total_ms += n * scale;
    any = true;
    i = k;
  }
  if (!any) return bad("keep_alive: cannot read duration \"" + s + "\"");
  return std::optional<milliseconds>(milliseconds(static_cast<int64_t>(total_ms)));
}

Result<OllamaRequest> parse_ollama_chat(const json& body) {
  OllamaRequest out;
  json oa = json::object();
  PS_TRY(common(body, oa, out));
  const json msgs = body.contains("messages") && !body["messages"].is_null() ? body["messages"] : json::array();
  if (!msgs.is_array()) return bad("messages: expected an array");
  if (msgs.empty()) {  // Ollama: no messages loads (or with keep_alive 0 unloads) the model
    out.load_only = true;
    out.chat.model = body["model"];
    return out;
  }
  json converted = json::array();
  for (size_t i = 0; i < msgs.size(); ++i) {
    const json& m = msgs[i];
    if (!m.is_object()) return bad("messages[" + std::to_string(i) + "]: expected an object");
    PS_TRY(reject_images(m, "messages[" + std::to_string(i) + "]."));
    json c = {{"role", m.value("role", "")}, {"content", m.contains("content") && m["content"].is_string() ? m["content"] : json("")}};
    if (m.contains("tool_calls") && m["tool_calls"].is_array()) {
      json calls = json::array();
      for (size_t k = 0; k < m["tool_calls"].size(); ++k) {
        const json& tc = m["tool_calls"][k];
        const json fn = tc.is_object() && tc.contains("function") && tc["function"].is_object() ? tc["function"] : json::object();
        calls.push_back({{"id", "call_" + std::to_string(i) + "_" + std::to_string(k)},
                         {"type", "function"},
                         {"function", {{"name", fn.value("name", "")},
                                       {"arguments", fn.contains("arguments") ? fn["arguments"] : json::object()}}}});
      }
      c["tool_calls"] = calls;
    }
    if (m.contains("tool_name") && m["tool_name"].is_string()) c["name"] = m["tool_name"];
    converted.push_back(std::move(c));
  }
  oa["messages"] = std::move(converted);
  if (body.contains("tools") && !body["tools"].is_null()) oa["tools"] = body["tools"];
  auto chat = parse_openai_chat_request(oa);
  if (!chat) return chat.error();
  out.chat = std::move(*chat);
  out.chat.stream = body.value("stream", true);
  apply_after(body, out);
  return out;
}

Result<OllamaRequest> parse_ollama_generate(const json& body) {
  OllamaRequest out;
  json oa = json::object();
  PS_TRY(common(body, oa, out));
  PS_TRY(reject_images(body, ""));
  if (body.contains("prompt") && !body["prompt"].is_null() && !body["prompt"].is_string())
    return bad("prompt: expected a string");
  if (body.contains("system") && !body["system"].is_null() && !body["system"].is_string())
    return bad("system: expected a string");
  if (body.contains("suffix") && body["suffix"].is_string() && !body["suffix"].get<std::string>().empty())
    return bad("suffix: fill-in-the-middle is not supported by this server");
  if (body.contains("template") && body["template"].is_string() && !body["template"].get<std::string>().empty())
    return bad("template: Go templates are not supported; the model's own chat template is used");
  const std::string prompt = body.value("prompt", "");
  if (prompt.empty()) {
    out.load_only = true;
    out.chat.model = body["model"];
    return out;
  }
  const bool raw = body.contains("raw") && body["raw"].is_boolean() && body["raw"].get<bool>();
  Result<ChatRequest> chat = make_error(ErrorKind::internal, "");
  if (raw) {
    oa["prompt"] = prompt;
    if (!oa.contains("max_tokens")) oa["max_tokens"] = 1 << 30;
    chat = parse_openai_completion_request(oa);
    if (chat && !(body.contains("options") && body["options"].is_object() && body["options"].contains("num_predict")))
      chat->options.max_tokens = -1;
  } else {
    json msgs = json::array();
    if (body.contains("system") && body["system"].is_string()) msgs.push_back({{"role", "system"}, {"content", body["system"]}});
    msgs.push_back({{"role", "user"}, {"content", prompt}});
    oa["messages"] = std::move(msgs);
    chat = parse_openai_chat_request(oa);
  }
  if (!chat) return chat.error();
  out.chat = std::move(*chat);
  out.chat.stream = body.value("stream", true);
  apply_after(body, out);
  return out;
}

std::string ollama_done_reason(const engine::Generation& g) {
  switch (g.finish) {
    case engine::FinishReason::max_tokens:
    case engine::FinishReason::context_full: return "length";
    default: return "stop";
  }
}

void ollama_stats(const engine::Generation& g, double total_ms, json& out) {
  out["total_duration"] = static_cast<int64_t>(total_ms * 1e6);
  out["load_duration"] = 0;
  out["prompt_eval_count"] = g.n_prompt;
  out["prompt_eval_duration"] = static_cast<int64_t>(g.prefill_ms * 1e6);
  out["eval_count"] = g.n_generated;
  out["eval_duration"] = static_cast<int64_t>(g.decode_ms * 1e6);
}

std::string ollama_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  std::tm tm{};
  gmtime_r(&ts.tv_sec, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[80];
  std::snprintf(out, sizeof out, "%s.%09ldZ", buf, static_cast<long>(ts.tv_nsec));
  return out;
}

json ollama_tool_calls(const std::vector<ToolCall>& calls) {
  json out = json::array();
  for (const ToolCall& c : calls) out.push_back({{"function", {{"name", c.name}, {"arguments", c.arguments}}}});
  return out;
}

}  // namespace pensieve::server
