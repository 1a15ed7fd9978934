// parleyd under hostile load (issue #17, items 1-6): every call that needs
// no session is bounded per peer address and in all, streams cost no thread
// each, sign-in and enrollment limits hold, refused calls hold no resource,
// and no refusal carries a caller's whole input back.

#include <dirent.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "grpcpp/generic/generic_stub.h"
#include "server/auth.h"
#include "server/rate_limit.h"
#include "tests/server/server_test_util.h"

namespace parley::testing {
namespace {

// Threads of this process (the in-process server's included).
int ThreadCount() {
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return -1;
  int n = 0;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n;
}

std::string TrailingValue(const grpc::ClientContext& context,
                          const std::string& key) {
  auto it = context.GetServerTrailingMetadata().find(key);
  if (it == context.GetServerTrailingMetadata().end()) return "";
  return std::string(it->second.data(), it->second.size());
}

// A server listening on both IPv4 and IPv6 loopback, so that a test can call
// from two peer addresses: 127.0.0.1 (an honest member) and ::1 (someone
// else).
class HostileLoadTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    // The fixture's own calls (enrolling, signing in) come from 127.0.0.1,
    // never from ::1, which the tests keep for "someone else".
    channel_ = ChannelTo("127.0.0.1");
    info_ = v1::Info::NewStub(channel_);
    log_ = v1::Log::NewStub(channel_);
    identity_ = v1::Identity::NewStub(channel_);
    admin_ = v1::Admin::NewStub(channel_);
    directory_ = v1::Directory::NewStub(channel_);
    channels_ = v1::Channels::NewStub(channel_);
  }

  void Configure(ServerConfig& config) override {
    config.listen = "[::]:0";
    config.limits.address_requests_per_second = 1;
    config.limits.address_burst = 20;
    config.limits.public_requests_per_second = 1e6;
    config.limits.max_watch_streams_per_address = 3;
    config.limits.max_watch_streams = 5;
    config.limits.enrollments_per_minute_per_address = 3;
    config.limits.enrollment_attempts_per_invite_per_hour = 1e6;
  }

  // Calls GetServerInfo from `stub` until refused; returns the calls that
  // went through (fails the test if none is refused within `max`).
  int DrainPublic(v1::Info::Stub& stub, int max = 1000) {
    for (int i = 0; i < max; ++i) {
      grpc::ClientContext context;
      v1::ServerInfo info;
      grpc::Status s = stub.GetServerInfo(&context, {}, &info);
      if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
        EXPECT_NE(TrailingValue(context, "retry-after-ms"), "");
        return i;
      }
      EXPECT_TRUE(s.ok()) << Describe(s);
    }
    ADD_FAILURE() << max << " public calls from one address, none refused";
    return max;
  }
};

TEST_F(HostileLoadTest, PublicCallsAreLimitedPerAddressNotForOthers) {
  auto attacker = v1::Info::NewStub(ChannelTo("[::1]"));
  EXPECT_EQ(DrainPublic(*attacker), 20);  // the burst, then refused
  // Log calls without a session share the address's bucket.
  auto attacker_log = v1::Log::NewStub(ChannelTo("[::1]"));
  grpc::ClientContext context;
  v1::Checkpoint cp;
  EXPECT_EQ(attacker_log->GetCheckpoint(&context, {}, &cp).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Another address is served, and signs in.
  auto honest = v1::Info::NewStub(ChannelTo("127.0.0.1"));
  grpc::ClientContext honest_context;
  v1::ServerInfo info;
  grpc::Status s = honest->GetServerInfo(&honest_context, {}, &info);
  EXPECT_TRUE(s.ok()) << Describe(s);
  // The bucket refills with time (the server's clock).
  clock_.Advance(absl::Seconds(2));
  grpc::ClientContext later;
  EXPECT_TRUE(attacker->GetServerInfo(&later, {}, &info).ok());
}

TEST_F(HostileLoadTest, PublicCallWithSessionCountsAgainstTheMember) {
  Device& admin = EnrollAdmin();
  auto stub = v1::Info::NewStub(ChannelTo("127.0.0.1"));
  DrainPublic(*stub);
  // The address is exhausted; a member's session takes its own budget.
  grpc::ClientContext context;
  Authorize(&context, admin);
  v1::ServerInfo info;
  grpc::Status s = stub->GetServerInfo(&context, {}, &info);
  EXPECT_TRUE(s.ok()) << Describe(s);
}

TEST_F(HostileLoadTest, WatchStreamsAreCappedPerAddressAndInAll) {
  auto from_v6 = v1::Log::NewStub(ChannelTo("[::1]"));
  auto from_v4 = v1::Log::NewStub(ChannelTo("127.0.0.1"));
  struct Watch {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReader<v1::Checkpoint>> reader;
  };
  auto open = [](v1::Log::Stub& stub) {
    auto w = std::make_unique<Watch>();
    w->reader = stub.WatchCheckpoints(&w->context, {});
    return w;
  };
  // A first checkpoint (size 0 has none to send) so that streams that are
  // admitted deliver something we can wait for.
  EnrollAdmin();
  grpc::ClientContext fresh_context;
  v1::GetCheckpointRequest fresh;
  fresh.set_fresh(true);
  v1::Checkpoint cp;
  ASSERT_TRUE(log_->GetCheckpoint(&fresh_context, fresh, &cp).ok());

  std::vector<std::unique_ptr<Watch>> admitted;
  for (int i = 0; i < 3; ++i) {
    admitted.push_back(open(*from_v6));
    v1::Checkpoint first;
    ASSERT_TRUE(admitted.back()->reader->Read(&first)) << i;
  }
  auto refused = open(*from_v6);
  v1::Checkpoint none;
  EXPECT_FALSE(refused->reader->Read(&none));
  grpc::Status s = refused->reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << Describe(s);
  // Another address may open streams up to the server's total of 5.
  for (int i = 0; i < 2; ++i) {
    admitted.push_back(open(*from_v4));
    v1::Checkpoint first;
    ASSERT_TRUE(admitted.back()->reader->Read(&first)) << i;
  }
  auto over_total = open(*from_v4);
  EXPECT_FALSE(over_total->reader->Read(&none));
  EXPECT_EQ(over_total->reader->Finish().error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Closing a stream gives its slot back.
  admitted.front()->context.TryCancel();
  admitted.front()->reader->Finish();
  bool reopened = false;
  for (int attempt = 0; attempt < 50 && !reopened; ++attempt) {
    auto again = open(*from_v6);
    v1::Checkpoint first;
    reopened = again->reader->Read(&first);
    if (!reopened) {
      again->reader->Finish();
      absl::SleepFor(absl::Milliseconds(50));
    } else {
      again->context.TryCancel();
      again->reader->Finish();
    }
  }
  EXPECT_TRUE(reopened);
  for (auto& w : admitted) w->context.TryCancel();
  for (size_t i = 1; i < admitted.size(); ++i) admitted[i]->reader->Finish();
}

class ManyWatchersTest : public ServerTest {
 protected:
  void Configure(ServerConfig& config) override {
    config.limits.max_watch_streams_per_address = 10000;
    config.limits.max_watch_streams = 10000;
  }
};

TEST_F(ManyWatchersTest, WatchStreamsHoldNoThreadEachAndAllGetCheckpoints) {
  constexpr int kStreams = 300;
  const int threads_before = ThreadCount();
  struct Watch {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReader<v1::Checkpoint>> reader;
  };
  std::vector<std::unique_ptr<Watch>> watches;
  for (int i = 0; i < kStreams; ++i) {
    auto w = std::make_unique<Watch>();
    w->reader = log_->WatchCheckpoints(&w->context, {});
    watches.push_back(std::move(w));
  }
  // Every stream gets the next checkpoint.
  EnrollAdmin();
  grpc::ClientContext fresh_context;
  v1::GetCheckpointRequest fresh;
  fresh.set_fresh(true);
  v1::Checkpoint cp;
  ASSERT_TRUE(log_->GetCheckpoint(&fresh_context, fresh, &cp).ok());
  for (auto& w : watches) {
    // An automatic checkpoint of a smaller size may come first.
    v1::Checkpoint got;
    do {
      ASSERT_TRUE(w->reader->Read(&got));
    } while (got.size() < cp.size());
    EXPECT_EQ(got.size(), cp.size());
  }
  // One thread for all streams (was one per stream: +300). gRPC's own
  // client and server pools may grow a little under the load.
  EXPECT_LT(ThreadCount() - threads_before, 40)
      << "threads before " << threads_before << ", now " << ThreadCount();
  for (auto& w : watches) w->context.TryCancel();
  for (auto& w : watches) w->reader->Finish();
}

TEST_F(HostileLoadTest, RevokedKeyGetsNoChallenge) {
  EnrollAdmin();
  Device& party = AddMember("p", v1::ROLE_PARTY);
  grpc::ClientContext context;
  Authorize(&context, device("admin"));
  v1::RevokeRequest revoke;
  revoke.set_name("p");
  v1::RevokeResponse revoked;
  ASSERT_TRUE(admin_->Revoke(&context, revoke, &revoked).ok());
  grpc::ClientContext challenge_context;
  v1::GetChallengeRequest r;
  r.set_identity_key(party.key());
  v1::Challenge challenge;
  grpc::Status s =
      identity_->GetChallenge(&challenge_context, r, &challenge);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(s);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("revoked"));
}

TEST_F(HostileLoadTest, ChallengeFloodFromElsewhereLeavesSignInWorking) {
  Device& party = AddMember("p", v1::ROLE_PARTY);
  // Someone who knows p's public key asks for challenges as fast as the
  // server lets it, from another address.
  auto attacker = v1::Identity::NewStub(ChannelTo("[::1]"));
  int refused = 0;
  for (int i = 0; i < 200; ++i) {
    grpc::ClientContext context;
    v1::GetChallengeRequest r;
    r.set_identity_key(party.key());
    v1::Challenge challenge;
    grpc::Status s = attacker->GetChallenge(&context, r, &challenge);
    if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++refused;
      EXPECT_NE(TrailingValue(context, "retry-after-ms"), "");
    } else {
      EXPECT_TRUE(s.ok()) << Describe(s);
    }
  }
  EXPECT_EQ(refused, 180);  // 20 served: the address's burst
  // p signs in from its own address.
  grpc::Status s = SignIn(party);
  EXPECT_TRUE(s.ok()) << Describe(s);
}

TEST(AuthenticatorLimitsTest, PendingChallengesAreBoundedPerIdentityAndPeer) {
  ASSERT_OK(InitCrypto());
  FakeClock clock;
  ServerState state;
  Ed25519PrivateKey key = Ed25519PrivateKey::Generate();
  MemberRegistered m;
  m.name = "p";
  m.role = MemberRole::kParty;
  absl::StatusOr<PrekeyPair> prekey = GeneratePrekey(
      key, PrekeyKind::kSigned, 1, clock.Now(), absl::Hours(24));
  ASSERT_OK(prekey.status());
  m.key_bundle = SerializeKeyBundle({key.public_key(), prekey->prekey, {}});
  LogEntry entry;
  entry.body = m;
  state.Apply(0, entry);
  ASSERT_TRUE(state.MemberByKey(key.public_key()).has_value());
  Authenticator auth(&state, &clock, &SystemRandom(), "o", absl::Minutes(15),
                     /*max_pending_per_identity=*/8);
  absl::Duration retry;

  // One peer: its fifth challenge replaces its first.
  std::vector<std::string> nonces;
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK_AND_ASSIGN(Authenticator::Challenge c,
                         auth.NewChallenge(key.public_key(), "peer-a", &retry));
    nonces.push_back(c.nonce);
  }
  auto sign_in = [&](const std::string& nonce) {
    return auth
        .Authenticate(key.public_key(), nonce,
                      key.Sign(AuthStatement("o", nonce, key.public_key())))
        .status();
  };
  EXPECT_EQ(sign_in(nonces[0]).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_OK(sign_in(nonces[4]));
  // peer-a now holds 3 (its 2nd to 4th). The member's device asks twice
  // from its own address, and three other peers once each: 8 in all.
  std::vector<std::string> honest;
  for (int i = 0; i < 2; ++i) {
    ASSERT_OK_AND_ASSIGN(Authenticator::Challenge c,
                         auth.NewChallenge(key.public_key(), "honest", &retry));
    honest.push_back(c.nonce);
  }
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(auth.NewChallenge(key.public_key(), absl::StrCat("peer-", i),
                                &retry)
                  .status());
  }
  // A ninth, from a new peer, is refused until the oldest expires; nobody
  // else's challenge was evicted to make room.
  absl::Status s =
      auth.NewChallenge(key.public_key(), "peer-new", &retry).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_GT(retry, absl::ZeroDuration());
  EXPECT_LE(retry, absl::Seconds(60));
  EXPECT_OK(sign_in(honest[0]));
  // After the challenges expire, there is room again.
  clock.Advance(absl::Seconds(61));
  EXPECT_OK(auth.NewChallenge(key.public_key(), "later", &retry).status());
}

TEST_F(HostileLoadTest, EnrollIsLimitedPerAddress) {
  Device& admin = EnrollAdmin();
  v1::Invite invite;
  ASSERT_TRUE(CreateInvite(admin, v1::ROLE_PARTY, "p", &invite).ok());
  // Bogus attempts (a key bundle signed by another key) from one address.
  auto d = NewDevice("p");
  v1::EnrollRequest bogus = EnrollRequestFor(*d, invite.code(), "p");
  bogus.set_signature(std::string(64, 'x'));
  auto attacker = v1::Identity::NewStub(ChannelTo("[::1]"));
  std::vector<grpc::StatusCode> codes;
  for (int i = 0; i < 4; ++i) {
    grpc::ClientContext context;
    v1::EnrollResponse response;
    codes.push_back(attacker->Enroll(&context, bogus, &response).error_code());
  }
  EXPECT_EQ(codes, (std::vector<grpc::StatusCode>{
                       grpc::StatusCode::UNAUTHENTICATED,
                       grpc::StatusCode::UNAUTHENTICATED,
                       grpc::StatusCode::UNAUTHENTICATED,
                       grpc::StatusCode::RESOURCE_EXHAUSTED}));
  // The honest enrollment, from its own address, goes through.
  grpc::Status s = Enroll(EnrollRequestFor(*d, invite.code(), "p"));
  EXPECT_TRUE(s.ok()) << Describe(s);
}

class InviteLimitTest : public ServerTest {
 protected:
  void Configure(ServerConfig& config) override {
    config.limits.enrollment_attempts_per_invite_per_hour = 2;
  }
};

TEST_F(InviteLimitTest, EnrollAttemptsPerInviteAreLimited) {
  Device& admin = EnrollAdmin();
  v1::Invite invite;
  ASSERT_TRUE(CreateInvite(admin, v1::ROLE_PARTY, "p", &invite).ok());
  auto d = NewDevice("p");
  v1::EnrollRequest bogus = EnrollRequestFor(*d, invite.code(), "p");
  bogus.set_signature(std::string(64, 'x'));
  EXPECT_EQ(Enroll(bogus).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Enroll(bogus).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  grpc::Status s = Enroll(EnrollRequestFor(*d, invite.code(), "p"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << Describe(s);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("invite"));
  clock_.Advance(absl::Minutes(31));  // one attempt back
  s = Enroll(EnrollRequestFor(*d, invite.code(), "p"));
  EXPECT_TRUE(s.ok()) << Describe(s);
}

TEST_F(ServerTest, UnknownInviteIsRefusedBeforeAnySignatureCheck) {
  EnrollAdmin();
  v1::EnrollRequest r;
  r.set_invite("pi1-0000-0000-0000-0000-0000-0000-0000-0000");
  r.set_name("p");
  r.set_key_bundle("not a key bundle");
  grpc::Status s = Enroll(r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(s);
}

class LogReadLimitTest : public ServerTest {
 protected:
  void Configure(ServerConfig& config) override {
    config.limits.requests_per_second = 1;
    config.limits.burst = 40;
  }
};

TEST_F(LogReadLimitTest, EntriesAndInclusionProofsTakeTheMembersTokens) {
  Device& admin = EnrollAdmin();
  AddMember("p", v1::ROLE_PARTY);
  grpc::ClientContext fresh_context;
  v1::GetCheckpointRequest fresh;
  fresh.set_fresh(true);
  v1::Checkpoint cp;
  ASSERT_TRUE(log_->GetCheckpoint(&fresh_context, fresh, &cp).ok());
  int served = 0;
  grpc::Status last;
  for (int i = 0; i < 100; ++i) {
    grpc::ClientContext context;
    Authorize(&context, admin);
    if (i % 2 == 0) {
      v1::GetEntriesResponse page;
      last = log_->GetEntries(&context, {}, &page);
    } else {
      v1::GetInclusionProofRequest r;
      r.set_index(0);
      v1::InclusionProof proof;
      last = log_->GetInclusionProof(&context, r, &proof);
    }
    if (!last.ok()) {
      EXPECT_NE(TrailingValue(context, "retry-after-ms"), "");
      break;
    }
    ++served;
  }
  EXPECT_EQ(last.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << Describe(last);
  EXPECT_LT(served, 40);  // the admin's burst, less its earlier calls
  // Another member is served.
  grpc::ClientContext context;
  Authorize(&context, device("p"));
  v1::GetEntriesResponse page;
  grpc::Status s = log_->GetEntries(&context, {}, &page);
  EXPECT_TRUE(s.ok()) << Describe(s);
}

TEST_F(ServerTest, RefusedSubscribeHoldsNoStreamSlot) {
  Device& party = AddMember("p", v1::ROLE_PARTY);
  // More refused calls than the member's stream limit (2 here).
  for (int i = 0; i < 4; ++i) {
    auto stream = Subscribe(party, std::numeric_limits<uint64_t>::max(),
                            /*from_start=*/false);
    std::optional<grpc::Status> end = stream->End();
    ASSERT_TRUE(end.has_value());
    EXPECT_EQ(end->error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << Describe(*end);
  }
  auto stream = Subscribe(party, 0, /*from_start=*/true);
  EXPECT_FALSE(stream->End(absl::Milliseconds(500)).has_value())
      << "a valid Subscribe was refused: "
      << Describe(stream->End(absl::ZeroDuration()).value_or(grpc::Status()));
}

// Every unary RPC, called by every role and without a session, with every
// string field of its request (and of the messages it holds) set to a long
// input: no refusal quotes more than about 100 bytes of it.
TEST_F(ServerTest, RefusalsQuoteAtMostAHundredBytesOfAnyInput) {
  StandardCast();
  AddMember("c", v1::ROLE_COORDINATOR);
  namespace pb = google::protobuf;
  const std::vector<std::string> callers = {"", "admin", "m", "a", "o", "c"};
  grpc::GenericStub generic(channel_);
  int refusals = 0;
  const pb::DescriptorPool* pool = pb::DescriptorPool::generated_pool();
  for (const char* service_name :
       {"parley.v1.Info", "parley.v1.Log", "parley.v1.Identity",
        "parley.v1.Admin", "parley.v1.Directory", "parley.v1.Channels",
        "parley.v1.Notifications"}) {
    const pb::ServiceDescriptor* service =
        pool->FindServiceByName(service_name);
    ASSERT_NE(service, nullptr) << service_name;
    for (int m = 0; m < service->method_count(); ++m) {
      const pb::MethodDescriptor* method = service->method(m);
      if (method->client_streaming() || method->server_streaming()) continue;
      std::unique_ptr<pb::Message> request(
          pb::MessageFactory::generated_factory()
              ->GetPrototype(method->input_type())
              ->New());
      // Fill every string and bytes field, one level of messages deep, so
      // the request stays below the server's receive limit.
      std::function<void(pb::Message*, int)> fill = [&](pb::Message* msg,
                                                        int depth) {
        const pb::Reflection* r = msg->GetReflection();
        const pb::Descriptor* d = msg->GetDescriptor();
        for (int f = 0; f < d->field_count(); ++f) {
          const pb::FieldDescriptor* field = d->field(f);
          if (field->type() == pb::FieldDescriptor::TYPE_STRING ||
              field->type() == pb::FieldDescriptor::TYPE_BYTES) {
            std::string big(3000, 'x');
            if (field->is_repeated()) {
              r->AddString(msg, field, big);
            } else {
              r->SetString(msg, field, big);
            }
          } else if (field->type() == pb::FieldDescriptor::TYPE_MESSAGE &&
                     depth < 2) {
            fill(field->is_repeated() ? r->AddMessage(msg, field)
                                      : r->MutableMessage(msg, field),
                 depth + 1);
          }
        }
      };
      fill(request.get(), 0);
      std::string bytes = request->SerializeAsString();
      for (const std::string& caller : callers) {
        grpc::ClientContext context;
        if (!caller.empty()) Authorize(&context, device(caller));
        grpc::Slice slice(bytes);
        grpc::ByteBuffer in(&slice, 1), out;
        absl::Notification done;
        grpc::Status status;
        generic.UnaryCall(&context,
                          absl::StrCat("/", service_name, "/", method->name()),
                          grpc::StubOptions(), &in, &out,
                          [&](grpc::Status s) {
                            status = std::move(s);
                            done.Notify();
                          });
        done.WaitForNotification();
        if (status.ok()) continue;
        ++refusals;
        const std::string where =
            absl::StrCat(method->full_name(), " as \"", caller, "\": ",
                         static_cast<int>(status.error_code()));
        EXPECT_EQ(status.error_message().find(std::string(101, 'x')),
                  std::string::npos)
            << where << " " << status.error_message().substr(0, 300);
        EXPECT_LE(status.error_message().size(), 500u)
            << where << " " << status.error_message().substr(0, 300);
      }
    }
  }
  EXPECT_GT(refusals, 100);
}

}  // namespace
}  // namespace parley::testing

namespace parley {
namespace {

TEST(PeerAddressKeyTest, GroupsByAddressWithoutPort) {
  EXPECT_EQ(PeerAddressKey("ipv4:192.0.2.7:5555"), "192.0.2.7");
  EXPECT_EQ(PeerAddressKey("ipv6:%5B::1%5D:5555"), "::/64");
  EXPECT_EQ(PeerAddressKey("ipv6:[::1]:5555"), "::/64");
  EXPECT_EQ(PeerAddressKey("ipv6:%5B2001:db8:1:2:aa:bb:cc:dd%5D:1"),
            "2001:db8:1:2::/64");
  EXPECT_EQ(PeerAddressKey("ipv6:%5B2001:db8:1:2::9%5D:2"),
            PeerAddressKey("ipv6:%5B2001:db8:1:2::77%5D:3"));
  EXPECT_NE(PeerAddressKey("ipv6:%5B2001:db8:1:2::9%5D:2"),
            PeerAddressKey("ipv6:%5B2001:db8:1:3::9%5D:2"));
  EXPECT_EQ(PeerAddressKey("ipv6:%5B::ffff:192.0.2.7%5D:5555"), "192.0.2.7");
  EXPECT_EQ(PeerAddressKey("unix:/run/parley.sock"), "unix:/run/parley.sock");
}

}  // namespace
}  // namespace parley

namespace parley::testing {
namespace {

class PacedRefusalTest : public HostileLoadTest {
 protected:
  void Configure(ServerConfig& config) override {
    HostileLoadTest::Configure(config);
    config.limits.refusal_delay = absl::Milliseconds(300);
  }
};

// A flood of refused calls is answered at the pace of the refusal delay,
// not at once: a client with N calls in flight gets N answers per delay.
TEST_F(PacedRefusalTest, RefusalsByALimitAreAnsweredAfterTheDelay) {
  auto attacker = v1::Info::NewStub(ChannelTo("[::1]"));
  EXPECT_EQ(DrainPublic(*attacker), 20);  // the refusal itself is paced
  const absl::Time start = absl::Now();
  grpc::ClientContext context;
  v1::ServerInfo info;
  grpc::Status s = attacker->GetServerInfo(&context, {}, &info);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300));
  // Streams too.
  auto log = v1::Log::NewStub(ChannelTo("[::1]"));
  grpc::ClientContext watch_context;
  const absl::Time watch_start = absl::Now();
  auto reader = log->WatchCheckpoints(&watch_context, {});
  v1::Checkpoint cp;
  EXPECT_FALSE(reader->Read(&cp));
  EXPECT_EQ(reader->Finish().error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_GE(absl::Now() - watch_start, absl::Milliseconds(300));
}

class ReadChargeTest : public ServerTest {
 protected:
  void Configure(ServerConfig& config) override {
    config.limits.requests_per_second = 1;
    config.limits.burst = 30;
    config.session_ttl = absl::Hours(4);  // the test's clock runs 20 min
  }
};

// A GetEntries page costs one token per 64 KiB of entries it returns, on top
// of the call's own: reading much costs as much as calling often.
TEST_F(ReadChargeTest, EntryPagesAreChargedByTheirBytes) {
  StandardCast();  // m, a, b, o (the observer reads every entry in full)
  Device& a = device("a");
  // More than 1 MiB of envelopes (the fixture's limit is 4 KiB each).
  for (int i = 0; i < 600; ++i) {
    SendText(a, "ab", std::string(1500, 'p'));
    clock_.Advance(absl::Seconds(2));  // keep a within its rate
  }
  clock_.Advance(absl::Seconds(60));  // o's bucket is full: 30 tokens
  int pages = 0;
  grpc::Status last;
  uint64_t next = 0;
  for (int i = 0; i < 30; ++i) {
    grpc::ClientContext context;
    Authorize(&context, device("o"));
    v1::GetEntriesRequest r;
    r.set_start(next);
    v1::GetEntriesResponse page;
    last = log_->GetEntries(&context, r, &page);
    if (!last.ok()) break;
    ++pages;
    next = page.next_index();
    if (next >= page.tree_size()) next = 0;
  }
  EXPECT_EQ(last.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << Describe(last);
  // Each ~1 MiB page costs 1 + 16 tokens: two pages, not thirty calls.
  EXPECT_LE(pages, 3);
}

}  // namespace
}  // namespace parley::testing

namespace parley::testing {
namespace {

// Clients check envelopes against the server's own limit before queueing.
TEST_F(ServerTest, ServerInfoReportsTheMessageLimit) {
  grpc::ClientContext context;
  v1::ServerInfo info;
  grpc::Status s = info_->GetServerInfo(&context, {}, &info);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(info.max_message_bytes(), config_.max_message_bytes);
}

}  // namespace
}  // namespace parley::testing
