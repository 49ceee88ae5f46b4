#include "shell/tokenizer.h"

#include <cctype>

namespace pensieve::shell {

namespace {

constexpr size_t npos = std::string_view::npos;

// End of the single-quoted string opened at `open`: index of its closing quote, or npos.
size_t skip_single(std::string_view s, size_t open) { return s.find('\'', open + 1); }

// Index of the closing backtick of the one opened at `open` (backslash escapes honoured), or npos.
size_t skip_backtick(std::string_view s, size_t open) {
  for (size_t i = open + 1; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '`') {
      return i;
    }
  }
  return npos;
}

size_t skip_double(std::string_view s, size_t open) {
  for (size_t i = open + 1; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\\') {
      ++i;
    } else if (c == '"') {
      return i;
    } else if (c == '$' && i + 1 < s.size() && s[i + 1] == '(') {
      i = matching_paren(s, i + 1);
      if (i == npos) return npos;
    } else if (c == '`') {
      i = skip_backtick(s, i);
      if (i == npos) return npos;
    }
  }
  return npos;
}


class Tokenizer {
 public:
  explicit Tokenizer(std::string_view s) : s_(s) {}

  Script run() {
    while (i_ < s_.size() && script_.ok) step();
    if (script_.ok) {
      if (quote_error_.empty()) finish_word();
      if (pending_redir_) fail("a redirection has no target");
    }
    end_pipeline("");
    if (script_.ok && depth_ > 0) fail("unbalanced '(': a subshell is not closed");
    if (script_.ok && !heredocs_.empty()) fail("a here-document is not terminated");
    return std::move(script_);
  }

 private:
  void fail(std::string why) {
    if (!script_.ok) return;
    script_.ok = false;
    script_.error = std::move(why);
  }

  void step() {
    const char c = s_[i_];
    if (c == ' ' || c == '\t' || c == '\r') {
      finish_word();
      ++i_;
    } else if (c == '\n') {
      finish_word();
      ++i_;
      end_pipeline(";");
      read_heredoc_bodies();
    } else if (c == '#' && !in_word_) {
      while (i_ < s_.size() && s_[i_] != '\n') ++i_;
    } else if (c == '\'') {
      const size_t end = skip_single(s_, i_);
      if (end == npos) return fail("unbalanced single quote (')");
      word_.append(s_.substr(i_ + 1, end - i_ - 1));
      in_word_ = true;
      i_ = end + 1;
    } else if (c == '"') {
      read_double();
    } else if (c == '\\') {
      if (i_ + 1 < s_.size() && s_[i_ + 1] == '\n') {
        i_ += 2;  // line continuation
        return;
      }
      if (i_ + 1 < s_.size()) word_ += s_[i_ + 1];
      else word_ += '\\';
      in_word_ = true;
      i_ += 2;
    } else if (c == '$') {
      read_dollar();
    } else if (c == '`') {
      const size_t end = skip_backtick(s_, i_);
      if (end == npos) return fail("unbalanced backtick (`)");
      script_.substitutions.emplace_back(s_.substr(i_ + 1, end - i_ - 1));
      word_.append(s_.substr(i_, end - i_ + 1));
      in_word_ = true;
      i_ = end + 1;
    } else if ((c == '<' || c == '>') && !in_word_ && i_ + 1 < s_.size() && s_[i_ + 1] == '(') {
      const size_t end = matching_paren(s_, i_ + 1);  // process substitution <(...) / >(...)
      if (end == npos) return fail("unbalanced '(' in a process substitution");
      script_.substitutions.emplace_back(s_.substr(i_ + 2, end - i_ - 2));
      word_.append(s_.substr(i_, end - i_ + 1));
      in_word_ = true;
      i_ = end + 1;
    } else if (c == '<' || c == '>') {
      read_redirection();
    } else if (c == '|') {
      finish_word();
      if (i_ + 1 < s_.size() && s_[i_ + 1] == '|') {
        i_ += 2;
        end_pipeline("||");
      } else {
        i_ += (i_ + 1 < s_.size() && s_[i_ + 1] == '&') ? 2 : 1;
        if (cmd_.words.empty() && cmd_.redirections.empty()) return fail("'|' has no command before it");
        end_command();
        expect_command_ = true;
      }
    } else if (c == '&') {
      finish_word();
      if (i_ + 1 < s_.size() && s_[i_ + 1] == '&') {
        i_ += 2;
        end_pipeline("&&");
      } else if (i_ + 1 < s_.size() && s_[i_ + 1] == '>') {
        ++i_;
        read_redirection("&");
      } else {
        ++i_;
        end_pipeline("&");
      }
    } else if (c == ';') {
      finish_word();
      i_ += (i_ + 1 < s_.size() && s_[i_ + 1] == ';') ? 2 : 1;
      end_pipeline(";");
    } else if (c == '(') {
      finish_word();
      if (!cmd_.words.empty() && i_ + 1 < s_.size() && s_[i_ + 1] == ')') {
        script_.function_names.push_back(cmd_.words.back());  // name() { body; }
        cmd_.words.clear();
        i_ += 2;
        return;
      }
      if (i_ + 1 < s_.size() && s_[i_ + 1] == '(') {  // (( arithmetic ))
        const size_t end = matching_paren(s_, i_);
        if (end == npos) return fail("unbalanced '((' ");
        word_.append(s_.substr(i_, end - i_ + 1));
        in_word_ = true;
        i_ = end + 1;
        return;
      }
      end_pipeline(";");
      ++depth_;
      ++i_;
    } else if (c == ')') {
      finish_word();
      end_pipeline(";");
      if (depth_ == 0) return fail("unbalanced ')'");
      --depth_;
      ++i_;
    } else {
      word_ += c;
      in_word_ = true;
      ++i_;
    }
  }

  void read_double() {
    const size_t end = skip_double(s_, i_);
    if (end == npos) {
      quote_error_ = "unbalanced double quote (\")";
      return fail(quote_error_);
    }
    for (size_t k = i_ + 1; k < end; ++k) {
      const char c = s_[k];
      if (c == '\\' && k + 1 < end && (s_[k + 1] == '$' || s_[k + 1] == '`' || s_[k + 1] == '"' ||
                                       s_[k + 1] == '\\' || s_[k + 1] == '\n')) {
        if (s_[k + 1] != '\n') word_ += s_[k + 1];
        ++k;
      } else if (c == '$' && k + 1 < end && s_[k + 1] == '(') {
        const size_t close = matching_paren(s_, k + 1);
        script_.substitutions.emplace_back(s_.substr(k + 2, close - k - 2));
        word_.append(s_.substr(k, close - k + 1));
        k = close;
      } else if (c == '`') {
        const size_t close = skip_backtick(s_, k);
        script_.substitutions.emplace_back(s_.substr(k + 1, close - k - 1));
        word_.append(s_.substr(k, close - k + 1));
        k = close;
      } else {
        word_ += c;
      }
    }
    in_word_ = true;
    i_ = end + 1;
  }

  void read_dollar() {
    in_word_ = true;
    if (i_ + 1 < s_.size() && s_[i_ + 1] == '(') {
      const size_t end = matching_paren(s_, i_ + 1);
      if (end == npos) return fail("unbalanced '$(': a command substitution is not closed");
      const bool arithmetic = end > i_ + 3 && s_[i_ + 2] == '(';
      if (!arithmetic) script_.substitutions.emplace_back(s_.substr(i_ + 2, end - i_ - 2));
      word_.append(s_.substr(i_, end - i_ + 1));
      i_ = end + 1;
    } else if (i_ + 1 < s_.size() && s_[i_ + 1] == '{') {
      const size_t end = s_.find('}', i_ + 2);
      if (end == npos) return fail("unbalanced '${': a parameter expansion is not closed");
      word_.append(s_.substr(i_, end - i_ + 1));
      i_ = end + 1;
    } else {
      word_ += '$';
      ++i_;
    }
  }

  // At '<' or '>' (or just after the '&' of &> / &>>, with fd "&").
  void read_redirection(std::string fd = "") {
    if (fd.empty() && in_word_ && !word_.empty() && !word_quoted_digits()) {
      finish_word();  // "file>out": the word before is an ordinary word
    } else if (fd.empty() && in_word_) {
      fd = word_;  // "2>": the digits are the descriptor
      word_.clear();
      in_word_ = false;
    }
    if (pending_redir_) return fail("a redirection has no target");
    static constexpr std::string_view kOps[] = {"<<<", "<<-", ">>", ">|", ">&", "<<", "<&", "<>", ">", "<"};
    for (std::string_view op : kOps) {
      if (s_.substr(i_, op.size()) == op) {
        redir_ = Redirection{fd, std::string(op), ""};
        pending_redir_ = true;
        i_ += op.size();
        return;
      }
    }
  }

  bool word_quoted_digits() const {
    if (word_.empty()) return false;
    for (char c : word_) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
  }

  void finish_word() {
    if (!in_word_) return;
    if (pending_redir_) {
      if (redir_.op == "<<" || redir_.op == "<<-") heredocs_.push_back({word_, redir_.op == "<<-"});
      redir_.target = word_;
      cmd_.redirections.push_back(std::move(redir_));
      pending_redir_ = false;
    } else {
      cmd_.words.push_back(word_);
    }
    word_.clear();
    in_word_ = false;
  }

  void end_command() {
    if (pending_redir_) return fail("a redirection has no target");
    if (!cmd_.words.empty() || !cmd_.redirections.empty()) {
      cmd_.subshell_depth = depth_;
      pipe_.commands.push_back(std::move(cmd_));
    }
    cmd_ = SimpleCommand{};
  }

  void end_pipeline(const std::string& next) {
    if (expect_command_ && cmd_.words.empty() && cmd_.redirections.empty() && !pending_redir_)
      fail("'|' has no command after it");
    end_command();
    if (!pipe_.commands.empty()) {
      pipe_.next = next;
      script_.pipelines.push_back(std::move(pipe_));
    }
    pipe_ = Pipeline{};
    expect_command_ = false;
  }

  // After a newline: skip the bodies of here-documents opened on the line just read.
  void read_heredoc_bodies() {
    for (const auto& [delim, strip_tabs] : heredocs_) {
      bool closed = false;
      while (i_ < s_.size() && !closed) {
        size_t eol = s_.find('\n', i_);
        if (eol == npos) eol = s_.size();
        std::string_view line = s_.substr(i_, eol - i_);
        if (strip_tabs) {
          while (!line.empty() && line.front() == '\t') line.remove_prefix(1);
        }
        closed = line == delim;
        i_ = eol < s_.size() ? eol + 1 : eol;
      }
      if (!closed) return;  // run() reports the unterminated here-document
    }
    heredocs_.clear();
  }

  std::string_view s_;
  size_t i_ = 0;
  Script script_;
  Pipeline pipe_;
  SimpleCommand cmd_;
  std::string word_;
  bool in_word_ = false;
  bool pending_redir_ = false;
  bool expect_command_ = false;
  Redirection redir_;
  int depth_ = 0;
  std::string quote_error_;
  std::vector<std::pair<std::string, bool>> heredocs_;
};

}  // namespace

size_t matching_paren(std::string_view s, size_t open) {
  int depth = 0;
  for (size_t i = open; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\\') {
      ++i;
    } else if (c == '\'') {
      i = skip_single(s, i);
    } else if (c == '"') {
      i = skip_double(s, i);
    } else if (c == '`') {
      i = skip_backtick(s, i);
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (--depth == 0) return i;
    }
    if (i == npos) return npos;
  }
  return npos;
}

Script tokenize(std::string_view line) { return Tokenizer(line).run(); }

}  // namespace pensieve::shell
