// POST /v1/embeddings (OpenAI), /api/embed and /api/embeddings (Ollama). The vectors are the
// mean over each input's tokens of the decoder's last hidden state (after the final norm),
// L2-normalised (engine::InferenceBackend::embed): what a decoder-only chat model offers, not a
// trained sentence-embedding model. Inputs of one request are batched into shared forward steps.
#include <chrono>

#include "server/ollama.h"
#include "server/server_state.h"

namespace pensieve::server {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kMaxInputs = 2048;

Error bad(std::string m) { return make_error(ErrorKind::invalid_request, std::move(m)); }

// input: a string, an array of strings, an array of token ids, or an array of those arrays.
Result<std::vector<std::vector<token_id>>> tokenize_inputs(const ServerModel& m, const json& input, bool truncate,
                                                            int64_t* n_tokens) {
  std::vector<std::vector<token_id>> out;
  auto add_text = [&](const std::string& s) { out.push_back(m.tokenize(s)); };
  auto add_ids = [&](const json& a) -> Status {
    std::vector<token_id> ids;
    for (const json& t : a) {
      if (!t.is_number_integer()) return bad("input: token arrays hold integers");
      const int64_t v = t;
      if (v < 0 || v >= (int64_t(1) << 31)) return bad("input: token id " + std::to_string(v) + " is out of range");
      ids.push_back(static_cast<token_id>(v));
    }
    out.push_back(std::move(ids));
    return ok_status();
  };
  if (input.is_string()) {
    add_text(input);
  } else if (input.is_array() && !input.empty() && input[0].is_number_integer()) {
    PS_TRY(add_ids(input));
  } else if (input.is_array() && !input.empty()) {
    if (input.size() > kMaxInputs) return bad("input: at most " + std::to_string(kMaxInputs) + " inputs per request");
    for (const json& x : input) {
      if (x.is_string()) add_text(x);
      else if (x.is_array()) PS_TRY(add_ids(x));
      else return bad("input: expected strings or arrays of token ids");
    }
  } else {
    return bad("input: expected a non-empty string or array");
  }
  *n_tokens = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i].empty()) return bad("input " + std::to_string(i) + " is empty");
    if (static_cast<int>(out[i].size()) > m.info.n_ctx) {
      if (!truncate)
        return bad("input " + std::to_string(i) + " has " + std::to_string(out[i].size()) +
                   " tokens, more than the context of " + std::to_string(m.info.n_ctx));
      out[i].resize(m.info.n_ctx);
    }
    *n_tokens += static_cast<int64_t>(out[i].size());
  }
  return out;
}

// Runs the embedding; sends the error and returns false when it fails.
bool embed(const ServerModel& m, const std::vector<std::vector<token_id>>& inputs, WireFormat wire,
           http::Response& res, std::vector<std::vector<float>>& out) {
  if (!m.embed) {
    send_error(res, wire, bad("this model cannot produce embeddings"));
    return false;
  }
  auto r = m.embed(inputs);
  if (!r) {
    send_error(res, wire, r.error());
    return false;
  }
  out = std::move(*r);
  return true;
}

void handle_openai(ServerState& s, const http::Request& req, http::Response& res) {
  const WireFormat wire = WireFormat::openai;
  json body;
  if (!parse_body(req, res, wire, body)) return;
  if (!body.is_object()) return send_error(res, wire, bad("the request body must be a JSON object"));
  if (!body.contains("model") || !body["model"].is_string()) return send_error(res, wire, bad("model: required"));
  if (body.contains("encoding_format") && body["encoding_format"] != "float")
    return send_error(res, wire, bad("encoding_format: only \"float\" is supported"));
  if (body.contains("dimensions") && !body["dimensions"].is_null())
    return send_error(res, wire, bad("dimensions: not supported (the vectors have the model's hidden size)"));
  const std::string name = body["model"];
  auto model = require_model(s, res, wire, name);
  if (!model) return;
  int64_t n_tokens = 0;
  auto inputs = tokenize_inputs(*model, body.contains("input") ? body["input"] : json(), false, &n_tokens);
  if (!inputs) return send_error(res, wire, inputs.error());
  std::vector<std::vector<float>> vecs;
  if (!embed(*model, *inputs, wire, res, vecs)) return;
  json data = json::array();
  for (size_t i = 0; i < vecs.size(); ++i)
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", vecs[i]}});
  send_json(res, 200, {{"object", "list"},
                       {"data", data},
                       {"model", name},
                       {"usage", {{"prompt_tokens", n_tokens}, {"total_tokens", n_tokens}}}});
}

void handle_ollama(ServerState& s, const http::Request& req, http::Response& res, bool legacy) {
  const WireFormat wire = WireFormat::ollama;
  const auto t0 = Clock::now();
  json body;
  if (!parse_body(req, res, wire, body)) return;
  if (!body.is_object()) return send_error(res, wire, bad("the request body must be a JSON object"));
  if (!body.contains("model") || !body["model"].is_string()) return send_error(res, wire, bad("model is required"));
  std::optional<std::chrono::milliseconds> keep_alive;
  if (body.contains("keep_alive")) {
    auto ka = parse_keep_alive(body["keep_alive"]);
    if (!ka) return send_error(res, wire, ka.error());
    keep_alive = *ka;
  }
  if (body.contains("dimensions") && !body["dimensions"].is_null())
    return send_error(res, wire, bad("dimensions: not supported (the vectors have the model's hidden size)"));
  const std::string name = body["model"];
  auto model = require_model(s, res, wire, name, keep_alive);
  if (!model) return;
  const json input = legacy ? (body.contains("prompt") ? body["prompt"] : json()) : (body.contains("input") ? body["input"] : json());
  if (legacy && !input.is_string()) return send_error(res, wire, bad("prompt: expected a string"));
  const bool truncate = !body.contains("truncate") || !body["truncate"].is_boolean() || body["truncate"].get<bool>();
  int64_t n_tokens = 0;
  auto inputs = tokenize_inputs(*model, input, truncate, &n_tokens);
  if (!inputs) return send_error(res, wire, inputs.error());
  std::vector<std::vector<float>> vecs;
  if (!embed(*model, *inputs, wire, res, vecs)) return;
  if (legacy) return send_json(res, 200, {{"embedding", vecs[0]}});
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  send_json(res, 200, {{"model", name},
                       {"embeddings", vecs},
                       {"total_duration", static_cast<int64_t>(ms * 1e6)},
                       {"load_duration", 0},
                       {"prompt_eval_count", n_tokens}});
}

}  // namespace

void register_embedding_routes(ServerState& s) {
  s.router.add("POST", "/v1/embeddings", [&s](const http::Request& req, http::Response& res) { handle_openai(s, req, res); });
  s.router.add("POST", "/api/embed",
               [&s](const http::Request& req, http::Response& res) { handle_ollama(s, req, res, false); });
  s.router.add("POST", "/api/embeddings",
               [&s](const http::Request& req, http::Response& res) { handle_ollama(s, req, res, true); });
}

}  // namespace pensieve::server
