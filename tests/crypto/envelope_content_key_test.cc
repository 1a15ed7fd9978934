// Disclosing an envelope's content key: OpenEnvelope exposes it, and
// OpenEnvelopeWithContentKey lets a third party (a verbatim relay's new
// members, an inquiry) verify and decrypt that one envelope with it.

#include <vector>

#include "crypto/envelope.h"
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

class EnvelopeContentKeyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_OK(InitCrypto()); }

  void SetUp() override {
    recipient_.push_back(MakeDevice(*random_, clock_.Now()));
    std::vector<EnvelopeRecipient> recipients = {recipient_[0].AsRecipient()};
    absl::StatusOr<std::string> envelope =
        SealEnvelope(sender_, MakeMetadata(clock_.Now()), recipients,
                     "the northern crossing stays open", *random_);
    ASSERT_OK(envelope);
    envelope_ = *envelope;
  }

  SecureBuffer ContentKey() {
    absl::StatusOr<OpenedEnvelope> opened =
        OpenEnvelope(envelope_, recipient_[0].identity.public_key(),
                     recipient_[0].prekeys);
    EXPECT_OK(opened);
    return opened.ok() ? opened->content_key.Copy() : SecureBuffer();
  }

  FakeClock clock_;
  std::unique_ptr<Random> random_ = NewDeterministicRandom("content key");
  Ed25519PrivateKey sender_ = Ed25519PrivateKey::Generate(*random_);
  std::vector<TestDevice> recipient_;
  std::string envelope_;
};

TEST_F(EnvelopeContentKeyTest, OpenExposesTheCommittedContentKey) {
  SecureBuffer key = ContentKey();
  ASSERT_EQ(key.size(), kContentKeySize);
  ASSERT_OK_AND_ASSIGN(ParsedEnvelope parsed, ParseEnvelope(envelope_));
  EXPECT_EQ(KeyCommitment(key, parsed.header.ephemeral_public_key,
                          parsed.header.payload_nonce),
            parsed.header.key_commitment);
}

TEST_F(EnvelopeContentKeyTest, AnyoneWithTheKeyOpensAndSeesTheAuthor) {
  SecureBuffer key = ContentKey();
  ASSERT_OK_AND_ASSIGN(OpenedEnvelope opened,
                       OpenEnvelopeWithContentKey(envelope_, key));
  EXPECT_EQ(opened.payload, "the northern crossing stays open");
  EXPECT_EQ(opened.header.sender_identity, sender_.public_key());
  EXPECT_EQ(opened.hash, EnvelopeHash(envelope_));
  EXPECT_EQ(opened.consumed_one_time_prekey_id, 0u);
  EXPECT_EQ(opened.content_key.view(), key.view());
}

TEST_F(EnvelopeContentKeyTest, WrongKeyIsRefusedByTheCommitment) {
  SecureBuffer key = ContentKey();
  SecureBuffer wrong = key.Copy();
  wrong.data()[0] ^= 0x01;
  EXPECT_THAT(OpenEnvelopeWithContentKey(envelope_, wrong),
              StatusIs(absl::StatusCode::kUnauthenticated));
  SecureBuffer short_key(16);
  EXPECT_THAT(OpenEnvelopeWithContentKey(envelope_, short_key),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(EnvelopeContentKeyTest, FlippingAnyByteIsRefused) {
  SecureBuffer key = ContentKey();
  for (size_t i = 0; i < envelope_.size(); ++i) {
    std::string tampered = envelope_;
    tampered[i] ^= 0x04;
    absl::StatusOr<OpenedEnvelope> opened =
        OpenEnvelopeWithContentKey(tampered, key);
    EXPECT_FALSE(opened.ok()) << "byte " << i;
  }
}

}  // namespace
}  // namespace parley
