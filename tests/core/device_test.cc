// The client core in process: Devices over a Session made with
// ConnectOptions::channel_factory, talking to a parleyd started by the test
// (tests/server/server_test_util.h), all on one FakeClock. Complements the
// subprocess tests in tests/integration: the same Device API, with no CLI,
// no child processes, and retry waits that cost no real time.

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "client/core/device.h"
#include "client/core/outbox.h"
#include "client/core/profile.h"
#include "client/core/retry.h"
#include "client/deconfliction/notification_content.h"
#include "crypto/rfc3339.h"
#include "nlohmann/json.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/server_test_util.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

class DeviceTest : public ::parley::testing::ServerTest {
 protected:
  Device::Options DeviceOptions() {
    Device::Options options;
    options.connect.channel_factory = [this] { return Channel(); };
    options.passphrase.allow_prompt = false;
    options.clock = &clock_;
    return options;
  }

  // A channel to the running server or, while it is stopped, to the port it
  // had (refused: the client sees the server down, as over a real network).
  std::shared_ptr<grpc::Channel> Channel() {
    if (server_ != nullptr) last_port_ = server_->port();
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ca_pem_;
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    args.SetInt("grpc.use_local_subchannel_pool", 1);
    return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", last_port_),
                                     grpc::SslCredentials(ssl), args);
  }

  // A profile directory of its own for `name`; the passphrase comes from
  // $PARLEY_PASSPHRASE, which ObtainPassphrase unsets after reading.
  Profile ProfileFor(const std::string& name) {
    absl::StatusOr<Profile> profile = Profile::Open(tmp_.Sub("clients/" + name));
    EXPECT_TRUE(profile.ok()) << profile.status();
    setenv("PARLEY_PASSPHRASE", ("pass-" + name).c_str(), 1);
    return *std::move(profile);
  }

  std::unique_ptr<Device> EnrollDevice(const std::string& name,
                                       const std::string& invite) {
    absl::StatusOr<std::unique_ptr<Device>> device = Device::Enroll(
        ProfileFor(name), DeviceOptions(), {.invite = invite, .name = name});
    EXPECT_TRUE(device.ok()) << device.status();
    return device.ok() ? *std::move(device) : nullptr;
  }

  // The admin (bootstrap invite), then a mediator and a party it invites
  // (admins operate the server and take no part in channels).
  void EnrollMediatorAndParty() {
    admin_device_ = EnrollDevice("admin", BootstrapInvite());
    ASSERT_NE(admin_device_, nullptr);
    ASSERT_OK_AND_ASSIGN(
        v1::Invite invite,
        admin_device_->CreateInvite(MemberRole::kMediator, "mediator",
                                    "org-mediator", absl::Hours(1)));
    mediator_ = EnrollDevice("mediator", invite.code());
    ASSERT_NE(mediator_, nullptr);
    ASSERT_OK_AND_ASSIGN(
        invite, admin_device_->CreateInvite(MemberRole::kParty, "partya",
                                            "org-partya", absl::Hours(1)));
    party_ = EnrollDevice("partya", invite.code());
    ASSERT_NE(party_, nullptr);
  }

  // A member the admin invites. REQUIRES: EnrollMediatorAndParty.
  std::unique_ptr<Device> Invited(MemberRole role, const std::string& name,
                                  const std::string& organisation) {
    absl::StatusOr<v1::Invite> invite = admin_device_->CreateInvite(
        role, name, organisation, absl::Hours(1));
    EXPECT_TRUE(invite.ok()) << invite.status();
    return invite.ok() ? EnrollDevice(name, invite->code()) : nullptr;
  }

  // Every message Sync reports to `device` until it is caught up.
  std::vector<StoredMessage> Received(Device& device) {
    std::vector<StoredMessage> out;
    SyncOptions options;
    options.wait = absl::Seconds(20);
    options.idle = absl::Milliseconds(300);
    absl::Status s = device.Sync(options, [&out](const SyncEvent& e) {
      if (e.kind == SyncEvent::Kind::kMessage) out.push_back(e.message);
    });
    EXPECT_OK(s);
    return out;
  }

  std::unique_ptr<Device> admin_device_;
  std::unique_ptr<Device> mediator_;
  std::unique_ptr<Device> party_;
  int last_port_ = 0;
};

TEST_F(DeviceTest, EnrollsSendsAndReceivesInProcess) {
  ASSERT_NO_FATAL_FAILURE(EnrollMediatorAndParty());
  EXPECT_EQ(mediator_->identity().name, "mediator");
  EXPECT_EQ(mediator_->identity().role, MemberRole::kMediator);
  ASSERT_OK(mediator_->CreateChannel("talks", {"partya"}).status());

  ASSERT_OK_AND_ASSIGN(SendResult sent,
                       mediator_->Send("talks", "text/plain", "first words"));
  EXPECT_FALSE(sent.queued);
  EXPECT_GT(sent.log_index, 0u);

  std::vector<StoredMessage> got = Received(*party_);
  ASSERT_THAT(got, SizeIs(1));
  EXPECT_EQ(got[0].index, sent.log_index);
  EXPECT_EQ(got[0].sender, "mediator");
  EXPECT_EQ(got[0].body, "first words");
  EXPECT_THAT(got[0].error, IsEmpty());

  // The party's delivered receipt reaches the sender, verified.
  ASSERT_OK_AND_ASSIGN(std::vector<ReceiptView> receipts,
                       mediator_->Receipts(sent.log_index));
  ASSERT_THAT(receipts, SizeIs(1));
  EXPECT_EQ(receipts[0].recipient, "partya");
  EXPECT_TRUE(receipts[0].verified) << receipts[0].problem;
}

TEST_F(DeviceTest, QueuesWhileTheServerIsDownAndSendsOnceItIsBack) {
  ASSERT_NO_FATAL_FAILURE(EnrollMediatorAndParty());
  ASSERT_OK(mediator_->CreateChannel("talks", {"partya"}).status());
  ASSERT_OK_AND_ASSIGN(size_t cached, mediator_->RefreshOfflineCache());
  EXPECT_EQ(cached, 1u);

  StopServer();
  ASSERT_OK_AND_ASSIGN(SendResult queued,
                       mediator_->Send("talks", "text/plain", "while down"));
  EXPECT_TRUE(queued.queued);
  EXPECT_EQ(queued.log_index, 0u);
  EXPECT_FALSE(queued.queued_reason.empty());

  // Three attempts with backoff: the waits pass on the fake clock (250 ms
  // then 500 ms steps, each times [0.5, 1.5)), the work stays queued.
  const absl::Time before = clock_.Now();
  absl::Status flushed =
      mediator_->FlushOutboxWithRetries(3, absl::Minutes(1));
  EXPECT_TRUE(IsTransient(flushed)) << flushed;
  EXPECT_GE(clock_.Now() - before, absl::Milliseconds(375));
  EXPECT_LT(clock_.Now() - before, absl::Milliseconds(1125));
  EXPECT_THAT(mediator_->TakeFlushed(), IsEmpty());

  // Back (on another port: the factory's next channel finds it).
  StartServer();
  ASSERT_OK(mediator_->FlushOutboxWithRetries(3, absl::Minutes(1)));
  std::vector<FlushedItem> sent = mediator_->TakeFlushed();
  ASSERT_THAT(sent, SizeIs(1));
  EXPECT_EQ(sent[0].item.id, queued.id);
  EXPECT_GT(sent[0].answer.log_index, 0u);

  // The party's device last dialled the old port (as a new `parley inbox`
  // process would not): it reconnects.
  party_->session().ResetChannel();
  std::vector<StoredMessage> got = Received(*party_);
  ASSERT_THAT(got, SizeIs(1));
  EXPECT_EQ(got[0].body, "while down");
  EXPECT_EQ(got[0].index, sent[0].answer.log_index);
}

// Objection and cancellation envelopes go to the version's own audience
// (PROTOCOL.md 15.4a): not to a mediator who enrolled after the version was
// logged, nor to a party revoked since. The server refuses any other set of
// recipients, so each answer fails if the client seals wrongly. (A status,
// for movements only, is sealed by the same code as a cancellation.)
TEST_F(DeviceTest, SideEnvelopesGoToTheVersionsAudienceLessRevokedMembers) {
  ASSERT_NO_FATAL_FAILURE(EnrollMediatorAndParty());
  std::unique_ptr<Device> coordinator =
      Invited(MemberRole::kCoordinator, "coord", "Example Health");
  ASSERT_NE(coordinator, nullptr);
  std::unique_ptr<Device> party_b =
      Invited(MemberRole::kParty, "partyb", "org-partyb");
  ASSERT_NE(party_b, nullptr);

  const nlohmann::json site = {
      {"schema", "parley-site/v1"},
      {"id", "site-7"},
      {"version", 1},
      {"supersedes", 0},
      {"organisation", "Example Health"},
      {"contact", {{"name", "Site manager"}, {"phone", "+963 11 000 0001"}}},
      {"name", "Field hospital North"},
      {"site_type", "health-facility"},
      {"critical_infrastructure", true},
      {"polygon",
       {{{{"lat", 36.0}, {"lon", 37.0}},
         {{"lat", 36.0}, {"lon", 37.01}},
         {{"lat", 36.01}, {"lon", 37.01}},
         {{"lat", 36.0}, {"lon", 37.0}}}}},
      {"humanitarian_function", "Trauma care"},
      {"submitted_at", FormatRfc3339Utc(clock_.Now())},
      {"review_by", FormatRfc3339Utc(clock_.Now() + absl::Hours(24 * 90))},
      {"recipients", {"partya", "partyb"}}};
  ASSERT_OK_AND_ASSIGN(NotificationContent content, ContentFromJson(site));
  ASSERT_OK_AND_ASSIGN(NotifyResult issued,
                       coordinator->notifications().Notify(content));
  ASSERT_FALSE(issued.queued) << issued.queued_reason;
  EXPECT_EQ(issued.version, 1u);
  EXPECT_GT(issued.log_index, 0u);

  // After the version was logged: a mediator joins, party b is revoked.
  ASSERT_NE(Invited(MemberRole::kMediator, "late-mediator", "org-late"),
            nullptr);
  ASSERT_OK(admin_device_->Revoke("partyb", "laptop seized").status());

  ASSERT_OK_AND_ASSIGN(AckResult objected,
                       party_->notifications().AcknowledgeNotification(
                           "site-7", "the polygon covers our position"));
  EXPECT_FALSE(objected.queued) << objected.queued_reason;
  EXPECT_EQ(objected.version, 1u);
  EXPECT_GT(objected.log_index, issued.log_index);

  ASSERT_OK_AND_ASSIGN(uint64_t cancelled,
                       coordinator->notifications().CancelNotification(
                           "site-7", "the hospital moved"));
  EXPECT_GT(cancelled, objected.log_index);
}

// An answer to a notification that does not exist, as outbox work: the
// server refuses it for good.
OutboxItem AckOfUnknown(const std::string& id, const std::string& key) {
  v1::AcknowledgeRequest request;
  request.set_id("no-such-notification");
  request.set_version(1);
  request.set_receipt("not a receipt");
  OutboxItem item;
  item.id = id;
  item.kind = kOutboxAck;
  item.channel = key;
  item.request = request.SerializeAsString();
  return item;
}

// Work the server refuses for good is held with the server's reason, never
// dropped, and holds back later work with the same ordering key; other keys
// go on. Submit hands a refusal back at once and keeps nothing.
TEST_F(DeviceTest, OutboxHoldsRefusedWorkAndWhatQueuedAfterIt) {
  ASSERT_NO_FATAL_FAILURE(EnrollMediatorAndParty());
  Outbox& outbox = party_->outbox();
  ASSERT_OK(party_->state().AddToOutbox(
      {AckOfUnknown("a1", "n/one"), AckOfUnknown("a2", "n/one"),
       AckOfUnknown("b1", "n/two")}));

  ASSERT_OK(outbox.Flush());
  EXPECT_THAT(outbox.TakeFlushed(), IsEmpty());
  const OutboxItem* a1 = party_->state().FindOutboxItem("a1");
  const OutboxItem* a2 = party_->state().FindOutboxItem("a2");
  const OutboxItem* b1 = party_->state().FindOutboxItem("b1");
  ASSERT_NE(a1, nullptr);
  ASSERT_NE(a2, nullptr);
  ASSERT_NE(b1, nullptr);
  EXPECT_THAT(a1->held, Not(IsEmpty()));
  EXPECT_EQ(a1->attempts, 1u);
  EXPECT_THAT(a2->held, IsEmpty());  // behind a1: not tried
  EXPECT_EQ(a2->attempts, 0u);
  EXPECT_THAT(b1->held, Not(IsEmpty()));  // its own key: tried
  std::vector<std::string> warnings = party_->TakeWarnings();
  EXPECT_THAT(warnings, SizeIs(2));

  // Dropped by the user (held work may be dropped without --force; waiting
  // work may not): the next flush tries a2.
  EXPECT_TRUE(absl::IsFailedPrecondition(outbox.Drop("a2", false)));
  EXPECT_TRUE(absl::IsNotFound(outbox.Drop("zz", false)));
  ASSERT_OK(outbox.Drop("a1", false));
  ASSERT_OK(outbox.Flush());
  a2 = party_->state().FindOutboxItem("a2");
  ASSERT_NE(a2, nullptr);
  EXPECT_THAT(a2->held, Not(IsEmpty()));

  // Submitted work refused at once: the server's own answer, nothing kept,
  // no warning left behind.
  party_->TakeWarnings();
  absl::StatusOr<SubmitResult> refused =
      outbox.Submit(AckOfUnknown("c1", "n/three"));
  ASSERT_FALSE(refused.ok());
  EXPECT_FALSE(IsRetryable(refused.status())) << refused.status();
  EXPECT_EQ(party_->state().FindOutboxItem("c1"), nullptr);
  EXPECT_THAT(party_->TakeWarnings(), IsEmpty());
}

TEST(BackoffTest, DoublesUpToTheMaximumWithJitter) {
  class FixedRandom final : public Random {
   public:
    explicit FixedRandom(uint8_t byte) : byte_(byte) {}
    void Fill(uint8_t* out, size_t len) override {
      for (size_t i = 0; i < len; ++i) out[i] = byte_;
    }

   private:
    uint8_t byte_;
  };
  FixedRandom low(0);     // factor 0.5
  FixedRandom mid(128);   // factor 1.0
  Backoff a(absl::Milliseconds(100), absl::Milliseconds(400), low);
  EXPECT_EQ(a.Next(), absl::Milliseconds(50));
  EXPECT_EQ(a.Next(), absl::Milliseconds(100));
  EXPECT_EQ(a.Next(), absl::Milliseconds(200));
  EXPECT_EQ(a.Next(), absl::Milliseconds(200));  // capped at 400 x 0.5
  a.Reset();
  EXPECT_EQ(a.Next(), absl::Milliseconds(50));
  Backoff b(absl::Milliseconds(100), absl::Seconds(1), mid);
  EXPECT_EQ(b.Next(), absl::Milliseconds(100));
  EXPECT_EQ(b.Next(), absl::Milliseconds(200));
}

TEST(SleepUnlessStoppedTest, WaitsOnTheClockAndStopsWhenAsked) {
  ::parley::testing::FakeClock clock;
  std::atomic<bool> stop{false};
  const absl::Time start = clock.Now();
  EXPECT_TRUE(SleepUnlessStopped(clock, absl::Seconds(3), stop));
  EXPECT_EQ(clock.Now() - start, absl::Seconds(3));
  stop.store(true);
  EXPECT_FALSE(SleepUnlessStopped(clock, absl::Seconds(3), stop));
  EXPECT_EQ(clock.Now() - start, absl::Seconds(3));
}

TEST(IsTransientTest, OnlyFailuresThatMayPassLater) {
  EXPECT_TRUE(IsTransient(absl::UnavailableError("x")));
  EXPECT_TRUE(IsTransient(absl::DeadlineExceededError("x")));
  EXPECT_TRUE(IsTransient(absl::ResourceExhaustedError("x")));
  EXPECT_TRUE(IsTransient(absl::AbortedError("x")));
  EXPECT_FALSE(IsTransient(absl::OkStatus()));
  EXPECT_FALSE(IsTransient(absl::PermissionDeniedError("x")));
  EXPECT_FALSE(IsTransient(absl::InvalidArgumentError("x")));
  EXPECT_FALSE(IsTransient(absl::UnauthenticatedError("x")));
}

TEST(IsRetryableTest, TransientFailuresAndALostSession) {
  EXPECT_TRUE(IsRetryable(absl::UnavailableError("x")));
  EXPECT_TRUE(IsRetryable(absl::ResourceExhaustedError("x")));
  EXPECT_TRUE(IsRetryable(absl::UnauthenticatedError("x")));
  EXPECT_FALSE(IsRetryable(absl::OkStatus()));
  EXPECT_FALSE(IsRetryable(absl::FailedPreconditionError("x")));
  EXPECT_FALSE(IsRetryable(absl::PermissionDeniedError("x")));
}

}  // namespace
}  // namespace parley
