// Channels/Subscribe, receipts and the DeliveryHub: resumable, ordered,
// per-member delivery that ends on revocation and shutdown and never lets a
// slow consumer hold up anyone else.

#include <chrono>
#include <future>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/auth.h"
#include "server/channel_service.h"
#include "server/delivery.h"
#include "server/ledger.h"
#include "server/rate_limit.h"
#include "server/service_core.h"
#include "storage/log_store.h"
#include "tests/server/server_test_util.h"

namespace parley {
namespace {

using ::parley::testing::DecodeDelivery;
using ::parley::testing::DeliveryStream;
using ::parley::testing::Describe;
using ::parley::testing::Device;
using ::parley::testing::Sealed;
using ::parley::testing::ServerTest;
using ::testing::HasSubstr;

class DeliveryTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    StandardCast();
  }

  // Index of the entry that created channel "ab".
  uint64_t AbCreatedAt() {
    v1::ListChannelsResponse list;
    EXPECT_TRUE(ListChannels(device("a"), &list).ok());
    return list.channels_size() > 0 ? list.channels(0).log_index() : 0;
  }

  grpc::Status Revoke(const std::string& name) {
    grpc::ClientContext context;
    Authorize(&context, device("admin"));
    v1::RevokeRequest r;
    r.set_name(name);
    v1::RevokeResponse response;
    return admin_->Revoke(&context, r, &response);
  }
};

std::vector<uint64_t> Indexes(const std::vector<v1::Delivery>& ds) {
  std::vector<uint64_t> out;
  for (const v1::Delivery& d : ds) out.push_back(d.index());
  return out;
}

// --- Subscribe ---------------------------------------------------------------

TEST_F(DeliveryTest, FromStartDeliversEverythingAddressedInLogOrderThenLive) {
  Sealed s1, s2;
  uint64_t i1 = SendText(device("a"), "ab", "one", &s1);
  uint64_t i2 = SendText(device("m"), "ab", "two", &s2);
  auto stream = Subscribe(device("b"), 0, true);
  std::vector<v1::Delivery> got = stream->Take(3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].kind(), v1::Delivery::CHANNEL);
  EXPECT_EQ(got[0].index(), AbCreatedAt());
  EXPECT_TRUE(std::holds_alternative<ChannelCreated>(
      DecodeDelivery(got[0]).body));
  EXPECT_EQ(got[1].kind(), v1::Delivery::ENVELOPE);
  EXPECT_EQ(got[1].index(), i1);
  LogEntry entry1 = DecodeDelivery(got[1]);
  const auto* e1 = std::get_if<EnvelopeEntry>(&entry1.body);
  ASSERT_NE(e1, nullptr);
  EXPECT_EQ(e1->envelope, s1.bytes);
  absl::StatusOr<OpenedEnvelope> opened = OpenAs(device("b"), e1->envelope);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->payload, "one");
  EXPECT_EQ(got[2].index(), i2);
  EXPECT_EQ(got[2].kind(), v1::Delivery::ENVELOPE);
  // Then live.
  uint64_t i3 = SendText(device("a"), "ab", "three");
  std::optional<v1::Delivery> live = stream->Next();
  ASSERT_TRUE(live.has_value());
  EXPECT_EQ(live->index(), i3);
  EXPECT_EQ(live->kind(), v1::Delivery::ENVELOPE);
  EXPECT_FALSE(stream->Next(absl::Milliseconds(300)).has_value());
}

TEST_F(DeliveryTest, EveryMembersStreamGetsEachEnvelopeWithItsOwnBytes) {
  // The hub reads an entry once for all streams; each stream must still get
  // exactly the entry at each index, in order.
  auto sa = Subscribe(device("a"), AbCreatedAt(), false);
  auto sb = Subscribe(device("b"), AbCreatedAt(), false);
  auto sm = Subscribe(device("m"), AbCreatedAt(), false);
  Sealed s1, s2;
  uint64_t i1 = SendText(device("a"), "ab", "one", &s1);
  uint64_t i2 = SendText(device("m"), "ab", "two", &s2);
  for (auto* stream : {sa.get(), sb.get(), sm.get()}) {
    std::vector<v1::Delivery> got = stream->Take(2);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(Indexes(got), (std::vector<uint64_t>{i1, i2}));
    for (size_t k = 0; k < got.size(); ++k) {
      LogEntry entry = DecodeDelivery(got[k]);
      const auto* e = std::get_if<EnvelopeEntry>(&entry.body);
      ASSERT_NE(e, nullptr);
      EXPECT_EQ(e->envelope, k == 0 ? s1.bytes : s2.bytes);
    }
  }
}

TEST_F(DeliveryTest, SenderReceivesItsOwnEnvelope) {
  uint64_t i1 = SendText(device("a"), "ab", "one");
  auto stream = Subscribe(device("a"), AbCreatedAt(), false);
  std::optional<v1::Delivery> d = stream->Next();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->index(), i1);
}

TEST_F(DeliveryTest, ResumeFromCursorRepeatsNothingAndLosesNothing) {
  SendText(device("a"), "ab", "one");
  uint64_t last;
  {
    auto stream = Subscribe(device("b"), 0, true);
    std::vector<v1::Delivery> got = stream->Take(2);
    ASSERT_EQ(got.size(), 2u);
    last = got.back().index();
  }
  // Sent while b was away.
  uint64_t i2 = SendText(device("a"), "ab", "two");
  uint64_t i3 = SendText(device("m"), "ab", "three");
  auto stream = Subscribe(device("b"), last, false);
  std::vector<v1::Delivery> got = stream->Take(2);
  EXPECT_EQ(Indexes(got), (std::vector<uint64_t>{i2, i3}));
  EXPECT_FALSE(stream->Next(absl::Milliseconds(300)).has_value());
  // Cursor 0 without from_start skips index 0 only.
  auto from_zero = Subscribe(device("b"), 0, false);
  std::optional<v1::Delivery> first = from_zero->Next();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->index(), AbCreatedAt());
}

TEST_F(DeliveryTest, NonRecipientGetsNothingOfAChannel) {
  ASSERT_TRUE(CreateChannel(device("m"), "mo", {"o"}).ok());
  SendText(device("a"), "ab", "secret");
  auto stream = Subscribe(device("o"), 0, true);
  std::optional<v1::Delivery> d = stream->Next();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->kind(), v1::Delivery::CHANNEL);
  LogEntry entry = DecodeDelivery(*d);
  const auto* created = std::get_if<ChannelCreated>(&entry.body);
  ASSERT_NE(created, nullptr);
  EXPECT_EQ(created->channel, "mo");
  SendText(device("b"), "ab", "more secret");
  uint64_t to_o = SendText(device("m"), "mo", "for o");
  d = stream->Next();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->index(), to_o);
  EXPECT_FALSE(stream->Next(absl::Milliseconds(300)).has_value());
}

TEST_F(DeliveryTest, RevocationEndsOpenStreamWithPermissionDenied) {
  auto stream = Subscribe(device("b"), 0, true);
  ASSERT_TRUE(stream->Next().has_value());  // Open for sure.
  ASSERT_TRUE(Revoke("b").ok());
  std::optional<grpc::Status> end = stream->End(absl::Seconds(5));
  ASSERT_TRUE(end.has_value()) << "stream still open after revocation";
  EXPECT_EQ(end->error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(*end);
  EXPECT_THAT(end->error_message(), HasSubstr("revoked"));
  // And b cannot come back with the token it holds.
  auto again = Subscribe(device("b"), 0, true);
  end = again->End(absl::Seconds(5));
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(*end);
}

TEST_F(DeliveryTest, ThirdStreamOfOneIdentityIsResourceExhausted) {
  auto s1 = Subscribe(device("b"), 0, true);
  auto s2 = Subscribe(device("b"), 0, true);
  ASSERT_TRUE(s1->Next().has_value());
  ASSERT_TRUE(s2->Next().has_value());
  auto s3 = Subscribe(device("b"), 0, true);
  std::optional<grpc::Status> end = s3->End(absl::Seconds(5));
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << Describe(*end);
  EXPECT_THAT(end->error_message(), HasSubstr("open streams"));
  // Other identities are not affected.
  auto other = Subscribe(device("a"), 0, true);
  EXPECT_TRUE(other->Next().has_value());
  // Closing one frees a slot.
  s1.reset();
  bool reopened = false;
  for (int attempt = 0; attempt < 50 && !reopened; ++attempt) {
    auto s4 = Subscribe(device("b"), 0, true);
    reopened = s4->Next(absl::Seconds(1)).has_value();
    if (!reopened) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(reopened);
}

// A stream opened on `channel` that the test never reads.
struct StalledStream {
  StalledStream(const std::shared_ptr<grpc::Channel>& channel,
                const Device& d) {
    stub = v1::Channels::NewStub(channel);
    context.AddMetadata("authorization", "Bearer " + d.token);
    v1::SubscribeRequest r;
    r.set_from_start(true);
    reader = stub->Subscribe(&context, r);
  }
  ~StalledStream() {
    context.TryCancel();
    reader->Finish().ok();
  }
  std::unique_ptr<v1::Channels::Stub> stub;
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::Delivery>> reader;
};

TEST_F(DeliveryTest, SlowConsumerDoesNotDelayOthers) {
  StalledStream slow(TinyWindowChannel(), device("b"));
  auto fast = Subscribe(device("m"), AbCreatedAt(), false);
  // Enough to fill b's tiny window many times over.
  // (ShutdownWithAStalledConsumer... shows that b's writes do stall.)
  const std::string payload(1500, 'p');
  std::vector<uint64_t> sent;
  for (int i = 0; i < 30; ++i) {
    sent.push_back(SendText(device("a"), "ab", payload));
  }
  // If b's stalled write held the hub, m would wait forever.
  std::vector<v1::Delivery> got = fast->Take(sent.size(), absl::Seconds(10));
  EXPECT_EQ(Indexes(got), sent);
}

TEST_F(DeliveryTest, ShutdownEndsStreamsPromptlyWithUnavailable) {
  auto idle = Subscribe(device("b"), 0, true);
  auto other = Subscribe(device("m"), 0, true);
  ASSERT_TRUE(idle->Next().has_value());
  ASSERT_TRUE(other->Next().has_value());
  absl::Time start = absl::Now();
  std::thread shutdown([this] { server_->Shutdown(); });
  std::optional<grpc::Status> end = idle->End(absl::Seconds(3));
  ASSERT_TRUE(end.has_value()) << "stream still open 3 s into shutdown";
  EXPECT_EQ(end->error_code(), grpc::StatusCode::UNAVAILABLE)
      << Describe(*end);
  EXPECT_THAT(end->error_message(), HasSubstr("resume after index"));
  end = other->End(absl::Seconds(3));
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->error_code(), grpc::StatusCode::UNAVAILABLE)
      << Describe(*end);
  shutdown.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST_F(DeliveryTest, ShutdownWithAStalledConsumerReturnsWithinTenSeconds) {
  StalledStream slow(TinyWindowChannel(), device("b"));
  auto idle = Subscribe(device("m"), 0, true);
  ASSERT_TRUE(idle->Next().has_value());
  for (int i = 0; i < 20; ++i) SendText(device("a"), "ab", std::string(1500, 'p'));
  absl::Time start = absl::Now();
  std::thread shutdown([this] { server_->Shutdown(); });
  std::optional<grpc::Status> end = idle->End(absl::Seconds(3));
  ASSERT_TRUE(end.has_value()) << "idle stream held up by the stalled one";
  EXPECT_EQ(end->error_code(), grpc::StatusCode::UNAVAILABLE)
      << Describe(*end);
  shutdown.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

// --- Receipts ----------------------------------------------------------------

TEST_F(DeliveryTest, DeliveredReceiptIsLoggedOnceAndReachesTheSender) {
  Sealed sealed;
  uint64_t env = SendText(device("a"), "ab", "hello", &sealed);
  auto sender_stream = Subscribe(device("a"), env, false);
  auto mediator_stream = Subscribe(device("m"), env, false);
  auto b_stream = Subscribe(device("b"), env, false);
  std::string receipt = DeliveredReceipt(device("b"), sealed.hash);
  uint64_t before = TreeSize();
  v1::SubmitReceiptsResponse first;
  grpc::Status s = SubmitReceipt(device("b"), env, receipt, &first);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(first.log_indexes_size(), 1);
  EXPECT_EQ(first.log_indexes(0), before);
  EXPECT_EQ(TreeSize(), before + 1);
  // Resubmission: same index, nothing new.
  v1::SubmitReceiptsResponse again;
  s = SubmitReceipt(device("b"), env, receipt, &again);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(again.log_indexes_size(), 1);
  EXPECT_EQ(again.log_indexes(0), first.log_indexes(0));
  EXPECT_EQ(TreeSize(), before + 1);
  // A fresh signature over the same (envelope, level) is the same receipt.
  clock_.Advance(absl::Seconds(3));
  s = SubmitReceipt(device("b"), env, DeliveredReceipt(device("b"), sealed.hash),
                    &again);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(again.log_indexes(0), first.log_indexes(0));
  EXPECT_EQ(TreeSize(), before + 1);

  for (DeliveryStream* stream : {sender_stream.get(), mediator_stream.get()}) {
    std::optional<v1::Delivery> d = stream->Next();
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->kind(), v1::Delivery::RECEIPT);
    EXPECT_EQ(d->index(), first.log_indexes(0));
    LogEntry entry = DecodeDelivery(*d);
    const auto* r = std::get_if<ReceiptEntry>(&entry.body);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->envelope_index, env);
    EXPECT_EQ(r->recipient, "b");
    EXPECT_EQ(r->receipt, receipt);
  }
  // The signer does not get its own receipt back.
  EXPECT_FALSE(b_stream->Next(absl::Milliseconds(300)).has_value());

  for (const char* who : {"a", "m", "b"}) {
    grpc::ClientContext context;
    Authorize(&context, device(who));
    v1::ListReceiptsRequest r;
    r.set_envelope_index(env);
    v1::ListReceiptsResponse list;
    s = channels_->ListReceipts(&context, r, &list);
    ASSERT_TRUE(s.ok()) << who << " " << Describe(s);
    ASSERT_EQ(list.receipts_size(), 1) << who;
    EXPECT_EQ(list.receipts(0).recipient(), "b");
    EXPECT_EQ(list.receipts(0).log_index(), first.log_indexes(0));
    EXPECT_EQ(list.receipts(0).receipt(), receipt);
  }
}

TEST_F(DeliveryTest, ListReceiptsByNonMemberIsPermissionDenied) {
  Sealed sealed;
  uint64_t env = SendText(device("a"), "ab", "hello", &sealed);
  v1::SubmitReceiptsResponse submitted;
  ASSERT_TRUE(SubmitReceipt(device("b"), env,
                            DeliveredReceipt(device("b"), sealed.hash),
                            &submitted)
                  .ok());
  grpc::ClientContext context;
  Authorize(&context, device("o"));
  v1::ListReceiptsRequest r;
  r.set_envelope_index(env);
  v1::ListReceiptsResponse list;
  grpc::Status s = channels_->ListReceipts(&context, r, &list);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("sender"));
  EXPECT_EQ(list.receipts_size(), 0);
}

TEST_F(DeliveryTest, ReceiptSignedBySomeoneElseIsRefused) {
  Sealed sealed;
  uint64_t env = SendText(device("a"), "ab", "hello", &sealed);
  uint64_t before = TreeSize();
  v1::SubmitReceiptsResponse out;
  // m's receipt submitted by b.
  grpc::Status s = SubmitReceipt(
      device("b"), env, DeliveredReceipt(device("m"), sealed.hash), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr(absl::StrCat(env)));
  // b's receipt with a broken signature.
  std::string forged = DeliveredReceipt(device("b"), sealed.hash);
  forged.back() ^= 1;
  s = SubmitReceipt(device("b"), env, forged, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
  // b's receipt about another envelope.
  s = SubmitReceipt(device("b"), env,
                    DeliveredReceipt(device("b"), std::string(32, 'h')), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(s);
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(DeliveryTest, ReceiptForAnEnvelopeNotReceivedIsPermissionDenied) {
  Sealed sealed;
  uint64_t env = SendText(device("a"), "ab", "hello", &sealed);
  uint64_t before = TreeSize();
  v1::SubmitReceiptsResponse out;
  grpc::Status s = SubmitReceipt(
      device("o"), env, DeliveredReceipt(device("o"), sealed.hash), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("not a recipient"));
  // An index that is not an envelope.
  s = SubmitReceipt(device("b"), AbCreatedAt(),
                    DeliveredReceipt(device("b"), sealed.hash), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(s);
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(DeliveryTest, ReceiptsOfOneCallAreLoggedTogetherAndEachOnce) {
  Sealed s1, s2, s3;
  uint64_t e1 = SendText(device("a"), "ab", "one", &s1);
  uint64_t e2 = SendText(device("a"), "ab", "two", &s2);
  uint64_t e3 = SendText(device("a"), "ab", "three", &s3);
  v1::SubmitReceiptsResponse earlier;
  ASSERT_TRUE(SubmitReceipt(device("b"), e2,
                            DeliveredReceipt(device("b"), s2.hash), &earlier)
                  .ok());
  const uint64_t before = TreeSize();
  grpc::ClientContext context;
  Authorize(&context, device("b"));
  v1::SubmitReceiptsRequest r;
  auto add = [&r](uint64_t index, const std::string& receipt) {
    auto* sub = r.add_receipts();
    sub->set_envelope_index(index);
    sub->set_receipt(receipt);
  };
  add(e1, DeliveredReceipt(device("b"), s1.hash));
  add(e2, DeliveredReceipt(device("b"), s2.hash));  // logged before
  add(e3, DeliveredReceipt(device("b"), s3.hash));
  clock_.Advance(absl::Seconds(1));
  add(e1, DeliveredReceipt(device("b"), s1.hash));  // repeat, new signature
  v1::SubmitReceiptsResponse out;
  grpc::Status s = channels_->SubmitReceipts(&context, r, &out);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_THAT(out.log_indexes(),
              ::testing::ElementsAre(before, earlier.log_indexes(0),
                                     before + 1, before));
  EXPECT_EQ(TreeSize(), before + 2);
}

TEST_F(DeliveryTest, BatchWithOneBadReceiptLogsNothing) {
  Sealed s1, s2;
  uint64_t e1 = SendText(device("a"), "ab", "one", &s1);
  uint64_t e2 = SendText(device("a"), "ab", "two", &s2);
  uint64_t before = TreeSize();
  grpc::ClientContext context;
  Authorize(&context, device("b"));
  v1::SubmitReceiptsRequest r;
  auto* good = r.add_receipts();
  good->set_envelope_index(e1);
  good->set_receipt(DeliveredReceipt(device("b"), s1.hash));
  auto* bad = r.add_receipts();
  bad->set_envelope_index(e2);
  bad->set_receipt(DeliveredReceipt(device("b"), s1.hash));  // wrong hash
  v1::SubmitReceiptsResponse out;
  grpc::Status s = channels_->SubmitReceipts(&context, r, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(s);
  EXPECT_EQ(TreeSize(), before);
}

// --- DeliveryHub heartbeats (short heartbeat, without ParleyServer) ---------

TEST(DeliveryHubTest, IdleStreamGetsHeartbeatsRepeatingTheLastIndex) {
  ASSERT_OK(InitCrypto());
  ::parley::testing::FakeClock clock;
  ::parley::testing::TempDir tmp;
  Ed25519PrivateKey log_key = Ed25519PrivateKey::Generate();
  LogOptions options;
  options.path = tmp.Sub("db");
  options.origin = "hub.test/log";
  options.signer = &log_key;
  options.clock = &clock;
  options.background_checkpoints = false;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LogStore> log,
                       LogStore::Open(options, LedgerIndexFamilies()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Ledger> ledger,
                       Ledger::Open(log.get(), &clock));
  // A party "p" registered directly in the log, and a channel for it.
  Ed25519PrivateKey p_key = Ed25519PrivateKey::Generate();
  ASSERT_OK_AND_ASSIGN(PrekeyPair prekey,
                       GeneratePrekey(p_key, PrekeyKind::kSigned, 1,
                                      clock.Now(), absl::Hours(24)));
  MemberRegistered reg;
  reg.name = "p";
  reg.role = MemberRole::kParty;
  reg.invite_hash = std::string(32, 'i');
  reg.key_bundle = SerializeKeyBundle({p_key.public_key(), prekey.prekey, {}});
  reg.signature = std::string(64, 's');
  ASSERT_OK(ledger->Commit(std::move(reg)).status());
  ASSERT_OK_AND_ASSIGN(uint64_t created,
                       ledger->Commit(ChannelCreated{"c", "p", {"p"}, ""}));

  Authenticator auth(&ledger->state(), &clock, &SystemRandom(), "hub.test/log");
  RateLimiter limiter(&clock, LimitOptions{});
  DeliveryHub hub(ledger.get(), absl::Milliseconds(200));
  ledger->SetListener([&hub](const std::vector<std::string>& members,
                             uint64_t) { hub.Notify(members); });
  ServiceCore core{ledger.get(), &auth,        &limiter, &clock,
                   &SystemRandom(), 1 << 16,   "",       nullptr};
  ChannelService channels(&core, &hub);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&channels);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);

  absl::Duration retry_after;
  ASSERT_OK_AND_ASSIGN(
      Authenticator::Challenge challenge,
      auth.NewChallenge(p_key.public_key(), "127.0.0.1", &retry_after));
  ASSERT_OK_AND_ASSIGN(
      Authenticator::Token token,
      auth.Authenticate(p_key.public_key(), challenge.nonce,
                        p_key.Sign(AuthStatement("hub.test/log",
                                                 challenge.nonce,
                                                 p_key.public_key()))));
  auto stub = v1::Channels::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + token.token);
    v1::SubscribeRequest r;
    r.set_from_start(true);
    auto reader = stub->Subscribe(&context, r);
    v1::Delivery d;
    ASSERT_TRUE(reader->Read(&d));
    EXPECT_EQ(d.kind(), v1::Delivery::CHANNEL);
    EXPECT_EQ(d.index(), created);
    // The backlog is drained: a "caught up" heartbeat comes at once.
    ASSERT_TRUE(reader->Read(&d));
    EXPECT_EQ(d.kind(), v1::Delivery::HEARTBEAT);
    EXPECT_EQ(d.index(), created);
    absl::Time start = absl::Now();
    int heartbeats = 0;
    while (heartbeats < 2 && reader->Read(&d)) {
      EXPECT_EQ(d.kind(), v1::Delivery::HEARTBEAT);
      EXPECT_EQ(d.index(), created);
      EXPECT_TRUE(d.entry().empty());
      ++heartbeats;
    }
    EXPECT_EQ(heartbeats, 2);
    // Two heartbeats of 200 ms each, with the hub's 1 s polling slack.
    EXPECT_LT(absl::Now() - start, absl::Seconds(5));
    EXPECT_GE(absl::Now() - start, absl::Milliseconds(350));
    context.TryCancel();
    reader->Finish().ok();
  }
  hub.Shutdown();
  server->Shutdown(std::chrono::system_clock::now());
  server->Wait();
}

}  // namespace
}  // namespace parley
