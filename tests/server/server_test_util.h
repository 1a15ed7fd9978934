#ifndef PARLEY_TESTS_SERVER_SERVER_TEST_UTIL_H_
#define PARLEY_TESTS_SERVER_SERVER_TEST_UTIL_H_

// An in-process parleyd for gRPC-level tests: a fresh data directory, the
// server on port 0 with a FakeClock, a pinned TLS channel, and in-test
// "devices" that enroll, sign in, seal envelopes and sign receipts the way a
// client does (but keep their state in memory only).

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "crypto/ed25519.h"
#include "crypto/encoding.h"
#include "crypto/envelope.h"
#include "crypto/file_util.h"
#include "crypto/hash.h"
#include "crypto/prekey.h"
#include "crypto/random.h"
#include "crypto/receipt.h"
#include "crypto/statements.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "parley/v1/channels.grpc.pb.h"
#include "parley/v1/identity.grpc.pb.h"
#include "parley/v1/info.grpc.pb.h"
#include "parley/v1/log.grpc.pb.h"
#include "server/config.h"
#include "server/data_dir.h"
#include "server/parley_server.h"
#include "storage/tlog/log_entry.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"

namespace parley::testing {

// "CODE: message" for failure output.
inline std::string Describe(const grpc::Status& s) {
  return absl::StrCat(static_cast<int>(s.error_code()), ": ",
                      s.error_message());
}

// One member's device, as the test drives it.
struct Device {
  std::string name;
  v1::Role role = v1::ROLE_UNSPECIFIED;
  Ed25519PrivateKey identity = Ed25519PrivateKey::Generate();
  std::optional<PrekeyPair> signed_prekey;
  std::string bundle;  // serialised KeyBundle
  std::string token;   // current session token, if signed in
  // Per channel: the sequence of the next envelope and the last hash.
  struct Chain {
    uint64_t next = 0;
    std::string last = std::string(32, '\0');
  };
  std::map<std::string, Chain> chains;

  const std::string& key() const { return identity.public_key(); }
};

// An envelope the test sealed.
struct Sealed {
  std::string bytes;
  std::string hash;
  std::string client_message_id;
  uint64_t sequence = 0;
};

struct SealOptions {
  std::optional<uint64_t> sequence;
  std::optional<std::string> previous_hash;
  std::optional<std::string> client_message_id;
  std::optional<std::string> channel_id;  // header channel, default: channel
  std::string content_type = "text/plain";
};

// A Subscribe stream read on a background thread into a queue.
class DeliveryStream {
 public:
  DeliveryStream(v1::Channels::Stub* stub, const std::string& token,
                 const v1::SubscribeRequest& request) {
    if (!token.empty()) {
      context_.AddMetadata("authorization", "Bearer " + token);
    }
    reader_ = stub->Subscribe(&context_, request);
    thread_ = std::thread([this] {
      v1::Delivery d;
      while (reader_->Read(&d)) {
        absl::MutexLock lock(&mu_);
        queue_.push_back(d);
      }
      grpc::Status status = reader_->Finish();
      absl::MutexLock lock(&mu_);
      end_ = status;
    });
  }
  ~DeliveryStream() {
    context_.TryCancel();
    thread_.join();
  }

  // The next non-heartbeat delivery, or nullopt after `timeout` or at the
  // end of the stream.
  std::optional<v1::Delivery> Next(absl::Duration timeout = absl::Seconds(10)) {
    absl::MutexLock lock(&mu_);
    absl::Time deadline = absl::Now() + timeout;
    while (true) {
      auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return !queue_.empty() || end_.has_value();
      };
      mu_.AwaitWithDeadline(absl::Condition(&ready), deadline);
      if (queue_.empty()) return std::nullopt;
      v1::Delivery d = queue_.front();
      queue_.pop_front();
      if (d.kind() == v1::Delivery::HEARTBEAT) continue;
      return d;
    }
  }
  // `n` deliveries (fewer on timeout or end of stream).
  std::vector<v1::Delivery> Take(size_t n,
                                 absl::Duration timeout = absl::Seconds(10)) {
    std::vector<v1::Delivery> out;
    absl::Time deadline = absl::Now() + timeout;
    while (out.size() < n) {
      std::optional<v1::Delivery> d = Next(deadline - absl::Now());
      if (!d.has_value()) break;
      out.push_back(*d);
    }
    return out;
  }
  // The stream's final status, once it ends (nullopt on timeout).
  std::optional<grpc::Status> End(absl::Duration timeout = absl::Seconds(10)) {
    absl::MutexLock lock(&mu_);
    auto ended = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return end_.has_value();
    };
    mu_.AwaitWithTimeout(absl::Condition(&ended), timeout);
    return end_;
  }
  void Cancel() { context_.TryCancel(); }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::Delivery>> reader_;
  std::thread thread_;
  absl::Mutex mu_;
  std::deque<v1::Delivery> queue_ ABSL_GUARDED_BY(mu_);
  std::optional<grpc::Status> end_ ABSL_GUARDED_BY(mu_);
};

// Decodes a delivery's entry (fails the test on a bad entry).
inline LogEntry DecodeDelivery(const v1::Delivery& d) {
  absl::StatusOr<LogEntry> entry = DecodeLogEntry(d.entry());
  EXPECT_TRUE(entry.ok()) << entry.status();
  return entry.ok() ? *entry : LogEntry{};
}

// A fresh data directory and a running server. Tests that need other
// settings override Configure.
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(InitCrypto());
    InitOptions init;
    init.origin = "server.test/log";
    init.now = clock_.Now();
    ASSERT_OK_AND_ASSIGN(init_, InitDataDir(tmp_.Sub("data"), init));
    config_.data = tmp_.Sub("data");
    config_.listen = "127.0.0.1:0";
    config_.shutdown_grace = absl::Seconds(2);
    config_.max_message_bytes = 4096;
    config_.limits.requests_per_second = 1e6;
    config_.limits.burst = 1e6;
    config_.limits.max_streams_per_identity = 2;
    // Every test signs in from 127.0.0.1; the limits of calls without a
    // session have tests of their own (hostile_load_test.cc).
    config_.limits.address_requests_per_second = 1e6;
    config_.limits.address_burst = 1e6;
    config_.limits.public_requests_per_second = 1e6;
    config_.limits.enrollments_per_minute_per_address = 1e6;
    config_.limits.enrollment_attempts_per_invite_per_hour = 1e6;
    // Refusals are answered at once unless a test is about their pacing.
    config_.limits.refusal_delay = absl::ZeroDuration();
    Configure(config_);
    ASSERT_OK_AND_ASSIGN(ca_pem_, ReadFile(tmp_.Sub("data/tls/ca.crt")));
    StartServer();
  }

  void TearDown() override { StopServer(); }

  virtual void Configure(ServerConfig& /*config*/) {}

  void StartServer() {
    absl::StatusOr<std::unique_ptr<ParleyServer>> server =
        ParleyServer::Start(config_, clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ca_pem_;
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    channel_ = grpc::CreateCustomChannel(
        "localhost:" + std::to_string(server_->port()),
        grpc::SslCredentials(ssl), args);
    info_ = v1::Info::NewStub(channel_);
    log_ = v1::Log::NewStub(channel_);
    identity_ = v1::Identity::NewStub(channel_);
    admin_ = v1::Admin::NewStub(channel_);
    directory_ = v1::Directory::NewStub(channel_);
    channels_ = v1::Channels::NewStub(channel_);
  }

  void StopServer() {
    if (server_ != nullptr) server_->Shutdown();
    server_.reset();
  }

  // A channel whose incoming flow-control window is tiny: a stream on it
  // that is never read stalls the server's writes almost at once.
  std::shared_ptr<grpc::Channel> TinyWindowChannel() {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 1024);
    return ChannelTo("localhost", args);
  }

  // A new connection (not shared with other channels) to the server at
  // `host` ("localhost", "127.0.0.1", "[::1]"), pinned to the test CA.
  std::shared_ptr<grpc::Channel> ChannelTo(const std::string& host,
                                           grpc::ChannelArguments args = {}) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ca_pem_;
    args.SetSslTargetNameOverride("localhost");
    args.SetInt("grpc.use_local_subchannel_pool", 1);
    return grpc::CreateCustomChannel(
        absl::StrCat(host, ":", server_->port()), grpc::SslCredentials(ssl),
        args);
  }

  // Number of log entries, as Info reports it.
  uint64_t TreeSize() {
    grpc::ClientContext context;
    v1::ServerInfo info;
    grpc::Status s = info_->GetServerInfo(&context, {}, &info);
    EXPECT_TRUE(s.ok()) << Describe(s);
    return info.tree_size();
  }

  // --- Devices -----------------------------------------------------------

  // A new device with a signed prekey valid from now for 7 days.
  std::unique_ptr<Device> NewDevice(const std::string& name,
                                    absl::Duration lifetime = absl::Hours(24 *
                                                                          7)) {
    auto d = std::make_unique<Device>();
    d->name = name;
    absl::StatusOr<PrekeyPair> prekey = GeneratePrekey(
        d->identity, PrekeyKind::kSigned, 1, clock_.Now(), lifetime);
    EXPECT_TRUE(prekey.ok()) << prekey.status();
    d->signed_prekey.emplace(std::move(*prekey));
    KeyBundle bundle{d->key(), d->signed_prekey->prekey, {}};
    d->bundle = SerializeKeyBundle(bundle);
    return d;
  }

  static v1::EnrollRequest EnrollRequestFor(const Device& d,
                                            const std::string& code,
                                            const std::string& name) {
    std::string stripped(absl::StripAsciiWhitespace(code));
    v1::EnrollRequest r;
    r.set_invite(code);
    r.set_name(name);
    r.set_key_bundle(d.bundle);
    r.set_signature(
        d.identity.Sign(EnrollStatement(Sha256(stripped), name, d.bundle)));
    return r;
  }

  grpc::Status Enroll(const v1::EnrollRequest& request,
                      v1::EnrollResponse* response = nullptr) {
    grpc::ClientContext context;
    v1::EnrollResponse ignored;
    return identity_->Enroll(&context, request,
                             response != nullptr ? response : &ignored);
  }

  // GetChallenge, sign, Authenticate; stores the token in `d`.
  grpc::Status SignIn(Device& d) {
    v1::Challenge challenge;
    {
      grpc::ClientContext context;
      v1::GetChallengeRequest r;
      r.set_identity_key(d.key());
      grpc::Status s = identity_->GetChallenge(&context, r, &challenge);
      if (!s.ok()) return s;
    }
    grpc::ClientContext context;
    v1::AuthenticateRequest r;
    r.set_identity_key(d.key());
    r.set_nonce(challenge.nonce());
    r.set_signature(d.identity.Sign(
        AuthStatement(server_->origin(), challenge.nonce(), d.key())));
    v1::SessionToken token;
    grpc::Status s = identity_->Authenticate(&context, r, &token);
    if (s.ok()) d.token = token.token();
    return s;
  }

  static void Authorize(grpc::ClientContext* context, const Device& d) {
    context->AddMetadata("authorization", "Bearer " + d.token);
  }

  std::string BootstrapInvite() {
    absl::StatusOr<std::string> code =
        ReadFile(tmp_.Sub("data/bootstrap-invite"));
    EXPECT_TRUE(code.ok()) << code.status();
    return code.ok() ? std::string(absl::StripAsciiWhitespace(*code)) : "";
  }

  // Enrolls "admin" with the bootstrap invite and signs in.
  Device& EnrollAdmin() {
    auto d = NewDevice("admin");
    d->role = v1::ROLE_ADMIN;
    grpc::Status s = Enroll(EnrollRequestFor(*d, BootstrapInvite(), "admin"));
    EXPECT_TRUE(s.ok()) << Describe(s);
    s = SignIn(*d);
    EXPECT_TRUE(s.ok()) << Describe(s);
    Device& ref = *d;
    devices_["admin"] = std::move(d);
    return ref;
  }

  grpc::Status CreateInvite(const Device& admin, v1::Role role,
                            const std::string& name, v1::Invite* invite,
                            int64_t expires_in_seconds = 0) {
    grpc::ClientContext context;
    Authorize(&context, admin);
    v1::CreateInviteRequest r;
    r.set_role(role);
    r.set_name(name);
    r.set_expires_in_seconds(expires_in_seconds);
    return admin_->CreateInvite(&context, r, invite);
  }

  // Invites, enrolls and signs in a member (the admin is enrolled first if
  // needed). The fixture owns the device.
  Device& AddMember(const std::string& name, v1::Role role) {
    if (!devices_.contains("admin")) EnrollAdmin();
    v1::Invite invite;
    grpc::Status s = CreateInvite(*devices_["admin"], role, name, &invite);
    EXPECT_TRUE(s.ok()) << Describe(s);
    auto d = NewDevice(name);
    d->role = role;
    s = Enroll(EnrollRequestFor(*d, invite.code(), name));
    EXPECT_TRUE(s.ok()) << Describe(s);
    s = SignIn(*d);
    EXPECT_TRUE(s.ok()) << Describe(s);
    Device& ref = *d;
    devices_[name] = std::move(d);
    return ref;
  }

  Device& device(const std::string& name) { return *devices_.at(name); }

  grpc::Status CreateChannel(const Device& mediator, const std::string& name,
                             const std::vector<std::string>& members,
                             v1::ChannelInfo* info = nullptr) {
    grpc::ClientContext context;
    Authorize(&context, mediator);
    v1::CreateChannelRequest r;
    r.set_name(name);
    for (const std::string& m : members) r.add_members(m);
    v1::ChannelInfo ignored;
    return channels_->CreateChannel(&context, r,
                                    info != nullptr ? info : &ignored);
  }

  grpc::Status ListChannels(const Device& d, v1::ListChannelsResponse* out) {
    grpc::ClientContext context;
    Authorize(&context, d);
    return channels_->ListChannels(&context, {}, out);
  }

  // --- Envelopes ---------------------------------------------------------

  // Seals `payload` from `sender` to the devices named in `recipients`, with
  // the sender's next sequence and previous hash in `channel` unless
  // `options` say otherwise. Does not advance the chain (Send does).
  Sealed Seal(const Device& sender, const std::string& channel,
              const std::string& payload,
              const std::vector<std::string>& recipients,
              const SealOptions& options = {}) {
    Device::Chain chain;
    if (auto it = sender.chains.find(channel); it != sender.chains.end()) {
      chain = it->second;
    }
    EnvelopeMetadata m;
    m.channel_id = options.channel_id.value_or(channel);
    m.client_message_id =
        options.client_message_id.value_or(SystemRandom().Bytes(16));
    m.sequence = options.sequence.value_or(chain.next);
    m.previous_hash = options.previous_hash.value_or(chain.last);
    m.created_at = absl::ToUnixSeconds(clock_.Now());
    m.content_type = options.content_type;
    std::vector<EnvelopeRecipient> to;
    for (const std::string& name : recipients) {
      const Device& r = device(name);
      to.push_back({r.key(), r.signed_prekey->prekey, std::nullopt});
    }
    absl::StatusOr<std::string> bytes = SealEnvelope(sender.identity, m, to,
                                                     payload);
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    Sealed out;
    if (!bytes.ok()) return out;
    out.bytes = *bytes;
    out.hash = EnvelopeHash(out.bytes);
    out.client_message_id = m.client_message_id;
    out.sequence = m.sequence;
    return out;
  }

  // The channel's members as `member` sees them (ListChannels).
  std::vector<std::string> MembersOf(const Device& member,
                                     const std::string& channel) {
    v1::ListChannelsResponse list;
    grpc::Status s = ListChannels(member, &list);
    EXPECT_TRUE(s.ok()) << Describe(s);
    for (const v1::ChannelInfo& c : list.channels()) {
      if (c.name() == channel) {
        return {c.members().begin(), c.members().end()};
      }
    }
    ADD_FAILURE() << member.name << " is not in " << channel;
    return {};
  }

  // Sends `sealed` as `sender`; advances the sender's chain on a new append.
  grpc::Status Send(Device& sender, const std::string& channel,
                    const Sealed& sealed, v1::SendResponse* response = nullptr,
                    v1::RelayMode mode = v1::RELAY_NONE,
                    uint64_t relay_of = 0) {
    grpc::ClientContext context;
    Authorize(&context, sender);
    v1::SendRequest r;
    r.set_channel(channel);
    r.set_envelope(sealed.bytes);
    r.set_relay_mode(mode);
    r.set_relay_of(relay_of);
    v1::SendResponse local;
    v1::SendResponse* out = response != nullptr ? response : &local;
    grpc::Status s = channels_->Send(&context, r, out);
    if (s.ok() && !out->duplicate()) {
      sender.chains[channel] = {sealed.sequence + 1, sealed.hash};
    }
    return s;
  }

  // Seals `payload` to the channel's current members and sends it; returns
  // the log index (fails the test otherwise).
  uint64_t SendText(Device& sender, const std::string& channel,
                    const std::string& payload, Sealed* sealed_out = nullptr) {
    Sealed sealed = Seal(sender, channel, payload, MembersOf(sender, channel));
    v1::SendResponse response;
    grpc::Status s = Send(sender, channel, sealed, &response);
    EXPECT_TRUE(s.ok()) << Describe(s);
    if (sealed_out != nullptr) *sealed_out = sealed;
    return response.log_index();
  }

  // Opens `envelope` as the recipient device `d` (with its signed prekey).
  static absl::StatusOr<OpenedEnvelope> OpenAs(const Device& d,
                                               std::string_view envelope) {
    return OpenEnvelope(envelope, d.key(),
                        std::span<const PrekeyPair>(&*d.signed_prekey, 1));
  }

  std::string DeliveredReceipt(const Device& recipient,
                               const std::string& envelope_hash) {
    absl::StatusOr<std::string> r = SignReceipt(
        recipient.identity, envelope_hash, ReceiptLevel::kDelivered,
        clock_.Now());
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : "";
  }

  grpc::Status SubmitReceipt(const Device& d, uint64_t envelope_index,
                             const std::string& receipt,
                             v1::SubmitReceiptsResponse* out) {
    grpc::ClientContext context;
    Authorize(&context, d);
    v1::SubmitReceiptsRequest r;
    v1::ReceiptSubmission* sub = r.add_receipts();
    sub->set_envelope_index(envelope_index);
    sub->set_receipt(receipt);
    return channels_->SubmitReceipts(&context, r, out);
  }

  std::unique_ptr<DeliveryStream> Subscribe(const Device& d, uint64_t cursor,
                                            bool from_start) {
    v1::SubscribeRequest r;
    r.set_cursor(cursor);
    r.set_from_start(from_start);
    return std::make_unique<DeliveryStream>(channels_.get(), d.token, r);
  }

  // A mediator "m", parties "a" and "b" and an observer "o"; channel "ab"
  // holds m, a and b.
  void StandardCast() {
    AddMember("m", v1::ROLE_MEDIATOR);
    AddMember("a", v1::ROLE_PARTY);
    AddMember("b", v1::ROLE_PARTY);
    AddMember("o", v1::ROLE_OBSERVER);
    grpc::Status s = CreateChannel(device("m"), "ab", {"a", "b"});
    ASSERT_TRUE(s.ok()) << Describe(s);
  }

  FakeClock clock_;
  TempDir tmp_;
  InitResult init_;
  ServerConfig config_;
  std::string ca_pem_;
  std::unique_ptr<ParleyServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Info::Stub> info_;
  std::unique_ptr<v1::Log::Stub> log_;
  std::unique_ptr<v1::Identity::Stub> identity_;
  std::unique_ptr<v1::Admin::Stub> admin_;
  std::unique_ptr<v1::Directory::Stub> directory_;
  std::unique_ptr<v1::Channels::Stub> channels_;
  std::map<std::string, std::unique_ptr<Device>> devices_;
};

}  // namespace parley::testing

#endif  // PARLEY_TESTS_SERVER_SERVER_TEST_UTIL_H_
