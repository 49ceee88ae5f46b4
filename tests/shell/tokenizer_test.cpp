#include <gtest/gtest.h>

#include "shell/tokenizer.h"

namespace pensieve::shell {
namespace {

std::vector<std::string> words_of(const Script& s, size_t pipeline = 0, size_t command = 0) {
  return s.pipelines.at(pipeline).commands.at(command).words;
}

using W = std::vector<std::string>;

TEST(ShellTokenizer, PlainWordsAndWhitespace) {
  auto s = tokenize("  ls   -la\t/tmp  ");
  ASSERT_TRUE(s.ok);
  ASSERT_EQ(s.pipelines.size(), 1u);
  EXPECT_EQ(words_of(s), (W{"ls", "-la", "/tmp"}));
}

TEST(ShellTokenizer, SingleQuotesKeepEverythingLiteral) {
  auto s = tokenize("echo 'a b' '$HOME' 'x\\y' 'a;b|c'");
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(words_of(s), (W{"echo", "a b", "$HOME", "x\\y", "a;b|c"}));
  EXPECT_EQ(s.pipelines.size(), 1u);
}

TEST(ShellTokenizer, DoubleQuotesAndEscapes) {
  auto s = tokenize(R"(echo "a \"b\" c" "back\\slash" "\$x" "it's")");
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(words_of(s), (W{"echo", "a \"b\" c", "back\\slash", "$x", "it's"}));
}

TEST(ShellTokenizer, AdjacentQuotedPartsFormOneWord) {
  auto s = tokenize(R"(r"m" -r'f' /"et"c)");
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(words_of(s), (W{"rm", "-rf", "/etc"}));
}

TEST(ShellTokenizer, BackslashOutsideQuotes) {
  auto s = tokenize(R"(\rm my\ file a\;b)");
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(words_of(s), (W{"rm", "my file", "a;b"}));
  EXPECT_EQ(s.pipelines.size(), 1u);
}

TEST(ShellTokenizer, LineContinuation) {
  auto s = tokenize("ls \\\n  -l");
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(words_of(s), (W{"ls", "-l"}));
}

TEST(ShellTokenizer, PipesAndLists) {
  auto s = tokenize("a | b |& c; d && e || f & g");
  ASSERT_TRUE(s.ok);
  ASSERT_EQ(s.pipelines.size(), 5u);
  EXPECT_EQ(s.pipelines[0].commands.size(), 3u);
  EXPECT_EQ(s.pipelines[0].next, ";");
  EXPECT_EQ(s.pipelines[1].next, "&&");
  EXPECT_EQ(s.pipelines[2].next, "||");
  EXPECT_EQ(s.pipelines[3].next, "&");
  EXPECT_EQ(s.pipelines[4].next, "");
  EXPECT_EQ(words_of(s, 4), (W{"g"}));
}

TEST(ShellTokenizer, NewlinesSeparateCommands) {
  auto s = tokenize("cd src\nls\n\nmake");
  ASSERT_TRUE(s.ok);
  ASSERT_EQ(s.pipelines.size(), 3u);
  EXPECT_EQ(words_of(s, 2), (W{"make"}));
}

TEST(ShellTokenizer, Redirections) {
  auto s = tokenize("cmd >out.txt 2>>err.log <in &>all 2>&1 >| forced <<< 'here str'");
  ASSERT_TRUE(s.ok);
  const auto& c = s.pipelines[0].commands[0];
  EXPECT_EQ(c.words, (W{"cmd"}));
  ASSERT_EQ(c.redirections.size(), 7u);
  EXPECT_EQ(c.redirections[0].op, ">");
  EXPECT_EQ(c.redirections[0].target, "out.txt");
  EXPECT_EQ(c.redirections[1].fd, "2");
  EXPECT_EQ(c.redirections[1].op, ">>");
  EXPECT_EQ(c.redirections[2].op, "<");
  EXPECT_EQ(c.redirections[3].fd, "&");
  EXPECT_EQ(c.redirections[3].op, ">");
  EXPECT_EQ(c.redirections[3].target, "all");
  EXPECT_EQ(c.redirections[4].op, ">&");
  EXPECT_EQ(c.redirections[4].target, "1");
  EXPECT_EQ(c.redirections[5].op, ">|");
  EXPECT_EQ(c.redirections[6].op, "<<<");
  EXPECT_EQ(c.redirections[6].target, "here str");
}

TEST(ShellTokenizer, DigitsInsideAWordAreNotADescriptor) {
  auto s = tokenize("echo abc2>x");
  ASSERT_TRUE(s.ok);
  const auto& c = s.pipelines[0].commands[0];
  EXPECT_EQ(c.words, (W{"echo", "abc2"}));
  ASSERT_EQ(c.redirections.size(), 1u);
  EXPECT_EQ(c.redirections[0].fd, "");
}

TEST(ShellTokenizer, CommandSubstitutionIsCollectedAndNested) {
  auto s = tokenize("echo $(ls $(pwd)) `date` \"$(whoami)\"");
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(words_of(s), (W{"echo", "$(ls $(pwd))", "`date`", "$(whoami)"}));
  ASSERT_EQ(s.substitutions.size(), 3u);
  EXPECT_EQ(s.substitutions[0], "ls $(pwd)");
  EXPECT_EQ(s.substitutions[1], "date");
  EXPECT_EQ(s.substitutions[2], "whoami");
  auto inner = tokenize(s.substitutions[0]);
  ASSERT_EQ(inner.substitutions.size(), 1u);
  EXPECT_EQ(inner.substitutions[0], "pwd");
}

TEST(ShellTokenizer, SubstitutionWithQuotesAndParens) {
  auto s = tokenize("echo $(echo ')' \"(\" | tr a b)");
  ASSERT_TRUE(s.ok);
  ASSERT_EQ(s.substitutions.size(), 1u);
  EXPECT_EQ(s.substitutions[0], "echo ')' \"(\" | tr a b");
}

TEST(ShellTokenizer, ProcessSubstitution) {
  auto s = tokenize("diff <(sort a) <(sort b)");
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.substitutions, (W{"sort a", "sort b"}));
}

TEST(ShellTokenizer, ArithmeticIsNotACommand) {
  auto s = tokenize("echo $((1 + 2))");
  ASSERT_TRUE(s.ok);
  EXPECT_TRUE(s.substitutions.empty());
  EXPECT_EQ(words_of(s), (W{"echo", "$((1 + 2))"}));
}

TEST(ShellTokenizer, ParameterExpansionStaysInTheWord) {
  auto s = tokenize("rm -rf \"${HOME}\"/x $DIR/*");
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(words_of(s), (W{"rm", "-rf", "${HOME}/x", "$DIR/*"}));
}

TEST(ShellTokenizer, SubshellsFlattenWithDepth) {
  auto s = tokenize("(cd /tmp && ls) ; echo done");
  ASSERT_TRUE(s.ok);
  ASSERT_EQ(s.pipelines.size(), 3u);
  EXPECT_EQ(words_of(s, 0), (W{"cd", "/tmp"}));
  EXPECT_EQ(s.pipelines[0].commands[0].subshell_depth, 1);
  EXPECT_EQ(s.pipelines[2].commands[0].subshell_depth, 0);
}

TEST(ShellTokenizer, FunctionDefinitionNamesAreRecorded) {
  auto s = tokenize(":(){ :|:& };:");
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.function_names, (W{":"}));
}

TEST(ShellTokenizer, CommentsAreSkipped) {
  auto s = tokenize("ls # rm -rf /");
  ASSERT_TRUE(s.ok);
  ASSERT_EQ(s.pipelines.size(), 1u);
  EXPECT_EQ(words_of(s), (W{"ls"}));
  auto t = tokenize("echo a#b");
  EXPECT_EQ(words_of(t), (W{"echo", "a#b"}));
}

TEST(ShellTokenizer, HereDocumentBodyIsNotCommands) {
  auto s = tokenize("cat <<EOF > notes.txt\nrm -rf /\nEOF\nls");
  ASSERT_TRUE(s.ok) << s.error;
  ASSERT_EQ(s.pipelines.size(), 2u);
  EXPECT_EQ(words_of(s, 1), (W{"ls"}));
}

struct BadLine {
  const char* line;
  const char* error;
};

TEST(ShellTokenizer, SyntaxErrorsSayWhy) {
  const BadLine cases[] = {
      {"echo 'abc", "single quote"},
      {"echo \"abc", "double quote"},
      {"echo `date", "backtick"},
      {"echo $(date", "$("},
      {"echo ${HOME", "${"},
      {"(ls", "subshell"},
      {"ls)", "')'"},
      {"ls >", "no target"},
      {"| sh", "no command before"},
      {"ls |", "no command after"},
      {"cat <<EOF\nabc", "here-document"},
  };
  for (const auto& c : cases) {
    auto s = tokenize(c.line);
    EXPECT_FALSE(s.ok) << c.line;
    EXPECT_NE(s.error.find(c.error), std::string::npos) << c.line << " -> " << s.error;
  }
}

TEST(ShellTokenizer, PartialResultSurvivesAnError) {
  auto s = tokenize("rm -rf / 'unterminated");
  EXPECT_FALSE(s.ok);
  ASSERT_EQ(s.pipelines.size(), 1u);
  EXPECT_EQ(words_of(s), (W{"rm", "-rf", "/"}));
}

TEST(ShellTokenizer, MatchingParen) {
  EXPECT_EQ(matching_paren("(a(b)c)", 0), 6u);
  EXPECT_EQ(matching_paren("(a ')' b)", 0), 8u);
  EXPECT_EQ(matching_paren("(a", 0), std::string_view::npos);
}

}  // namespace
}  // namespace pensieve::shell
