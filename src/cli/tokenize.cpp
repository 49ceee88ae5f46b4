// pensieve tokenize MODEL.gguf [TEXT | --file PATH | --file - | (stdin)] [--ids] [--add-special] [--parse-special]
// Loads only the tokenizer of a GGUF (no weights) and prints the tokens of the text. llama-tokenize's
// spellings work too: -m MODEL, -p TEXT, -f FILE, --stdin.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <unistd.h>
#include <sstream>
#include <string>

#include "cli/command.h"
#include "gguf/gguf.h"
#include "text/tokenizer.h"
#include "text/unicode.h"

namespace pensieve::cli {

namespace {

constexpr const char* kUsage =
    "usage: pensieve tokenize MODEL.gguf [TEXT | --file PATH] [--ids] [--add-special] [--parse-special]\n"
    "       (no TEXT, --file - or --stdin: the text is read from stdin)\n";

struct TokenizeArgs {
  std::string model;
  std::string text;
  std::string file;
  bool ids = false;
  bool add_special = false;
  bool parse_special = false;
};

bool read_all(const std::string& path, std::string& out) {
  if (path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    out = ss.str();
    return !std::cin.bad();
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  out = ss.str();
  return !f.bad();
}

// A piece in double quotes: \" \\ \n \t \r and \u00XX for other control characters, and \xNN for
// bytes that are not valid UTF-8 on their own (byte-fallback tokens, partial characters).
std::string quote(std::string_view piece) {
  std::string out = "\"";
  for (size_t pos = 0; pos < piece.size();) {
    uint32_t cpt = 0;
    bool valid = false;
    const size_t len = text::unicode::decode_utf8(piece, pos, cpt, valid);
    char buf[8];
    if (!valid) {
      for (size_t i = 0; i < len; ++i) {
        std::snprintf(buf, sizeof(buf), "\\x%02X", static_cast<unsigned char>(piece[pos + i]));
        out += buf;
      }
    } else if (cpt == '"' || cpt == '\\') {
      out += '\\';
      out += static_cast<char>(cpt);
    } else if (cpt == '\n') {
      out += "\\n";
    } else if (cpt == '\t') {
      out += "\\t";
    } else if (cpt == '\r') {
      out += "\\r";
    } else if (cpt < 0x20 || cpt == 0x7F) {
      std::snprintf(buf, sizeof(buf), "\\u%04X", cpt);
      out += buf;
    } else {
      out.append(piece.substr(pos, len));
    }
    pos += len;
  }
  return out + "\"";
}

}  // namespace

int run_tokenize(int argc, char** argv) {
  TokenizeArgs a;
  CLI::App app{"Print the tokens of a text under a model's tokenizer (only the vocabulary is loaded)"};
  auto* model_pos = app.add_option("model", a.model, "GGUF model or vocab-only file");
  auto* model_opt = app.add_option("-m,--model", a.model, "the model, as llama-tokenize takes it");
  model_pos->excludes(model_opt);
  auto* text_opt = app.add_option("text", a.text, "text to tokenize (none: read stdin)");
  auto* prompt_opt = app.add_option("-p,--prompt", a.text, "the text, as llama-tokenize takes it");
  auto* file_opt = app.add_option("-f,--file", a.file, "read the text from this file, byte for byte ('-': stdin)");
  bool from_stdin = false;
  auto* stdin_opt = app.add_flag("--stdin", from_stdin, "read the text from stdin (as llama-tokenize)");
  text_opt->excludes(file_opt)->excludes(prompt_opt)->excludes(stdin_opt);
  prompt_opt->excludes(file_opt)->excludes(stdin_opt);
  file_opt->excludes(stdin_opt);
  app.add_flag("--ids", a.ids, "print only the ids, space-separated on one line");
  app.add_flag("--add-special", a.add_special, "add BOS/EOS as the model's metadata says");
  app.add_flag("--parse-special", a.parse_special, "text spelling a special token (e.g. <|im_end|>) becomes that token");
  if (auto code = parse_or_usage(app, argc, argv, kUsage)) return *code;
  if (a.model.empty()) {
    std::fputs(kUsage, stderr);
    std::fputs("pensieve tokenize: a model is required (MODEL.gguf or -m MODEL.gguf)\n", stderr);
    return 2;
  }
  if (text_opt->count() == 0 && prompt_opt->count() == 0 && file_opt->count() == 0) {
    a.file = "-";  // no text given: stdin, as `cat` would
    if (!from_stdin && isatty(STDIN_FILENO))
      std::fputs("pensieve tokenize: reading the text from the terminal (Ctrl-D ends it)\n", stderr);
  }
  if (!a.file.empty() && !read_all(a.file, a.text)) {
    std::fprintf(stderr, "pensieve tokenize: cannot read %s\n", a.file.c_str());
    return 1;
  }

  auto file = GgufFile::open(a.model);
  if (!file.ok()) {
    std::fprintf(stderr, "pensieve tokenize: %s\n", file.error().message.c_str());
    return 1;
  }
  auto tok = text::Tokenizer::from_gguf(**file);
  if (!tok.ok()) {
    std::fprintf(stderr, "pensieve tokenize: %s\n", tok.error().message.c_str());
    return 1;
  }
  const auto ids = (*tok)->encode(a.text, a.add_special, a.parse_special);
  std::string out;
  if (a.ids) {
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i) out += ' ';
      out += std::to_string(ids[i]);
    }
    out += '\n';
  } else {
    for (text::token_id id : ids) {
      out += std::to_string(id) + ' ' + quote((*tok)->token_to_piece(id, true)) + '\n';
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

PENSIEVE_COMMAND("tokenize", "print the token ids and pieces of a text", run_tokenize);

}  // namespace pensieve::cli
