#include "text/chat_template.h"

#include <new>

#include "text/jinja_ast.h"
#include "text/jinja_render.h"

namespace pensieve::text {

namespace jj = jinja;

struct ChatTemplate::Impl {
  std::string source;
  std::shared_ptr<const jj::Template> tmpl;
  bool supports_system = true;
};

namespace {

Error template_error(const std::string& what) { return make_error(ErrorKind::invalid_request, "chat template: " + what); }

std::vector<std::pair<std::string, jj::Value>> make_globals(const ChatTemplateInputs& in) {
  std::vector<std::pair<std::string, jj::Value>> g;
  g.emplace_back("messages", in.messages_ordered.is_null() ? jj::from_json(in.messages) : jj::from_json(in.messages_ordered));
  // Absent tools stay undefined (templates test `tools is defined` or iterate `tools`).
  if (!in.tools_ordered.is_null()) {
    g.emplace_back("tools", jj::from_json(in.tools_ordered));
  } else if (!in.tools.is_null()) {
    g.emplace_back("tools", jj::from_json(in.tools));
  }
  g.emplace_back("add_generation_prompt", jj::Value::boolean(in.add_generation_prompt));
  g.emplace_back("bos_token", jj::Value::string(in.bos_token));
  g.emplace_back("eos_token", jj::Value::string(in.eos_token));
  if (in.extra.is_object())
    for (auto it = in.extra.begin(); it != in.extra.end(); ++it) g.emplace_back(it.key(), jj::from_json(it.value()));
  return g;
}

Result<std::string> render_template(const jj::Template& tmpl, const ChatTemplateInputs& in) {
  try {
    jj::Renderer r(tmpl, make_globals(in), in.date);
    return r.render();
  } catch (const jj::JinjaError& e) {
    return template_error(e.what());
  } catch (const std::bad_alloc&) {
    return make_error(ErrorKind::resource_exhausted, "chat template: out of memory while rendering");
  } catch (const std::exception& e) {
    return make_error(ErrorKind::internal, std::string("chat template: ") + e.what());
  }
}

// llama.cpp's probe: does a system message's text reach the output without an error?
bool probe_system_support(const jj::Template& tmpl) {
  static constexpr const char* kNeedle = "<System Needle 7f3a>";
  ChatTemplateInputs probe;
  probe.messages = nlohmann::json::array({{{"role", "system"}, {"content", kNeedle}}, {{"role", "user"}, {"content", "Hey"}}});
  probe.add_generation_prompt = false;
  auto r = render_template(tmpl, probe);
  return r.ok() && r->find(kNeedle) != std::string::npos;
}

// Folds every system message into the next user message (system + "\n" + user), as llama.cpp
// does for templates without a system role; a trailing system text becomes a user turn.
template <class Json>
Json merge_system(const Json& messages) {
  if (!messages.is_array()) return messages;
  Json out = Json::array();
  std::string pending;
  bool have_pending = false;
  for (const Json& m : messages) {
    bool is_obj = m.is_object() && m.contains("role") && m.contains("content") && m["content"].is_string();
    if (is_obj && m["role"] == "system") {
      pending += (have_pending ? "\n" : "") + m["content"].template get<std::string>();
      have_pending = true;
      continue;
    }
    Json copy = m;
    if (have_pending && is_obj && m["role"] == "user") {
      std::string content = m["content"].template get<std::string>();
      copy["content"] = content.empty() ? pending : pending + "\n" + content;
      have_pending = false;
      pending.clear();
    }
    out.push_back(std::move(copy));
  }
  if (have_pending) out.push_back(Json{{"role", "user"}, {"content", pending}});
  return out;
}

}  // namespace

ChatTemplate::ChatTemplate() = default;
ChatTemplate::~ChatTemplate() = default;
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;
ChatTemplate::ChatTemplate(const ChatTemplate&) = default;
ChatTemplate& ChatTemplate::operator=(const ChatTemplate&) = default;

Result<ChatTemplate> ChatTemplate::parse(std::string_view source) {
  auto impl = std::make_shared<Impl>();
  impl->source = std::string(source);
  try {
    impl->tmpl = jj::parse_template(source);
  } catch (const jj::JinjaError& e) {
    return template_error(e.what());
  } catch (const std::bad_alloc&) {
    return make_error(ErrorKind::resource_exhausted, "chat template: out of memory while parsing");
  }
  impl->supports_system = probe_system_support(*impl->tmpl);
  ChatTemplate t;
  t.impl_ = std::move(impl);
  return t;
}

Result<std::string> ChatTemplate::render(const ChatTemplateInputs& inputs) const {
  if (!impl_) return template_error("no template loaded");
  return render_template(*impl_->tmpl, inputs);
}

bool ChatTemplate::supports_system_role() const { return impl_ && impl_->supports_system; }

Result<std::string> ChatTemplate::render_for_prompt(const ChatTemplateInputs& inputs) const {
  if (!impl_) return template_error("no template loaded");
  Result<std::string> out = [&]() -> Result<std::string> {
    if (impl_->supports_system) return render_template(*impl_->tmpl, inputs);
    ChatTemplateInputs merged = inputs;
    if (!inputs.messages_ordered.is_null()) {
      merged.messages_ordered = merge_system(inputs.messages_ordered);
    } else {
      merged.messages = merge_system(inputs.messages);
    }
    return render_template(*impl_->tmpl, merged);
  }();
  if (!out.ok()) return out;
  std::string& s = out.value();
  const std::string& bos = inputs.bos_token;
  const std::string& eos = inputs.eos_token;
  if (!bos.empty() && s.compare(0, bos.size(), bos) == 0) s.erase(0, bos.size());
  if (!eos.empty() && s.size() >= eos.size() && s.compare(s.size() - eos.size(), eos.size(), eos) == 0)
    s.erase(s.size() - eos.size());
  return out;
}

const std::string& ChatTemplate::source() const {
  static const std::string empty;
  return impl_ ? impl_->source : empty;
}

nlohmann::json fold_system_messages(const nlohmann::json& messages) { return merge_system(messages); }

std::string_view chatml_template() {
  return "{%- for message in messages %}"
         "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
         "{%- endfor %}"
         "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";
}

}  // namespace pensieve::text
