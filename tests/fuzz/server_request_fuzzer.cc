// Fuzz target: decoded parley.v1 requests to a running parleyd.
//
// LLVMFuzzerInitialize starts one ParleyServer the way tests/server's
// ServerTest does (fresh data directory under /tmp, FakeClock, every rate
// limit at 1e6, no refusal delay, no background deadline watcher or scrub),
// enrolls and signs in one member of each role, and logs a small history: a
// channel "ab", one message in it and one notification. Members' keys are
// derived from their names, so seeds that carry signatures stay valid.
//
// Input: byte 0 picks the unary method (Methods(), modulo its size), byte 1
// the caller (kCallers, modulo: no session, or the member of each role), the
// rest is the method's request message; inputs that do not parse as it are
// skipped. The raw bytes go over a TLS channel on 127.0.0.1 to the server's
// port through grpc::GenericStub (ParleyServer does not expose its
// grpc::Server, so there is no in-process channel), so every method needs no
// code of its own. The two server-streaming methods (Channels/Subscribe,
// Log/WatchCheckpoints) are left out: they end only when cancelled, and
// their handlers are covered by the unit tests.
//
// Properties: the server never crashes; every call ends within its deadline
// with a valid gRPC code and a message of at most 1024 bytes; a call without
// a session to a method that is not public is UNAUTHENTICATED; a member
// whose role the authorization table does not list for the method gets
// PERMISSION_DENIED; an OK response parses as the method's response type.
//
// State persists across inputs (as it does on a real server). The cast is
// protected: Admin/Revoke naming a cast member is skipped, so every role
// keeps a working session. The log grows by at most one entry per call that
// succeeds (CreateInvite, CreateChannel, ...): a few MB per minute of fuzzing.
// The data directory is removed at exit.
//
// Seeds: PARLEY_FUZZ_WRITE_SEEDS=<dir> server_request_fuzzer writes the seed
// inputs (valid requests for every method, from every plausible caller) into
// <dir> and exits; tests/fuzz/corpus/server_request/ is those, merged with
// what fuzzing found.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "crypto/ed25519.h"
#include "crypto/envelope.h"
#include "crypto/file_util.h"
#include "crypto/hash.h"
#include "crypto/prekey.h"
#include "crypto/random.h"
#include "crypto/receipt.h"
#include "crypto/statements.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/message.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "parley/v1/channels.grpc.pb.h"
#include "parley/v1/identity.grpc.pb.h"
#include "parley/v1/info.grpc.pb.h"
#include "parley/v1/log.grpc.pb.h"
#include "parley/v1/notifications.grpc.pb.h"
#include "server/auth.h"
#include "server/config.h"
#include "server/data_dir.h"
#include "server/parley_server.h"
#include "spdlog/spdlog.h"
#include "storage/tlog/log_entry.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/subprocess.h"

namespace parley {
namespace {

using google::protobuf::Message;
using google::protobuf::MethodDescriptor;

// One unary parley.v1 method.
struct Method {
  std::string path;  // "/parley.v1.Channels/Send"
  std::string name;  // "parley.v1.Channels/Send", as in AuthorizationTable
  const Message* request_prototype;
  const Message* response_prototype;
};

// Unary methods in a fixed order: services as listed here, methods as
// declared in the .proto files. Byte 0 of an input indexes this list, so
// adding a method renumbers only those after it.
const std::vector<Method>& Methods() {
  static const auto* methods = [] {
    // Referencing one message per file links its descriptors in.
    const google::protobuf::FileDescriptor* files[] = {
        v1::GetServerInfoRequest::descriptor()->file(),
        v1::GetEntriesRequest::descriptor()->file(),
        v1::EnrollRequest::descriptor()->file(),
        v1::SendRequest::descriptor()->file(),
        v1::NotifyRequest::descriptor()->file(),
    };
    (void)files;
    const char* services[] = {"parley.v1.Info",         "parley.v1.Log",
                              "parley.v1.Identity",     "parley.v1.Admin",
                              "parley.v1.Directory",    "parley.v1.Channels",
                              "parley.v1.Notifications"};
    auto* out = new std::vector<Method>;
    auto* factory = google::protobuf::MessageFactory::generated_factory();
    for (const char* service_name : services) {
      const google::protobuf::ServiceDescriptor* service =
          google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
              service_name);
      PARLEY_FUZZ_CHECK(service != nullptr);
      for (int i = 0; i < service->method_count(); ++i) {
        const MethodDescriptor* m = service->method(i);
        if (m->client_streaming() || m->server_streaming()) continue;
        std::string name = absl::StrCat(service_name, "/", m->name());
        out->push_back({"/" + name, name,
                        factory->GetPrototype(m->input_type()),
                        factory->GetPrototype(m->output_type())});
      }
    }
    return out;
  }();
  return *methods;
}

int MethodIndex(const std::string& name) {
  const std::vector<Method>& methods = Methods();
  for (size_t i = 0; i < methods.size(); ++i) {
    if (methods[i].name == name) return static_cast<int>(i);
  }
  PARLEY_FUZZ_CHECK(false && "no such unary method");
  return -1;
}

// Methods callable without a session (docs/ARCHITECTURE.md), stated here
// independently of the server's own table.
bool IsPublic(const std::string& name) {
  static const char* const kPublic[] = {
      "parley.v1.Info/GetServerInfo",      "parley.v1.Log/GetCheckpoint",
      "parley.v1.Log/GetConsistencyProof", "parley.v1.Identity/Enroll",
      "parley.v1.Identity/GetChallenge",   "parley.v1.Identity/Authenticate"};
  return std::find(std::begin(kPublic), std::end(kPublic), name) !=
         std::end(kPublic);
}

// Byte 1 of an input, modulo the size: index 0 calls without a session.
struct CallerSpec {
  const char* name;  // nullptr: no session
  v1::Role role;
  MemberRole member_role;
};
constexpr CallerSpec kCallers[] = {
    {nullptr, v1::ROLE_UNSPECIFIED, MemberRole::kParty},
    {"admin", v1::ROLE_ADMIN, MemberRole::kAdmin},
    {"mediator", v1::ROLE_MEDIATOR, MemberRole::kMediator},
    {"coordinator", v1::ROLE_COORDINATOR, MemberRole::kCoordinator},
    {"party", v1::ROLE_PARTY, MemberRole::kParty},
    {"observer", v1::ROLE_OBSERVER, MemberRole::kObserver},
};
constexpr int kNumCallers = sizeof(kCallers) / sizeof(kCallers[0]);
// Enrolled beside the cast, for Admin/Revoke to succeed once.
constexpr char kSpare[] = "spare";
constexpr char kChannel[] = "ab";
constexpr char kNotificationId[] = "move-1";
constexpr uint64_t kMaxMessageBytes = 4096;

// A member as the fuzzer holds it. Keys derive from the name.
struct Member {
  std::string name;
  v1::Role role = v1::ROLE_UNSPECIFIED;
  std::optional<Ed25519PrivateKey> identity;
  std::optional<PrekeyPair> prekey;
  std::string bundle;
  std::string token;
};

// The running server and what Initialize logged. Never destroyed: Shutdown
// (at exit) stops the server and frees everything that holds threads.
struct Fuzz {
  testing::FakeClock clock;
  std::unique_ptr<Random> random = NewDeterministicRandom("server_request");
  // The data directory; removed by Shutdown.
  std::unique_ptr<testing::TempDir> tmp;
  std::string dir;
  std::unique_ptr<ParleyServer> server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<grpc::GenericStub> generic;
  std::unique_ptr<v1::Identity::Stub> identity;
  std::unique_ptr<v1::Admin::Stub> admin;
  std::unique_ptr<v1::Channels::Stub> channels;
  std::unique_ptr<v1::Notifications::Stub> notifications;
  std::map<std::string, Member> members;
  // The history Initialize logged, for seeds.
  std::string sent_envelope;  // party's first envelope in kChannel
  uint64_t sent_index = 0;
  std::string notify_envelope;
  uint64_t tree_size = 0;

  void Shutdown() {
    generic.reset();
    identity.reset();
    admin.reset();
    channels.reset();
    notifications.reset();
    channel.reset();
    if (server != nullptr) server->Shutdown();
    server.reset();
    tmp.reset();
  }
};

Fuzz* g_fuzz = nullptr;

void Die(const std::string& what) {
  std::fprintf(stderr, "server_request_fuzzer: %s\n", what.c_str());
  std::abort();
}

void CheckOk(const grpc::Status& s, const std::string& what) {
  if (!s.ok()) {
    Die(absl::StrCat(what, ": ", static_cast<int>(s.error_code()), " ",
                     s.error_message()));
  }
}

template <typename T>
T ValueOrDie(absl::StatusOr<T> v, const std::string& what) {
  if (!v.ok()) Die(absl::StrCat(what, ": ", v.status().ToString()));
  return *std::move(v);
}

Member NewMember(Fuzz& f, const std::string& name, v1::Role role) {
  Member m;
  m.name = name;
  m.role = role;
  m.identity.emplace(ValueOrDie(
      Ed25519PrivateKey::FromSeed(Sha256("parley fuzz member " + name)),
      "identity key"));
  m.prekey.emplace(
      ValueOrDie(GeneratePrekey(*m.identity, PrekeyKind::kSigned, 1,
                                f.clock.Now(), absl::Hours(24 * 7), *f.random),
                 "prekey"));
  m.bundle =
      SerializeKeyBundle({m.identity->public_key(), m.prekey->prekey, {}});
  return m;
}

v1::EnrollRequest EnrollRequestFor(const Member& m, const std::string& code) {
  std::string stripped(absl::StripAsciiWhitespace(code));
  v1::EnrollRequest r;
  r.set_invite(code);
  r.set_name(m.name);
  r.set_key_bundle(m.bundle);
  r.set_signature(
      m.identity->Sign(EnrollStatement(Sha256(stripped), m.name, m.bundle)));
  return r;
}

void AddSession(grpc::ClientContext* context, const Member& m) {
  context->AddMetadata("authorization", "Bearer " + m.token);
}

void SignIn(Fuzz& f, Member& m) {
  v1::Challenge challenge;
  {
    grpc::ClientContext context;
    v1::GetChallengeRequest r;
    r.set_identity_key(m.identity->public_key());
    CheckOk(f.identity->GetChallenge(&context, r, &challenge), "challenge");
  }
  grpc::ClientContext context;
  v1::AuthenticateRequest r;
  r.set_identity_key(m.identity->public_key());
  r.set_nonce(challenge.nonce());
  r.set_signature(m.identity->Sign(AuthStatement(
      f.server->origin(), challenge.nonce(), m.identity->public_key())));
  v1::SessionToken token;
  CheckOk(f.identity->Authenticate(&context, r, &token), "authenticate");
  m.token = token.token();
}

void Enroll(Fuzz& f, Member m, const std::string& code) {
  grpc::ClientContext context;
  v1::EnrollResponse response;
  CheckOk(f.identity->Enroll(&context, EnrollRequestFor(m, code), &response),
          "enroll " + m.name);
  SignIn(f, m);
  f.members[m.name] = std::move(m);
}

void AddMember(Fuzz& f, const std::string& name, v1::Role role) {
  grpc::ClientContext context;
  AddSession(&context, f.members.at("admin"));
  v1::CreateInviteRequest r;
  r.set_role(role);
  r.set_name(name);
  if (role == v1::ROLE_COORDINATOR) r.set_organisation("org");
  v1::Invite invite;
  CheckOk(f.admin->CreateInvite(&context, r, &invite), "invite " + name);
  Enroll(f, NewMember(f, name, role), invite.code());
}

// Seals `payload` from `sender` to `recipients` in `channel_id`.
std::string Seal(Fuzz& f, const Member& sender, const std::string& channel_id,
                 uint64_t sequence, const std::string& previous_hash,
                 const std::string& content_type,
                 const std::vector<std::string>& recipients) {
  EnvelopeMetadata m;
  m.channel_id = channel_id;
  m.client_message_id = f.random->Bytes(kClientMessageIdSize);
  m.sequence = sequence;
  m.previous_hash = previous_hash;
  m.created_at = absl::ToUnixSeconds(f.clock.Now());
  m.content_type = content_type;
  std::vector<EnvelopeRecipient> to;
  for (const std::string& name : recipients) {
    const Member& r = f.members.at(name);
    to.push_back({r.identity->public_key(), r.prekey->prekey, std::nullopt});
  }
  return ValueOrDie(
      SealEnvelope(*sender.identity, m, to, "fuzz payload", *f.random), "seal");
}

v1::NotificationMetadata NotificationMetadataAt(absl::Time now) {
  int64_t t = absl::ToUnixSeconds(now);
  v1::NotificationMetadata m;
  m.set_id(kNotificationId);
  m.set_kind(v1::MOVEMENT);
  m.add_parties("party");
  m.set_depart_at(t + 3 * 24 * 3600);
  m.set_ack_by(t + 2 * 24 * 3600);
  m.set_valid_from(t + 3 * 24 * 3600);
  m.set_valid_until(t + 4 * 24 * 3600);
  return m;
}

const std::vector<std::string> kChannelMembers = {"mediator", "coordinator",
                                                  "party", "observer"};

// The cast, a channel, a message and a notification.
void LogHistory(Fuzz& f) {
  {
    Member admin = NewMember(f, "admin", v1::ROLE_ADMIN);
    std::string code = ValueOrDie(ReadFile(f.dir + "/data/bootstrap-invite"),
                                  "bootstrap invite");
    Enroll(f, std::move(admin), std::string(absl::StripAsciiWhitespace(code)));
  }
  for (int i = 2; i < kNumCallers; ++i) {
    AddMember(f, kCallers[i].name, kCallers[i].role);
  }
  AddMember(f, kSpare, v1::ROLE_PARTY);
  {
    grpc::ClientContext context;
    AddSession(&context, f.members.at("mediator"));
    v1::CreateChannelRequest r;
    r.set_name(kChannel);
    for (const std::string& m : kChannelMembers) {
      if (m != "mediator") r.add_members(m);
    }
    v1::ChannelInfo info;
    CheckOk(f.channels->CreateChannel(&context, r, &info), "create channel");
  }
  {
    const Member& party = f.members.at("party");
    f.sent_envelope = Seal(f, party, kChannel, 0, std::string(32, '\0'),
                           "text/plain", kChannelMembers);
    grpc::ClientContext context;
    AddSession(&context, party);
    v1::SendRequest r;
    r.set_channel(kChannel);
    r.set_envelope(f.sent_envelope);
    v1::SendResponse response;
    CheckOk(f.channels->Send(&context, r, &response), "send");
    f.sent_index = response.log_index();
  }
  {
    const Member& coordinator = f.members.at("coordinator");
    f.notify_envelope =
        Seal(f, coordinator, absl::StrCat("n/", kNotificationId), 0,
             std::string(32, '\0'), "application/vnd.parley.movement+json",
             {"coordinator", "mediator", "party"});
    grpc::ClientContext context;
    AddSession(&context, coordinator);
    v1::NotifyRequest r;
    *r.mutable_metadata() = NotificationMetadataAt(f.clock.Now());
    r.set_envelope(f.notify_envelope);
    v1::NotifyResponse response;
    grpc::Status s = f.notifications->Notify(&context, r, &response);
    if (!s.ok()) {
      // Not fatal: the seeds then start from no notification.
      std::fprintf(stderr, "server_request_fuzzer: setup Notify: %d %s\n",
                   static_cast<int>(s.error_code()), s.error_message().c_str());
    }
  }
  {
    auto info = v1::Info::NewStub(f.channel);
    grpc::ClientContext context;
    v1::ServerInfo out;
    CheckOk(info->GetServerInfo(&context, {}, &out), "server info");
    f.tree_size = out.tree_size();
  }
}

void StartServer(Fuzz& f) {
  if (!InitCrypto().ok()) Die("InitCrypto");
  f.tmp = std::make_unique<testing::TempDir>();
  f.dir = f.tmp->path();
  InitOptions init;
  init.origin = "fuzz.test/log";
  init.now = f.clock.Now();
  ValueOrDie(InitDataDir(f.dir + "/data", init), "init data dir");

  ServerConfig config;
  config.data = f.dir + "/data";
  config.listen = "127.0.0.1:0";
  config.shutdown_grace = absl::Seconds(2);
  config.max_message_bytes = kMaxMessageBytes;
  config.scrub_entries_per_second = 0;
  config.run_deadline_watcher = false;
  config.min_free_disk_bytes = 16 << 20;
  config.limits.requests_per_second = 1e6;
  config.limits.burst = 1e6;
  config.limits.address_requests_per_second = 1e6;
  config.limits.address_burst = 1e6;
  config.limits.public_requests_per_second = 1e6;
  config.limits.enrollments_per_minute_per_address = 1e6;
  config.limits.enrollment_attempts_per_invite_per_hour = 1e6;
  config.limits.refusal_delay = absl::ZeroDuration();
  f.server = ValueOrDie(ParleyServer::Start(config, f.clock), "start server");

  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ValueOrDie(ReadFile(f.dir + "/data/tls/ca.crt"), "ca");
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  f.channel =
      grpc::CreateCustomChannel(absl::StrCat("localhost:", f.server->port()),
                                grpc::SslCredentials(ssl), args);
  f.generic = std::make_unique<grpc::GenericStub>(f.channel);
  f.identity = v1::Identity::NewStub(f.channel);
  f.admin = v1::Admin::NewStub(f.channel);
  f.channels = v1::Channels::NewStub(f.channel);
  f.notifications = v1::Notifications::NewStub(f.channel);
}

// --- Seeds ---------------------------------------------------------------

struct Seed {
  std::string file;
  std::string method;
  int caller;
  std::string request;
};

std::vector<Seed> Seeds(Fuzz& f) {
  std::vector<Seed> seeds;
  auto add = [&seeds](std::string file, std::string method, int caller,
                      const Message& request) {
    seeds.push_back({std::move(file), std::move(method), caller,
                     request.SerializeAsString()});
  };
  const int kNone = 0, kAdmin = 1, kMediator = 2, kCoordinator = 3, kParty = 4,
            kObserver = 5;
  Member& party = f.members.at("party");
  Member& mediator = f.members.at("mediator");
  Member& coordinator = f.members.at("coordinator");

  add("info", "parley.v1.Info/GetServerInfo", kNone,
      v1::GetServerInfoRequest());
  {
    v1::GetCheckpointRequest r;
    r.set_fresh(true);
    add("checkpoint-fresh", "parley.v1.Log/GetCheckpoint", kNone, r);
  }
  {
    v1::GetInclusionProofRequest r;
    r.set_index(f.sent_index);
    r.set_tree_size(f.tree_size);
    add("inclusion-party", "parley.v1.Log/GetInclusionProof", kParty, r);
    add("inclusion-anonymous", "parley.v1.Log/GetInclusionProof", kNone, r);
  }
  {
    v1::GetConsistencyProofRequest r;
    r.set_size1(2);
    r.set_size2(f.tree_size);
    add("consistency", "parley.v1.Log/GetConsistencyProof", kNone, r);
  }
  {
    v1::GetEntriesRequest r;
    r.set_start(0);
    r.set_end(f.tree_size);
    add("entries-observer", "parley.v1.Log/GetEntries", kObserver, r);
    add("entries-party", "parley.v1.Log/GetEntries", kParty, r);
    add("entries-admin", "parley.v1.Log/GetEntries", kAdmin, r);
    add("entries-anonymous", "parley.v1.Log/GetEntries", kNone, r);
  }
  {
    Member newcomer = NewMember(f, "newcomer", v1::ROLE_PARTY);
    add("enroll-bad-invite", "parley.v1.Identity/Enroll", kNone,
        EnrollRequestFor(newcomer, "not-an-invite-code"));
  }
  {
    v1::GetChallengeRequest r;
    r.set_identity_key(party.identity->public_key());
    add("challenge", "parley.v1.Identity/GetChallenge", kNone, r);
  }
  {
    v1::AuthenticateRequest r;
    r.set_identity_key(party.identity->public_key());
    r.set_nonce(std::string(32, 'n'));
    r.set_signature(party.identity->Sign(AuthStatement(
        f.server->origin(), r.nonce(), party.identity->public_key())));
    add("authenticate-stale-nonce", "parley.v1.Identity/Authenticate", kNone,
        r);
  }
  {
    v1::CreateInviteRequest r;
    r.set_role(v1::ROLE_COORDINATOR);
    r.set_name("newcoordinator");
    r.set_organisation("org2");
    r.set_expires_in_seconds(3600);
    add("invite-admin", "parley.v1.Admin/CreateInvite", kAdmin, r);
    add("invite-mediator", "parley.v1.Admin/CreateInvite", kMediator, r);
  }
  {
    v1::RevokeRequest r;
    r.set_name(kSpare);
    r.set_reason("left the organisation");
    add("revoke-spare", "parley.v1.Admin/Revoke", kAdmin, r);
    r.set_name("nobody");
    add("revoke-nobody", "parley.v1.Admin/Revoke", kAdmin, r);
  }
  add("members", "parley.v1.Directory/ListMembers", kObserver,
      v1::ListMembersRequest());
  {
    v1::GetKeyBundleRequest r;
    r.set_name("party");
    add("key-bundle", "parley.v1.Directory/GetKeyBundle", kMediator, r);
  }
  {
    PrekeyPair next = ValueOrDie(
        GeneratePrekey(*party.identity, PrekeyKind::kSigned, 2, f.clock.Now(),
                       absl::Hours(24 * 7), *f.random),
        "prekey");
    v1::PublishKeyBundleRequest r;
    r.set_key_bundle(
        SerializeKeyBundle({party.identity->public_key(), next.prekey, {}}));
    r.set_signature(
        party.identity->Sign(RotateStatement("party", r.key_bundle())));
    add("publish-key-bundle", "parley.v1.Directory/PublishKeyBundle", kParty,
        r);
  }
  {
    v1::CreateChannelRequest r;
    r.set_name("cd");
    r.add_members("coordinator");
    r.add_members("party");
    add("create-channel", "parley.v1.Channels/CreateChannel", kMediator, r);
    add("create-channel-party", "parley.v1.Channels/CreateChannel", kParty, r);
  }
  {
    v1::ChangeMembersRequest r;
    r.set_channel(kChannel);
    r.add_remove("observer");
    r.add_add("observer");
    add("change-members", "parley.v1.Channels/ChangeMembers", kMediator, r);
  }
  add("channels", "parley.v1.Channels/ListChannels", kParty,
      v1::ListChannelsRequest());
  {
    v1::SendRequest r;
    r.set_channel(kChannel);
    r.set_envelope(f.sent_envelope);
    add("send-duplicate", "parley.v1.Channels/Send", kParty, r);
    r.set_envelope(Seal(f, party, kChannel, 1, EnvelopeHash(f.sent_envelope),
                        "text/plain", kChannelMembers));
    add("send-next", "parley.v1.Channels/Send", kParty, r);
    v1::SendRequest relay;
    relay.set_channel(kChannel);
    relay.set_envelope(Seal(f, mediator, kChannel, 0, std::string(32, '\0'),
                            "text/plain", kChannelMembers));
    relay.set_relay_mode(v1::RELAY_ANONYMOUS);
    relay.set_relay_of(f.sent_index);
    add("send-relay", "parley.v1.Channels/Send", kMediator, relay);
    v1::SendBatchRequest batch;
    *batch.add_sends() = r;
    r.set_envelope(Seal(f, party, kChannel, 2, EnvelopeHash(r.envelope()),
                        "text/plain", kChannelMembers));
    *batch.add_sends() = r;
    add("send-batch", "parley.v1.Channels/SendBatch", kParty, batch);
  }
  {
    v1::SubmitReceiptsRequest r;
    v1::ReceiptSubmission* sub = r.add_receipts();
    sub->set_envelope_index(f.sent_index);
    sub->set_receipt(ValueOrDie(
        SignReceipt(*mediator.identity, EnvelopeHash(f.sent_envelope),
                    ReceiptLevel::kDelivered, f.clock.Now()),
        "receipt"));
    add("receipts-submit", "parley.v1.Channels/SubmitReceipts", kMediator, r);
  }
  {
    v1::ListReceiptsRequest r;
    r.set_envelope_index(f.sent_index);
    add("receipts-list", "parley.v1.Channels/ListReceipts", kParty, r);
  }
  {
    v1::NotifyRequest r;
    *r.mutable_metadata() = NotificationMetadataAt(f.clock.Now());
    r.set_envelope(f.notify_envelope);
    add("notify-duplicate", "parley.v1.Notifications/Notify", kCoordinator, r);
    r.mutable_metadata()->set_depart_at(r.metadata().depart_at() + 3600);
    r.set_supersedes(1);
    r.set_envelope(Seal(f, coordinator, absl::StrCat("n/", kNotificationId), 1,
                        EnvelopeHash(f.notify_envelope),
                        "application/vnd.parley.movement+json",
                        {"coordinator", "mediator", "party"}));
    add("notify-amend", "parley.v1.Notifications/Notify", kCoordinator, r);
  }
  {
    v1::AcknowledgeRequest r;
    r.set_id(kNotificationId);
    r.set_version(1);
    r.set_receipt(
        ValueOrDie(SignReceipt(*party.identity, EnvelopeHash(f.notify_envelope),
                               ReceiptLevel::kAcknowledged, f.clock.Now()),
                   "receipt"));
    add("acknowledge", "parley.v1.Notifications/Acknowledge", kParty, r);
  }
  {
    v1::PostStatusRequest r;
    r.set_id(kNotificationId);
    r.set_envelope(Seal(f, coordinator, absl::StrCat("n/", kNotificationId), 1,
                        EnvelopeHash(f.notify_envelope),
                        "application/vnd.parley.status+json",
                        {"coordinator", "mediator", "party"}));
    add("post-status", "parley.v1.Notifications/PostStatus", kCoordinator, r);
  }
  {
    v1::CancelRequest r;
    r.set_id(kNotificationId);
    add("cancel", "parley.v1.Notifications/Cancel", kCoordinator, r);
  }
  add("notifications", "parley.v1.Notifications/ListNotifications", kParty,
      v1::ListNotificationsRequest());
  {
    v1::GetNotificationRequest r;
    r.set_id(kNotificationId);
    add("notification-observer", "parley.v1.Notifications/GetNotification",
        kObserver, r);
  }
  return seeds;
}

void WriteSeeds(Fuzz& f, const std::string& dir) {
  std::filesystem::create_directories(dir);
  for (const Seed& seed : Seeds(f)) {
    std::string bytes;
    bytes.push_back(static_cast<char>(MethodIndex(seed.method)));
    bytes.push_back(static_cast<char>(seed.caller));
    bytes += seed.request;
    std::ofstream out(dir + "/seed-" + seed.file, std::ios::binary);
    out << bytes;
    if (!out) Die("cannot write seed " + seed.file);
  }
}

// --- One input -----------------------------------------------------------

bool IsCastMember(const Fuzz& f, const std::string& name) {
  return name != kSpare && f.members.contains(name);
}

void Call(Fuzz& f, const Method& method, int caller_index, const uint8_t* data,
          size_t size) {
  const CallerSpec& caller = kCallers[caller_index];
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
  if (caller.name != nullptr) AddSession(&context, f.members.at(caller.name));

  grpc::Slice slice(data, size);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  absl::Mutex mu;
  bool done = false;
  grpc::Status status;
  f.generic->UnaryCall(&context, method.path, grpc::StubOptions(), &request,
                       &response, [&](grpc::Status s) {
                         absl::MutexLock lock(&mu);
                         status = std::move(s);
                         done = true;
                       });
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(&done));
  }

  const int code = static_cast<int>(status.error_code());
  if (code < 0 || code > 16 || status.error_message().size() > 1024 ||
      code == grpc::StatusCode::DEADLINE_EXCEEDED) {
    std::fprintf(stderr, "%s as %s: code %d, message (%zu bytes): %s\n",
                 method.name.c_str(),
                 caller.name != nullptr ? caller.name : "(no session)", code,
                 status.error_message().size(),
                 status.error_message().substr(0, 2048).c_str());
  }
  PARLEY_FUZZ_CHECK(code >= 0 && code <= 16);
  PARLEY_FUZZ_CHECK(status.error_message().size() <= 1024);
  // The server never takes 30 s over a call: a hang.
  PARLEY_FUZZ_CHECK(code != grpc::StatusCode::DEADLINE_EXCEEDED);
  if (caller.name == nullptr && !IsPublic(method.name)) {
    if (code != grpc::StatusCode::UNAUTHENTICATED) {
      std::fprintf(stderr, "%s without a session: code %d: %s\n",
                   method.name.c_str(), code, status.error_message().c_str());
    }
    PARLEY_FUZZ_CHECK(code == grpc::StatusCode::UNAUTHENTICATED);
  }
  if (caller.name != nullptr &&
      !parley::Authorize(method.name, caller.member_role).ok()) {
    if (code != grpc::StatusCode::PERMISSION_DENIED) {
      std::fprintf(stderr, "%s as %s: code %d: %s\n", method.name.c_str(),
                   caller.name, code, status.error_message().c_str());
    }
    PARLEY_FUZZ_CHECK(code == grpc::StatusCode::PERMISSION_DENIED);
  }
  if (status.ok()) {
    std::vector<grpc::Slice> slices;
    PARLEY_FUZZ_CHECK(response.Dump(&slices).ok());
    std::string bytes;
    for (const grpc::Slice& s : slices) {
      bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    std::unique_ptr<Message> out(method.response_prototype->New());
    PARLEY_FUZZ_CHECK(out->ParseFromString(bytes));
  }
}

}  // namespace
}  // namespace parley

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  using parley::g_fuzz;
  spdlog::set_level(spdlog::level::warn);
  g_fuzz = new parley::Fuzz;
  parley::StartServer(*g_fuzz);
  parley::LogHistory(*g_fuzz);
  if (const char* dir = std::getenv("PARLEY_FUZZ_WRITE_SEEDS")) {
    parley::WriteSeeds(*g_fuzz, dir);
    g_fuzz->Shutdown();
    std::exit(0);
  }
  // libFuzzer and the replay driver leave through exit(): stop the server
  // before static destructors run under its threads.
  std::atexit([] { g_fuzz->Shutdown(); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace parley;
  if (size < 2) return 0;
  const std::vector<Method>& methods = Methods();
  const Method& method = methods[data[0] % methods.size()];
  const int caller = data[1] % kNumCallers;
  std::unique_ptr<google::protobuf::Message> request(
      method.request_prototype->New());
  if (!request->ParseFromArray(data + 2, static_cast<int>(size - 2))) return 0;
  // The cast keeps its sessions: only the spare may be revoked.
  if (method.name == "parley.v1.Admin/Revoke" &&
      IsCastMember(*g_fuzz, static_cast<v1::RevokeRequest&>(*request).name())) {
    return 0;
  }
  Call(*g_fuzz, method, caller, data + 2, size - 2);
  return 0;
}
