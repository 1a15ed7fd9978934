#include "crypto/envelope.h"

#include <vector>

#include "crypto/domain.h"
#include "crypto/replay.h"
#include "gtest/gtest.h"
#include "tests/crypto/crypto_test_util.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::parley::testing::FakeClock;
using ::parley::testing::MakeDevice;
using ::parley::testing::MakeMetadata;
using ::parley::testing::StatusIs;
using ::parley::testing::TestDevice;

class EnvelopeTest : public ::testing::Test {
 protected:
  // Key members are built before SetUp, so initialise libsodium first.
  static void SetUpTestSuite() { ASSERT_OK(InitCrypto()); }

  std::vector<TestDevice> Devices(int n, bool with_one_time = false) {
    std::vector<TestDevice> out;
    for (int i = 0; i < n; ++i) {
      out.push_back(MakeDevice(*random_, clock_.Now(), with_one_time));
    }
    return out;
  }

  FakeClock clock_;
  std::unique_ptr<Random> random_ = NewDeterministicRandom("envelope test");
  Ed25519PrivateKey sender_ = Ed25519PrivateKey::Generate(*random_);
};

class EnvelopeRoundTripTest : public EnvelopeTest,
                              public ::testing::WithParamInterface<int> {};

TEST_P(EnvelopeRoundTripTest, EveryRecipientOpensTheSamePayload) {
  const int n = GetParam();
  std::vector<TestDevice> devices = Devices(n, /*with_one_time=*/true);
  std::vector<EnvelopeRecipient> recipients;
  for (int i = 0; i < n; ++i) {
    recipients.push_back(devices[i].AsRecipient(/*with_one_time=*/i % 2 == 0));
  }
  const std::string payload = "convoy 12 departs 06:00 UTC from Kerem";
  ASSERT_OK_AND_ASSIGN(std::string envelope,
                       SealEnvelope(sender_, MakeMetadata(clock_.Now()),
                                    recipients, payload, *random_));
  ASSERT_OK_AND_ASSIGN(ParsedEnvelope parsed, ParseEnvelope(envelope));
  EXPECT_EQ(parsed.header.sender_identity, sender_.public_key());
  EXPECT_EQ(parsed.header.metadata, MakeMetadata(clock_.Now()));
  ASSERT_EQ(parsed.header.recipients.size(), static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const EnvelopeRecipientEntry& e = parsed.header.recipients[i];
    EXPECT_EQ(e.identity_public_key, devices[i].identity.public_key());
    EXPECT_EQ(e.signed_prekey_id, 1u);
    EXPECT_EQ(e.one_time_prekey_id, i % 2 == 0 ? 1001u : 0u);
    ASSERT_OK_AND_ASSIGN(
        OpenedEnvelope opened,
        OpenEnvelope(envelope, devices[i].identity.public_key(),
                     devices[i].prekeys));
    EXPECT_EQ(opened.payload, payload);
    EXPECT_EQ(opened.hash, EnvelopeHash(envelope));
    EXPECT_EQ(opened.consumed_one_time_prekey_id, i % 2 == 0 ? 1001u : 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(RecipientCounts, EnvelopeRoundTripTest,
                         ::testing::Values(1, 2, 3, 10, 50));

TEST_F(EnvelopeTest, FlippingAnyByteMakesOpeningFail) {
  std::vector<TestDevice> devices = Devices(1, /*with_one_time=*/true);
  std::vector<EnvelopeRecipient> recipients = {devices[0].AsRecipient(true)};
  ASSERT_OK_AND_ASSIGN(std::string envelope,
                       SealEnvelope(sender_, MakeMetadata(clock_.Now()),
                                    recipients, "hi", *random_));
  ASSERT_OK(OpenEnvelope(envelope, devices[0].identity.public_key(),
                         devices[0].prekeys)
                .status());
  for (size_t i = 0; i < envelope.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80}) {
      std::string flipped = envelope;
      flipped[i] ^= mask;
      EXPECT_FALSE(OpenEnvelope(flipped, devices[0].identity.public_key(),
                                devices[0].prekeys)
                       .ok())
          << "byte " << i << " mask " << int{mask};
    }
  }
  EXPECT_FALSE(OpenEnvelope(envelope + "x", devices[0].identity.public_key(),
                            devices[0].prekeys)
                   .ok());
  EXPECT_FALSE(OpenEnvelope(envelope.substr(0, envelope.size() - 1),
                            devices[0].identity.public_key(),
                            devices[0].prekeys)
                   .ok());
}

// A malicious sender may re-sign tampered bytes; the inner layers must still
// refuse them.
TEST_F(EnvelopeTest, SenderResignedTamperingIsCaughtByInnerLayers) {
  std::vector<TestDevice> devices = Devices(2);
  std::vector<EnvelopeRecipient> recipients = {devices[0].AsRecipient(),
                                               devices[1].AsRecipient()};
  ASSERT_OK_AND_ASSIGN(std::string envelope,
                       SealEnvelope(sender_, MakeMetadata(clock_.Now()),
                                    recipients, "payload", *random_));
  ASSERT_OK_AND_ASSIGN(ParsedEnvelope parsed, ParseEnvelope(envelope));
  const size_t header_size = parsed.header_bytes.size();
  auto resign = [&](std::string body) {
    body.resize(body.size() - kEd25519SignatureSize);
    return body + sender_.Sign(SigningInput(kEnvelopeSignatureTag, body));
  };
  // Positions: created_at's last byte (header), the key commitment, the
  // first wrap, the last ciphertext byte.
  const size_t created_last = 2 + 1 + 9 + 32 + 16 + 8 + 32 + 7;
  const size_t commitment = created_last + 1 + 1 + 10 + 32 + 24;
  for (size_t pos : {created_last, commitment, header_size + 3,
                     envelope.size() - kEd25519SignatureSize - 1}) {
    std::string tampered = envelope;
    tampered[pos] ^= 0x04;
    tampered = resign(tampered);
    absl::StatusOr<ParsedEnvelope> reparsed = ParseEnvelope(tampered);
    if (!reparsed.ok()) continue;  // Structural rejection is also fine.
    EXPECT_THAT(OpenEnvelope(tampered, devices[0].identity.public_key(),
                             devices[0].prekeys),
                StatusIs(absl::StatusCode::kUnauthenticated))
        << "position " << pos;
  }
}

TEST_F(EnvelopeTest, NonRecipientCannotOpen) {
  std::vector<TestDevice> devices = Devices(2);
  std::vector<EnvelopeRecipient> recipients = {devices[0].AsRecipient()};
  ASSERT_OK_AND_ASSIGN(std::string envelope,
                       SealEnvelope(sender_, MakeMetadata(clock_.Now()),
                                    recipients, "secret", *random_));
  EXPECT_THAT(OpenEnvelope(envelope, devices[1].identity.public_key(),
                           devices[1].prekeys),
              StatusIs(absl::StatusCode::kNotFound));
  // Claiming to be the recipient without its prekeys gets nowhere either.
  EXPECT_THAT(OpenEnvelope(envelope, devices[0].identity.public_key(),
                           devices[1].prekeys),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(EnvelopeTest, ErasedPrekeyIsReported) {
  std::vector<TestDevice> devices = Devices(1, /*with_one_time=*/true);
  std::vector<EnvelopeRecipient> recipients = {devices[0].AsRecipient(true)};
  ASSERT_OK_AND_ASSIGN(std::string envelope,
                       SealEnvelope(sender_, MakeMetadata(clock_.Now()),
                                    recipients, "x", *random_));
  std::span<const PrekeyPair> only_signed(devices[0].prekeys.data(), 1);
  EXPECT_THAT(OpenEnvelope(envelope, devices[0].identity.public_key(),
                           only_signed),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(OpenEnvelope(envelope, devices[0].identity.public_key(), {}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(EnvelopeTest, ExpiredPrekeyIsRefusedWhenSealing) {
  std::vector<TestDevice> devices = Devices(1);
  std::vector<EnvelopeRecipient> recipients = {devices[0].AsRecipient()};
  clock_.Advance(kMaxPrekeyLifetime);
  EXPECT_THAT(SealEnvelope(sender_, MakeMetadata(clock_.Now()), recipients,
                           "late", *random_),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(EnvelopeTest, WronglySignedPrekeyIsRefusedWhenSealing) {
  std::vector<TestDevice> devices = Devices(2);
  // Device 1's prekey presented as device 0's: the server substituting keys.
  EnvelopeRecipient r = devices[0].AsRecipient();
  r.signed_prekey = devices[1].signed_prekey();
  std::vector<EnvelopeRecipient> recipients = {r};
  EXPECT_THAT(SealEnvelope(sender_, MakeMetadata(clock_.Now()), recipients,
                           "x", *random_),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(EnvelopeTest, LowOrderEphemeralIsRejected) {
  std::vector<TestDevice> devices = Devices(1);
  std::vector<EnvelopeRecipient> recipients = {devices[0].AsRecipient()};
  ASSERT_OK_AND_ASSIGN(std::string envelope,
                       SealEnvelope(sender_, MakeMetadata(clock_.Now()),
                                    recipients, "x", *random_));
  ASSERT_OK_AND_ASSIGN(ParsedEnvelope parsed, ParseEnvelope(envelope));
  // Replace the ephemeral key with u = 0 and re-sign as the sender.
  const size_t eph = parsed.header_bytes.find(parsed.header.ephemeral_public_key);
  ASSERT_NE(eph, std::string::npos);
  std::string body = envelope.substr(0, envelope.size() - kEd25519SignatureSize);
  body.replace(eph, 32, std::string(32, '\0'));
  std::string forged =
      body + sender_.Sign(SigningInput(kEnvelopeSignatureTag, body));
  EXPECT_THAT(ParseEnvelope(forged),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(OpenEnvelope(forged, devices[0].identity.public_key(),
                           devices[0].prekeys),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(EnvelopeTest, ReplayIsRecognisedBySenderAndClientMessageId) {
  std::vector<TestDevice> devices = Devices(1);
  std::vector<EnvelopeRecipient> recipients = {devices[0].AsRecipient()};
  const EnvelopeMetadata meta = MakeMetadata(clock_.Now());
  ASSERT_OK_AND_ASSIGN(std::string first,
                       SealEnvelope(sender_, meta, recipients, "a", *random_));
  // The client retries the same message: a fresh seal, same client id.
  ASSERT_OK_AND_ASSIGN(std::string resent,
                       SealEnvelope(sender_, meta, recipients, "a", *random_));
  EnvelopeMetadata other_meta = meta;
  other_meta.client_message_id = std::string(16, '\x43');
  ASSERT_OK_AND_ASSIGN(
      std::string other,
      SealEnvelope(sender_, other_meta, recipients, "a", *random_));

  ASSERT_OK_AND_ASSIGN(ParsedEnvelope p1, ParseEnvelope(first));
  ASSERT_OK_AND_ASSIGN(ParsedEnvelope p1_again, ParseEnvelope(first));
  ASSERT_OK_AND_ASSIGN(ParsedEnvelope p2, ParseEnvelope(resent));
  ASSERT_OK_AND_ASSIGN(ParsedEnvelope p3, ParseEnvelope(other));
  EXPECT_EQ(ReplayKey(p1.header), ReplayKey(p1_again.header));
  EXPECT_EQ(ReplayKey(p1.header), ReplayKey(p2.header));
  EXPECT_NE(ReplayKey(p1.header), ReplayKey(p3.header));
  EXPECT_EQ(ReplayKey(p1.header).size(), 48u);
  EXPECT_NE(p1.hash, p2.hash);

  ReplayDetector detector;
  EXPECT_EQ(detector.Observe(p1), ReplayVerdict::kNew);
  EXPECT_EQ(detector.Observe(p1_again), ReplayVerdict::kDuplicate);
  EXPECT_EQ(detector.Observe(p2), ReplayVerdict::kConflict);
  EXPECT_EQ(detector.Observe(p3), ReplayVerdict::kNew);
  EXPECT_EQ(detector.size(), 2u);
}

TEST_F(EnvelopeTest, ChainFieldsAreValidated) {
  std::vector<TestDevice> devices = Devices(1);
  std::vector<EnvelopeRecipient> recipients = {devices[0].AsRecipient()};
  EnvelopeMetadata m = MakeMetadata(clock_.Now(), /*sequence=*/0);
  m.previous_hash = std::string(32, '\x01');
  EXPECT_THAT(SealEnvelope(sender_, m, recipients, "x", *random_),
              StatusIs(absl::StatusCode::kInvalidArgument));
  m = MakeMetadata(clock_.Now(), /*sequence=*/5);
  m.previous_hash = std::string(32, '\0');
  EXPECT_THAT(SealEnvelope(sender_, m, recipients, "x", *random_),
              StatusIs(absl::StatusCode::kInvalidArgument));

  // A chained envelope carries the previous hash verbatim.
  ASSERT_OK_AND_ASSIGN(std::string first,
                       SealEnvelope(sender_, MakeMetadata(clock_.Now()),
                                    recipients, "1", *random_));
  m = MakeMetadata(clock_.Now(), 1);
  m.client_message_id = std::string(16, '\x02');
  m.previous_hash = EnvelopeHash(first);
  ASSERT_OK_AND_ASSIGN(std::string second,
                       SealEnvelope(sender_, m, recipients, "2", *random_));
  ASSERT_OK_AND_ASSIGN(ParsedEnvelope parsed, ParseEnvelope(second));
  EXPECT_EQ(parsed.header.metadata.previous_hash, EnvelopeHash(first));
  EXPECT_EQ(parsed.header.metadata.sequence, 1u);
}

TEST_F(EnvelopeTest, BadInputsAreRefused) {
  std::vector<TestDevice> devices = Devices(1);
  std::vector<EnvelopeRecipient> one = {devices[0].AsRecipient()};
  EXPECT_THAT(SealEnvelope(sender_, MakeMetadata(clock_.Now()), {}, "x",
                           *random_),
              StatusIs(absl::StatusCode::kInvalidArgument));
  std::vector<EnvelopeRecipient> twice = {one[0], one[0]};
  EXPECT_THAT(SealEnvelope(sender_, MakeMetadata(clock_.Now()), twice, "x",
                           *random_),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EnvelopeMetadata m = MakeMetadata(clock_.Now());
  m.client_message_id = "short";
  EXPECT_THAT(SealEnvelope(sender_, m, one, "x", *random_),
              StatusIs(absl::StatusCode::kInvalidArgument));
  m = MakeMetadata(clock_.Now());
  m.content_type = "text plain";
  EXPECT_THAT(SealEnvelope(sender_, m, one, "x", *random_),
              StatusIs(absl::StatusCode::kInvalidArgument));
  m = MakeMetadata(clock_.Now());
  m.channel_id = "";
  EXPECT_THAT(SealEnvelope(sender_, m, one, "x", *random_),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseEnvelope(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(EnvelopeTest, CiphertextLengthRevealsOnlyTheBucket) {
  std::vector<TestDevice> devices = Devices(1);
  std::vector<EnvelopeRecipient> one = {devices[0].AsRecipient()};
  ASSERT_OK_AND_ASSIGN(std::string a,
                       SealEnvelope(sender_, MakeMetadata(clock_.Now()), one,
                                    std::string(10, 'a'), *random_));
  ASSERT_OK_AND_ASSIGN(std::string b,
                       SealEnvelope(sender_, MakeMetadata(clock_.Now()), one,
                                    std::string(200, 'b'), *random_));
  EXPECT_EQ(a.size(), b.size());
}

}  // namespace
}  // namespace parley
