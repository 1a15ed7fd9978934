#include "client/core/delivery_check.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "crypto/ed25519.h"
#include "crypto/envelope.h"
#include "crypto/prekey.h"
#include "crypto/random.h"
#include "crypto/receipt.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/tlog/log_entry.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::parley::testing::StatusIs;
using ::testing::HasSubstr;

constexpr int64_t kT0 = 1'790'000'000;  // Unix seconds

// Real envelopes and receipts from two members, as a log would hold them.
class DeliveryCheckTest : public ::testing::Test {
 protected:
  DeliveryCheckTest() : random_(NewDeterministicRandom("delivery-check")) {
    EXPECT_TRUE(InitCrypto().ok());
    sender_ = std::make_unique<Ed25519PrivateKey>(
        Ed25519PrivateKey::Generate(*random_));
    recipient_ = std::make_unique<Ed25519PrivateKey>(
        Ed25519PrivateKey::Generate(*random_));
  }

  std::string Seal(const std::string& channel) {
    auto spk =
        GeneratePrekey(*recipient_, PrekeyKind::kSigned, 1,
                       absl::FromUnixSeconds(kT0), absl::Hours(24), *random_);
    EXPECT_TRUE(spk.ok());
    EnvelopeMetadata md;
    md.channel_id = channel;
    md.client_message_id = random_->Bytes(16);
    md.previous_hash = std::string(32, '\0');
    md.created_at = kT0 + 100;
    md.content_type = "text/plain";
    std::vector<EnvelopeRecipient> to = {
        {recipient_->public_key(), spk->prekey, {}}};
    auto env = SealEnvelope(*sender_, md, to, "hello", *random_);
    EXPECT_TRUE(env.ok()) << env.status();
    return *env;
  }

  std::string MessageEntry(const std::string& entry_channel,
                           const std::string& envelope) {
    return EncodeLogEntry(LogEntry{
        kT0 * 1000,
        EnvelopeEntry{entry_channel, "alice", RelayMode::kNone, 0, envelope}});
  }

  std::string ReceiptEntryFor(const std::string& envelope) {
    auto receipt =
        SignReceipt(*recipient_, EnvelopeHash(envelope),
                    ReceiptLevel::kDelivered, absl::FromUnixSeconds(kT0 + 200));
    EXPECT_TRUE(receipt.ok());
    return EncodeLogEntry(
        LogEntry{kT0 * 1000, ReceiptEntry{7, "bob", *receipt}});
  }

  static std::string FlipBit(std::string bytes, size_t from_end) {
    bytes[bytes.size() - from_end] ^= 0x04;
    return bytes;
  }

  std::unique_ptr<Random> random_;
  std::unique_ptr<Ed25519PrivateKey> sender_;
  std::unique_ptr<Ed25519PrivateKey> recipient_;
};

TEST_F(DeliveryCheckTest, GenuineMessageAndReceiptPass) {
  const std::string envelope = Seal("bc-1");
  EXPECT_OK(CheckDeliveredEntry(7, MessageEntry("bc-1", envelope)).status());
  EXPECT_OK(CheckDeliveredEntry(8, ReceiptEntryFor(envelope)).status());
}

TEST_F(DeliveryCheckTest, FlippedBitInAnEnvelopeIsDataLossNamingTheIndex) {
  const std::string entry = MessageEntry("bc-1", Seal("bc-1"));
  // Every bit of the signature and the ciphertext counts.
  for (size_t from_end : {1, 10, 64, 70, 100}) {
    auto checked = CheckDeliveredEntry(42, FlipBit(entry, from_end));
    EXPECT_THAT(checked.status(), StatusIs(absl::StatusCode::kDataLoss))
        << from_end;
    EXPECT_THAT(checked.status().message(),
                HasSubstr("log entry 42 failed verification"));
  }
  EXPECT_THAT(CheckDeliveredEntry(42, FlipBit(entry, 10)).status().message(),
              HasSubstr("signature of its envelope does not verify"));
}

TEST_F(DeliveryCheckTest, UndecodableEntryIsDataLoss) {
  std::string entry = MessageEntry("bc-1", Seal("bc-1"));
  entry.push_back('x');  // trailing byte
  auto checked = CheckDeliveredEntry(3, entry);
  EXPECT_THAT(checked.status(), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(checked.status().message(), HasSubstr("does not decode"));
  EXPECT_THAT(CheckDeliveredEntry(3, "").status(),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(DeliveryCheckTest, EnvelopeFiledUnderAnotherChannelIsDataLoss) {
  auto checked = CheckDeliveredEntry(5, MessageEntry("bc-2", Seal("bc-1")));
  EXPECT_THAT(checked.status(), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(checked.status().message(), HasSubstr("another channel"));
}

TEST_F(DeliveryCheckTest, FlippedReceiptSignatureIsDataLoss) {
  auto checked = CheckDeliveredEntry(9, FlipBit(ReceiptEntryFor(Seal("c")), 5));
  EXPECT_THAT(checked.status(), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(checked.status().message(), HasSubstr("receipt"));
}

TEST_F(DeliveryCheckTest, NotificationVersionIsCheckedAgainstItsChannel) {
  NotificationVersion v;
  v.id = "mv-1";
  v.issuer = "alice";
  v.parties = {"bob"};
  v.envelope = Seal("n/mv-1");
  EXPECT_OK(
      CheckDeliveredEntry(4, EncodeLogEntry(LogEntry{kT0 * 1000, v})).status());
  v.envelope = FlipBit(v.envelope, 30);
  EXPECT_THAT(
      CheckDeliveredEntry(4, EncodeLogEntry(LogEntry{kT0 * 1000, v})).status(),
      StatusIs(absl::StatusCode::kDataLoss));
  v.envelope = Seal("n/mv-2");
  EXPECT_THAT(
      CheckDeliveredEntry(4, EncodeLogEntry(LogEntry{kT0 * 1000, v})).status(),
      StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace parley
