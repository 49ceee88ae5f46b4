#include "server/structured_output.h"

#include <list>
#include <mutex>
#include <unordered_map>

#include "grammar/json_schema.h"

namespace pensieve::server {

using nlohmann::json;

namespace {

using GrammarPtr = std::shared_ptr<const grammar::Grammar>;

// Compiled grammars by their source (GBNF text, or a key naming schema + syntax), least
// recently used first out. Errors are not cached.
class GrammarCache {
 public:
  Result<GrammarPtr> get(const std::string& key, const std::function<Result<GrammarPtr>()>& build) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = index_.find(key);
      if (it != index_.end()) {
        order_.splice(order_.end(), order_, it->second);
        return it->second->second;
      }
    }
    auto g = build();  // outside the lock: compiling a big tool set takes milliseconds
    if (!g.ok()) return g;
    std::lock_guard<std::mutex> lock(mu_);
    if (index_.count(key)) return index_[key]->second;
    order_.emplace_back(key, *g);
    index_[key] = std::prev(order_.end());
    if (order_.size() > kEntries) {
      index_.erase(order_.front().first);
      order_.pop_front();
    }
    return *g;
  }

 private:
  static constexpr size_t kEntries = 64;
  std::mutex mu_;
  std::list<std::pair<std::string, GrammarPtr>> order_;
  std::unordered_map<std::string, std::list<std::pair<std::string, GrammarPtr>>::iterator> index_;
};

GrammarCache& cache() {
  static GrammarCache c;
  return c;
}

Error bad(const std::string& m) { return make_error(ErrorKind::invalid_request, m); }

Result<GrammarPtr> compile_text(const std::string& gbnf, const std::string& what) {
  auto g = grammar::parse_gbnf(gbnf);
  if (!g.ok()) return bad(what + ": " + g.error().message);
  return *g;
}

// One call per alternative: the syntax's opening, the name, the arguments under the tool's
// schema, the closing. Non-strict tools whose schema cannot be converted get any JSON object
// as arguments (the call still parses); strict ones are an error.
Result<std::string> tool_calls_gbnf(ToolCallSyntax syntax, const ChatRequest& r, bool only_named) {
  grammar::GbnfBuilder b;
  std::string calls;
  for (size_t i = 0; i < r.tools.size(); ++i) {
    const json& fn = r.tools[i]["function"];
    const std::string name = fn.value("name", "");
    if (only_named && name != r.tool_choice_name) continue;
    const json& schema = fn.contains("parameters") ? fn["parameters"] : json{{"type", "object"}};
    grammar::SchemaConverter conv(b, schema, "t" + std::to_string(i) + "-");
    auto args = conv.convert(schema, "tools[" + std::to_string(i) + "] (" + name + ") schema");
    std::string args_rule;
    if (args.ok()) {
      args_rule = *args;
    } else if (i < r.tool_strict.size() && r.tool_strict[i]) {
      return args.error();
    } else {
      args_rule = b.primitive("object");
    }
    // {"name": "X", "arguments": {...}} with the model's choice of a space after ':' and ','.
    const std::string quoted = json(name).dump(-1, ' ', false, json::error_handler_t::replace);
    const std::string key = syntax == ToolCallSyntax::hermes ? "\"arguments\":" : "\"parameters\":";
    calls += (calls.empty() ? "" : " | ") + std::string("\"{\\\"name\\\":\" \" \"? ") + grammar::gbnf_literal(quoted + ",") +
             " \" \"? " + grammar::gbnf_literal(key) + " \" \"? " + args_rule + " \"}\"";
  }
  if (calls.empty()) return bad("tool_choice: no tool named '" + r.tool_choice_name + "' in tools");
  std::string root = syntax == ToolCallSyntax::hermes ? "root ::= \"<tool_call>\" \"\\n\"? ( " + calls + " ) \"\\n\"? \"</tool_call>\"\n"
                                                      : "root ::= ( " + calls + " )\n";
  return root + b.text();
}

}  // namespace

ToolCallSyntax tool_call_syntax(const std::string& tmpl) {
  if (tmpl.find("<tool_call>") != std::string::npos) return ToolCallSyntax::hermes;
  if (tmpl.find("<|python_tag|>") != std::string::npos || tmpl.find("ipython") != std::string::npos)
    return ToolCallSyntax::llama_json;
  return ToolCallSyntax::hermes;
}

Status attach_grammar(ToolCallSyntax syntax, ChatRequest& r) {
  if (!r.grammar.empty() && r.response_schema) return bad("grammar: not together with a JSON schema");
  if (!r.grammar.empty()) {
    auto g = cache().get("gbnf\n" + r.grammar, [&] { return compile_text(r.grammar, "grammar"); });
    if (!g.ok()) return g.error();
    r.options.grammar = *g;
    return ok_status();
  }
  if (r.response_schema) {
    const json& schema = *r.response_schema;
    auto g = cache().get("schema\n" + schema.dump(), [&]() -> Result<GrammarPtr> {
      auto c = grammar::compile_json_schema(schema);
      if (!c.ok()) return bad("response schema: " + c.error().message);
      return *c;
    });
    if (!g.ok()) return g.error();
    r.options.grammar = *g;
    return ok_status();
  }
  if (r.raw_prompt || r.tool_choice == ToolChoice::none || !r.tools.is_array() || r.tools.empty()) return ok_status();
  const bool forced = r.tool_choice == ToolChoice::any || r.tool_choice == ToolChoice::tool;
  const bool named = r.tool_choice == ToolChoice::tool;
  std::string key = std::string("tools\n") + (syntax == ToolCallSyntax::hermes ? "hermes" : "llama") + "\n" +
                    (named ? r.tool_choice_name : "") + "\n" + r.tools.dump();
  for (bool strict : r.tool_strict) key += strict ? '1' : '0';
  auto g = cache().get(key, [&]() -> Result<GrammarPtr> {
    auto text = tool_calls_gbnf(syntax, r, named);
    if (!text.ok()) return text.error();
    return compile_text(*text, "tools");
  });
  if (!g.ok()) return g.error();
  r.options.grammar = *g;
  if (!forced) {
    r.options.grammar_triggers = syntax == ToolCallSyntax::hermes ? std::vector<std::string>{"<tool_call>"}
                                                                   : std::vector<std::string>{"{\"name\""};
  }
  return ok_status();
}

}  // namespace pensieve::server
