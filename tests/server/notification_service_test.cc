// parley.v1.Notifications over gRPC against an in-process parleyd: every
// per-party transition and overall state, the escalation ladder on a fake
// clock, amendments, visibility, objection reasons, the lead-time flag,
// validation, idempotency, authorization, restart and bulk import
// (docs/PROTOCOL.md sections 12 and 15).

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <span>
#include <thread>

#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/notification_test_util.h"

namespace parley {
namespace {

using ::parley::testing::DecodeDelivery;
using ::parley::testing::DeliveryStream;
using ::parley::testing::Describe;
using ::parley::testing::NotificationTest;
using ::parley::testing::Sealed;
using ::parley::testing::SealedVersion;
using ::parley::testing::SealOptions;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;

using NS = v1::NotificationState;
using PS = v1::PartyState;

class NotificationServiceTest : public NotificationTest {
 protected:
  // Deliveries on `stream` up to and including the one at `barrier` (a
  // later entry the member is known to receive): everything it was sent
  // before that point, in order.
  static std::vector<v1::Delivery> Until(DeliveryStream& stream,
                                         uint64_t barrier) {
    std::vector<v1::Delivery> out;
    while (true) {
      std::optional<v1::Delivery> d = stream.Next();
      if (!d.has_value()) {
        ADD_FAILURE() << "stream ended or timed out before index " << barrier;
        return out;
      }
      out.push_back(*d);
      if (d->index() >= barrier) return out;
    }
  }
  static std::vector<v1::Delivery> OfKind(const std::vector<v1::Delivery>& in,
                                          v1::Delivery::Kind kind) {
    std::vector<v1::Delivery> out;
    for (const v1::Delivery& d : in) {
      if (d.kind() == kind) out.push_back(d);
    }
    return out;
  }
};

// --- Per-party transitions and the overall state --------------------------

TEST_F(NotificationServiceTest,
       PartiesMoveFromLoggedToDeliveredToAcknowledgedAndOverallFollows) {
  SealedVersion v;
  v1::NotifyResponse r = NotifyNew("c1", Movement("mv-1", {"pa", "pb"}), &v);
  EXPECT_EQ(r.version(), 1u);
  EXPECT_FALSE(r.duplicate());
  const int64_t logged_at = absl::ToUnixSeconds(clock_.Now());

  NS s = MustGet("c1", "mv-1");
  EXPECT_EQ(s.overall(), NS::PENDING);
  EXPECT_EQ(s.version(), 1u);
  EXPECT_EQ(s.issuer(), "c1");
  EXPECT_EQ(s.organisation(), "ocha");
  EXPECT_EQ(s.log_index(), r.log_index());
  EXPECT_EQ(s.envelope(), v.sealed.bytes);
  ASSERT_EQ(s.parties_size(), 2);
  for (const PS& p : s.parties()) {
    EXPECT_EQ(p.state(), PS::LOGGED) << p.party();
    EXPECT_EQ(p.logged_at(), logged_at);
    EXPECT_EQ(p.delivered_at(), 0);
    EXPECT_EQ(p.acknowledged_at(), 0);
  }

  // Delivered: pa's device signs a delivered receipt for the version index.
  clock_.Advance(absl::Minutes(5));
  const int64_t delivered_at = absl::ToUnixSeconds(clock_.Now());
  const uint64_t before_delivery = TreeSize();
  grpc::Status st = Deliver("pa", r.log_index(), v.sealed.hash);
  ASSERT_TRUE(st.ok()) << Describe(st);
  s = MustGet("c1", "mv-1");
  EXPECT_EQ(s.overall(), NS::PENDING);
  EXPECT_EQ(PartyOf(s, "pa")->state(), PS::DELIVERED);
  EXPECT_EQ(PartyOf(s, "pa")->delivered_at(), delivered_at);
  EXPECT_EQ(PartyOf(s, "pa")->delivered_index(), before_delivery);
  EXPECT_EQ(PartyOf(s, "pb")->state(), PS::LOGGED);

  // Acknowledged receipt by pa: partially acknowledged.
  clock_.Advance(absl::Minutes(5));
  const int64_t pa_ack_at = absl::ToUnixSeconds(clock_.Now());
  v1::AcknowledgeResponse ack;
  st = AckReceipt("pa", "mv-1", 1, v.sealed.hash, &ack);
  ASSERT_TRUE(st.ok()) << Describe(st);
  EXPECT_FALSE(ack.duplicate());
  // The other party learns nothing of pa's answer: its own row only, and
  // the overall state as it stands for pb alone.
  s = MustGet("pb", "mv-1");
  ASSERT_EQ(s.parties_size(), 1);
  EXPECT_EQ(s.parties(0).party(), "pb");
  EXPECT_EQ(s.overall(), NS::PENDING);
  // Its own view: the version addressed to it; neither pa's receipt nor
  // pa's answer.
  EXPECT_THAT(s.entry_indexes(), ElementsAre(r.log_index()));
  EXPECT_THAT(MustGet("pa", "mv-1").entry_indexes(),
              ElementsAre(r.log_index(), before_delivery, ack.log_index()));
  s = MustGet("c1", "mv-1");
  EXPECT_EQ(s.overall(), NS::PARTIALLY_ACKNOWLEDGED);
  EXPECT_EQ(PartyOf(s, "pa")->state(), PS::ACKNOWLEDGED);
  EXPECT_EQ(PartyOf(s, "pa")->acknowledged_at(), pa_ack_at);
  EXPECT_EQ(PartyOf(s, "pa")->acknowledged_index(), ack.log_index());
  EXPECT_EQ(PartyOf(s, "pa")->delivered_at(), delivered_at);

  // pb acknowledges without a delivered receipt first: acknowledged by all.
  clock_.Advance(absl::Minutes(5));
  st = AckReceipt("pb", "mv-1", 1, v.sealed.hash);
  ASSERT_TRUE(st.ok()) << Describe(st);
  s = MustGet("m1", "mv-1");
  EXPECT_EQ(s.overall(), NS::ACKNOWLEDGED_BY_ALL);
  EXPECT_EQ(PartyOf(s, "pb")->state(), PS::ACKNOWLEDGED);
  EXPECT_EQ(PartyOf(s, "pb")->acknowledged_at(), pa_ack_at + 300);

  // A late delivered receipt does not move pb back.
  st = Deliver("pb", r.log_index(), v.sealed.hash);
  ASSERT_TRUE(st.ok()) << Describe(st);
  s = MustGet("m1", "mv-1");
  EXPECT_EQ(PartyOf(s, "pb")->state(), PS::ACKNOWLEDGED);
  EXPECT_EQ(s.overall(), NS::ACKNOWLEDGED_BY_ALL);

  // The acknowledgement entry holds the exact receipt.
  LogEntry e = EntryAt(ack.log_index());
  const auto* logged = std::get_if<NotificationAck>(&e.body);
  ASSERT_NE(logged, nullptr);
  EXPECT_EQ(logged->id, "mv-1");
  EXPECT_EQ(logged->version, 1u);
  EXPECT_EQ(logged->party, "pa");
  EXPECT_TRUE(logged->reason_envelope.empty());
  // entry_indexes: the version, the delivered receipts, both acks.
  EXPECT_EQ(s.entry_indexes_size(), 5);
}

TEST_F(NotificationServiceTest, DeliveredReceiptsAreLoggedOncePerParty) {
  SealedVersion v;
  v1::NotifyResponse r = NotifyNew("c1", Movement("mv-1", {"pa"}), &v);
  std::string receipt = DeliveredReceipt(device("pa"), v.sealed.hash);
  v1::SubmitReceiptsResponse first, second;
  grpc::Status st = SubmitReceipt(device("pa"), r.log_index(), receipt, &first);
  ASSERT_TRUE(st.ok()) << Describe(st);
  const uint64_t size = TreeSize();
  st = SubmitReceipt(device("pa"), r.log_index(), receipt, &second);
  ASSERT_TRUE(st.ok()) << Describe(st);
  EXPECT_EQ(TreeSize(), size);
  EXPECT_EQ(second.log_indexes(0), first.log_indexes(0));
  // A non-recipient party cannot log a receipt for it.
  v1::SubmitReceiptsResponse ignored;
  st = SubmitReceipt(device("pc"), r.log_index(),
                     DeliveredReceipt(device("pc"), v.sealed.hash), &ignored);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(st);
  EXPECT_EQ(TreeSize(), size);
}

TEST_F(NotificationServiceTest,
       ObjectionWithReasonForTheIssuerSideMakesTheNotificationObjected) {
  SealedVersion v;
  NotifyNew("c1", Movement("mv-1", {"pa", "pb"}), &v);
  ASSERT_TRUE(AckReceipt("pa", "mv-1", 1, v.sealed.hash).ok());
  clock_.Advance(absl::Minutes(30));
  const int64_t objected_at = absl::ToUnixSeconds(clock_.Now());
  Sealed reason;
  grpc::Status st = Object("pb", "c1", "mv-1", 1, v.sealed.hash, &reason);
  ASSERT_TRUE(st.ok()) << Describe(st);

  NS s = MustGet("c2", "mv-1");
  EXPECT_EQ(s.overall(), NS::OBJECTED);
  const PS* pb = PartyOf(s, "pb");
  EXPECT_EQ(pb->state(), PS::OBJECTED);
  EXPECT_EQ(pb->objected_at(), objected_at);
  EXPECT_EQ(pb->acknowledged_at(), 0);
  EXPECT_EQ(PartyOf(s, "pa")->state(), PS::ACKNOWLEDGED);

  LogEntry e = EntryAt(pb->acknowledged_index());
  const auto* logged = std::get_if<NotificationAck>(&e.body);
  ASSERT_NE(logged, nullptr);
  EXPECT_EQ(logged->party, "pb");
  EXPECT_EQ(logged->reason_envelope, reason.bytes);
  absl::StatusOr<Receipt> receipt = ParseReceipt(logged->receipt);
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(receipt->level, ReceiptLevel::kObjected);
  EXPECT_EQ(receipt->reason_hash, EnvelopeHash(logged->reason_envelope));
  EXPECT_EQ(receipt->envelope_hash, v.sealed.hash);
}

TEST_F(NotificationServiceTest,
       ObjectionReasonIsReadableByCoordinatorsAndMediatorsOnly) {
  SealedVersion v;
  NotifyNew("c1", Movement("mv-1", {"pa", "pb"}), &v);
  Sealed reason;
  ASSERT_TRUE(Object("pa", "c1", "mv-1", 1, v.sealed.hash, &reason).ok());

  absl::StatusOr<ParsedEnvelope> parsed = ParseEnvelope(reason.bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  std::set<std::string> keys;
  for (const EnvelopeRecipientEntry& r : parsed->header.recipients) {
    keys.insert(r.identity_public_key);
  }
  EXPECT_THAT(keys, UnorderedElementsAre(device("c1").key(),
                                         device("c2").key(),
                                         device("m1").key(),
                                         device("m2").key()));
  EXPECT_FALSE(keys.contains(device("pb").key()));
  EXPECT_FALSE(keys.contains(device("pa").key()));
  EXPECT_FALSE(keys.contains(device("x1").key()));
  // Who can open it, as a device would.
  for (const std::string name : {"c1", "c2", "m1", "m2"}) {
    std::span<const PrekeyPair> prekeys(&*device(name).signed_prekey, 1);
    absl::StatusOr<OpenedEnvelope> opened =
        OpenEnvelope(reason.bytes, device(name).key(), prekeys);
    EXPECT_TRUE(opened.ok()) << name << ": " << opened.status();
  }
  for (const std::string name : {"pb", "x1"}) {
    std::span<const PrekeyPair> prekeys(&*device(name).signed_prekey, 1);
    absl::StatusOr<OpenedEnvelope> opened =
        OpenEnvelope(reason.bytes, device(name).key(), prekeys);
    EXPECT_EQ(opened.status().code(), absl::StatusCode::kNotFound) << name;
  }
}

TEST_F(NotificationServiceTest,
       ObjectionReasonEncryptedToAnotherPartyIsRefusedAndNothingIsLogged) {
  SealedVersion v;
  NotifyNew("c1", Movement("mv-1", {"pa", "pb"}), &v);
  const uint64_t size = TreeSize();
  std::vector<std::string> with_pb = IssuerSide("c1");
  with_pb.push_back("pb");
  grpc::Status st =
      Object("pa", "c1", "mv-1", 1, v.sealed.hash, nullptr, with_pb);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(st);
  EXPECT_THAT(st.error_message(), HasSubstr("objection reason"));
  // Missing a mediator is refused too.
  st = Object("pa", "c1", "mv-1", 1, v.sealed.hash, nullptr,
              std::vector<std::string>{"c1", "c2", "m1"});
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(st);
  // Wrong channel.
  {
    Sealed r = SealSide("pa", "n/mv-1", "reason", IssuerSide("c1"));
    st = Acknowledge("pa", "mv-1", 1,
                     SignedReceipt("pa", v.sealed.hash,
                                   ReceiptLevel::kObjected, r.hash),
                     r.bytes);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << Describe(st);
  }
  // The receipt's reason hash names another envelope.
  {
    Sealed r = SealSide("pa", "n/mv-1/objection", "reason", IssuerSide("c1"));
    st = Acknowledge("pa", "mv-1", 1,
                     SignedReceipt("pa", v.sealed.hash,
                                   ReceiptLevel::kObjected,
                                   std::string(32, 'x')),
                     r.bytes);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << Describe(st);
    EXPECT_THAT(st.error_message(), HasSubstr("reason hash"));
  }
  // A reason signed by someone else (pb's envelope under pa's receipt).
  {
    Sealed r = SealSide("pb", "n/mv-1/objection", "reason", IssuerSide("c1"));
    st = Acknowledge("pa", "mv-1", 1,
                     SignedReceipt("pa", v.sealed.hash,
                                   ReceiptLevel::kObjected, r.hash),
                     r.bytes);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << Describe(st);
  }
  // An objection without a reason envelope.
  st = Acknowledge("pa", "mv-1", 1,
                   SignedReceipt("pa", v.sealed.hash, ReceiptLevel::kObjected,
                                 std::string(32, 'y')));
  EXPECT_FALSE(st.ok());
  // A plain acknowledgement carrying a reason.
  {
    Sealed r = SealSide("pa", "n/mv-1/objection", "reason", IssuerSide("c1"));
    st = Acknowledge(
        "pa", "mv-1", 1,
        SignedReceipt("pa", v.sealed.hash, ReceiptLevel::kAcknowledged),
        r.bytes);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << Describe(st);
  }
  EXPECT_EQ(TreeSize(), size);
  EXPECT_EQ(PartyOf(MustGet("c1", "mv-1"), "pa")->state(), PS::LOGGED);
}

// PROTOCOL.md 15.4a: an objection reason is encrypted to the issuer side
// only. Unlike a channel message (14.1), the sender is not among the
// recipients: the objecting party is a party, and no party is on the
// issuer side. A third-party client that adds itself is refused with a
// message that says so, and nothing is logged.
TEST_F(NotificationServiceTest,
       ObjectionReasonToTheObjectingPartyItselfIsRefused) {
  SealedVersion v;
  NotifyNew("c1", Movement("mv-1", {"pa", "pb"}), &v);
  const uint64_t size = TreeSize();
  std::vector<std::string> with_self = IssuerSide("c1");
  with_self.push_back("pa");
  grpc::Status st =
      Object("pa", "c1", "mv-1", 1, v.sealed.hash, nullptr, with_self);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(st);
  EXPECT_THAT(st.error_message(), HasSubstr("yourself (the sender)"));
  EXPECT_THAT(st.error_message(), HasSubstr("the issuer side"));
  EXPECT_EQ(TreeSize(), size);
  EXPECT_EQ(PartyOf(MustGet("c1", "mv-1"), "pa")->state(), PS::LOGGED);

  Sealed reason;
  st = Object("pa", "c1", "mv-1", 1, v.sealed.hash, &reason);
  ASSERT_TRUE(st.ok()) << Describe(st);
  EXPECT_EQ(PartyOf(MustGet("c1", "mv-1"), "pa")->state(), PS::OBJECTED);
}

// PROTOCOL.md 15.4a: objection, cancel and status envelopes each stand
// alone: sequence 0 and a zero previous hash, whatever came before.
TEST_F(NotificationServiceTest, SideEnvelopesMustCarrySequenceZero) {
  SealedVersion v;
  NotifyNew("c1", Movement("mv-1", {"pa", "pb"}), &v);
  const uint64_t size = TreeSize();
  const std::vector<std::string> audience = Audience("c1", {"pa", "pb"});
  SealOptions chained;
  chained.sequence = 1;
  chained.previous_hash = v.sealed.hash;
  grpc::Status st = PostStatus(
      "c1", "mv-1", Seal(device("c1"), "n/mv-1/status", "{}", audience, chained),
      false);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << Describe(st);
  EXPECT_THAT(st.error_message(), HasSubstr("sequence 0"));
  st = Cancel("c1", "mv-1",
              Seal(device("c1"), "n/mv-1/cancel", "{}", audience, chained));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << Describe(st);
  Sealed r = Seal(device("pa"), "n/mv-1/objection", "{}", IssuerSide("c1"),
                  chained);
  st = Acknowledge("pa", "mv-1", 1,
                   SignedReceipt("pa", v.sealed.hash, ReceiptLevel::kObjected,
                                 r.hash),
                   r.bytes);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << Describe(st);
  EXPECT_EQ(TreeSize(), size);
  // Sequence 0 twice in a row is fine: statuses do not chain.
  for (int i = 0; i < 2; ++i) {
    st = PostStatus("c1", "mv-1",
                    SealSide("c1", "n/mv-1/status", "{}", audience), false);
    EXPECT_TRUE(st.ok()) << Describe(st);
  }
}

// PROTOCOL.md 15.4a: the recipients of a side envelope are fixed when the
// current version is logged (its audience, or for an objection its issuer
// side), less the members revoked since. A mediator who enrolls later is
// not one of them; a revoked one is no longer one.
TEST_F(NotificationServiceTest,
       SideEnvelopeRecipientsAreTheVersionsAudienceLessRevokedMembers) {
  SealedVersion v;
  NotifyNew("c1", Movement("mv-1", {"pa", "pb"}), &v);
  const std::vector<std::string> audience = Audience("c1", {"pa", "pb"});
  AddMemberOf("m3", v1::ROLE_MEDIATOR, "");
  const uint64_t size = TreeSize();
  std::vector<std::string> with_m3 = audience;
  with_m3.push_back("m3");
  grpc::Status st = PostStatus(
      "c1", "mv-1", SealSide("c1", "n/mv-1/status", "{}", with_m3), false);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(st);
  EXPECT_THAT(st.error_message(), HasSubstr("not to \"m3\""));
  EXPECT_EQ(TreeSize(), size);
  st = PostStatus("c1", "mv-1",
                  SealSide("c1", "n/mv-1/status", "{}", audience), false);
  ASSERT_TRUE(st.ok()) << Describe(st);

  {
    grpc::ClientContext context;
    Authorize(&context, device("admin"));
    v1::RevokeRequest r;
    r.set_name("m2");
    v1::RevokeResponse response;
    ASSERT_TRUE(admin_->Revoke(&context, r, &response).ok());
  }
  const uint64_t after_revoke = TreeSize();
  st = Cancel("c1", "mv-1", SealSide("c1", "n/mv-1/cancel", "{}", audience));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(st);
  EXPECT_THAT(st.error_message(), HasSubstr("\"m2 (revoked)\""));
  EXPECT_EQ(TreeSize(), after_revoke);
  std::vector<std::string> without_m2;
  for (const std::string& name : audience) {
    if (name != "m2") without_m2.push_back(name);
  }
  // The same holds for an objection: the issuer side less m2.
  std::vector<std::string> issuer_side_without_m2;
  for (const std::string& name : IssuerSide("c1")) {
    if (name != "m2" && name != "m3") issuer_side_without_m2.push_back(name);
  }
  st = Object("pa", "c1", "mv-1", 1, v.sealed.hash, nullptr,
              issuer_side_without_m2);
  EXPECT_TRUE(st.ok()) << Describe(st);
  st = Cancel("c1", "mv-1", SealSide("c1", "n/mv-1/cancel", "{}", without_m2));
  EXPECT_TRUE(st.ok()) << Describe(st);
}

// PROTOCOL.md 15.1: an amendment keeps the kind of the notification.
TEST_F(NotificationServiceTest, AmendmentKeepsTheKind) {
  SealedVersion v;
  NotifyNew("c1", Movement("mv-1", {"pa"}), &v);
  const uint64_t size = TreeSize();
  SealedVersion site = SealVersion("c1", Site("mv-1", {"pa"}), 2, v.sealed.hash);
  grpc::Status st = Notify("c1", site, 1);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << Describe(st);
  EXPECT_THAT(st.error_message(), HasSubstr("keeps the kind"));
  EXPECT_EQ(TreeSize(), size);
}

TEST_F(NotificationServiceTest, AcknowledgementRefusesBadReceipts) {
  SealedVersion v;
  NotifyNew("c1", Movement("mv-1", {"pa", "pb"}), &v);
  const uint64_t size = TreeSize();
  // Level delivered is not an acknowledgement.
  grpc::Status st = Acknowledge(
      "pa", "mv-1", 1,
      SignedReceipt("pa", v.sealed.hash, ReceiptLevel::kDelivered));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << Describe(st);
  // A receipt over another envelope.
  st = Acknowledge(
      "pa", "mv-1", 1,
      SignedReceipt("pa", std::string(32, 'z'), ReceiptLevel::kAcknowledged));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(st);
  // pb's receipt submitted by pa.
  st = Acknowledge(
      "pa", "mv-1", 1,
      SignedReceipt("pb", v.sealed.hash, ReceiptLevel::kAcknowledged));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(st);
  // Garbage.
  st = Acknowledge("pa", "mv-1", 1, "not a receipt");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << Describe(st);
  // Unknown notification.
  st = AckReceipt("pa", "mv-404", 1, v.sealed.hash);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(st);
  EXPECT_EQ(TreeSize(), size);
}

// A party answers a notification with Acknowledge; a level 2 or 3 receipt
// through SubmitReceipts would be logged as a type 8 receipt that reads
// like an answer without being one (PROTOCOL.md 14.2).
TEST_F(NotificationServiceTest,
       SubmitReceiptsTakesOnlyDeliveredReceiptsForANotification) {
  SealedVersion v;
  v1::NotifyResponse r = NotifyNew("c1", Movement("mv-1", {"pa"}), &v);
  ASSERT_TRUE(CreateChannel(device("m1"), "ops", {"m1", "pa"}).ok());
  Sealed message;
  const uint64_t message_index =
      SendText(device("m1"), "ops", "hello", &message);
  const uint64_t size = TreeSize();

  v1::SubmitReceiptsResponse response;
  for (ReceiptLevel level : {ReceiptLevel::kAcknowledged,
                             ReceiptLevel::kObjected}) {
    const std::string receipt = SignedReceipt(
        "pa", v.sealed.hash, level,
        level == ReceiptLevel::kObjected ? std::string(32, 'r') : "");
    grpc::Status st =
        SubmitReceipt(device("pa"), r.log_index(), receipt, &response);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << Describe(st);
    EXPECT_THAT(st.error_message(),
                HasSubstr(absl::StrCat("receipt for log index ",
                                       r.log_index(),
                                       ": notification mv-1 version 1")));
    EXPECT_THAT(st.error_message(), HasSubstr("`parley ack`"));
  }
  // In a batch, one refused receipt refuses the call: nothing is logged,
  // not even the good receipt for the message.
  {
    grpc::ClientContext context;
    Authorize(&context, device("pa"));
    v1::SubmitReceiptsRequest batch;
    v1::ReceiptSubmission* good = batch.add_receipts();
    good->set_envelope_index(message_index);
    good->set_receipt(DeliveredReceipt(device("pa"), message.hash));
    v1::ReceiptSubmission* bad = batch.add_receipts();
    bad->set_envelope_index(r.log_index());
    bad->set_receipt(
        SignedReceipt("pa", v.sealed.hash, ReceiptLevel::kAcknowledged));
    grpc::Status st = channels_->SubmitReceipts(&context, batch, &response);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << Describe(st);
  }
  EXPECT_EQ(TreeSize(), size);
  EXPECT_EQ(PartyOf(MustGet("c1", "mv-1"), "pa")->state(), PS::LOGGED);

  // Delivered receipts for the notification are taken, and a channel
  // message still takes every level.
  ASSERT_TRUE(Deliver("pa", r.log_index(), v.sealed.hash).ok());
  grpc::Status st = SubmitReceipt(
      device("pa"), message_index,
      SignedReceipt("pa", message.hash, ReceiptLevel::kAcknowledged),
      &response);
  EXPECT_TRUE(st.ok()) << Describe(st);
  EXPECT_EQ(TreeSize(), size + 2);
  // The party's answer goes through Acknowledge.
  ASSERT_TRUE(AckReceipt("pa", "mv-1", 1, v.sealed.hash).ok());
  EXPECT_EQ(PartyOf(MustGet("c1", "mv-1"), "pa")->state(), PS::ACKNOWLEDGED);
}

TEST_F(NotificationServiceTest, OverallIsOverdueOncePastAckByWithoutAllAcks) {
  SealedVersion v;
  v1::NotificationMetadata m = Movement("mv-1", {"pa", "pb"});
  NotifyNew("c1", m, &v);
  ASSERT_TRUE(AckReceipt("pa", "mv-1", 1, v.sealed.hash).ok());
  clock_.Set(absl::FromUnixSeconds(m.ack_by() - 1));
  EXPECT_EQ(MustGet("c1", "mv-1").overall(), NS::PARTIALLY_ACKNOWLEDGED);
  clock_.Set(absl::FromUnixSeconds(m.ack_by()));
  EXPECT_EQ(MustGet("c1", "mv-1").overall(), NS::OVERDUE);
  // A late acknowledgement is still accepted and completes the set.
  ASSERT_TRUE(AckReceipt("pb", "mv-1", 1, v.sealed.hash).ok());
  EXPECT_EQ(MustGet("c1", "mv-1").overall(), NS::ACKNOWLEDGED_BY_ALL);
}

TEST_F(NotificationServiceTest, CancelledNotificationRefusesAcknowledgement) {
  SealedVersion v;
  NotifyNew("c1", Movement("mv-1", {"pa", "pb"}), &v);
  ASSERT_TRUE(AckReceipt("pa", "mv-1", 1, v.sealed.hash).ok());
  std::vector<std::string> audience = Audience("c1", {"pa", "pb"});
  const uint64_t size = TreeSize();
  // Only the issuer cancels; the reason goes to the whole audience.
  Sealed by_c2 = SealSide("c2", "n/mv-1/cancel", "called off", audience);
  grpc::Status st = Cancel("c2", "mv-1", by_c2);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(st);
  Sealed partial = SealSide("c1", "n/mv-1/cancel", "called off",
                            IssuerSide("c1"));
  st = Cancel("c1", "mv-1", partial);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(st);
  EXPECT_EQ(TreeSize(), size);

  Sealed reason = SealSide("c1", "n/mv-1/cancel", "called off", audience);
  st = Cancel("c1", "mv-1", reason);
  ASSERT_TRUE(st.ok()) << Describe(st);
  EXPECT_EQ(TreeSize(), size + 1);
  EXPECT_EQ(MustGet("pb", "mv-1").overall(), NS::CANCELLED);

  st = AckReceipt("pb", "mv-1", 1, v.sealed.hash);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(st);
  st = Cancel("c1", "mv-1",
              SealSide("c1", "n/mv-1/cancel", "again", audience));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(st);
  // Cancelled notifications are never escalated.
  clock_.Advance(absl::Hours(60));
  absl::StatusOr<int> logged = server_->RunDueDeadlines();
  ASSERT_TRUE(logged.ok()) << logged.status();
  EXPECT_EQ(*logged, 0);
  EXPECT_EQ(TreeSize(), size + 1);
}

TEST_F(NotificationServiceTest, FinalStatusCompletesAMovement) {
  SealedVersion v;
  NotifyNew("c1", Movement("mv-1", {"pa", "pb"}), &v);
  std::vector<std::string> audience = Audience("c1", {"pa", "pb"});
  grpc::Status st = PostStatus(
      "c1", "mv-1", SealSide("c1", "n/mv-1/status", "departed", audience),
      false);
  ASSERT_TRUE(st.ok()) << Describe(st);
  EXPECT_EQ(MustGet("c1", "mv-1").overall(), NS::PENDING);
  // Not the issuer.
  st = PostStatus("c2", "mv-1",
                  SealSide("c2", "n/mv-1/status", "arrived", audience), true);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(st);
  st = PostStatus("c1", "mv-1",
                  SealSide("c1", "n/mv-1/status", "facilitated", audience),
                  true);
  ASSERT_TRUE(st.ok()) << Describe(st);
  EXPECT_EQ(MustGet("pa", "mv-1").overall(), NS::COMPLETED);
}

TEST_F(NotificationServiceTest, NotificationExpiresPastValidUntil) {
  v1::NotificationMetadata m = Movement("mv-1", {"pa"});
  NotifyNew("c1", m);
  clock_.Set(absl::FromUnixSeconds(m.valid_until() - 1));
  EXPECT_EQ(MustGet("c1", "mv-1").overall(), NS::OVERDUE);
  clock_.Set(absl::FromUnixSeconds(m.valid_until()));
  EXPECT_EQ(MustGet("c1", "mv-1").overall(), NS::EXPIRED);
}

// --- Deadlines and the escalation ladder ----------------------------------

TEST_F(NotificationServiceTest,
       EscalationLadderLogsEachStepOncePerUnacknowledgedParty) {
  SealedVersion v;
  v1::NotificationMetadata m = Movement("mv-1", {"pa", "pb"});
  NotifyNew("c1", m, &v);
  // pc is in another notification whose deadline is far away.
  NotifyNew("c1", Movement("mv-2", {"pc"}, absl::Hours(150), absl::Hours(24)));
  ASSERT_TRUE(AckReceipt("pa", "mv-1", 1, v.sealed.hash).ok());

  const uint64_t start = TreeSize();
  std::map<std::string, std::unique_ptr<DeliveryStream>> streams;
  for (const std::string name : {"c1", "c2", "m1", "m2", "pa", "pb", "pc",
                                 "x1", "obs"}) {
    streams[name] = Subscribe(device(name), start - 1, false);
  }
  auto run = [&]() {
    absl::StatusOr<int> n = server_->RunDueDeadlines();
    EXPECT_TRUE(n.ok()) << n.status();
    return n.value_or(-1);
  };
  const int64_t ack_by = m.ack_by();

  EXPECT_EQ(run(), 0);
  clock_.Set(absl::FromUnixSeconds(ack_by - 6 * 3600 - 1));
  EXPECT_EQ(run(), 0);
  clock_.Set(absl::FromUnixSeconds(ack_by - 6 * 3600 + 1));
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(MustGet("c1", "mv-1").overall(), NS::PARTIALLY_ACKNOWLEDGED);
  EXPECT_EQ(PartyOf(MustGet("c1", "mv-1"), "pb")->escalation(), 1u);
  clock_.Set(absl::FromUnixSeconds(ack_by - 1));
  EXPECT_EQ(run(), 0);
  clock_.Set(absl::FromUnixSeconds(ack_by));
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(MustGet("c1", "mv-1").overall(), NS::OVERDUE);
  clock_.Set(absl::FromUnixSeconds(ack_by + 2 * 3600 - 1));
  EXPECT_EQ(run(), 0);
  clock_.Set(absl::FromUnixSeconds(ack_by + 2 * 3600));
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(run(), 0);
  clock_.Advance(absl::Hours(5));
  EXPECT_EQ(run(), 0);
  const uint64_t end = TreeSize();
  ASSERT_EQ(end, start + 3);

  auto escalations = EntriesOf<Escalation>(start, end);
  ASSERT_EQ(escalations.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const Escalation& e = escalations[i].second;
    EXPECT_EQ(e.id, "mv-1");
    EXPECT_EQ(e.version, 1u);
    EXPECT_EQ(e.party, "pb");
    EXPECT_EQ(static_cast<int>(e.step), i + 1);
    EXPECT_EQ(e.deadline, ack_by);
  }
  NS s = MustGet("m1", "mv-1");
  EXPECT_EQ(PartyOf(s, "pb")->escalation(), 3u);
  EXPECT_EQ(PartyOf(s, "pa")->escalation(), 0u);

  // A barrier every cast member in ocha's audience of pa, pb, pc receives.
  v1::NotifyResponse barrier = NotifyNew("c1", Movement("mv-3", {"pa", "pb",
                                                                 "pc"}));
  auto escalation_indexes = [&](const std::string& name) {
    std::vector<uint64_t> out;
    for (const v1::Delivery& d :
         OfKind(Until(*streams[name], barrier.log_index()),
                v1::Delivery::ESCALATION)) {
      out.push_back(d.index());
      EXPECT_TRUE(std::holds_alternative<Escalation>(DecodeDelivery(d).body));
    }
    return out;
  };
  const uint64_t step1 = escalations[0].first, step2 = escalations[1].first,
                 step3 = escalations[2].first;
  EXPECT_THAT(escalation_indexes("pb"), ElementsAre(step1, step2, step3));
  for (const std::string name : {"c1", "c2", "m1", "m2"}) {
    EXPECT_THAT(escalation_indexes(name), ElementsAre(step2, step3)) << name;
  }
  EXPECT_THAT(escalation_indexes("pa"), IsEmpty());
  EXPECT_THAT(escalation_indexes("pc"), IsEmpty());
  // Not in any audience: nothing at all arrives.
  EXPECT_FALSE(streams["x1"]->Next(absl::Milliseconds(500)).has_value());
  EXPECT_FALSE(streams["obs"]->Next(absl::Milliseconds(10)).has_value());
}

TEST_F(NotificationServiceTest, LateRunLogsEveryDueStepInOrder) {
  v1::NotificationMetadata m = Movement("mv-1", {"pa"});
  NotifyNew("c1", m);
  const uint64_t start = TreeSize();
  clock_.Set(absl::FromUnixSeconds(m.ack_by() + 3 * 3600));
  absl::StatusOr<int> n = server_->RunDueDeadlines();
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 3);
  auto escalations = EntriesOf<Escalation>(start, TreeSize());
  ASSERT_EQ(escalations.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(static_cast<int>(escalations[i].second.step), i + 1);
  }
}

TEST_F(NotificationServiceTest, ObjectionStopsEscalation) {
  SealedVersion v;
  v1::NotificationMetadata m = Movement("mv-1", {"pa", "pb"});
  NotifyNew("c1", m, &v);
  ASSERT_TRUE(Object("pa", "c1", "mv-1", 1, v.sealed.hash).ok());
  clock_.Set(absl::FromUnixSeconds(m.ack_by() + 3 * 3600));
  absl::StatusOr<int> n = server_->RunDueDeadlines();
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 3);  // pb only
  NS s = MustGet("c1", "mv-1");
  EXPECT_EQ(PartyOf(s, "pa")->escalation(), 0u);
  EXPECT_EQ(PartyOf(s, "pb")->escalation(), 3u);
}

TEST_F(NotificationServiceTest, NotificationWithoutDeadlineIsNeverEscalated) {
  NotifyNew("c1", Movement("mv-1", {"pa"}, absl::Hours(72), absl::ZeroDuration()));
  NotifyNew("c1", Site("site-1", {"pa"}));
  clock_.Advance(absl::Hours(100));
  absl::StatusOr<int> n = server_->RunDueDeadlines();
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 0);
  EXPECT_EQ(MustGet("pa", "site-1").overall(), NS::PENDING);
}

// --- Amendment --------------------------------------------------------------

TEST_F(NotificationServiceTest, AmendmentSupersedesAndResetsEveryParty) {
  SealedVersion v1;
  v1::NotifyResponse r1 = NotifyNew("c1", Movement("mv-1", {"pa", "pb"}), &v1);
  ASSERT_TRUE(Deliver("pa", r1.log_index(), v1.sealed.hash).ok());
  ASSERT_TRUE(AckReceipt("pa", "mv-1", 1, v1.sealed.hash).ok());
  ASSERT_TRUE(Deliver("pb", r1.log_index(), v1.sealed.hash).ok());
  clock_.Advance(absl::Hours(1));

  v1::NotificationMetadata m2 = Movement("mv-1", {"pa", "pb"}, absl::Hours(80));
  SealedVersion v2 = SealVersion("c1", m2, 2, v1.sealed.hash);
  v1::NotifyResponse r2;
  grpc::Status st = Notify("c1", v2, 1, &r2);
  ASSERT_TRUE(st.ok()) << Describe(st);
  EXPECT_EQ(r2.version(), 2u);
  EXPECT_FALSE(r2.duplicate());

  NS s = MustGet("pb", "mv-1");
  EXPECT_EQ(s.version(), 2u);
  EXPECT_EQ(s.log_index(), r2.log_index());
  EXPECT_EQ(s.envelope(), v2.sealed.bytes);
  EXPECT_EQ(s.metadata().depart_at(), m2.depart_at());
  EXPECT_EQ(s.overall(), NS::PENDING);
  for (const PS& p : s.parties()) {
    EXPECT_EQ(p.state(), PS::LOGGED) << p.party();
    EXPECT_EQ(p.acknowledged_at(), 0) << p.party();
    EXPECT_EQ(p.delivered_at(), 0) << p.party();
    EXPECT_EQ(p.logged_at(), absl::ToUnixSeconds(clock_.Now()));
  }
  NS issuer_view = MustGet("c1", "mv-1");
  EXPECT_THAT(issuer_view.entry_indexes(),
              ::testing::Contains(r1.log_index()));
  EXPECT_THAT(issuer_view.entry_indexes(),
              ::testing::Contains(r2.log_index()));

  const uint64_t size = TreeSize();
  // An acknowledgement of v1 after v2 is refused, naming the new version.
  st = AckReceipt("pb", "mv-1", 1, v1.sealed.hash);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(st);
  EXPECT_THAT(st.error_message(), HasSubstr("version 2"));
  // A receipt over v1's envelope under version 2.
  st = AckReceipt("pb", "mv-1", 2, v1.sealed.hash);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(st);
  EXPECT_EQ(TreeSize(), size);
  ASSERT_TRUE(Deliver("pb", r2.log_index(), v2.sealed.hash).ok());
  EXPECT_EQ(PartyOf(MustGet("c1", "mv-1"), "pb")->state(), PS::DELIVERED);
  st = AckReceipt("pb", "mv-1", 2, v2.sealed.hash);
  ASSERT_TRUE(st.ok()) << Describe(st);
  EXPECT_EQ(MustGet("c1", "mv-1").overall(), NS::PARTIALLY_ACKNOWLEDGED);
}

TEST_F(NotificationServiceTest, AmendmentMustChainToTheCurrentVersion) {
  SealedVersion v1;
  NotifyNew("c1", Movement("mv-1", {"pa"}), &v1);
  const uint64_t size = TreeSize();
  v1::NotificationMetadata m2 = Movement("mv-1", {"pa"});
  // Wrong previous hash.
  grpc::Status st =
      Notify("c1", SealVersion("c1", m2, 2, std::string(32, '\x07')), 1);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(st);
  // Wrong sequence.
  st = Notify("c1", SealVersion("c1", m2, 3, v1.sealed.hash), 1);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(st);
  // Supersedes a version that does not exist.
  st = Notify("c1", SealVersion("c1", m2, 2, v1.sealed.hash), 2);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(st);
  // Version 1 again, without supersedes.
  st = Notify("c1", SealVersion("c1", m2), 0);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::ALREADY_EXISTS)
      << Describe(st);
  // Amending something that does not exist.
  v1::NotificationMetadata other = Movement("mv-404", {"pa"});
  st = Notify("c1", SealVersion("c1", other, 2, v1.sealed.hash), 1);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(st);
  EXPECT_EQ(TreeSize(), size);

  // The right chain is accepted; a stale amendment of v1 is then refused.
  SealedVersion v2 = SealVersion("c1", m2, 2, v1.sealed.hash);
  ASSERT_TRUE(Notify("c1", v2, 1).ok());
  st = Notify("c1", SealVersion("c1", m2, 2, v1.sealed.hash), 1);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(st);
  SealedVersion v3 = SealVersion("c1", m2, 3, v2.sealed.hash);
  v1::NotifyResponse r3;
  st = Notify("c1", v3, 2, &r3);
  ASSERT_TRUE(st.ok()) << Describe(st);
  EXPECT_EQ(r3.version(), 3u);
}

TEST_F(NotificationServiceTest, OnlyTheIssuerAmends) {
  SealedVersion v1;
  NotifyNew("c1", Movement("mv-1", {"pa"}), &v1);
  const uint64_t size = TreeSize();
  v1::NotificationMetadata m2 = Movement("mv-1", {"pa"});
  // c2 is a coordinator of the same organisation, but not the issuer.
  grpc::Status st = Notify("c2", SealVersion("c2", m2, 2, v1.sealed.hash), 1);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(st);
  // x1 (another organisation) is not even told it exists.
  st = Notify("x1", SealVersion("x1", m2, 2, v1.sealed.hash), 1);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(st);
  // Nor may x1 take the id as a new notification.
  st = Notify("x1", SealVersion("x1", m2), 0);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::ALREADY_EXISTS)
      << Describe(st);
  EXPECT_EQ(TreeSize(), size);
  EXPECT_EQ(MustGet("c1", "mv-1").version(), 1u);
}

TEST_F(NotificationServiceTest, EscalationStepsRestartForANewVersion) {
  SealedVersion v1;
  v1::NotificationMetadata m = Movement("mv-1", {"pa"});
  NotifyNew("c1", m, &v1);
  clock_.Set(absl::FromUnixSeconds(m.ack_by()));
  absl::StatusOr<int> n = server_->RunDueDeadlines();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(PartyOf(MustGet("c1", "mv-1"), "pa")->escalation(), 2u);
  v1::NotificationMetadata m2 = Movement("mv-1", {"pa"});
  ASSERT_TRUE(Notify("c1", SealVersion("c1", m2, 2, v1.sealed.hash), 1).ok());
  EXPECT_EQ(PartyOf(MustGet("c1", "mv-1"), "pa")->escalation(), 0u);
  n = server_->RunDueDeadlines();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
  clock_.Set(absl::FromUnixSeconds(m2.ack_by() - 6 * 3600));
  n = server_->RunDueDeadlines();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
}

// --- Visibility --------------------------------------------------------------

TEST_F(NotificationServiceTest, NonRecipientsLearnNothingAboutANotification) {
  const uint64_t start = TreeSize();
  auto pc_stream = Subscribe(device("pc"), 0, true);
  auto x1_stream = Subscribe(device("x1"), 0, true);
  auto m2_stream = Subscribe(device("m2"), start - 1, false);
  SealedVersion v;
  v1::NotifyResponse r = NotifyNew("c1", Movement("mv-1", {"pa", "pb"}), &v);
  ASSERT_TRUE(AckReceipt("pa", "mv-1", 1, v.sealed.hash).ok());
  ASSERT_TRUE(Object("pb", "c1", "mv-1", 1, v.sealed.hash).ok());
  ASSERT_TRUE(PostStatus("c1", "mv-1",
                         SealSide("c1", "n/mv-1/status", "departed",
                                  Audience("c1", {"pa", "pb"})),
                         false)
                  .ok());

  for (const std::string name : {"pc", "x1", "obs"}) {
    v1::NotificationState state;
    grpc::Status st = Get(name, "mv-1", &state);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND)
        << name << ": " << Describe(st);
    // Same answer as for an id that does not exist.
    v1::NotificationState missing;
    grpc::Status st404 = Get(name, "mv-404", &missing);
    EXPECT_EQ(st404.error_code(), st.error_code());
    v1::ListNotificationsResponse list;
    st = List(name, &list);
    ASSERT_TRUE(st.ok()) << Describe(st);
    EXPECT_THAT(list.notifications(), IsEmpty()) << name;
  }
  for (const std::string name : {"c1", "c2", "m1", "m2", "pa", "pb"}) {
    v1::ListNotificationsResponse list;
    ASSERT_TRUE(List(name, &list).ok());
    ASSERT_EQ(list.notifications_size(), 1) << name;
    EXPECT_EQ(list.notifications(0).metadata().id(), "mv-1");
    EXPECT_EQ(MustGet(name, "mv-1").version(), 1u);
  }
  // pc's and x1's streams stay silent while m2's carries everything.
  std::vector<v1::Delivery> m2 = m2_stream->Take(4);
  ASSERT_EQ(m2.size(), 4u);
  EXPECT_EQ(m2[0].kind(), v1::Delivery::NOTIFICATION);
  EXPECT_EQ(m2[0].index(), r.log_index());
  EXPECT_EQ(m2[1].kind(), v1::Delivery::NOTIFICATION_ACK);
  EXPECT_EQ(m2[2].kind(), v1::Delivery::NOTIFICATION_ACK);
  EXPECT_EQ(m2[3].kind(), v1::Delivery::NOTIFICATION);
  EXPECT_FALSE(pc_stream->Next(absl::Milliseconds(500)).has_value());
  EXPECT_FALSE(x1_stream->Next(absl::Milliseconds(10)).has_value());
  // Then a notification to pc arrives as pc's first delivery ever.
  v1::NotifyResponse to_pc = NotifyNew("c1", Movement("mv-2", {"pc"}));
  std::optional<v1::Delivery> first = pc_stream->Next();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->index(), to_pc.log_index());
  EXPECT_EQ(first->kind(), v1::Delivery::NOTIFICATION);
}

TEST_F(NotificationServiceTest,
       ReceiptsAndAcknowledgementsStreamToTheIssuerSideNotToOtherParties) {
  const uint64_t start = TreeSize();
  auto pb_stream = Subscribe(device("pb"), start - 1, false);
  auto c2_stream = Subscribe(device("c2"), start - 1, false);
  SealedVersion v;
  v1::NotifyResponse r = NotifyNew("c1", Movement("mv-1", {"pa", "pb"}), &v);
  ASSERT_TRUE(Deliver("pa", r.log_index(), v.sealed.hash).ok());
  v1::AcknowledgeResponse ack;
  ASSERT_TRUE(AckReceipt("pa", "mv-1", 1, v.sealed.hash, &ack).ok());
  v1::NotifyResponse barrier = NotifyNew("c1", Movement("mv-2", {"pb"}));
  std::vector<v1::Delivery> got = Until(*pb_stream, barrier.log_index());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].index(), r.log_index());
  EXPECT_EQ(got[1].index(), barrier.log_index());

  std::vector<v1::Delivery> c2 = Until(*c2_stream, barrier.log_index());
  ASSERT_EQ(c2.size(), 4u);
  EXPECT_EQ(c2[0].kind(), v1::Delivery::NOTIFICATION);
  EXPECT_EQ(c2[1].kind(), v1::Delivery::RECEIPT);
  LogEntry receipt_entry = DecodeDelivery(c2[1]);
  const auto* receipt = std::get_if<ReceiptEntry>(&receipt_entry.body);
  ASSERT_NE(receipt, nullptr);
  EXPECT_EQ(receipt->recipient, "pa");
  EXPECT_EQ(receipt->envelope_index, r.log_index());
  EXPECT_EQ(c2[2].kind(), v1::Delivery::NOTIFICATION_ACK);
  EXPECT_EQ(c2[2].index(), ack.log_index());
  EXPECT_EQ(c2[3].index(), barrier.log_index());
}

TEST_F(NotificationServiceTest, SitesAreCancelledButTakeNoStatus) {
  SealedVersion v;
  NotifyNew("c1", Site("site-1", {"pa"}), &v);
  std::vector<std::string> audience = Audience("c1", {"pa"});
  const uint64_t size = TreeSize();
  grpc::Status st = PostStatus(
      "c1", "site-1", SealSide("c1", "n/site-1/status", "x", audience), true);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << Describe(st);
  EXPECT_EQ(TreeSize(), size);
  st = Cancel("c1", "site-1",
              SealSide("c1", "n/site-1/cancel", "deactivated", audience));
  ASSERT_TRUE(st.ok()) << Describe(st);
  EXPECT_EQ(MustGet("pa", "site-1").overall(), NS::CANCELLED);
}

// --- Site review-by --------------------------------------------------------

// `m` with its review-by date (valid_until) at `review_by`.
v1::NotificationMetadata WithReviewBy(v1::NotificationMetadata m,
                                      absl::Time review_by) {
  m.set_valid_until(absl::ToUnixSeconds(review_by));
  return m;
}

TEST_F(NotificationServiceTest,
       SiteIsRemindedOnceAtReviewByToTheIssuersCoordinatorsOnly) {
  v1::NotificationMetadata m = WithReviewBy(Site("site-1", {"pa", "pb"}),
                                            clock_.Now() + absl::Hours(48));
  const int64_t review_by = m.valid_until();
  v1::NotifyResponse r = NotifyNew("c1", m);
  const uint64_t start = TreeSize();
  std::map<std::string, std::unique_ptr<DeliveryStream>> streams;
  for (const std::string name : {"c1", "c2", "m1", "pa", "pb", "x1", "obs"}) {
    streams[name] = Subscribe(device(name), start - 1, false);
  }
  auto run = [&]() {
    absl::StatusOr<int> n = server_->RunDueDeadlines();
    EXPECT_TRUE(n.ok()) << n.status();
    return n.value_or(-1);
  };

  EXPECT_EQ(run(), 0);
  clock_.Set(absl::FromUnixSeconds(review_by - 1));
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(MustGet("c1", "site-1").overall(), NS::PENDING);
  EXPECT_EQ(TreeSize(), start);

  clock_.Set(absl::FromUnixSeconds(review_by));
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(run(), 0);
  clock_.Advance(absl::Hours(24));
  EXPECT_EQ(run(), 0);
  ASSERT_EQ(TreeSize(), start + 1);

  const LogEntry logged = EntryAt(start);
  const auto* e = std::get_if<Escalation>(&logged.body);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->id, "site-1");
  EXPECT_EQ(e->version, 1u);
  EXPECT_EQ(e->party, "c1");
  EXPECT_EQ(e->step, EscalationStep::kReviewDue);
  EXPECT_EQ(e->deadline, review_by);
  EXPECT_EQ(logged.logged_at_ms, review_by * 1000);

  // The register still reports the site expired; no party's escalation
  // moves, and a party's own view does not list the reminder.
  NS s = MustGet("c1", "site-1");
  EXPECT_EQ(s.overall(), NS::EXPIRED);
  EXPECT_THAT(s.entry_indexes(), ElementsAre(r.log_index(), start));
  for (const PS& p : s.parties()) EXPECT_EQ(p.escalation(), 0u) << p.party();
  EXPECT_THAT(MustGet("m1", "site-1").entry_indexes(),
              ::testing::Contains(start));
  EXPECT_THAT(MustGet("pa", "site-1").entry_indexes(),
              ElementsAre(r.log_index()));

  // Delivered to the coordinators of the issuer's organisation (c1, c2):
  // not to the mediators, the parties, or anyone outside the audience.
  v1::NotifyResponse barrier =
      NotifyNew("c1", Movement("mv-barrier", {"pa", "pb"}));
  auto escalations = [&](const std::string& name) {
    std::vector<uint64_t> out;
    for (const v1::Delivery& d :
         OfKind(Until(*streams[name], barrier.log_index()),
                v1::Delivery::ESCALATION)) {
      out.push_back(d.index());
    }
    return out;
  };
  EXPECT_THAT(escalations("c1"), ElementsAre(start));
  EXPECT_THAT(escalations("c2"), ElementsAre(start));
  for (const std::string name : {"m1", "pa", "pb"}) {
    EXPECT_THAT(escalations(name), IsEmpty()) << name;
  }
  EXPECT_FALSE(streams["x1"]->Next(absl::Milliseconds(300)).has_value());
  EXPECT_FALSE(streams["obs"]->Next(absl::Milliseconds(10)).has_value());
}

TEST_F(NotificationServiceTest, OnlyOpenSitesWithAReviewByAreReminded) {
  const absl::Time t0 = clock_.Now();
  // Cancelled before its review-by.
  NotifyNew("c1", WithReviewBy(Site("site-cancelled", {"pa"}),
                               t0 + absl::Hours(10)));
  ASSERT_TRUE(Cancel("c1", "site-cancelled",
                     SealSide("c1", "n/site-cancelled/cancel", "closed",
                              Audience("c1", {"pa"})))
                  .ok());
  // No review-by at all.
  NotifyNew("c1", Site("site-open-ended", {"pa"}));
  // A movement past its validity window (valid_until) is not a site.
  v1::NotificationMetadata mv =
      Movement("mv-1", {"pa"}, absl::Hours(72), absl::Duration());
  NotifyNew("c1", mv);
  const uint64_t size = TreeSize();
  clock_.Set(absl::FromUnixSeconds(mv.valid_until()) + absl::Hours(24 * 30));
  SignInAll();  // sessions last 30 days
  absl::StatusOr<int> n = server_->RunDueDeadlines();
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 0);
  EXPECT_EQ(TreeSize(), size);
  EXPECT_EQ(MustGet("c1", "site-cancelled").overall(), NS::CANCELLED);
  EXPECT_EQ(MustGet("c1", "mv-1").overall(), NS::EXPIRED);
}

TEST_F(NotificationServiceTest, ReviewReminderIsNeitherRepeatedNorLostByARestart) {
  const absl::Time t0 = clock_.Now();
  v1::NotificationMetadata a =
      WithReviewBy(Site("site-a", {"pa"}), t0 + absl::Hours(10));
  v1::NotificationMetadata b =
      WithReviewBy(Site("site-b", {"pb"}), t0 + absl::Hours(20));
  NotifyNew("c1", a);
  NotifyNew("c2", b);
  clock_.Set(absl::FromUnixSeconds(a.valid_until()));
  absl::StatusOr<int> n = server_->RunDueDeadlines();
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1);
  const NS before = MustGet("c1", "site-a");

  // site-b falls due while the server is down.
  StopServer();
  clock_.Set(absl::FromUnixSeconds(b.valid_until() + 3600));
  StartServer();
  SignInAll();
  EXPECT_EQ(MustGet("c1", "site-a").SerializeAsString(),
            before.SerializeAsString());
  const uint64_t size = TreeSize();
  n = server_->RunDueDeadlines();
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1);  // site-b only: site-a's reminder is in the log
  ASSERT_EQ(TreeSize(), size + 1);
  const LogEntry entry = EntryAt(size);
  const auto* e = std::get_if<Escalation>(&entry.body);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->id, "site-b");
  EXPECT_EQ(e->party, "c2");
  EXPECT_EQ(e->step, EscalationStep::kReviewDue);

  StopServer();
  StartServer();
  SignInAll();
  n = server_->RunDueDeadlines();
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 0);
  EXPECT_EQ(TreeSize(), size + 1);
}

TEST_F(NotificationServiceTest, AmendedSiteIsRemindedAtItsNewReviewBy) {
  const absl::Time t0 = clock_.Now();
  SealedVersion v1;
  v1::NotificationMetadata m1 =
      WithReviewBy(Site("site-1", {"pa"}), t0 + absl::Hours(10));
  NotifyNew("c1", m1, &v1);
  clock_.Set(absl::FromUnixSeconds(m1.valid_until()));
  absl::StatusOr<int> n = server_->RunDueDeadlines();
  ASSERT_TRUE(n.ok()) << n.status();
  ASSERT_EQ(*n, 1);

  // Reviewed: version 2 with a review-by two days on.
  clock_.Advance(absl::Hours(1));
  v1::NotificationMetadata m2 =
      WithReviewBy(Site("site-1", {"pa"}), clock_.Now() + absl::Hours(48));
  SealedVersion v2 = SealVersion("c1", m2, 2, v1.sealed.hash);
  ASSERT_TRUE(Notify("c1", v2, 1).ok());
  EXPECT_EQ(MustGet("c1", "site-1").overall(), NS::PENDING);
  n = server_->RunDueDeadlines();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
  clock_.Set(absl::FromUnixSeconds(m2.valid_until() - 1));
  n = server_->RunDueDeadlines();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
  clock_.Set(absl::FromUnixSeconds(m2.valid_until()));
  const uint64_t size = TreeSize();
  n = server_->RunDueDeadlines();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  const LogEntry entry = EntryAt(size);
  const auto* e = std::get_if<Escalation>(&entry.body);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->version, 2u);
  EXPECT_EQ(e->deadline, m2.valid_until());

  // Version 3, logged after version 2's review-by and keeping that date
  // (e.g. a deactivation): the amendment is the coordinator's action after
  // the date, so nothing is reminded; the register still says expired.
  clock_.Advance(absl::Hours(1));
  SealedVersion v3 = SealVersion("c1", m2, 3, v2.sealed.hash);
  ASSERT_TRUE(Notify("c1", v3, 2).ok());
  clock_.Advance(absl::Hours(24));
  n = server_->RunDueDeadlines();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
  EXPECT_EQ(MustGet("c1", "site-1").overall(), NS::EXPIRED);

  // Version 4 sets a review-by; version 5 drops it before that date:
  // never reminded.
  v1::NotificationMetadata m4 =
      WithReviewBy(Site("site-1", {"pa"}), clock_.Now() + absl::Hours(5));
  ASSERT_TRUE(Notify("c1", SealVersion("c1", m4, 4, v3.sealed.hash), 3).ok());
  v1::NotificationMetadata m5 = Site("site-1", {"pa"});
  ASSERT_TRUE(
      Notify("c1",
             SealVersion("c1", m5, 5,
                         EnvelopeHash(MustGet("c1", "site-1").envelope())),
             4)
          .ok());
  clock_.Advance(absl::Hours(24 * 365));
  SignInAll();  // sessions last 30 days
  n = server_->RunDueDeadlines();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
  EXPECT_EQ(MustGet("c1", "site-1").overall(), NS::PENDING);
}

// A server with its own [deconfliction] policy.
class ConfiguredDeconflictionTest : public NotificationServiceTest {
 protected:
  void Configure(ServerConfig& config) override {
    NotificationServiceTest::Configure(config);
    config.deconfliction.movement_lead = absl::Hours(12);
    config.deconfliction.emergency_lead = absl::Hours(2);
    config.deconfliction.reminder_before = absl::Hours(1);
    config.deconfliction.second_escalation_after = absl::Minutes(30);
  }
};

TEST_F(ConfiguredDeconflictionTest, LadderAndLeadTimeFollowTheConfiguration) {
  v1::NotificationMetadata m =
      Movement("mv-1", {"pa"}, absl::Hours(20), absl::Hours(4));
  v1::NotifyResponse r = NotifyNew("c1", m);
  EXPECT_FALSE(r.late());
  EXPECT_EQ(r.required_lead_time_seconds(), 12 * 3600);
  EXPECT_TRUE(
      NotifyNew("c1", Movement("mv-2", {"pa"}, absl::Hours(11), absl::Hours(4)))
          .late());
  auto run = [&]() {
    absl::StatusOr<int> n = server_->RunDueDeadlines();
    EXPECT_TRUE(n.ok()) << n.status();
    return n.value_or(-1);
  };
  // Just before mv-1's reminder (ack_by - 1 h), mv-2 (ack_by 7 h from the
  // start) has passed all three of its steps.
  clock_.Set(absl::FromUnixSeconds(m.ack_by() - 3600 - 1));
  EXPECT_EQ(run(), 3);
  EXPECT_EQ(PartyOf(MustGet("c1", "mv-1"), "pa")->escalation(), 0u);
  clock_.Set(absl::FromUnixSeconds(m.ack_by() - 3600));
  EXPECT_EQ(run(), 1);
  clock_.Set(absl::FromUnixSeconds(m.ack_by()));
  EXPECT_EQ(run(), 1);
  clock_.Set(absl::FromUnixSeconds(m.ack_by() + 1799));
  EXPECT_EQ(run(), 0);
  clock_.Set(absl::FromUnixSeconds(m.ack_by() + 1800));
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(PartyOf(MustGet("c1", "mv-1"), "pa")->escalation(), 3u);
}

TEST_F(NotificationServiceTest, VersionMustBeSealedToExactlyTheAudience) {
  v1::NotificationMetadata m = Movement("mv-1", {"pa", "pb"});
  const uint64_t size = TreeSize();
  std::vector<std::string> extra = Audience("c1", {"pa", "pb"});
  extra.push_back("pc");
  std::vector<std::string> without_m2 = {"c1", "c2", "m1", "pa", "pb"};
  std::vector<std::string> with_x1 = Audience("c1", {"pa", "pb"});
  with_x1.push_back("x1");
  for (const auto& recipients : {extra, without_m2, with_x1}) {
    grpc::Status st =
        Notify("c1", SealVersion("c1", m, 1, "", recipients), 0);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
        << Describe(st);
  }
  // Channel id must be "n/<id>".
  {
    SealedVersion v = SealVersion("c1", m);
    v.metadata.set_id("mv-2");
    grpc::Status st = Notify("c1", v, 0);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << Describe(st);
  }
  // Version 1 must carry sequence 0 and a zero previous hash.
  {
    SealedVersion v = SealVersion("c1", m, 2, std::string(32, '\x01'));
    grpc::Status st = Notify("c1", v, 0);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
        << Describe(st);
  }
  // Signed by someone else than the caller.
  {
    SealedVersion v = SealVersion("c2", m);
    grpc::Status st = Notify("c1", v, 0);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << Describe(st);
  }
  // A flipped byte breaks the signature.
  {
    SealedVersion v = SealVersion("c1", m);
    v.sealed.bytes[v.sealed.bytes.size() - 1] ^= 1;
    grpc::Status st = Notify("c1", v, 0);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << Describe(st);
  }
  EXPECT_EQ(TreeSize(), size);
  // x1's notification goes to x1's organisation, not ocha's.
  v1::NotifyResponse r = NotifyNew("x1", Movement("mv-x", {"pa"}));
  EXPECT_FALSE(r.duplicate());
  EXPECT_EQ(Get("c1", "mv-x", nullptr).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// --- Lead time ----------------------------------------------------------------

TEST_F(NotificationServiceTest, ShortLeadTimeIsAcceptedButFlaggedLate) {
  v1::NotificationMetadata m =
      Movement("mv-1", {"pa"}, absl::Hours(10), absl::Hours(2));
  v1::NotifyResponse r = NotifyNew("c1", m);
  EXPECT_TRUE(r.late());
  EXPECT_EQ(r.lead_time_seconds(), 10 * 3600);
  EXPECT_EQ(r.required_lead_time_seconds(), 48 * 3600);
  LogEntry e = EntryAt(r.log_index());
  const auto* version = std::get_if<NotificationVersion>(&e.body);
  ASSERT_NE(version, nullptr);
  EXPECT_EQ(version->flags & kNotificationLate, kNotificationLate);
  EXPECT_EQ(version->flags & kNotificationEmergency, 0);
  EXPECT_EQ(version->required_lead_seconds, 48 * 3600);
  NS s = MustGet("pa", "mv-1");
  EXPECT_TRUE(s.late());
  EXPECT_FALSE(s.metadata().emergency());
}

TEST_F(NotificationServiceTest, EmergencyLeadTimeIsShorter) {
  v1::NotificationMetadata m30 =
      Movement("mv-30", {"pa"}, absl::Hours(30), absl::Hours(2));
  m30.set_emergency(true);
  v1::NotifyResponse r30 = NotifyNew("c1", m30);
  EXPECT_FALSE(r30.late());
  EXPECT_EQ(r30.required_lead_time_seconds(), 24 * 3600);
  LogEntry e = EntryAt(r30.log_index());
  const auto* version = std::get_if<NotificationVersion>(&e.body);
  ASSERT_NE(version, nullptr);
  EXPECT_EQ(version->flags, kNotificationEmergency);
  NS s = MustGet("pa", "mv-30");
  EXPECT_FALSE(s.late());
  EXPECT_TRUE(s.metadata().emergency());

  v1::NotifyResponse r60 = NotifyNew(
      "c1", Movement("mv-60", {"pa"}, absl::Hours(60), absl::Hours(2)));
  EXPECT_FALSE(r60.late());
  EXPECT_FALSE(MustGet("pa", "mv-60").late());
  EXPECT_EQ(std::get<NotificationVersion>(EntryAt(r60.log_index()).body).flags,
            0);

  v1::NotificationMetadata m20 =
      Movement("mv-20", {"pa"}, absl::Hours(20), absl::Hours(2));
  m20.set_emergency(true);
  EXPECT_TRUE(NotifyNew("c1", m20).late());
  EXPECT_EQ(std::get<NotificationVersion>(
                EntryAt(MustGet("pa", "mv-20").log_index()).body)
                .flags,
            kNotificationEmergency | kNotificationLate);
  // Sites have no lead time.
  EXPECT_FALSE(NotifyNew("c1", Site("site-1", {"pa"})).late());
}

// --- Validation ---------------------------------------------------------------

TEST_F(NotificationServiceTest, ValidationErrorsNameTheField) {
  const uint64_t size = TreeSize();
  struct Case {
    std::string what;
    v1::NotificationMetadata metadata;
    grpc::StatusCode code;
    std::string field;
  };
  std::vector<Case> cases;
  {
    v1::NotificationMetadata m = Movement("mv-1", {"pa"});
    m.set_ack_by(m.depart_at() + 60);
    cases.push_back({"ack_by after departure", m,
                     grpc::StatusCode::INVALID_ARGUMENT, "ack_by"});
    m.set_ack_by(m.depart_at());
    cases.push_back({"ack_by at departure", m,
                     grpc::StatusCode::INVALID_ARGUMENT, "ack_by"});
  }
  cases.push_back({"no parties", Movement("mv-1", {}),
                   grpc::StatusCode::INVALID_ARGUMENT, "parties"});
  cases.push_back({"coordinator as party", Movement("mv-1", {"pa", "c2"}),
                   grpc::StatusCode::INVALID_ARGUMENT, "parties"});
  cases.push_back({"mediator as party", Movement("mv-1", {"m1"}),
                   grpc::StatusCode::INVALID_ARGUMENT, "parties"});
  cases.push_back({"observer as party", Movement("mv-1", {"obs"}),
                   grpc::StatusCode::INVALID_ARGUMENT, "parties"});
  cases.push_back({"unknown party", Movement("mv-1", {"pa", "nobody"}),
                   grpc::StatusCode::NOT_FOUND, "parties"});
  cases.push_back({"duplicate party", Movement("mv-1", {"pa", "pa"}),
                   grpc::StatusCode::INVALID_ARGUMENT, "parties"});
  cases.push_back({"upper-case id", Movement("MV-1", {"pa"}),
                   grpc::StatusCode::INVALID_ARGUMENT, "id"});
  cases.push_back({"id with a slash", Movement("mv/1", {"pa"}),
                   grpc::StatusCode::INVALID_ARGUMENT, "id"});
  cases.push_back({"empty id", Movement("", {"pa"}),
                   grpc::StatusCode::INVALID_ARGUMENT, "id"});
  cases.push_back({"id of 65 characters", Movement(std::string(65, 'a'),
                                                   {"pa"}),
                   grpc::StatusCode::INVALID_ARGUMENT, "id"});
  {
    v1::NotificationMetadata m = Site("site-1", {"pa"});
    m.set_depart_at(absl::ToUnixSeconds(clock_.Now()) + 3600);
    cases.push_back({"site with depart_at", m,
                     grpc::StatusCode::INVALID_ARGUMENT, "depart_at"});
  }
  {
    v1::NotificationMetadata m = Movement("mv-1", {"pa"});
    m.set_depart_at(0);
    m.set_ack_by(0);
    cases.push_back({"movement without depart_at", m,
                     grpc::StatusCode::INVALID_ARGUMENT, "depart_at"});
  }
  {
    v1::NotificationMetadata m = Movement("mv-1", {"pa"});
    m.set_valid_until(m.valid_from() - 1);
    cases.push_back({"valid_until before valid_from", m,
                     grpc::StatusCode::INVALID_ARGUMENT, "valid_until"});
  }
  {
    v1::NotificationMetadata m = Movement("mv-1", {"pa"});
    m.set_kind(v1::NOTIFICATION_KIND_UNSPECIFIED);
    cases.push_back({"no kind", m, grpc::StatusCode::INVALID_ARGUMENT,
                     "kind"});
  }
  for (const Case& c : cases) {
    // Sealed to a plausible audience so the metadata check is what fails.
    std::vector<std::string> parties;
    for (const std::string& p : c.metadata.parties()) {
      if (devices_.contains(p)) parties.push_back(p);
    }
    if (parties.empty()) parties.push_back("pa");
    SealOptions options;
    options.sequence = 0;
    options.previous_hash = std::string(32, '\0');
    SealedVersion v;
    v.metadata = c.metadata;
    v.sealed = Seal(device("c1"), "n/" + c.metadata.id(), "{}",
                    Audience("c1", parties), options);
    grpc::Status st = Notify("c1", v, 0);
    EXPECT_EQ(st.error_code(), c.code) << c.what << ": " << Describe(st);
    EXPECT_THAT(st.error_message(), HasSubstr(c.field))
        << c.what << ": " << Describe(st);
  }
  EXPECT_EQ(TreeSize(), size);
}

TEST_F(NotificationServiceTest, RevokedPartyCannotBeNotified) {
  {
    grpc::ClientContext context;
    Authorize(&context, device("admin"));
    v1::RevokeRequest r;
    r.set_name("pc");
    r.set_reason("left the post");
    v1::RevokeResponse response;
    grpc::Status st = admin_->Revoke(&context, r, &response);
    ASSERT_TRUE(st.ok()) << Describe(st);
  }
  const uint64_t size = TreeSize();
  grpc::Status st =
      Notify("c1", SealVersion("c1", Movement("mv-1", {"pa", "pc"})), 0);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(st);
  EXPECT_THAT(st.error_message(), HasSubstr("parties"));
  EXPECT_EQ(TreeSize(), size);
}

// --- Idempotency --------------------------------------------------------------

TEST_F(NotificationServiceTest, NotifyRetryWithIdenticalBytesIsADuplicate) {
  SealedVersion v = SealVersion("c1", Movement("mv-1", {"pa", "pb"},
                                               absl::Hours(10),
                                               absl::Hours(2)));
  v1::NotifyResponse first, second;
  ASSERT_TRUE(Notify("c1", v, 0, &first).ok());
  const uint64_t size = TreeSize();
  clock_.Advance(absl::Minutes(3));
  grpc::Status st = Notify("c1", v, 0, &second);
  ASSERT_TRUE(st.ok()) << Describe(st);
  EXPECT_TRUE(second.duplicate());
  EXPECT_FALSE(first.duplicate());
  EXPECT_EQ(second.log_index(), first.log_index());
  EXPECT_EQ(second.version(), 1u);
  EXPECT_TRUE(second.late());
  EXPECT_EQ(second.lead_time_seconds(), first.lead_time_seconds());
  EXPECT_EQ(second.required_lead_time_seconds(),
            first.required_lead_time_seconds());
  EXPECT_EQ(TreeSize(), size);

  // Same client message id, different bytes: a conflict, not a retry.
  SealOptions options;
  options.sequence = 0;
  options.previous_hash = std::string(32, '\0');
  options.client_message_id = v.sealed.client_message_id;
  SealedVersion conflicting = v;
  conflicting.sealed = Seal(device("c1"), "n/mv-1", "other content",
                            Audience("c1", {"pa", "pb"}), options);
  st = Notify("c1", conflicting, 0);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::ALREADY_EXISTS)
      << Describe(st);

  // An amendment retried is a duplicate too.
  SealedVersion v2 = SealVersion("c1", v.metadata, 2, v.sealed.hash);
  v1::NotifyResponse a, b;
  ASSERT_TRUE(Notify("c1", v2, 1, &a).ok());
  st = Notify("c1", v2, 1, &b);
  ASSERT_TRUE(st.ok()) << Describe(st);
  EXPECT_TRUE(b.duplicate());
  EXPECT_EQ(b.log_index(), a.log_index());
  EXPECT_EQ(b.version(), 2u);
  EXPECT_EQ(TreeSize(), size + 1);
}

TEST_F(NotificationServiceTest,
       NotifyRetryIsADuplicateEvenAfterTheAudienceChanged) {
  // A client that lost the answer retries later; meanwhile a mediator has
  // joined. The version is logged: the retry must say so, not ask the
  // client to re-encrypt (which would then be refused as a second v1).
  SealedVersion v = SealVersion("c1", Movement("mv-1", {"pa"}));
  v1::NotifyResponse first, second;
  ASSERT_TRUE(Notify("c1", v, 0, &first).ok());
  AddMemberOf("m3", v1::ROLE_MEDIATOR, "");
  const uint64_t size = TreeSize();
  grpc::Status st = Notify("c1", v, 0, &second);
  ASSERT_TRUE(st.ok()) << Describe(st);
  EXPECT_TRUE(second.duplicate());
  EXPECT_EQ(second.log_index(), first.log_index());
  EXPECT_EQ(TreeSize(), size);
}

TEST_F(NotificationServiceTest, NotifyRetryOfVersionOneAfterAnAmendment) {
  SealedVersion v = SealVersion("c1", Movement("mv-1", {"pa"}));
  v1::NotifyResponse first, retry;
  ASSERT_TRUE(Notify("c1", v, 0, &first).ok());
  ASSERT_TRUE(
      Notify("c1", SealVersion("c1", v.metadata, 2, v.sealed.hash), 1).ok());
  const uint64_t size = TreeSize();
  grpc::Status st = Notify("c1", v, 0, &retry);
  ASSERT_TRUE(st.ok()) << Describe(st);
  EXPECT_TRUE(retry.duplicate());
  EXPECT_EQ(retry.log_index(), first.log_index());
  EXPECT_EQ(retry.version(), 1u);
  EXPECT_EQ(TreeSize(), size);
}

TEST_F(NotificationServiceTest, AcknowledgeRetryIsADuplicateButNotAChange) {
  SealedVersion v;
  NotifyNew("c1", Movement("mv-1", {"pa", "pb"}), &v);
  std::string receipt =
      SignedReceipt("pa", v.sealed.hash, ReceiptLevel::kAcknowledged);
  v1::AcknowledgeResponse first, second;
  ASSERT_TRUE(Acknowledge("pa", "mv-1", 1, receipt, "", &first).ok());
  const uint64_t size = TreeSize();
  grpc::Status st = Acknowledge("pa", "mv-1", 1, receipt, "", &second);
  ASSERT_TRUE(st.ok()) << Describe(st);
  EXPECT_TRUE(second.duplicate());
  EXPECT_EQ(second.log_index(), first.log_index());

  // A second, different acknowledgement (a new signature time).
  clock_.Advance(absl::Seconds(5));
  st = AckReceipt("pa", "mv-1", 1, v.sealed.hash);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(st);
  // Changing the answer to an objection.
  st = Object("pa", "c1", "mv-1", 1, v.sealed.hash);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(st);
  EXPECT_EQ(TreeSize(), size);
  EXPECT_EQ(PartyOf(MustGet("pa", "mv-1"), "pa")->state(), PS::ACKNOWLEDGED);

  // An objection retried with the same receipt and reason is a duplicate.
  Sealed reason = SealSide("pb", "n/mv-1/objection", "no", IssuerSide("c1"));
  std::string objection = SignedReceipt("pb", v.sealed.hash,
                                        ReceiptLevel::kObjected, reason.hash);
  v1::AcknowledgeResponse o1, o2;
  ASSERT_TRUE(Acknowledge("pb", "mv-1", 1, objection, reason.bytes, &o1).ok());
  st = Acknowledge("pb", "mv-1", 1, objection, reason.bytes, &o2);
  ASSERT_TRUE(st.ok()) << Describe(st);
  EXPECT_TRUE(o2.duplicate());
  EXPECT_EQ(o2.log_index(), o1.log_index());
  st = AckReceipt("pb", "mv-1", 1, v.sealed.hash);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(st);
  EXPECT_EQ(TreeSize(), size + 1);
}

// --- Authorization ------------------------------------------------------------

TEST_F(NotificationServiceTest, RolesAreEnforcedAndRefusalsLogNothing) {
  SealedVersion v;
  NotifyNew("c1", Movement("mv-1", {"pa"}), &v);
  const uint64_t size = TreeSize();
  // A party cannot notify.
  grpc::Status st =
      Notify("pa", SealVersion("pa", Movement("mv-2", {"pb"})), 0);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(st);
  // Nor a mediator, an observer, the admin.
  for (const std::string name : {"m1", "obs", "admin"}) {
    st = Notify(name, SealVersion(name, Movement("mv-2", {"pb"})), 0);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << name;
  }
  // A coordinator (or a mediator) cannot acknowledge.
  for (const std::string name : {"c1", "m1"}) {
    absl::StatusOr<std::string> receipt =
        SignReceipt(device(name).identity, v.sealed.hash,
                    ReceiptLevel::kAcknowledged, clock_.Now());
    ASSERT_TRUE(receipt.ok());
    st = Acknowledge(name, "mv-1", 1, *receipt);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << name << ": " << Describe(st);
  }
  // A party not named cannot acknowledge.
  st = AckReceipt("pb", "mv-1", 1, v.sealed.hash);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(st);
  // Parties cannot cancel or post status.
  st = Cancel("pa", "mv-1",
              SealSide("pa", "n/mv-1/cancel", "x", Audience("c1", {"pa"})));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // No session at all.
  {
    grpc::ClientContext context;
    v1::ListNotificationsResponse list;
    st = notifications().ListNotifications(&context, {}, &list);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << Describe(st);
  }
  EXPECT_EQ(TreeSize(), size);
}

// --- Restart ------------------------------------------------------------------

TEST_F(NotificationServiceTest, StateIsRebuiltFromTheLogAfterRestart) {
  SealedVersion a, b;
  v1::NotificationMetadata ma = Movement("mv-a", {"pa", "pb", "pc"});
  v1::NotifyResponse ra = NotifyNew("c1", ma, &a);
  NotifyNew("c1", Movement("mv-b", {"pa"}, absl::Hours(10), absl::Hours(2)),
            &b);
  ASSERT_TRUE(Deliver("pa", ra.log_index(), a.sealed.hash).ok());
  clock_.Advance(absl::Minutes(1));
  ASSERT_TRUE(AckReceipt("pa", "mv-a", 1, a.sealed.hash).ok());
  ASSERT_TRUE(Object("pb", "c1", "mv-a", 1, a.sealed.hash).ok());
  clock_.Set(absl::FromUnixSeconds(ma.ack_by()));
  ASSERT_TRUE(server_->RunDueDeadlines().ok());
  ASSERT_TRUE(Cancel("c1", "mv-b",
                     SealSide("c1", "n/mv-b/cancel", "off",
                              Audience("c1", {"pa"})))
                  .ok());

  NS before_a = MustGet("m1", "mv-a");
  NS before_b = MustGet("m1", "mv-b");
  EXPECT_EQ(PartyOf(before_a, "pc")->escalation(), 2u);
  const uint64_t size = TreeSize();

  StopServer();
  StartServer();
  SignInAll();

  EXPECT_EQ(TreeSize(), size);
  NS after_a = MustGet("m1", "mv-a");
  NS after_b = MustGet("m1", "mv-b");
  EXPECT_EQ(after_a.SerializeAsString(), before_a.SerializeAsString())
      << after_a.DebugString() << "\nvs\n" << before_a.DebugString();
  EXPECT_EQ(after_b.SerializeAsString(), before_b.SerializeAsString());
  EXPECT_EQ(after_a.overall(), NS::OBJECTED);
  EXPECT_EQ(after_b.overall(), NS::CANCELLED);
  EXPECT_TRUE(after_b.late());
  // Escalation resumes where it stopped: nothing repeated.
  absl::StatusOr<int> n = server_->RunDueDeadlines();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
  // Visibility survives too.
  EXPECT_EQ(Get("x1", "mv-a", nullptr).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // And a retry of the first Notify is still recognised.
  v1::NotifyResponse retry;
  ASSERT_TRUE(Notify("c1", a, 0, &retry).ok());
  EXPECT_TRUE(retry.duplicate());
  EXPECT_EQ(retry.log_index(), ra.log_index());
}

// Changes to one notification are serialised; changes to different ones
// run in parallel. An acknowledgement racing an amendment is either logged
// before the new version or refused: never logged for a superseded version.
TEST_F(NotificationServiceTest, AnswersRacingAnAmendmentNeverLandAfterIt) {
  constexpr int kCount = 40;
  std::vector<SealedVersion> first(kCount), second(kCount);
  for (int i = 0; i < kCount; ++i) {
    const std::string id = absl::StrCat("race-", i);
    NotifyNew("c1", Movement(id, {"pa", "pb"}), &first[i]);
    second[i] = SealVersion("c1", Movement(id, {"pa", "pb"}, absl::Hours(80)),
                            2, first[i].sealed.hash);
  }
  const uint64_t start = TreeSize();
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    for (int i = 0; i < kCount; ++i) {
      grpc::Status s = Notify("c1", second[i], 1);
      if (!s.ok()) {
        unexpected.fetch_add(1);
        ADD_FAILURE() << "amend " << i << ": " << Describe(s);
      }
    }
  });
  for (const std::string party : {"pa", "pb"}) {
    threads.emplace_back([&, party] {
      for (int i = 0; i < kCount; ++i) {
        grpc::Status s = AckReceipt(party, absl::StrCat("race-", i), 1,
                                    first[i].sealed.hash);
        if (!s.ok() &&
            s.error_code() != grpc::StatusCode::FAILED_PRECONDITION) {
          unexpected.fetch_add(1);
          ADD_FAILURE() << party << " " << i << ": " << Describe(s);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(unexpected.load(), 0);

  std::map<std::string, uint64_t> amended_at;
  for (const auto& [index, v] :
       EntriesOf<NotificationVersion>(start, TreeSize())) {
    EXPECT_EQ(v.version, 2u);
    amended_at[v.id] = index;
  }
  ASSERT_EQ(amended_at.size(), static_cast<size_t>(kCount));
  for (const auto& [index, ack] :
       EntriesOf<NotificationAck>(start, TreeSize())) {
    EXPECT_EQ(ack.version, 1u);
    EXPECT_LT(index, amended_at.at(ack.id)) << ack.id << " " << ack.party;
  }
  // And the state agrees: every party of every notification is back to
  // "logged" for version 2.
  for (int i = 0; i < kCount; ++i) {
    NS s = MustGet("c1", absl::StrCat("race-", i));
    EXPECT_EQ(s.version(), 2u);
    for (const PS& p : s.parties()) EXPECT_EQ(p.state(), PS::LOGGED);
  }
}

// One client message id names one envelope: two notifications sent at once
// under the same id are never both logged; the one that loses the race is
// refused as a reused id, as it would be if it came second.
TEST_F(NotificationServiceTest, OneClientMessageIdNeverLogsTwoNotifications) {
  constexpr int kPairs = 40;
  std::vector<SealedVersion> a(kPairs), b(kPairs);
  for (int i = 0; i < kPairs; ++i) {
    for (auto [side, out] : {std::pair{"a", &a[i]}, std::pair{"b", &b[i]}}) {
      SealOptions options;
      options.sequence = 0;
      options.previous_hash = std::string(32, '\0');
      options.client_message_id = absl::StrFormat("same-%011d", i);  // 16 B
      const std::string id = absl::StrCat("dup-", side, "-", i);
      out->metadata = Movement(id, {"pa", "pb"});
      out->sealed = Seal(device("c1"), "n/" + id, id,
                         Audience("c1", {"pa", "pb"}), options);
    }
  }
  const uint64_t start = TreeSize();
  std::vector<grpc::Status> a_status(kPairs), b_status(kPairs);
  std::thread other([&] {
    for (int i = 0; i < kPairs; ++i) b_status[i] = Notify("c1", b[i]);
  });
  for (int i = 0; i < kPairs; ++i) a_status[i] = Notify("c1", a[i]);
  other.join();

  std::map<std::string, int> logged;  // by client message id
  for (const auto& [index, v] :
       EntriesOf<NotificationVersion>(start, TreeSize())) {
    ++logged[absl::StrCat("same-", v.id.substr(v.id.rfind('-') + 1))];
  }
  for (int i = 0; i < kPairs; ++i) {
    EXPECT_EQ(logged[absl::StrCat("same-", i)], 1) << "pair " << i;
    EXPECT_NE(a_status[i].ok(), b_status[i].ok())
        << "pair " << i << ": " << Describe(a_status[i]) << " / "
        << Describe(b_status[i]);
    const grpc::Status& refused = a_status[i].ok() ? b_status[i] : a_status[i];
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::ALREADY_EXISTS)
        << Describe(refused);
  }
}

// --- Bulk ---------------------------------------------------------------------

class NotificationBulkTest : public NotificationServiceTest {
 protected:
  // The smallest realistic audience: one mediator, one coordinator, three
  // parties.
  void Cast() override {
    AddMemberOf("c1", v1::ROLE_COORDINATOR, "ocha");
    AddMemberOf("m1", v1::ROLE_MEDIATOR, "");
    AddMemberOf("pa", v1::ROLE_PARTY, "");
    AddMemberOf("pb", v1::ROLE_PARTY, "");
    AddMemberOf("pc", v1::ROLE_PARTY, "");
  }
};

TEST_F(NotificationBulkTest, TenThousandNotificationsToThreeParties) {
  constexpr int kCount = 10000;
  constexpr int kThreads = 4;
  // Seal first (the client's work), then submit (the server's).
  std::vector<SealedVersion> versions(kCount);
  auto seal_start = std::chrono::steady_clock::now();
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = t; i < kCount; i += kThreads) {
          versions[i] = SealVersion(
              "c1", Movement(absl::StrCat("bulk-", i), {"pa", "pb", "pc"}));
        }
      });
    }
    for (std::thread& t : threads) t.join();
  }
  double seal_seconds = std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - seal_start)
                            .count();

  std::atomic<int> failures{0};
  v1::Notifications::Stub& stub = notifications();
  auto start = std::chrono::steady_clock::now();
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = t; i < kCount; i += kThreads) {
          grpc::ClientContext context;
          Authorize(&context, device("c1"));
          v1::NotifyRequest r;
          *r.mutable_metadata() = versions[i].metadata;
          r.set_envelope(versions[i].sealed.bytes);
          v1::NotifyResponse response;
          grpc::Status s = stub.Notify(&context, r, &response);
          if (!s.ok() || response.duplicate()) {
            if (failures.fetch_add(1) < 5) {
              ADD_FAILURE() << i << ": " << Describe(s);
            }
          }
        }
      });
    }
    for (std::thread& t : threads) t.join();
  }
  double seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  EXPECT_EQ(failures.load(), 0);
  std::printf(
      "[bulk] sealed %d notifications (5 recipients) in %.2f s (%.0f/s); "
      "notified in %.2f s over gRPC with %d threads: %.0f notifications/s\n",
      kCount, seal_seconds, kCount / seal_seconds, seconds, kThreads,
      kCount / seconds);

  auto list_start = std::chrono::steady_clock::now();
  for (const std::string party : {"pa", "pc"}) {
    v1::ListNotificationsResponse list;
    grpc::Status st = List(party, &list);
    ASSERT_TRUE(st.ok()) << Describe(st);
    EXPECT_EQ(list.notifications_size(), kCount);
  }
  double list_seconds = std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - list_start)
                            .count();
  std::printf("[bulk] ListNotifications of %d, twice: %.2f s\n", kCount,
              list_seconds);
  auto deadline_start = std::chrono::steady_clock::now();
  absl::StatusOr<int> n = server_->RunDueDeadlines();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
  std::printf("[bulk] RunDueDeadlines over %d open notifications: %.3f s\n",
              kCount,
              std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                            deadline_start)
                  .count());
}

}  // namespace
}  // namespace parley
