#include "client/core/payloads.h"

#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::parley::testing::StatusIs;

TEST(PayloadsTest, FileRoundTripsAndRejectsPaths) {
  ASSERT_OK_AND_ASSIGN(std::string bytes,
                       EncodeFilePayload({"route.geojson", "{\"a\":1}"}));
  ASSERT_OK_AND_ASSIGN(FilePayload file, DecodeFilePayload(bytes));
  EXPECT_EQ(file.filename, "route.geojson");
  EXPECT_EQ(file.data, "{\"a\":1}");
  EXPECT_THAT(EncodeFilePayload({"../etc/passwd", "x"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(DecodeFilePayload(std::string("\x03../", 4)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(DecodeFilePayload(""),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PayloadsTest, VerbatimRelayRoundTripsStrictly) {
  SecureBuffer key(32);
  for (size_t i = 0; i < 32; ++i) key.data()[i] = static_cast<uint8_t>(i);
  std::string bytes = EncodeVerbatimRelay("signed envelope", key);
  ASSERT_OK_AND_ASSIGN(VerbatimRelay relay, DecodeVerbatimRelay(bytes));
  EXPECT_EQ(relay.envelope, "signed envelope");
  EXPECT_EQ(relay.content_key.view(), key.view());
  EXPECT_THAT(DecodeVerbatimRelay(bytes + "x"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(DecodeVerbatimRelay(bytes.substr(0, bytes.size() - 1)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PayloadsTest, AnonymousRelayCarriesNoAuthor) {
  AnonymousRelay relay{42, "text/plain", "we accept the ceasefire window"};
  std::string bytes = EncodeAnonymousRelay(relay);
  // u64 index || vec8 type || plaintext: nothing else.
  EXPECT_EQ(bytes.size(), 8 + 1 + 10 + relay.plaintext.size());
  ASSERT_OK_AND_ASSIGN(AnonymousRelay back, DecodeAnonymousRelay(bytes));
  EXPECT_EQ(back.source_index, 42u);
  EXPECT_EQ(back.content_type, "text/plain");
  EXPECT_EQ(back.plaintext, relay.plaintext);
  EXPECT_THAT(DecodeAnonymousRelay("short"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace parley
