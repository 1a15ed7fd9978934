#include "crypto/padding.h"

#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::parley::testing::StatusIs;

TEST(PaddingTest, BucketsArePowersOfTwoThenWholeMebibytes) {
  EXPECT_EQ(PaddedSize(0), 256u);
  EXPECT_EQ(PaddedSize(255), 256u);
  EXPECT_EQ(PaddedSize(256), 512u);
  EXPECT_EQ(PaddedSize(1024), 2048u);
  EXPECT_EQ(PaddedSize(65535), 65536u);
  EXPECT_EQ(PaddedSize(1024 * 1024), 2u * 1024 * 1024);
  EXPECT_EQ(PaddedSize(3 * 1024 * 1024), 4u * 1024 * 1024);
  EXPECT_EQ(PaddedSize(kMaxPayloadSize), 16u * 1024 * 1024);
}

TEST(PaddingTest, RoundTripAtBucketEdges) {
  for (size_t n : {0, 1, 254, 255, 256, 1000, 4095, 4096, 70000}) {
    const std::string payload(n, 'p');
    ASSERT_OK_AND_ASSIGN(std::string padded, PadPayload(payload));
    EXPECT_EQ(padded.size(), PaddedSize(n));
    ASSERT_OK_AND_ASSIGN(std::string back, UnpadPayload(padded));
    EXPECT_EQ(back, payload);
  }
}

TEST(PaddingTest, PayloadEndingInZerosSurvives) {
  const std::string payload("ab\0\0\0", 5);
  ASSERT_OK_AND_ASSIGN(std::string back, UnpadPayload(*PadPayload(payload)));
  EXPECT_EQ(back, payload);
}

TEST(PaddingTest, UnpadIsStrict) {
  EXPECT_THAT(UnpadPayload(std::string(300, '\0')),
              StatusIs(absl::StatusCode::kInvalidArgument));  // not a bucket
  EXPECT_THAT(UnpadPayload(std::string(256, '\0')),
              StatusIs(absl::StatusCode::kInvalidArgument));  // no marker
  std::string wrong_bucket(512, '\0');
  wrong_bucket[10] = static_cast<char>(0x80);  // 10 bytes belong in 256
  EXPECT_THAT(UnpadPayload(wrong_bucket),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(PadPayload(std::string(kMaxPayloadSize + 1, 'x')),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace parley
