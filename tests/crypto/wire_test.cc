#include "crypto/wire.h"

#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::parley::testing::StatusIs;
using ::testing::HasSubstr;

TEST(WireTest, IntegersAreBigEndian) {
  WireWriter w;
  w.U8(0x01);
  w.U16(0x0203);
  w.U32(0x04050607);
  w.U64(0x08090a0b0c0d0e0fULL);
  w.Bytes8("xy");
  EXPECT_EQ(w.bytes(), std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a"
                                   "\x0b\x0c\x0d\x0e\x0f\x02xy",
                                   18));
  WireReader r(w.bytes(), "test");
  uint8_t a;
  uint16_t b;
  uint32_t c;
  uint64_t d;
  std::string_view e;
  EXPECT_TRUE(r.U8("a", &a) && r.U16("b", &b) && r.U32("c", &c) &&
              r.U64("d", &d) && r.Bytes8("e", &e));
  EXPECT_OK(r.Finish());
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 0x0203);
  EXPECT_EQ(c, 0x04050607u);
  EXPECT_EQ(d, 0x08090a0b0c0d0e0fULL);
  EXPECT_EQ(e, "xy");
}

TEST(WireTest, TruncationNamesTheField) {
  WireReader r(std::string_view("\x00\x01", 2), "thing");
  uint32_t v;
  EXPECT_FALSE(r.U32("count", &v));
  EXPECT_THAT(r.Finish(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("thing: count: truncated"));
}

TEST(WireTest, TrailingBytesAreRejected) {
  WireReader r("abc", "thing");
  uint8_t v;
  EXPECT_TRUE(r.U8("first", &v));
  EXPECT_THAT(r.Finish(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("trailing"));
}

TEST(WireTest, FirstErrorSticks) {
  WireReader r("", "thing");
  uint8_t v;
  EXPECT_FALSE(r.U8("first", &v));
  EXPECT_FALSE(r.Fail("second", "other problem"));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("first"));
}

}  // namespace
}  // namespace parley
