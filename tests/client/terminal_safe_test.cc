#include <string>

#include "client/cli/cli.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace parley::cli {
namespace {

TEST(TerminalSafeTest, PrintableTextAndNewlinesPass) {
  EXPECT_EQ(TerminalSafe("partya acknowledged receipt\nline 2"),
            "partya acknowledged receipt\nline 2");
  // Printable non-ASCII (é, Arabic, CJK, an emoji) passes unchanged.
  const std::string utf8 =
      "Caf\xC3\xA9 \xD8\xB3\xD9\x84\xD8\xA7\xD9\x85 \xE5\x92\x8C "
      "\xF0\x9F\x9A\x9A";
  EXPECT_EQ(TerminalSafe(utf8), utf8);
}

TEST(TerminalSafeTest, ControlCharactersAreEscaped) {
  // An ANSI escape that would clear the screen, a carriage return that
  // would overwrite the line, a tab, DEL and a bell.
  EXPECT_EQ(TerminalSafe("a\x1b[2Jb\rc\td\x7f\x07"),
            "a\\x1b[2Jb\\x0dc\\x09d\\x7f\\x07");
  // C1 control CSI (U+009B) encoded as UTF-8.
  EXPECT_EQ(TerminalSafe("x\xC2\x9B" "31my"), "x\\xc2\\x9b31my");
}

TEST(TerminalSafeTest, MalformedUtf8IsEscaped) {
  EXPECT_EQ(TerminalSafe("\x9B"), "\\x9b");                // stray byte
  EXPECT_EQ(TerminalSafe("\xC3"), "\\xc3");                // truncated
  EXPECT_EQ(TerminalSafe("\xC0\xAF"), "\\xc0\\xaf");       // overlong
  EXPECT_EQ(TerminalSafe("\xED\xA0\x80"), "\\xed\\xa0\\x80");  // surrogate
  EXPECT_EQ(TerminalSafe("\xF5\x80\x80\x80"), "\\xf5\\x80\\x80\\x80");
}

}  // namespace
}  // namespace parley::cli
