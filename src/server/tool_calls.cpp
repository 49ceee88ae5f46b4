#include "server/tool_calls.h"

#include <algorithm>
#include <random>

#include "server/json_limits.h"

namespace pensieve::server {

namespace {

constexpr std::string_view kOpen = "<tool_call>";
constexpr std::string_view kClose = "</tool_call>";
constexpr std::string_view kPythonTag = "<|python_tag|>";

bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

// Length of the longest suffix of `s` that is a proper prefix of `tag`.
size_t partial_tag_suffix(std::string_view s, std::string_view tag) {
  size_t max = std::min(s.size(), tag.size() - 1);
  for (size_t n = max; n > 0; --n)
    if (s.substr(s.size() - n) == tag.substr(0, n)) return n;
  return 0;
}

}  // namespace

std::string random_id(std::string_view prefix) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string id(prefix);
  std::uniform_int_distribution<int> pick(0, sizeof(kAlphabet) - 2);
  for (int i = 0; i < 24; ++i) id += kAlphabet[pick(rng)];
  return id;
}

std::vector<std::string> tool_names(const nlohmann::json& tools) {
  std::vector<std::string> names;
  if (!tools.is_array()) return names;
  for (const auto& t : tools) {
    const auto& fn = t.contains("function") ? t["function"] : t;
    if (fn.contains("name") && fn["name"].is_string()) names.push_back(fn["name"]);
  }
  return names;
}

ToolCallParser::ToolCallParser(std::vector<std::string> tool_names, std::string id_prefix)
    : names_(std::move(tool_names)), id_prefix_(std::move(id_prefix)) {}

std::optional<ToolCall> ToolCallParser::parse_call(std::string_view json_text) const {
  auto parsed = parse_json_limited(trim(json_text), "a tool call");
  if (!parsed.ok()) return std::nullopt;
  const nlohmann::json& j = parsed.value();
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string()) return std::nullopt;
  std::string name = j["name"];
  if (std::find(names_.begin(), names_.end(), name) == names_.end()) return std::nullopt;
  nlohmann::json args = nlohmann::json::object();
  for (const char* key : {"arguments", "parameters"}) {
    if (!j.contains(key)) continue;
    args = j[key];
    if (args.is_string()) {  // some models emit the arguments as a JSON string
      auto inner = parse_json_limited(args.get<std::string>(), "tool call arguments");
      args = inner.ok() && inner->is_object() ? std::move(inner.value()) : nlohmann::json::object();
    }
    break;
  }
  if (!args.is_object()) return std::nullopt;
  return ToolCall{random_id(id_prefix_), std::move(name), std::move(args)};
}

void ToolCallParser::emit_text(std::string text, std::vector<ReplyEvent>& out) {
  if (text.empty()) return;
  // Whitespace is held back so that the newline(s) a model writes before a call are dropped.
  size_t end = text.size();
  while (end > 0 && is_ws(text[end - 1])) --end;
  if (end == 0) {
    pending_ws_ += text;
    return;
  }
  std::string body = pending_ws_ + text.substr(0, end);
  pending_ws_ = text.substr(end);
  if (!out.empty() && !out.back().is_call) {
    out.back().text += body;
    return;
  }
  out.push_back(ReplyEvent{false, std::move(body), {}});
}

void ToolCallParser::drain(std::vector<ReplyEvent>& out) {
  for (;;) {
    if (mode_ == Mode::start) {
      std::string_view t = trim(buf_);
      if (t.empty()) return;  // nothing decisive yet
      if (t.front() == '{' || t.rfind(kPythonTag, 0) == 0) {
        mode_ = Mode::json_reply;
        return;
      }
      if (t.size() < kPythonTag.size() && kPythonTag.substr(0, t.size()) == t) return;  // maybe the tag
      mode_ = Mode::text;
    }
    if (mode_ == Mode::json_reply) return;  // decided at finish()
    if (mode_ == Mode::text) {
      size_t at = buf_.find(kOpen);
      if (at == std::string::npos) {
        size_t keep = partial_tag_suffix(buf_, kOpen);
        emit_text(buf_.substr(0, buf_.size() - keep), out);
        buf_.erase(0, buf_.size() - keep);
        return;
      }
      emit_text(buf_.substr(0, at), out);
      buf_.erase(0, at + kOpen.size());
      mode_ = Mode::tagged_call;
    }
    if (mode_ == Mode::tagged_call) {
      size_t at = buf_.find(kClose);
      if (at == std::string::npos) return;
      std::string inner = buf_.substr(0, at);
      buf_.erase(0, at + kClose.size());
      mode_ = Mode::text;
      if (auto call = parse_call(inner)) {
        pending_ws_.clear();
        out.push_back(ReplyEvent{true, {}, std::move(*call)});
        ++n_calls_;
      } else {
        emit_text(std::string(kOpen) + inner + std::string(kClose), out);
      }
    }
  }
}

std::vector<ReplyEvent> ToolCallParser::push(std::string_view piece) {
  std::vector<ReplyEvent> out;
  buf_ += piece;
  drain(out);
  return out;
}

std::vector<ReplyEvent> ToolCallParser::finish() {
  std::vector<ReplyEvent> out;
  drain(out);
  if (mode_ == Mode::json_reply) {
    std::string_view body = trim(buf_);
    if (body.rfind(kPythonTag, 0) == 0) body = trim(body.substr(kPythonTag.size()));
    std::vector<ToolCall> calls;
    if (auto one = parse_call(body)) {
      calls.push_back(std::move(*one));
    } else {  // several calls separated by ';' or newlines
      size_t pos = 0;
      while (pos < body.size()) {
        size_t end = body.find_first_of(";\n", pos);
        if (end == std::string_view::npos) end = body.size();
        std::string_view part = trim(body.substr(pos, end - pos));
        pos = end + 1;
        if (part.empty()) continue;
        auto call = parse_call(part);
        if (!call) {
          calls.clear();
          break;
        }
        calls.push_back(std::move(*call));
      }
    }
    if (calls.empty()) {
      emit_text(buf_, out);
    } else {
      for (auto& c : calls) out.push_back(ReplyEvent{true, {}, std::move(c)});
      n_calls_ += static_cast<int>(calls.size());
    }
  } else if (mode_ == Mode::tagged_call) {  // unterminated: accept it if the JSON is complete
    if (auto call = parse_call(buf_)) {
      out.push_back(ReplyEvent{true, {}, std::move(*call)});
      ++n_calls_;
    } else {
      emit_text(std::string(kOpen) + buf_, out);
    }
  } else {
    emit_text(buf_, out);
  }
  buf_.clear();
  if (n_calls_ == 0 && !pending_ws_.empty()) {
    // Plain text reply: its trailing whitespace is part of the answer.
    if (!out.empty()) out.back().text += pending_ws_;
    else out.push_back(ReplyEvent{false, pending_ws_, {}});
  }
  pending_ws_.clear();
  mode_ = Mode::text;
  return out;
}

ParsedReply parse_reply(std::string_view text, const std::vector<std::string>& names,
                        std::string_view id_prefix) {
  ToolCallParser parser(names, std::string(id_prefix));
  ParsedReply reply;
  auto take = [&](std::vector<ReplyEvent> events) {
    for (auto& e : events) {
      if (e.is_call) reply.calls.push_back(std::move(e.call));
      else reply.text += e.text;
    }
  };
  take(parser.push(text));
  take(parser.finish());
  return reply;
}

}  // namespace pensieve::server
