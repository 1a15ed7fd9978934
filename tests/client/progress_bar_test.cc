#include "client/cli/progress_bar.h"

#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace parley::cli {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(ProgressBarTest, DrawsNothingWhenNotOnATerminal) {
  std::ostringstream out;
  {
    ProgressBar bar("lines", out, /*enabled=*/false);
    bar.Update(1, 2, "1 accepted");
    bar.Update(2, 2);
    bar.Finish();
  }
  EXPECT_EQ(out.str(), "");
}

TEST(ProgressBarTest, RedrawsInPlaceAndEndsItsLineOnce) {
  std::ostringstream out;
  ProgressBar bar("lines", out, /*enabled=*/true);
  bar.Update(0, 4);
  bar.Update(2, 4, "2 accepted, 0 refused");
  EXPECT_THAT(out.str(), StartsWith("\r[..............................] 0/4 lines"));
  EXPECT_THAT(out.str(),
              HasSubstr("\r[###############...............] 2/4 lines  "
                        "2 accepted, 0 refused"));
  EXPECT_EQ(out.str().find('\n'), std::string::npos);
  bar.Update(4, 4);
  bar.Finish();
  bar.Finish();  // nothing more
  // The shorter last line blanks what the longer one left.
  EXPECT_THAT(out.str(),
              EndsWith("\r[##############################] 4/4 lines" +
                       std::string(23, ' ') + "\n"));
}

TEST(ProgressBarTest, FinishWithoutUpdateWritesNothing) {
  std::ostringstream out;
  ProgressBar bar("entries", out, /*enabled=*/true);
  bar.Finish();
  EXPECT_EQ(out.str(), "");
}

TEST(ProgressBarTest, EmptyWorkIsAFullBarAndDoneIsCappedAtTotal) {
  std::ostringstream out;
  ProgressBar bar("entries", out, /*enabled=*/true);
  bar.Update(0, 0);
  EXPECT_THAT(out.str(), HasSubstr("[##############################] 0/0"));
  bar.Update(7, 5);
  EXPECT_THAT(out.str(), HasSubstr("] 5/5 entries"));
}

TEST(ProgressBarTest, DestructorEndsTheLine) {
  std::ostringstream out;
  {
    ProgressBar bar("lines", out, /*enabled=*/true);
    bar.Update(1, 3);
  }
  EXPECT_THAT(out.str(), EndsWith("\n"));
}

}  // namespace
}  // namespace parley::cli
