// A small line editor for `pensieve chat` on a terminal: cursor keys, Home/End, Backspace/Delete,
// Ctrl-A/E/B/F/K/U/W, history (Up/Down, Ctrl-P/N), Alt-Enter for a newline inside the message,
// Ctrl-C (the caller decides: clear the line or hint), Ctrl-D on an empty line (end of input).
// EditBuffer and KeyDecoder are pure (tested byte by byte); LineEditor puts the terminal in raw
// mode only while a line is read and draws the buffer, wrapping at the terminal's width.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pensieve::cli {

enum class Key {
  none,        // an incomplete escape sequence: more bytes are needed
  text,        // printable text (in Event::text)
  enter,       // submit
  newline,     // Alt-Enter: a newline inside the message
  backspace,
  del,         // Delete (and Ctrl-D on a non-empty line)
  left, right, home, end, up, down,
  kill_end,    // Ctrl-K
  kill_start,  // Ctrl-U
  kill_word,   // Ctrl-W
  interrupt,   // Ctrl-C
  eof,         // Ctrl-D (the editor turns it into del on a non-empty line)
  clear_screen,  // Ctrl-L
  ignored,     // a key with no meaning here (F-keys, ...)
};

struct KeyEvent {
  Key key = Key::none;
  std::string text;
  size_t consumed = 0;  // bytes of the input this event used
};

// Decodes the next key from the start of `in` (xterm/VT100 sequences). Key::none with consumed
// 0 when `in` ends inside a sequence.
KeyEvent decode_key(std::string_view in);

// The text being edited and its cursor (a byte offset on a UTF-8 character boundary), with the
// history: up/down walk older/newer entries, keeping the unsent line to come back to.
class EditBuffer {
 public:
  explicit EditBuffer(std::vector<std::string>* history = nullptr) : history_(history) {}
  // Applies one key; returns true when it changed the text or the cursor.
  bool apply(const KeyEvent& e);
  const std::string& text() const { return text_; }
  size_t cursor() const { return cursor_; }
  void clear() {
    text_.clear();
    cursor_ = 0;
  }

 private:
  size_t prev_char(size_t pos) const;
  size_t next_char(size_t pos) const;
  void set(std::string text);
  std::string text_;
  size_t cursor_ = 0;
  std::vector<std::string>* history_;
  size_t history_pos_ = 0;  // == history size: the line being typed
  bool browsing_ = false;
  std::string draft_;
};

// Reads lines from a terminal (stdin must be a tty).
class LineEditor {
 public:
  enum class Status { line, interrupted, eof };
  // `prompt` starts the first row; `continuation` every row after a newline in the message.
  Status read_line(const std::string& prompt, const std::string& continuation, std::string& out);
  void add_history(const std::string& line);

 private:
  void draw(const std::string& prompt, const std::string& continuation, const EditBuffer& buf);
  std::vector<std::string> history_;
  int cursor_row_ = 0;  // rows between the prompt's first row and the cursor, after the last draw
};

// Where each byte lands on screen: prompt then text, '\n' moving to a new row that starts with the
// continuation prompt, rows wrapping at `width` columns (one column per UTF-8 character).
struct ScreenPos {
  int row = 0, col = 0;
};
ScreenPos screen_pos(const std::string& prompt, const std::string& continuation, std::string_view text, int width);

}  // namespace pensieve::cli
