#include "client/core/message_limit.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::parley::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(MessageLimitTest, DefaultIsTheServersDocumentedDefault) {
  EXPECT_EQ(kDefaultMaxMessageBytes, 262144u);  // deploy/parleyd.toml
}

TEST(MessageLimitTest, UpToTheLimitFits) {
  EXPECT_OK(CheckEnvelopeFits(0, kDefaultMaxMessageBytes, "x", ""));
  EXPECT_OK(CheckEnvelopeFits(kDefaultMaxMessageBytes, kDefaultMaxMessageBytes,
                              "x", ""));
}

TEST(MessageLimitTest, OverTheLimitIsRefusedSayingSizesAndAdvice) {
  absl::Status s =
      CheckEnvelopeFits(kDefaultMaxMessageBytes + 1, kDefaultMaxMessageBytes,
                        "the message", "Send less.");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(s.message(), HasSubstr("the message is 262145 bytes sealed"));
  EXPECT_THAT(s.message(), HasSubstr("limit of 262144 bytes"));
  EXPECT_THAT(s.message(), HasSubstr("nothing was queued. Send less."));
}

TEST(MessageLimitTest, AnotherLimitIsNotCalledTheDefault) {
  absl::Status s = CheckEnvelopeFits(2000, 1024, "the message", "");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(s.message(), Not(HasSubstr("default")));
}

}  // namespace
}  // namespace parley
