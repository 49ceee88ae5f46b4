// `pensieve bench` like llama-bench: -p/-n/-t lists give one row per test and thread count,
// -o md is an aligned Markdown table with size and params, csv/json/jsonl carry the same rows;
// a malformed list is a usage error; --parallel still works.
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_test_util.h"

namespace pensieve::testing {
namespace {

class BenchCli : public CliTest {
 protected:
  BenchCli() : CliTest("bench") {}
  std::string model() { return fixtures_dir() + "/models/stories260K.gguf"; }
};

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

size_t display_width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

TEST_F(BenchCli, ListsGiveOneRowPerTestAndThreadCount) {
  PS_REQUIRE_FIXTURES();
  const RunResult r = run({"-m", model(), "-p", "16,32", "-n", "4,8", "-t", "1,2", "-r", "1", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json rows = nlohmann::json::parse(r.out);
  ASSERT_EQ(rows.size(), 8u) << r.out;  // (pp16 pp32 tg4 tg8) x (1, 2 threads)
  std::set<std::pair<int, std::string>> seen;
  for (const auto& row : rows) {
    seen.insert({row["n_threads"].get<int>(), row["test"].get<std::string>()});
    EXPECT_EQ(row["model_size"].get<int64_t>(), static_cast<int64_t>(std::filesystem::file_size(model())));
    EXPECT_GT(row["model_n_params"].get<int64_t>(), 200000);
    EXPECT_GT(row["avg_ts"].get<double>(), 0);
    EXPECT_EQ(row["samples_ts"].size(), 1u);
  }
  const std::set<std::pair<int, std::string>> want = {{1, "pp16"}, {1, "pp32"}, {1, "tg4"}, {1, "tg8"},
                                                      {2, "pp16"}, {2, "pp32"}, {2, "tg4"}, {2, "tg8"}};
  EXPECT_EQ(seen, want);
  // the case from the issue: a list for -p is not a number of 300 digits any more
  const RunResult issue = run({"-m", model(), "-p", "64,128", "-n", "0", "-r", "1", "-o", "jsonl"});
  ASSERT_EQ(issue.exit_code, 0) << issue.err;
  EXPECT_EQ(lines_of(issue.out).size(), 2u) << issue.out;
}

TEST_F(BenchCli, MarkdownTableIsAligned) {
  PS_REQUIRE_FIXTURES();
  const RunResult r = run({"-m", model(), "-p", "8,128", "-n", "4", "-t", "1", "-r", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = lines_of(r.out);
  ASSERT_GE(lines.size(), 5u) << r.out;
  EXPECT_EQ(lines[0].rfind("| model ", 0), 0u) << lines[0];
  for (const char* col : {" size ", " params ", " threads ", " test ", " t/s "})
    EXPECT_NE(lines[0].find(col), std::string::npos) << col << " in " << lines[0];
  for (size_t i = 1; i < 5; ++i) {
    EXPECT_EQ(display_width(lines[i]), display_width(lines[0])) << "row " << i << ":\n" << r.out;
  }
  EXPECT_NE(lines[2].find(" 1.13 MiB "), std::string::npos) << lines[2];
  EXPECT_NE(lines[2].find(" pp8 "), std::string::npos) << lines[2];
  EXPECT_NE(lines[3].find(" pp128 "), std::string::npos) << lines[3];
  EXPECT_NE(lines[4].find(" tg4 "), std::string::npos) << lines[4];
}

TEST_F(BenchCli, CsvAndJsonlCarryTheSameRows) {
  PS_REQUIRE_FIXTURES();
  const RunResult csv = run({"-m", model(), "-p", "16", "-n", "4", "-t", "1", "-r", "1", "-o", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  const auto rows = lines_of(csv.out);
  ASSERT_EQ(rows.size(), 3u) << csv.out;
  EXPECT_EQ(rows[0].rfind("model_filename,model_type,model_size,model_n_params,device,n_threads,test,", 0), 0u);
  EXPECT_NE(rows[1].find(",1,pp16,16,0,1,"), std::string::npos) << rows[1];
  EXPECT_NE(rows[2].find(",1,tg4,0,4,1,"), std::string::npos) << rows[2];
  const RunResult jsonl = run({"-m", model(), "-p", "16", "-n", "4", "-t", "1", "-r", "1", "--json"});
  ASSERT_EQ(jsonl.exit_code, 0) << jsonl.err;
  const auto objs = lines_of(jsonl.out);
  ASSERT_EQ(objs.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(objs[0])["test"], "pp16");
  EXPECT_EQ(nlohmann::json::parse(objs[1])["n_gen"], 4);
}

TEST_F(BenchCli, BadListsAndParallel) {
  PS_REQUIRE_FIXTURES();
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"-p", "64,x"}, {"-n", "1,,2"}, {"-t", "1,x"}, {"-p", "-5"}, {"-o", "xml"}}) {
    std::vector<std::string> a = {"-m", model()};
    a.insert(a.end(), args.begin(), args.end());
    const RunResult r = run(a);
    EXPECT_EQ(r.exit_code, 2) << args[0] << " " << args[1] << ": " << r.err;
    EXPECT_EQ(r.out, "");
  }
  const RunResult p = run({"-m", model(), "-p", "64,x"});
  EXPECT_EQ(p.err, "pensieve bench: -p takes a comma-separated list of counts (e.g. 128,512), not '64,x'\n");
  const RunResult par = run({"-m", model(), "--parallel", "1,2", "-p", "8", "-n", "4", "-r", "1", "-o", "jsonl"});
  ASSERT_EQ(par.exit_code, 0) << par.err;
  const auto objs = lines_of(par.out);
  ASSERT_EQ(objs.size(), 2u) << par.out;
  EXPECT_EQ(nlohmann::json::parse(objs[1])["n_parallel"], 2);
  EXPECT_GT(nlohmann::json::parse(objs[1])["avg_pp_ts"].get<double>(), 0);
}

}  // namespace
}  // namespace pensieve::testing
