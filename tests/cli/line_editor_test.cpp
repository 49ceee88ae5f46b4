// The chat prompt's line editor, key by key: xterm sequences decode to keys, the buffer edits
// UTF-8 text and walks the history, and screen positions wrap at the terminal's width.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/line_editor.h"

namespace pensieve::cli {
namespace {

// Feeds `bytes` through decode_key into `buf` as the editor does.
void type(EditBuffer& buf, std::string bytes) {
  while (!bytes.empty()) {
    KeyEvent e = decode_key(bytes);
    ASSERT_GT(e.consumed, 0u) << "stuck on " << bytes;
    bytes.erase(0, e.consumed);
    buf.apply(e);
  }
}

TEST(LineEditorKeys, DecodesSequences) {
  EXPECT_EQ(decode_key("\x1b[A").key, Key::up);
  EXPECT_EQ(decode_key("\x1b[B").key, Key::down);
  EXPECT_EQ(decode_key("\x1b[C").key, Key::right);
  EXPECT_EQ(decode_key("\x1b[D").key, Key::left);
  EXPECT_EQ(decode_key("\x1bOH").key, Key::home);
  EXPECT_EQ(decode_key("\x1b[F").key, Key::end);
  EXPECT_EQ(decode_key("\x1b[3~").key, Key::del);
  EXPECT_EQ(decode_key("\x1b[1~").key, Key::home);
  EXPECT_EQ(decode_key("\x1b[1;5C").consumed, 6u);  // Ctrl-Right: whole sequence consumed
  EXPECT_EQ(decode_key("\x1b\r").key, Key::newline);
  EXPECT_EQ(decode_key("\x03").key, Key::interrupt);
  EXPECT_EQ(decode_key("\x04").key, Key::eof);
  EXPECT_EQ(decode_key("\r").key, Key::enter);
  EXPECT_EQ(decode_key("\x7f").key, Key::backspace);
  // incomplete input waits for more bytes
  EXPECT_EQ(decode_key("\x1b[").consumed, 0u);
  EXPECT_EQ(decode_key("\x1b").consumed, 0u);
  EXPECT_EQ(decode_key("\xc3").consumed, 0u);  // first byte of a two-byte character
  const KeyEvent t = decode_key("h\xc3\xa9llo\r");
  EXPECT_EQ(t.key, Key::text);
  EXPECT_EQ(t.text, "h\xc3\xa9llo");
  const KeyEvent split = decode_key("ab\xe2\x82");  // "ab" and half a euro sign
  EXPECT_EQ(split.text, "ab");
}

TEST(LineEditorBuffer, EditsUtf8Text) {
  EditBuffer b;
  type(b, "hello w\xc3\xb6rld");
  EXPECT_EQ(b.text(), "hello w\xc3\xb6rld");
  type(b, "\x1b[D\x1b[D\x1b[D\x1b[D");  // left x4: before the two-byte character
  EXPECT_EQ(b.cursor(), std::string("hello w").size());
  type(b, "\x1b[3~");  // Delete removes it whole
  EXPECT_EQ(b.text(), "hello wrld");
  type(b, "\x7f");  // Backspace removes "w"
  EXPECT_EQ(b.text(), "hello rld");
  type(b, "wo");
  EXPECT_EQ(b.text(), "hello world");
  type(b, "\x01X\x05!");  // Ctrl-A, Ctrl-E
  EXPECT_EQ(b.text(), "Xhello world!");
  type(b, "\x17");  // Ctrl-W: the last word
  EXPECT_EQ(b.text(), "Xhello ");
  type(b, "\x01\x0b");  // Ctrl-A, Ctrl-K
  EXPECT_EQ(b.text(), "");
  type(b, "one\x1b\rtwo");  // Alt-Enter inserts a newline
  EXPECT_EQ(b.text(), "one\ntwo");
  type(b, "\x15");  // Ctrl-U
  EXPECT_EQ(b.text(), "");
}

TEST(LineEditorBuffer, HistoryKeepsTheDraft) {
  std::vector<std::string> history = {"first", "second"};
  EditBuffer b(&history);
  type(b, "draft");
  type(b, "\x1b[A");
  EXPECT_EQ(b.text(), "second");
  type(b, "\x1b[A");
  EXPECT_EQ(b.text(), "first");
  type(b, "\x1b[A");  // the oldest stays
  EXPECT_EQ(b.text(), "first");
  type(b, "\x1b[B");
  EXPECT_EQ(b.text(), "second");
  type(b, "\x1b[B");
  EXPECT_EQ(b.text(), "draft");
  EXPECT_EQ(b.cursor(), 5u);
}

TEST(LineEditorScreen, PositionsWrapAndFollowNewlines) {
  EXPECT_EQ(screen_pos(">>> ", "... ", "abc", 80).col, 7);
  const ScreenPos wrapped = screen_pos(">>> ", "... ", std::string(80, 'x'), 80);  // 84 columns
  EXPECT_EQ(wrapped.row, 1);
  EXPECT_EQ(wrapped.col, 4);
  const ScreenPos exact = screen_pos(">>> ", "... ", std::string(76, 'x'), 80);  // fills the row
  EXPECT_EQ(exact.row, 1);
  EXPECT_EQ(exact.col, 0);
  const ScreenPos nl = screen_pos(">>> ", "... ", "ab\ncd\xc3\xa9", 80);
  EXPECT_EQ(nl.row, 1);
  EXPECT_EQ(nl.col, 7);  // "... " + 3 characters
}

}  // namespace
}  // namespace pensieve::cli
