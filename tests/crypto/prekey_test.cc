#include "crypto/prekey.h"

#include "crypto/domain.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::parley::testing::FakeClock;
using ::parley::testing::StatusIs;

class PrekeyTest : public ::testing::Test {
 protected:
  // Key members are built before SetUp, so initialise libsodium first.
  static void SetUpTestSuite() { ASSERT_OK(InitCrypto()); }

  PrekeyPair Make(PrekeyKind kind = PrekeyKind::kSigned, uint32_t id = 7,
                  absl::Duration lifetime = absl::Hours(7 * 24)) {
    return *GeneratePrekey(identity_, kind, id, clock_.Now(), lifetime);
  }

  FakeClock clock_;
  Ed25519PrivateKey identity_ = Ed25519PrivateKey::Generate();
};

TEST_F(PrekeyTest, FreshPrekeyVerifiesAndRoundTrips) {
  PrekeyPair pair = Make();
  EXPECT_EQ(pair.prekey.public_key, pair.private_key.public_key());
  EXPECT_OK(VerifySignedPrekey(identity_.public_key(), pair.prekey, clock_));
  const std::string bytes = SerializeSignedPrekey(pair.prekey);
  EXPECT_EQ(bytes.size(), kSignedPrekeySize);
  ASSERT_OK_AND_ASSIGN(SignedPrekey parsed, ParseSignedPrekey(bytes));
  EXPECT_EQ(parsed, pair.prekey);
}

TEST_F(PrekeyTest, ExpiredPrekeyIsRefused) {
  PrekeyPair pair = Make();
  clock_.Advance(absl::Hours(7 * 24) - absl::Seconds(1));
  EXPECT_OK(VerifySignedPrekey(identity_.public_key(), pair.prekey, clock_));
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(VerifySignedPrekey(identity_.public_key(), pair.prekey, clock_),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(PrekeyTest, PrekeyFromTheFutureIsRefusedBeyondSkew) {
  PrekeyPair pair = Make();
  clock_.Advance(-kMaxClockSkew);
  EXPECT_OK(VerifySignedPrekey(identity_.public_key(), pair.prekey, clock_));
  clock_.Advance(-absl::Seconds(1));
  EXPECT_THAT(VerifySignedPrekey(identity_.public_key(), pair.prekey, clock_),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(PrekeyTest, PrekeySignedByAnotherIdentityIsRefused) {
  PrekeyPair pair = Make();
  Ed25519PrivateKey other = Ed25519PrivateKey::Generate();
  EXPECT_THAT(VerifySignedPrekey(other.public_key(), pair.prekey, clock_),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(PrekeyTest, AnyChangedFieldBreaksTheSignature) {
  const PrekeyPair pair = Make();
  const std::string bytes = SerializeSignedPrekey(pair.prekey);
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] ^= 0x01;
    absl::StatusOr<SignedPrekey> parsed = ParseSignedPrekey(flipped);
    if (!parsed.ok()) continue;  // Rejected structurally: also fine.
    EXPECT_FALSE(
        VerifySignedPrekey(identity_.public_key(), *parsed, clock_).ok())
        << "byte " << i;
  }
}

TEST_F(PrekeyTest, LifetimeOverSevenDaysIsRefused) {
  EXPECT_THAT(GeneratePrekey(identity_, PrekeyKind::kSigned, 1, clock_.Now(),
                             absl::Hours(7 * 24 + 1)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // A hand-made prekey signed with a long lifetime is refused on verify.
  PrekeyPair pair = Make();
  pair.prekey.expires_at += 3600;
  pair.prekey.signature = identity_.Sign(
      SigningInput(kPrekeySignatureTag, SignedPrekeyBody(pair.prekey)));
  EXPECT_THAT(VerifySignedPrekey(identity_.public_key(), pair.prekey, clock_),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(PrekeyTest, SignatureForOtherPurposeIsRefused) {
  // The same body signed without the prekey domain tag does not verify.
  PrekeyPair pair = Make();
  pair.prekey.signature = identity_.Sign(SignedPrekeyBody(pair.prekey));
  EXPECT_THAT(VerifySignedPrekey(identity_.public_key(), pair.prekey, clock_),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(PrekeyTest, ParseIsStrict) {
  const std::string bytes = SerializeSignedPrekey(Make().prekey);
  EXPECT_THAT(ParseSignedPrekey(bytes + "x"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseSignedPrekey(bytes.substr(0, bytes.size() - 1)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  std::string bad_version = bytes;
  bad_version[0] = 2;
  EXPECT_THAT(ParseSignedPrekey(bad_version),
              StatusIs(absl::StatusCode::kInvalidArgument));
  std::string bad_kind = bytes;
  bad_kind[2] = 9;
  EXPECT_THAT(ParseSignedPrekey(bad_kind),
              StatusIs(absl::StatusCode::kInvalidArgument));
  std::string zero_id = bytes;
  zero_id.replace(3, 4, std::string(4, '\0'));
  EXPECT_THAT(ParseSignedPrekey(zero_id),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(PrekeyTest, LowOrderPrekeyIsRefusedEvenIfSigned) {
  PrekeyPair pair = Make();
  pair.prekey.public_key = std::string(32, '\0');
  pair.prekey.public_key[0] = 1;  // u = 1, order 4
  pair.prekey.signature = identity_.Sign(
      SigningInput(kPrekeySignatureTag, SignedPrekeyBody(pair.prekey)));
  EXPECT_THAT(VerifySignedPrekey(identity_.public_key(), pair.prekey, clock_),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(PrekeyTest, RotationAndGrace) {
  PrekeyPair pair = Make();
  const absl::Time t0 = clock_.Now();
  EXPECT_FALSE(PrekeyNeedsRotation(pair.prekey, t0));
  EXPECT_TRUE(PrekeyNeedsRotation(pair.prekey, t0 + absl::Hours(6 * 24)));
  const absl::Time expiry = absl::FromUnixSeconds(pair.prekey.expires_at);
  EXPECT_FALSE(PrekeyPastGrace(pair.prekey, expiry + absl::Hours(14 * 24) -
                                                absl::Seconds(1)));
  EXPECT_TRUE(PrekeyPastGrace(pair.prekey, expiry + absl::Hours(14 * 24)));
}

TEST_F(PrekeyTest, KeyBundleRoundTripsAndVerifies) {
  KeyBundle bundle{identity_.public_key(), Make().prekey,
                   {Make(PrekeyKind::kOneTime, 100).prekey,
                    Make(PrekeyKind::kOneTime, 101).prekey}};
  ASSERT_OK_AND_ASSIGN(KeyBundle parsed,
                       ParseKeyBundle(SerializeKeyBundle(bundle)));
  EXPECT_EQ(parsed, bundle);
  EXPECT_OK(VerifyKeyBundleAt(parsed, clock_.Now()));
  EXPECT_THAT(ParseKeyBundle(SerializeKeyBundle(bundle) + std::string(1, '\0')),
              StatusIs(absl::StatusCode::kInvalidArgument));

  KeyBundle duplicate = bundle;
  duplicate.one_time_prekeys.push_back(bundle.one_time_prekeys[0]);
  EXPECT_THAT(VerifyKeyBundleAt(duplicate, clock_.Now()),
              StatusIs(absl::StatusCode::kInvalidArgument));

  KeyBundle swapped = bundle;
  std::swap(swapped.signed_prekey, swapped.one_time_prekeys[0]);
  EXPECT_THAT(VerifyKeyBundleAt(swapped, clock_.Now()),
              StatusIs(absl::StatusCode::kInvalidArgument));

  KeyBundle foreign = bundle;
  foreign.identity_public_key = Ed25519PrivateKey::Generate().public_key();
  EXPECT_THAT(VerifyKeyBundleAt(foreign, clock_.Now()),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

}  // namespace
}  // namespace parley
