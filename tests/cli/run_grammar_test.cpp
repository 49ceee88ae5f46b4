// `pensieve run --json-schema / --grammar` on a real SentencePiece model (stories260K: byte
// fallback tokens, '▁' spaces): the output alone, and it parses and matches.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "cli/cli_test_util.h"

namespace pensieve::testing {
namespace {

class RunGrammar : public CliTest {
 protected:
  RunGrammar() : CliTest("run") {}
  std::string model() const { return fixtures_dir() + "/models/stories260K.gguf"; }
  static std::string trim_newline(std::string s) {
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }
};

TEST_F(RunGrammar, JsonSchemaFileGivesMatchingJson) {
  const auto schema = write("s.json", R"({"type":"object","properties":{"name":{"type":"string","maxLength":12},
      "age":{"type":"integer","minimum":1,"maximum":99},"pets":{"type":"array","items":{"enum":["cat","dog"]},"maxItems":3}},
      "required":["name","age","pets"],"additionalProperties":false})");
  for (const char* seed : {"1", "2", "3"}) {
    RunResult r = run({"-m", model(), "-p", "Once upon a time", "--json-schema", schema.string(), "--temp", "1", "-s", seed, "-n", "120", "-q"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto doc = nlohmann::json::parse(trim_newline(r.out), nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << r.out;
    EXPECT_TRUE(doc["name"].is_string() && doc["name"].get<std::string>().size() <= 12 * 4) << r.out;
    EXPECT_TRUE(doc["age"].is_number_integer() && doc["age"] >= 1 && doc["age"] <= 99) << r.out;
    EXPECT_TRUE(doc["pets"].is_array() && doc["pets"].size() <= 3) << r.out;
  }
}

TEST_F(RunGrammar, GrammarTextFileAndAlias) {
  const auto gbnf = write("g.gbnf", "root ::= \"The \" animal \" ran.\"\nanimal ::= \"cat\" | \"dog\" | \"fox\"\n");
  RunResult r = run({"-m", model(), "-p", "Once", "--grammar", gbnf.string(), "--temp", "1", "-s", "4", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_match(trim_newline(r.out), std::regex("The (cat|dog|fox) ran\\."))) << r.out;
  r = run({"-m", model(), "-p", "Once", "--grammar-file", gbnf.string(), "--temp", "0", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_match(trim_newline(r.out), std::regex("The (cat|dog|fox) ran\\."))) << r.out;
  // The grammar text itself, as llama.cpp's --grammar takes it.
  r = run({"-m", model(), "-p", "Once", "--grammar", "root ::= [0-9]{3}", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_match(trim_newline(r.out), std::regex("[0-9]{3}"))) << r.out;
}

TEST_F(RunGrammar, BadGrammarOrSchemaIsAUsageError) {
  const auto gbnf = write("bad.gbnf", "root ::= missing\n");
  RunResult r = run({"-m", model(), "-p", "x", "--grammar", gbnf.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'missing' is used but never defined"), std::string::npos) << r.err;
  const auto schema = write("bad.json", R"({"type":"array","contains":{"type":"string"}})");
  r = run({"-m", model(), "-p", "x", "--json-schema", schema.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'contains'"), std::string::npos) << r.err;
  r = run({"-m", model(), "-p", "x", "--json-schema", write("e.json", "{}").string(), "--grammar", gbnf.string()});
  EXPECT_NE(r.exit_code, 0);  // one or the other
}

}  // namespace
}  // namespace pensieve::testing
