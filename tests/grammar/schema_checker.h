// Test helper: a schema compiled to an automaton, asked whether it accepts whole documents.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>

#include "grammar/automaton.h"
#include "grammar/json_schema.h"

namespace pensieve::grammar {

struct Checker {
  explicit Checker(const nlohmann::json& schema) {
    auto g = compile_json_schema(schema);
    auto text = json_schema_to_gbnf(schema);
    EXPECT_TRUE(g.ok()) << (g.ok() ? "" : g.error().message) << "\n" << (text.ok() ? *text : "");
    if (g.ok()) a = std::make_unique<Automaton>(*g);
  }
  bool operator()(std::string_view s) const {
    if (!a) return false;
    StateId st = a->advance(a->initial(), s);
    return st != kDead && a->accepting(st);
  }
  std::unique_ptr<Automaton> a;
};

inline std::string error_of(const nlohmann::json& schema) {
  auto g = compile_json_schema(schema);
  return g.ok() ? std::string("ok") : g.error().message;
}

}  // namespace pensieve::grammar
