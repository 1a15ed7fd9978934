#include "crypto/receipt.h"

#include "crypto/domain.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::parley::testing::StatusIs;

class ReceiptTest : public ::testing::Test {
 protected:
  // Key members are built before SetUp, so initialise libsodium first.
  static void SetUpTestSuite() { ASSERT_OK(InitCrypto()); }

  Ed25519PrivateKey recipient_ = Ed25519PrivateKey::Generate();
  const std::string envelope_hash_ = std::string(32, '\xee');
  const absl::Time now_ = absl::FromUnixSeconds(1'790'000'000);
};

TEST_F(ReceiptTest, EveryLevelRoundTrips) {
  for (ReceiptLevel level : {ReceiptLevel::kDelivered,
                             ReceiptLevel::kAcknowledged,
                             ReceiptLevel::kObjected}) {
    const std::string reason =
        level == ReceiptLevel::kObjected ? std::string(32, '\x0f') : "";
    ASSERT_OK_AND_ASSIGN(
        std::string bytes,
        SignReceipt(recipient_, envelope_hash_, level, now_, reason));
    ASSERT_OK_AND_ASSIGN(Receipt r, VerifyReceipt(bytes, recipient_.public_key(),
                                                  envelope_hash_));
    EXPECT_EQ(r.level, level);
    EXPECT_EQ(r.time, 1'790'000'000);
    EXPECT_EQ(r.reason_hash, reason);
    EXPECT_EQ(r.recipient_identity, recipient_.public_key());
  }
}

TEST_F(ReceiptTest, ObjectionNeedsReasonAndOthersForbidIt) {
  EXPECT_THAT(SignReceipt(recipient_, envelope_hash_, ReceiptLevel::kObjected,
                          now_),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(SignReceipt(recipient_, envelope_hash_,
                          ReceiptLevel::kAcknowledged, now_,
                          std::string(32, 'r')),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(SignReceipt(recipient_, "short", ReceiptLevel::kDelivered, now_),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(ReceiptTest, EveryFlippedByteIsRejected) {
  ASSERT_OK_AND_ASSIGN(
      std::string bytes,
      SignReceipt(recipient_, envelope_hash_, ReceiptLevel::kObjected, now_,
                  std::string(32, '\x0f')));
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] ^= 0x20;
    EXPECT_FALSE(
        VerifyReceipt(flipped, recipient_.public_key(), envelope_hash_).ok())
        << "byte " << i;
  }
}

TEST_F(ReceiptTest, WrongSignerOrEnvelopeIsRejected) {
  ASSERT_OK_AND_ASSIGN(std::string bytes,
                       SignReceipt(recipient_, envelope_hash_,
                                   ReceiptLevel::kDelivered, now_));
  Ed25519PrivateKey other = Ed25519PrivateKey::Generate();
  EXPECT_THAT(VerifyReceipt(bytes, other.public_key(), envelope_hash_),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(
      VerifyReceipt(bytes, recipient_.public_key(), std::string(32, 'x')),
      StatusIs(absl::StatusCode::kPermissionDenied));
  // Someone else re-signing the body under the original recipient's name.
  ASSERT_OK_AND_ASSIGN(Receipt r, ParseReceipt(bytes));
  std::string forged = ReceiptBody(r) +
                       other.Sign(SigningInput(kReceiptSignatureTag,
                                               ReceiptBody(r)));
  EXPECT_THAT(VerifyReceipt(forged, recipient_.public_key(), envelope_hash_),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(ReceiptTest, ParseIsStrict) {
  ASSERT_OK_AND_ASSIGN(std::string bytes,
                       SignReceipt(recipient_, envelope_hash_,
                                   ReceiptLevel::kDelivered, now_));
  EXPECT_THAT(ParseReceipt(bytes + "x"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseReceipt(bytes.substr(0, 40)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  std::string bad_level = bytes;
  bad_level[2] = 4;
  EXPECT_THAT(ParseReceipt(bad_level),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace parley
