#ifndef PARLEY_TESTS_BENCH_BENCH_UTIL_H_
#define PARLEY_TESTS_BENCH_BENCH_UTIL_H_

// Building blocks of parley-bench: parleyd (and a raw gRPC echo server with
// the same TLS credentials) in a forked child process, so that its resident
// memory and CPU are its own; client "devices" that enroll, sign in, seal
// envelopes and sign receipts the way a real client does, over real TLS on
// loopback; callback-API subscription streams that stamp each delivery on
// arrival; latency summaries.
//
// Adapted from tests/server/server_test_util.h (which is gtest-bound and keeps
// one reader thread per stream; 1000 streams need the callback API instead).

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "crypto/clock.h"
#include "crypto/ed25519.h"
#include "crypto/envelope.h"
#include "crypto/file_util.h"
#include "crypto/hash.h"
#include "crypto/prekey.h"
#include "crypto/random.h"
#include "crypto/statements.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/codegen/client_unary_call.h"
#include "parley/v1/channels.grpc.pb.h"
#include "parley/v1/identity.grpc.pb.h"
#include "parley/v1/info.grpc.pb.h"
#include "parley/v1/notifications.grpc.pb.h"
#include "server/config.h"
#include "server/parley_server.h"
#include "server/process_setup.h"
#include "spdlog/spdlog.h"
#include "storage/tlog/log_entry.h"

namespace parley::bench {

using SteadyTime = std::chrono::steady_clock::time_point;
inline SteadyTime SteadyNow() { return std::chrono::steady_clock::now(); }
inline double Millis(SteadyTime from, SteadyTime to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// The p-quantile (0..1) of `v` by nearest rank; 0 for an empty sample.
inline double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

// A field of /proc/<pid>/status in KiB ("VmRSS", "VmHWM"); -1 if unreadable.
inline int64_t ProcStatusKiB(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::strtoll(line.c_str() + field.size() + 1, nullptr, 10);
    }
  }
  return -1;
}

// CPU seconds consumed so far by process `pid`, all its threads (live and
// exited) together: the process CPU clock, which the kernel keeps in
// nanoseconds. Falls back to user + system time from /proc/<pid>/stat
// (fields 14 and 15, in clock ticks of 10 ms) if the clock is unavailable;
// -1 if neither can be read.
inline double ProcessCpuSeconds(pid_t pid) {
  clockid_t clock;
  timespec now;
  if (clock_getcpuclockid(pid, &clock) == 0 &&
      clock_gettime(clock, &now) == 0) {
    return static_cast<double>(now.tv_sec) + now.tv_nsec / 1e9;
  }
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  // After the name: state is field 3; utime and stime are 14 and 15.
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The 1-minute load average, from /proc/loadavg.
inline double LoadAverage() {
  std::ifstream in("/proc/loadavg");
  double one = -1;
  in >> one;
  return one;
}

// --- The echo service: the same TLS and gRPC stack, no work ----------------

// Answers every call, whatever its method, with the request bytes.
class EchoService final : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* /*context*/) override {
    class Reactor final : public grpc::ServerGenericBidiReactor {
     public:
      Reactor() { StartRead(&buffer_); }
      void OnReadDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request"));
          return;
        }
        StartWriteAndFinish(&buffer_, grpc::WriteOptions(), grpc::Status::OK);
      }
      void OnDone() override { delete this; }

     private:
      grpc::ByteBuffer buffer_;
    };
    return new Reactor;
  }
};

inline constexpr char kEchoMethod[] = "/parley.bench.Echo/Echo";

// One unary echo call through the same code path a generated synchronous
// stub uses (BlockingUnaryCall), so it compares like for like with Send.
inline grpc::Status EchoCall(grpc::Channel* channel, const grpc::ByteBuffer& in,
                             grpc::ByteBuffer* out) {
  grpc::ClientContext context;
  return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      channel,
      grpc::internal::RpcMethod(kEchoMethod,
                                grpc::internal::RpcMethod::NORMAL_RPC),
      &context, in, out);
}

inline grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// --- parleyd in a child process ----------------------------------------------

// parleyd and the echo server, started in a forked child before this process
// touches gRPC (fork after gRPC initialisation is unsupported). The child
// dies with its parent (PR_SET_PDEATHSIG) and stops cleanly when the parent
// closes the control pipe (destructor).
class ServerProcess {
 public:
  // With `with_parleyd` false the child runs only the echo server (on the
  // data directory's TLS key pair): parley-bench --target measures a
  // parleyd it did not start.
  // REQUIRES: gRPC not yet initialised in this process.
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(
      const ServerConfig& config, bool with_parleyd = true) {
    int ready[2], control[2];
    if (pipe(ready) != 0 || pipe(control) != 0) {
      return absl::InternalError("pipe failed");
    }
    pid_t pid = fork();
    if (pid < 0) return absl::InternalError("fork failed");
    if (pid == 0) {
      close(ready[0]);
      close(control[1]);
      RunChild(config, with_parleyd, ready[1], control[0]);  // never returns
    }
    close(ready[1]);
    close(control[0]);
    auto process = std::unique_ptr<ServerProcess>(new ServerProcess);
    process->pid_ = pid;
    process->control_fd_ = control[1];
    std::string line;
    char c;
    while (read(ready[0], &c, 1) == 1 && c != '\n') line.push_back(c);
    close(ready[0]);
    std::istringstream fields(line);
    std::string word;
    fields >> word;
    if (word != "OK") {
      return absl::UnavailableError("parleyd child failed to start: " + line);
    }
    fields >> process->parley_port_ >> process->echo_port_ >>
        process->baseline_rss_kib_;
    return process;
  }

  ~ServerProcess() {
    close(control_fd_);
    int status = 0;
    waitpid(pid_, &status, 0);
  }

  pid_t pid() const { return pid_; }
  int parley_port() const { return parley_port_; }
  int echo_port() const { return echo_port_; }
  // The child's resident memory before parleyd started (libraries mapped,
  // nothing opened): what any process linking the same code costs.
  int64_t baseline_rss_kib() const { return baseline_rss_kib_; }
  int64_t RssKiB() const { return ProcStatusKiB(pid_, "VmRSS"); }
  int64_t PeakRssKiB() const { return ProcStatusKiB(pid_, "VmHWM"); }
  double CpuSeconds() const { return ProcessCpuSeconds(pid_); }

 private:
  ServerProcess() = default;

  [[noreturn]] static void RunChild(const ServerConfig& config,
                                    bool with_parleyd, int ready_fd,
                                    int control_fd) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    spdlog::set_level(spdlog::level::warn);
    auto fail = [ready_fd](const std::string& why) {
      std::string line = "FAIL " + why + "\n";
      (void)!write(ready_fd, line.data(), line.size());
      _exit(1);
    };
    ConfigureServerProcess();  // As parleyd's main does.
    const int64_t baseline = ProcStatusKiB(getpid(), "VmRSS");
    std::unique_ptr<ParleyServer> server;
    if (with_parleyd) {
      absl::StatusOr<std::unique_ptr<ParleyServer>> started =
          ParleyServer::Start(config, SystemClock());
      if (!started.ok()) fail(started.status().ToString());
      server = *std::move(started);
    }
    absl::StatusOr<std::string> key = ReadFile(config.data + "/tls/server.key");
    absl::StatusOr<std::string> cert =
        ReadFile(config.data + "/tls/server.crt");
    if (!key.ok() || !cert.ok()) fail("cannot read the TLS key pair");
    EchoService echo;
    grpc::ServerBuilder builder;
    builder.SetMaxReceiveMessageSize(
        static_cast<int>(config.max_message_bytes + 64 * 1024));
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    int echo_port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(ssl),
                             &echo_port);
    builder.RegisterCallbackGenericService(&echo);
    std::unique_ptr<grpc::Server> echo_server = builder.BuildAndStart();
    if (echo_server == nullptr) fail("cannot start the echo server");
    std::string line = absl::StrCat("OK ", server ? server->port() : 0, " ",
                                    echo_port, " ", baseline, "\n");
    (void)!write(ready_fd, line.data(), line.size());
    close(ready_fd);
    char c;
    while (read(control_fd, &c, 1) > 0) {
    }
    echo_server->Shutdown(std::chrono::system_clock::now());
    if (server) server->Shutdown();
    _exit(0);
  }

  pid_t pid_ = -1;
  int control_fd_ = -1;
  int parley_port_ = 0;
  int echo_port_ = 0;
  int64_t baseline_rss_kib_ = -1;
};

// --- Client devices -----------------------------------------------------------

// One member's device, its keys in memory.
struct Device {
  std::string name;
  v1::Role role = v1::ROLE_UNSPECIFIED;
  Ed25519PrivateKey identity = Ed25519PrivateKey::Generate();
  std::optional<PrekeyPair> signed_prekey;
  std::string bundle;  // serialised KeyBundle
  std::string token;   // session token

  // Per channel: the sequence of the next envelope and the last hash.
  struct Chain {
    uint64_t next = 0;
    std::string last = std::string(32, '\0');
  };
  std::map<std::string, Chain> chains;

  const std::string& key() const { return identity.public_key(); }
  EnvelopeRecipient AsRecipient() const {
    return {key(), signed_prekey->prekey, std::nullopt};
  }
};

// An envelope sealed ahead of its Send.
struct Sealed {
  std::string bytes;
  std::string hash;
};

inline std::string Describe(const grpc::Status& s) {
  return absl::StrCat(static_cast<int>(s.error_code()), ": ",
                      s.error_message());
}

// Keeps the gRPC code (the two enumerations share their values).
inline absl::Status ToAbsl(const grpc::Status& s, const std::string& what) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(what, ": ", Describe(s)));
}

// A client of one parleyd: TLS channels pinned to its CA, and the devices
// it drives. Device creation is thread-safe; a Device is used by one thread
// at a time.
//
// Members, channels and notifications are named locally ("m", "send-3");
// on the server each name carries `prefix` (empty for a parleyd of our own,
// a per-run tag against a shared one, where names must not collide with
// earlier runs'). Name() maps a local name to the server's.
class BenchClient {
 public:
  BenchClient(std::string address, std::string ca_pem, std::string origin,
              std::string prefix = "")
      : address_(std::move(address)),
        ca_pem_(std::move(ca_pem)),
        origin_(std::move(origin)),
        prefix_(std::move(prefix)) {
    channel_ = NewChannel(0);
    identity_ = v1::Identity::NewStub(channel_);
    admin_ = v1::Admin::NewStub(channel_);
    channels_ = v1::Channels::NewStub(channel_);
    notifications_ = v1::Notifications::NewStub(channel_);
    directory_ = v1::Directory::NewStub(channel_);
    info_ = v1::Info::NewStub(channel_);
  }

  // A TLS channel; distinct `connection` values get distinct TCP
  // connections (a private subchannel pool), as separate devices would.
  std::shared_ptr<grpc::Channel> NewChannel(int connection) const {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ca_pem_;
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    args.SetInt("grpc.use_local_subchannel_pool", 1);
    args.SetInt("parley.bench.connection", connection);
    return grpc::CreateCustomChannel(address_, grpc::SslCredentials(ssl),
                                     args);
  }

  std::string Name(const std::string& local) const { return prefix_ + local; }

  grpc::Channel* channel() { return channel_.get(); }
  v1::Channels::Stub& channels() { return *channels_; }
  v1::Notifications::Stub& notifications() { return *notifications_; }

  static void Authorize(grpc::ClientContext* context, const Device& d) {
    context->AddMetadata("authorization", "Bearer " + d.token);
  }

  absl::StatusOr<v1::ServerInfo> ServerInfo() {
    grpc::ClientContext context;
    v1::ServerInfo info;
    grpc::Status s = info_->GetServerInfo(&context, {}, &info);
    if (!s.ok()) return ToAbsl(s, "GetServerInfo");
    return info;
  }

  absl::StatusOr<uint64_t> TreeSize() {
    absl::StatusOr<v1::ServerInfo> info = ServerInfo();
    if (!info.ok()) return info.status();
    return info->tree_size();
  }

  // Enrolls the admin `name` (as the server knows it, no prefix) with an
  // admin invite — the bootstrap invite, or one an admin created — and
  // signs it in.
  absl::Status EnrollAdmin(const std::string& invite,
                           const std::string& name = "admin") {
    auto d = NewDevice(name, v1::ROLE_ADMIN);
    if (absl::Status s = Enroll(*d, invite); !s.ok()) return s;
    absl::MutexLock lock(&mu_);
    admin_device_ = d.get();
    devices_["admin"] = std::move(d);
    return absl::OkStatus();
  }

  // Invites (as the admin), enrolls and signs in a member.
  absl::StatusOr<Device*> AddMember(const std::string& name, v1::Role role,
                                    const std::string& organisation = "") {
    v1::Invite invite;
    {
      grpc::ClientContext context;
      Authorize(&context, *admin_device_);
      v1::CreateInviteRequest r;
      r.set_role(role);
      r.set_name(Name(name));
      r.set_organisation(organisation);
      grpc::Status s = admin_->CreateInvite(&context, r, &invite);
      if (!s.ok()) return ToAbsl(s, "CreateInvite " + name);
    }
    auto d = NewDevice(Name(name), role);
    if (absl::Status s = Enroll(*d, invite.code()); !s.ok()) return s;
    absl::MutexLock lock(&mu_);
    Device* out = d.get();
    devices_[name] = std::move(d);
    return out;
  }

  Device& device(const std::string& name) {
    absl::MutexLock lock(&mu_);
    return *devices_.at(name);
  }

  // `name` and `members` are local names.
  absl::Status CreateChannel(const Device& mediator, const std::string& name,
                             const std::vector<std::string>& members) {
    grpc::ClientContext context;
    Authorize(&context, mediator);
    v1::CreateChannelRequest r;
    r.set_name(Name(name));
    for (const std::string& m : members) r.add_members(Name(m));
    v1::ChannelInfo info;
    return ToAbsl(channels_->CreateChannel(&context, r, &info),
                  "CreateChannel " + name);
  }

  // Seals `payload` from `sender` to `recipients` as the next envelope of
  // its chain in `channel` (the channel id as the server knows it, prefix
  // included), and advances the chain (so a run of envelopes can be sealed
  // before any is sent; they must then be sent in order).
  absl::StatusOr<Sealed> SealNext(Device& sender, const std::string& channel,
                                  const std::string& payload,
                                  std::span<const EnvelopeRecipient> recipients,
                                  const std::string& content_type =
                                      "text/plain") {
    Device::Chain& chain = sender.chains[channel];
    EnvelopeMetadata m;
    m.channel_id = channel;
    m.client_message_id = SystemRandom().Bytes(16);
    m.sequence = chain.next;
    m.previous_hash = chain.last;
    m.created_at = absl::ToUnixSeconds(absl::Now());
    m.content_type = content_type;
    absl::StatusOr<std::string> bytes =
        SealEnvelope(sender.identity, m, recipients, payload);
    if (!bytes.ok()) return bytes.status();
    Sealed out{*std::move(bytes), ""};
    out.hash = EnvelopeHash(out.bytes);
    chain.next += 1;
    chain.last = out.hash;
    return out;
  }

  std::vector<EnvelopeRecipient> Recipients(
      const std::vector<std::string>& names) {
    std::vector<EnvelopeRecipient> out;
    for (const std::string& n : names) out.push_back(device(n).AsRecipient());
    return out;
  }

  // The recipients of a notification `issuer` issues to `parties` (local
  // names), as the server computes its audience (docs/PROTOCOL.md): the
  // parties, the issuer, every mediator and the coordinators of the
  // issuer's organisation. On a server of our own those are all our
  // devices; on a shared one the other mediators and coordinators come
  // from the directory, their keys from their bundles, as a client's do.
  // The bench takes those keys as the server gives them; a real client
  // checks each bundle's log entry and fingerprint first.
  absl::StatusOr<std::vector<EnvelopeRecipient>> NotificationAudience(
      const Device& issuer, const std::string& organisation,
      const std::vector<std::string>& parties) {
    std::set<std::string> names;  // as the server knows them
    for (const std::string& p : parties) names.insert(Name(p));
    names.insert(issuer.name);
    v1::ListMembersResponse members;
    {
      grpc::ClientContext context;
      Authorize(&context, issuer);
      grpc::Status s = directory_->ListMembers(&context, {}, &members);
      if (!s.ok()) return ToAbsl(s, "ListMembers");
    }
    for (const v1::Member& m : members.members()) {
      if (JoinsNotificationAudience(static_cast<MemberRole>(m.role()),
                                    m.revoked(), m.organisation(),
                                    organisation)) {
        names.insert(m.name());
      }
    }
    std::map<std::string, const Device*> ours;
    {
      absl::MutexLock lock(&mu_);
      for (const auto& [local, d] : devices_) ours[d->name] = d.get();
    }
    std::vector<EnvelopeRecipient> out;
    for (const std::string& name : names) {
      if (auto it = ours.find(name); it != ours.end()) {
        out.push_back(it->second->AsRecipient());
        continue;
      }
      grpc::ClientContext context;
      Authorize(&context, issuer);
      v1::GetKeyBundleRequest r;
      r.set_name(name);
      v1::KeyBundleRecord record;
      grpc::Status s = directory_->GetKeyBundle(&context, r, &record);
      if (!s.ok()) return ToAbsl(s, "GetKeyBundle " + name);
      absl::StatusOr<KeyBundle> bundle = ParseKeyBundle(record.key_bundle());
      if (!bundle.ok()) return bundle.status();
      out.push_back({bundle->identity_public_key, bundle->signed_prekey,
                     std::nullopt});
    }
    return out;
  }

 private:
  std::unique_ptr<Device> NewDevice(const std::string& name, v1::Role role) {
    auto d = std::make_unique<Device>();
    d->name = name;
    d->role = role;
    absl::StatusOr<PrekeyPair> prekey =
        GeneratePrekey(d->identity, PrekeyKind::kSigned, 1, absl::Now(),
                       kMaxPrekeyLifetime);
    d->signed_prekey.emplace(*std::move(prekey));
    d->bundle = SerializeKeyBundle({d->key(), d->signed_prekey->prekey, {}});
    return d;
  }

  // Enroll, GetChallenge, Authenticate.
  absl::Status Enroll(Device& d, const std::string& code) {
    std::string stripped(absl::StripAsciiWhitespace(code));
    {
      grpc::ClientContext context;
      v1::EnrollRequest r;
      r.set_invite(stripped);
      r.set_name(d.name);
      r.set_key_bundle(d.bundle);
      r.set_signature(d.identity.Sign(
          EnrollStatement(Sha256(stripped), d.name, d.bundle)));
      v1::EnrollResponse response;
      grpc::Status s = identity_->Enroll(&context, r, &response);
      if (!s.ok()) return ToAbsl(s, "Enroll " + d.name);
    }
    v1::Challenge challenge;
    {
      grpc::ClientContext context;
      v1::GetChallengeRequest r;
      r.set_identity_key(d.key());
      grpc::Status s = identity_->GetChallenge(&context, r, &challenge);
      if (!s.ok()) return ToAbsl(s, "GetChallenge " + d.name);
    }
    grpc::ClientContext context;
    v1::AuthenticateRequest r;
    r.set_identity_key(d.key());
    r.set_nonce(challenge.nonce());
    r.set_signature(
        d.identity.Sign(AuthStatement(origin_, challenge.nonce(), d.key())));
    v1::SessionToken token;
    grpc::Status s = identity_->Authenticate(&context, r, &token);
    if (!s.ok()) return ToAbsl(s, "Authenticate " + d.name);
    d.token = token.token();
    return absl::OkStatus();
  }

  const std::string address_;
  const std::string ca_pem_;
  const std::string origin_;
  const std::string prefix_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Identity::Stub> identity_;
  std::unique_ptr<v1::Admin::Stub> admin_;
  std::unique_ptr<v1::Channels::Stub> channels_;
  std::unique_ptr<v1::Notifications::Stub> notifications_;
  std::unique_ptr<v1::Directory::Stub> directory_;
  std::unique_ptr<v1::Info::Stub> info_;
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Device>> devices_ ABSL_GUARDED_BY(mu_);
  Device* admin_device_ = nullptr;
};

// --- Subscriptions ------------------------------------------------------------

// A Subscribe stream on the callback API (no thread of its own). Each
// delivery is stamped on arrival and handed to `on_delivery`, which runs on
// a gRPC thread and must be quick. Thread-safe.
class SubscriptionStream final
    : public grpc::ClientReadReactor<v1::Delivery> {
 public:
  using OnDelivery = std::function<void(const v1::Delivery&, SteadyTime)>;

  SubscriptionStream(v1::Channels::Stub* stub, const Device& device,
                     uint64_t cursor, OnDelivery on_delivery)
      : on_delivery_(std::move(on_delivery)) {
    BenchClient::Authorize(&context_, device);
    request_.set_cursor(cursor);
    stub->async()->Subscribe(&context_, &request_, this);
    StartRead(&delivery_);
    StartCall();
  }
  ~SubscriptionStream() override {
    context_.TryCancel();
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows.
    on_delivery_(delivery_, SteadyNow());
    StartRead(&delivery_);
  }
  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
  }
  // The final status if the stream has ended.
  std::optional<grpc::Status> Ended() {
    absl::MutexLock lock(&mu_);
    if (!done_) return std::nullopt;
    return status_;
  }

 private:
  grpc::ClientContext context_;
  v1::SubscribeRequest request_;
  v1::Delivery delivery_;
  const OnDelivery on_delivery_;
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

// Runs fn(i) for i in [0, n) on `threads` threads (work-stealing by
// counter); returns the first error.
inline absl::Status ParallelFor(int n, int threads,
                                const std::function<absl::Status(int)>& fn) {
  std::atomic<int> next{0};
  absl::Mutex mu;
  absl::Status first;
  std::vector<std::thread> pool;
  for (int t = 0; t < std::min(n, threads); ++t) {
    pool.emplace_back([&] {
      for (int i = next++; i < n; i = next++) {
        absl::Status s = fn(i);
        if (!s.ok()) {
          absl::MutexLock lock(&mu);
          if (first.ok()) first = s;
          next = n;
        }
      }
    });
  }
  for (std::thread& t : pool) t.join();
  return first;
}

}  // namespace parley::bench

#endif  // PARLEY_TESTS_BENCH_BENCH_UTIL_H_
