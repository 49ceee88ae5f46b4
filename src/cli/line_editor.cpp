#include "cli/line_editor.h"

#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>

namespace pensieve::cli {

KeyEvent decode_key(std::string_view in) {
  KeyEvent e;
  if (in.empty()) return e;
  const unsigned char c = static_cast<unsigned char>(in[0]);
  auto one = [&e](Key k, size_t n = 1) {
    e.key = k;
    e.consumed = n;
    return e;
  };
  switch (c) {
    case 1: return one(Key::home);          // Ctrl-A
    case 2: return one(Key::left);          // Ctrl-B
    case 3: return one(Key::interrupt);     // Ctrl-C
    case 4: return one(Key::eof);           // Ctrl-D
    case 5: return one(Key::end);           // Ctrl-E
    case 6: return one(Key::right);         // Ctrl-F
    case 8: case 127: return one(Key::backspace);
    case 11: return one(Key::kill_end);     // Ctrl-K
    case 12: return one(Key::clear_screen); // Ctrl-L
    case 10: case 13: return one(Key::enter);
    case 14: return one(Key::down);         // Ctrl-N
    case 16: return one(Key::up);           // Ctrl-P
    case 21: return one(Key::kill_start);   // Ctrl-U
    case 23: return one(Key::kill_word);    // Ctrl-W
    default: break;
  }
  if (c == 27) {  // ESC
    if (in.size() < 2) return e;  // wait for the rest (a lone ESC is completed by the caller)
    const char c1 = in[1];
    if (c1 == '\r' || c1 == '\n') return one(Key::newline, 2);  // Alt-Enter
    if (c1 != '[' && c1 != 'O') return one(Key::ignored, 2);    // Alt-<key>
    // CSI / SS3: parameters, then one final byte in 0x40..0x7E
    size_t i = 2;
    while (i < in.size() && (in[i] < 0x40 || in[i] > 0x7E)) ++i;
    if (i >= in.size()) return e;
    const std::string_view params = in.substr(2, i - 2);
    const char final = in[i];
    const size_t n = i + 1;
    switch (final) {
      case 'A': return one(Key::up, n);
      case 'B': return one(Key::down, n);
      case 'C': return one(Key::right, n);
      case 'D': return one(Key::left, n);
      case 'H': return one(Key::home, n);
      case 'F': return one(Key::end, n);
      case '~':
        if (params == "1" || params == "7") return one(Key::home, n);
        if (params == "4" || params == "8") return one(Key::end, n);
        if (params == "3") return one(Key::del, n);
        return one(Key::ignored, n);
      default: return one(Key::ignored, n);
    }
  }
  if (c < 32) return one(Key::ignored);  // other control bytes (Tab included)
  // Printable: a run of text up to the next control byte, whole UTF-8 characters only.
  size_t i = 0;
  while (i < in.size() && static_cast<unsigned char>(in[i]) >= 32 && in[i] != 127) ++i;
  size_t end = i;
  // do not split a character whose bytes have not all arrived
  size_t lead = end;
  while (lead > 0 && (static_cast<unsigned char>(in[lead - 1]) & 0xC0) == 0x80) --lead;
  if (lead > 0) {
    const unsigned char l = static_cast<unsigned char>(in[lead - 1]);
    const size_t want = l >= 0xF0 ? 4 : l >= 0xE0 ? 3 : l >= 0xC0 ? 2 : 1;
    if (end - (lead - 1) < want) end = lead - 1;
  }
  if (end == 0) return e;
  e.key = Key::text;
  e.text = std::string(in.substr(0, end));
  e.consumed = end;
  return e;
}

size_t EditBuffer::prev_char(size_t pos) const {
  if (pos == 0) return 0;
  --pos;
  while (pos > 0 && (static_cast<unsigned char>(text_[pos]) & 0xC0) == 0x80) --pos;
  return pos;
}

size_t EditBuffer::next_char(size_t pos) const {
  if (pos >= text_.size()) return text_.size();
  ++pos;
  while (pos < text_.size() && (static_cast<unsigned char>(text_[pos]) & 0xC0) == 0x80) ++pos;
  return pos;
}

void EditBuffer::set(std::string text) {
  text_ = std::move(text);
  cursor_ = text_.size();
}

bool EditBuffer::apply(const KeyEvent& e) {
  switch (e.key) {
    case Key::text:
      text_.insert(cursor_, e.text);
      cursor_ += e.text.size();
      return true;
    case Key::newline:
      text_.insert(cursor_, "\n");
      ++cursor_;
      return true;
    case Key::backspace: {
      if (cursor_ == 0) return false;
      const size_t p = prev_char(cursor_);
      text_.erase(p, cursor_ - p);
      cursor_ = p;
      return true;
    }
    case Key::del:
    case Key::eof: {
      if (cursor_ >= text_.size()) return false;
      text_.erase(cursor_, next_char(cursor_) - cursor_);
      return true;
    }
    case Key::left:
      if (cursor_ == 0) return false;
      cursor_ = prev_char(cursor_);
      return true;
    case Key::right:
      if (cursor_ >= text_.size()) return false;
      cursor_ = next_char(cursor_);
      return true;
    case Key::home: cursor_ = 0; return true;
    case Key::end: cursor_ = text_.size(); return true;
    case Key::kill_end: text_.erase(cursor_); return true;
    case Key::kill_start:
      text_.erase(0, cursor_);
      cursor_ = 0;
      return true;
    case Key::kill_word: {
      size_t p = cursor_;
      while (p > 0 && text_[p - 1] == ' ') --p;
      while (p > 0 && text_[p - 1] != ' ' && text_[p - 1] != '\n') --p;
      text_.erase(p, cursor_ - p);
      cursor_ = p;
      return true;
    }
    case Key::up: {
      if (!history_ || history_->empty()) return false;
      if (!browsing_) {
        draft_ = text_;
        history_pos_ = history_->size();
        browsing_ = true;
      }
      if (history_pos_ == 0) return false;
      set((*history_)[--history_pos_]);
      return true;
    }
    case Key::down: {
      if (!history_ || !browsing_) return false;
      if (history_pos_ + 1 < history_->size()) {
        set((*history_)[++history_pos_]);
      } else {
        history_pos_ = history_->size();
        browsing_ = false;
        set(draft_);
      }
      return true;
    }
    default: return false;
  }
}

ScreenPos screen_pos(const std::string& prompt, const std::string& continuation, std::string_view text, int width) {
  ScreenPos p;
  if (width < 8) width = 80;
  auto put = [&p, width](unsigned char c) {
    if ((c & 0xC0) == 0x80) return;  // a continuation byte: same column as its lead byte
    if (p.col == width) {
      ++p.row;
      p.col = 0;
    }
    ++p.col;
  };
  for (unsigned char c : prompt) put(c);
  for (unsigned char c : text) {
    if (c == '\n') {
      ++p.row;
      p.col = 0;
      for (unsigned char k : continuation) put(k);
    } else {
      put(c);
    }
  }
  if (p.col == width) {  // the terminal's wrap is pending: draw() moves to the next row itself
    ++p.row;
    p.col = 0;
  }
  return p;
}

namespace {

int terminal_width() {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

void out(const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = write(STDOUT_FILENO, s.data() + done, s.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// Raw input while a line is read: no echo, no line buffering, Ctrl-C/Ctrl-Z/Ctrl-S as bytes.
// Output processing stays on, so "\n" still moves to the start of the next row.
class RawMode {
 public:
  RawMode() {
    if (tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios raw = saved_;
    raw.c_iflag &= ~static_cast<tcflag_t>(ICRNL | IXON | BRKINT | INPCK | ISTRIP);
    raw.c_lflag &= ~static_cast<tcflag_t>(ECHO | ICANON | ISIG | IEXTEN);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    ok_ = tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == 0;
  }
  ~RawMode() {
    if (ok_) tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_);
  }

 private:
  termios saved_{};
  bool ok_ = false;
};

}  // namespace

void LineEditor::add_history(const std::string& line) {
  if (line.empty() || (!history_.empty() && history_.back() == line)) return;
  history_.push_back(line);
}

void LineEditor::draw(const std::string& prompt, const std::string& continuation, const EditBuffer& buf) {
  const int width = terminal_width();
  std::string s;
  if (cursor_row_ > 0) s += "\x1b[" + std::to_string(cursor_row_) + "A";
  s += "\r\x1b[J" + prompt;
  for (char c : buf.text()) s += c == '\n' ? "\r\n" + continuation : std::string(1, c);
  const ScreenPos end = screen_pos(prompt, continuation, buf.text(), width);
  const ScreenPos cur = screen_pos(prompt, continuation, std::string_view(buf.text()).substr(0, buf.cursor()), width);
  // A row filled to the last column: move to the next row so the positions above hold.
  if (end.col == 0 && end.row > 0) s += "\r\n";
  if (end.row > cur.row) s += "\x1b[" + std::to_string(end.row - cur.row) + "A";
  s += "\r";
  if (cur.col > 0) s += "\x1b[" + std::to_string(cur.col) + "C";
  out(s);
  cursor_row_ = cur.row;
}

LineEditor::Status LineEditor::read_line(const std::string& prompt, const std::string& continuation,
                                         std::string& line) {
  RawMode raw;
  EditBuffer buf(&history_);
  cursor_row_ = 0;
  draw(prompt, continuation, buf);
  std::string pending;
  for (;;) {
    char chunk[256];
    const ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
    if (n <= 0) {  // the terminal went away: end of input
      out("\r\n");
      return Status::eof;
    }
    pending.append(chunk, static_cast<size_t>(n));
    while (!pending.empty()) {
      KeyEvent e = decode_key(pending);
      if (e.consumed == 0) {
        // an incomplete sequence: a lone ESC with nothing after it in this read is just ignored
        if (pending == "\x1b") pending.clear();
        break;
      }
      pending.erase(0, e.consumed);
      switch (e.key) {
        case Key::enter: {
          const ScreenPos end = screen_pos(prompt, continuation, buf.text(), terminal_width());
          if (end.row > cursor_row_) out("\x1b[" + std::to_string(end.row - cursor_row_) + "B");
          out("\r\n");
          line = buf.text();
          return Status::line;
        }
        case Key::interrupt: {
          const ScreenPos end = screen_pos(prompt, continuation, buf.text(), terminal_width());
          if (end.row > cursor_row_) out("\x1b[" + std::to_string(end.row - cursor_row_) + "B");
          out("^C\r\n");
          line = buf.text();
          return Status::interrupted;
        }
        case Key::eof:
          if (buf.text().empty()) {
            out("\r\n");
            return Status::eof;
          }
          if (buf.apply(e)) draw(prompt, continuation, buf);
          break;
        case Key::clear_screen:
          out("\x1b[H\x1b[2J");
          cursor_row_ = 0;
          draw(prompt, continuation, buf);
          break;
        default:
          if (buf.apply(e)) draw(prompt, continuation, buf);
          break;
      }
    }
  }
}

}  // namespace pensieve::cli
