// Constrained decoding for the APIs: turns a ChatRequest's structured-output fields and tools
// into the grammar the engine samples under (engine::GenerateOptions::grammar).
//  - `grammar` (GBNF) or a response schema: the whole reply.
//  - tool_choice any / a named tool: the reply is one call in the model's own tool-call
//    syntax, its arguments constrained to the tool's schema.
//  - tool_choice auto with tools: free text, but once the model starts a call (the syntax's
//    opening text) the call is constrained until it is complete (a lazy grammar).
//  - tool_choice none: no calls (prompt.cpp hides the tools; nothing is constrained).
// Compiled grammars are cached per distinct schema / tool set, so a repeated request reuses
// the same Grammar object and with it the engine's token tables.
#pragma once

#include "server/chat_request.h"

namespace pensieve::server {

enum class ToolCallSyntax { hermes, llama_json };

// Which syntax a chat template's model writes its calls in (Qwen2.5/Qwen3/Hermes: <tool_call>
// tags; Llama 3.1+: a bare JSON object).
ToolCallSyntax tool_call_syntax(const std::string& chat_template_source);

// Sets request.options.grammar (and grammar_triggers); an invalid_request error for a bad
// grammar or an unsupported schema keyword.
Status attach_grammar(ToolCallSyntax syntax, ChatRequest& request);

}  // namespace pensieve::server
