// parley-hostile-bench: an honest member's Send latency while one of the
// attacks of issue #17 (items 1-4) runs as fast as it can from another
// process pinned to one core.
//
//   parley-hostile-bench [--seconds N] [--smoke] [--json] [--isolate]
//
//   --seconds N  how long each scenario runs (default 10)
//   --smoke      1 s per scenario (ctest bench_smoke.parley-hostile-bench):
//                checks that every scenario ran, that the attacker was
//                refused and that sign-in worked; judges no latency
//   --json       one JSON document instead of the table
//   --isolate    also pin parleyd and the honest member, to every core but
//                the attacker's: what the attack's requests cost the server,
//                without the attacker's own process taking CPU from it
//
// The bench starts parleyd (in a forked child, on a fresh data directory,
// listening on [::]:0 with the default [limits]), enrolls an admin, a
// mediator m, two parties a and b in a channel with m, and a party x whose
// key the log-read attacker gets. Then, per scenario, it starts
//
//   taskset -c CPU parley-hostile-bench --attack=KIND --dir=D
//
// (CPU: the last one this process may run on; `sleep` for the idle
// baseline), which reads what it needs (port, CA, origin, keys, an invite)
// from D and calls from [::1] while the honest parties call from 127.0.0.1:
// two peer addresses, as an attacker and a member elsewhere would be. While
// the attack runs, a and b take turns sending sealed envelopes at 80 Sends/s
// in all (each stays below the per-member rate limit); then a signs in again,
// and the attacker is told to stop (stdin closed) and prints its counts as
// one JSON line.
//
// Attacks (each keeps 32 calls in flight over 4 connections):
//   burn       a control, not an attack: the pinned process spins and calls
//              nothing, so its row shows what losing that core costs alone
//   watch      WatchCheckpoints streams without a session: admitted ones are
//              kept open, refused ones retried at once (client cap 4000)
//   challenge  GetChallenge for a's identity key
//   enroll     Enroll with a valid invite and a full key bundle (101 valid
//              prekey signatures) but a bad enrollment signature, alternating
//              with unknown invite codes
//   logread    x signs in from [::1] and floods GetEntries (from 0) and
//              GetInclusionProof (index 0)
//
// Scratch data goes under $PARLEY_BENCH_DIR (default /tmp) and is removed.

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>
#include <unordered_set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "bench_util.h"
#include "crypto/encoding.h"
#include "nlohmann/json.hpp"
#include "parley/v1/log.grpc.pb.h"
#include "server/data_dir.h"

extern char** environ;

namespace parley::bench {
namespace {

constexpr int kLanes = 32;        // attacker calls in flight
constexpr int kConnections = 4;   // attacker TCP connections
constexpr int kMaxWatchStreams = 4000;  // attacker's own cap on open streams
constexpr double kHonestSendsPerSecond = 80;  // a and b together
constexpr size_t kPayloadBytes = 1024;
constexpr double kTargetRatio = 3;

void Progress(const std::string& line) {
  std::fprintf(stderr, "[parley-hostile-bench] %s\n", line.c_str());
}

std::chrono::system_clock::time_point DeadlineIn(absl::Duration d) {
  return std::chrono::system_clock::now() + absl::ToChronoMilliseconds(d);
}

// --- What the attacker is given -------------------------------------------------

// Everything an attacker process needs, as files in one directory: what a
// party who has seen the server, a member's public key, an invite code and
// one member's device would know.
struct AttackKit {
  int port = 0;
  std::string ca_pem;
  std::string origin;
  std::string victim_key;   // a's identity public key (challenge attack)
  std::string reader_seed;  // x's identity key seed (logread attack)
  std::string invite;       // an unredeemed invite code (enroll attack)
  std::string invite_name;  // the name it is for

  absl::Status Write(const std::string& dir) const {
    const std::vector<std::pair<std::string, std::string>> files = {
        {"port", absl::StrCat(port)},
        {"ca.crt", ca_pem},
        {"origin", origin},
        {"victim.key", HexEncode(victim_key)},
        {"reader.seed", HexEncode(reader_seed)},
        {"invite", invite},
        {"invite.name", invite_name}};
    for (const auto& [name, text] : files) {
      std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
      out << text;
      if (!out.good()) return absl::InternalError("cannot write " + name);
    }
    return absl::OkStatus();
  }

  static absl::StatusOr<AttackKit> Read(const std::string& dir) {
    AttackKit kit;
    std::map<std::string, std::string> text;
    for (const char* name : {"port", "ca.crt", "origin", "victim.key",
                             "reader.seed", "invite", "invite.name"}) {
      absl::StatusOr<std::string> content = ReadFile(dir + "/" + name);
      if (!content.ok()) return content.status();
      text[name] = *std::move(content);
    }
    if (!absl::SimpleAtoi(text["port"], &kit.port)) {
      return absl::InvalidArgumentError("bad port file in " + dir);
    }
    absl::StatusOr<std::string> victim = HexDecode(text["victim.key"]);
    absl::StatusOr<std::string> seed = HexDecode(text["reader.seed"]);
    if (!victim.ok()) return victim.status();
    if (!seed.ok()) return seed.status();
    kit.ca_pem = text["ca.crt"];
    kit.origin = text["origin"];
    kit.victim_key = *std::move(victim);
    kit.reader_seed = *std::move(seed);
    kit.invite = text["invite"];
    kit.invite_name = text["invite.name"];
    return kit;
  }
};

// --- The attacker process ---------------------------------------------------------

// Final statuses of an attacker's calls, by code. Thread-safe.
class Tally {
 public:
  void Count(grpc::StatusCode code) {
    by_code_[std::min<size_t>(static_cast<size_t>(code), kCodes - 1)]++;
  }
  // A WatchCheckpoints stream that delivered a checkpoint: admitted.
  void CountAdmitted() { admitted_++; }

  // Refused: RESOURCE_EXHAUSTED. Failed: the call never got an answer
  // (transport errors, deadlines, cancellations). Served: everything else,
  // including the refusals an attack expects (a bad signature, an unknown
  // invite), which the server only gives after doing the work.
  nlohmann::json ToJson() const {
    int64_t refused = 0, failed = 0, served = admitted_, total = admitted_;
    nlohmann::json codes = nlohmann::json::object();
    for (size_t c = 0; c < kCodes; ++c) {
      const int64_t n = by_code_[c];
      if (n == 0) continue;
      codes[CodeName(c)] = n;
      total += n;
      const auto code = static_cast<grpc::StatusCode>(c);
      if (code == grpc::StatusCode::RESOURCE_EXHAUSTED) {
        refused += n;
      } else if (code == grpc::StatusCode::UNAVAILABLE ||
                 code == grpc::StatusCode::DEADLINE_EXCEEDED ||
                 code == grpc::StatusCode::CANCELLED) {
        failed += n;
      } else {
        served += n;
      }
    }
    if (admitted_ > 0) codes["ADMITTED_STREAM"] = admitted_.load();
    return {{"requests", total}, {"served", served}, {"refused", refused},
            {"failed", failed},  {"by_code", codes}};
  }

 private:
  static constexpr size_t kCodes = 17;
  static const char* CodeName(size_t c) {
    static constexpr std::array<const char*, kCodes> kNames = {
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED"};
    return kNames[c];
  }

  std::array<std::atomic<int64_t>, kCodes> by_code_{};
  std::atomic<int64_t> admitted_{0};
};

using CallDone = std::function<void(const grpc::Status&)>;

// Starts one unary call on the callback API: `invoke(context, request,
// response, on_done)` is the stub's async method. The call's state lives
// until `done` has run.
template <typename Request, typename Response, typename Invoke>
void StartUnary(const Request& request, const std::string& token,
                Invoke invoke, CallDone done) {
  struct Call {
    grpc::ClientContext context;
    Request request;
    Response response;
  };
  auto* call = new Call;
  call->request = request;
  call->context.set_deadline(DeadlineIn(absl::Seconds(10)));
  if (!token.empty()) {
    call->context.AddMetadata("authorization", "Bearer " + token);
  }
  invoke(&call->context, &call->request, &call->response,
         [call, done = std::move(done)](grpc::Status s) {
           done(s);
           delete call;
         });
}

// Keeps `lanes` unary calls in flight: each lane starts its next call as soon
// as its last one finished, until Stop. Thread-safe.
class UnaryFlood {
 public:
  // Starts lane `lane`'s next call, which runs `done` when it finishes.
  using StartCall = std::function<void(int lane, CallDone done)>;

  UnaryFlood(int lanes, StartCall start, Tally* tally)
      : lanes_(lanes), start_(std::move(start)), tally_(tally) {}

  void Start() {
    {
      absl::MutexLock lock(&mu_);
      in_flight_ = lanes_;
    }
    for (int lane = 0; lane < lanes_; ++lane) Next(lane);
  }

  // Starts no more calls and waits up to `grace` for those in flight; false
  // if some are still running.
  bool Stop(absl::Duration grace) {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return in_flight_ == 0;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&idle), grace);
  }

 private:
  void Next(int lane) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) {
        --in_flight_;
        return;
      }
    }
    start_(lane, [this, lane](const grpc::Status& s) {
      tally_->Count(s.error_code());
      Next(lane);
    });
  }

  const int lanes_;
  const StartCall start_;
  Tally* const tally_;
  absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

// Opens WatchCheckpoints streams without a session, `pending` attempts at a
// time: a stream that delivers a checkpoint counts as admitted and is kept
// open; a refused one is replaced at once. Never holds more than `max_open`
// open streams. Start, Reap and Stop are called from one thread; the streams'
// reactions run on gRPC's.
class WatchFlood {
 public:
  WatchFlood(std::vector<v1::Log::Stub*> stubs, int pending, int max_open,
             Tally* tally)
      : stubs_(std::move(stubs)),
        pending_target_(pending),
        max_open_(max_open),
        tally_(tally) {}

  ~WatchFlood() { Reap(); }

  void Start() {
    for (int i = 0; i < pending_target_; ++i) Attempt();
  }

  // Frees the streams that have ended.
  void Reap() {
    std::vector<Stream*> ended;
    {
      absl::MutexLock lock(&mu_);
      ended.swap(ended_);
    }
    for (Stream* s : ended) delete s;
  }

  int max_open() {
    absl::MutexLock lock(&mu_);
    return max_open_seen_;
  }

  // Cancels every stream and waits up to `grace` for all to end; false if
  // some have not.
  bool Stop(absl::Duration grace) {
    std::vector<Stream*> live;
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
      live.assign(live_.begin(), live_.end());
    }
    // Only this thread deletes streams (Reap), so these stay valid.
    for (Stream* s : live) s->Cancel();
    bool ended;
    {
      absl::MutexLock lock(&mu_);
      auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return live_.empty();
      };
      ended = mu_.AwaitWithTimeout(absl::Condition(&done), grace);
    }
    if (ended) Reap();
    return ended;
  }

 private:
  class Stream final : public grpc::ClientReadReactor<v1::Checkpoint> {
   public:
    explicit Stream(WatchFlood* owner) : owner_(owner) {}
    void Begin(v1::Log::Stub* stub) {
      stub->async()->WatchCheckpoints(&context_, &request_, this);
      StartRead(&checkpoint_);
      StartCall();
    }
    void Cancel() { context_.TryCancel(); }
    void OnReadDone(bool ok) override {
      if (!ok) return;  // OnDone follows.
      if (!admitted_) {
        admitted_ = true;
        owner_->Admitted();
      }
      StartRead(&checkpoint_);
    }
    void OnDone(const grpc::Status& s) override {
      owner_->Ended(this, s, admitted_);  // may delete this on another thread
    }

   private:
    WatchFlood* const owner_;
    grpc::ClientContext context_;
    v1::WatchCheckpointsRequest request_;
    v1::Checkpoint checkpoint_;
    bool admitted_ = false;  // reactions on one stream never overlap
  };

  void Attempt() {
    Stream* stream;
    v1::Log::Stub* stub;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_ || open_ + pending_ >= max_open_) return;
      ++pending_;
      stream = new Stream(this);
      live_.insert(stream);
      stub = stubs_[next_stub_++ % stubs_.size()];
    }
    stream->Begin(stub);
  }

  void Admitted() {
    tally_->CountAdmitted();
    {
      absl::MutexLock lock(&mu_);
      --pending_;
      ++open_;
      max_open_seen_ = std::max(max_open_seen_, open_);
    }
    Attempt();
  }

  void Ended(Stream* stream, const grpc::Status& s, bool admitted) {
    if (!admitted) tally_->Count(s.error_code());
    {
      absl::MutexLock lock(&mu_);
      if (admitted) {
        --open_;
      } else {
        --pending_;
      }
      live_.erase(stream);
      ended_.push_back(stream);
    }
    Attempt();
  }

  const std::vector<v1::Log::Stub*> stubs_;
  const int pending_target_;
  const int max_open_;
  Tally* const tally_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int pending_ ABSL_GUARDED_BY(mu_) = 0;
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  int max_open_seen_ ABSL_GUARDED_BY(mu_) = 0;
  size_t next_stub_ ABSL_GUARDED_BY(mu_) = 0;
  std::unordered_set<Stream*> live_ ABSL_GUARDED_BY(mu_);
  std::vector<Stream*> ended_ ABSL_GUARDED_BY(mu_);
};

// Connections from [::1] to the server, each its own TCP connection.
std::vector<std::shared_ptr<grpc::Channel>> AttackerChannels(
    const AttackKit& kit) {
  BenchClient client(absl::StrCat("[::1]:", kit.port), kit.ca_pem, kit.origin);
  std::vector<std::shared_ptr<grpc::Channel>> out;
  for (int i = 0; i < kConnections; ++i) out.push_back(client.NewChannel(i));
  return out;
}

// Signs in with `key` from the attacker's address, waiting out refusals
// (its address may still be drained by an earlier scenario) for up to 30 s.
absl::StatusOr<std::string> AttackerSignIn(v1::Identity::Stub& identity,
                                           const Ed25519PrivateKey& key,
                                           const std::string& origin) {
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (true) {
    grpc::ClientContext challenge_context;
    v1::GetChallengeRequest request;
    request.set_identity_key(key.public_key());
    v1::Challenge challenge;
    grpc::Status s =
        identity.GetChallenge(&challenge_context, request, &challenge);
    v1::SessionToken token;
    if (s.ok()) {
      grpc::ClientContext context;
      v1::AuthenticateRequest r;
      r.set_identity_key(key.public_key());
      r.set_nonce(challenge.nonce());
      r.set_signature(
          key.Sign(AuthStatement(origin, challenge.nonce(), key.public_key())));
      s = identity.Authenticate(&context, r, &token);
    }
    if (s.ok()) return token.token();
    if (s.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED ||
        absl::Now() > give_up) {
      return ToAbsl(s, "attacker sign-in");
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
}

// A key bundle as expensive to check as the server allows: a signed prekey
// and the most one-time prekeys, every signature valid.
std::string CostlyKeyBundle(const Ed25519PrivateKey& key) {
  const absl::Time now = absl::Now();
  KeyBundle bundle;
  bundle.identity_public_key = key.public_key();
  bundle.signed_prekey =
      GeneratePrekey(key, PrekeyKind::kSigned, 1, now, kMaxPrekeyLifetime)
          ->prekey;
  for (uint32_t id = 1; id <= kMaxOneTimePrekeysPerBundle; ++id) {
    bundle.one_time_prekeys.push_back(
        GeneratePrekey(key, PrekeyKind::kOneTime, id, now, kMaxPrekeyLifetime)
            ->prekey);
  }
  return SerializeKeyBundle(bundle);
}

// True once the parent closed our stdin (or after `timeout`).
bool StdinClosed(absl::Duration timeout) {
  pollfd p{STDIN_FILENO, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) <= 0) {
    return false;
  }
  char buf[64];
  return read(STDIN_FILENO, buf, sizeof buf) <= 0;
}

// The child: runs attack `kind` from [::1] until stdin closes (or
// `max_seconds` pass), then prints its counts as one JSON line.
int RunAttacker(const std::string& kind, const std::string& dir,
                double max_seconds) {
  if (absl::Status s = InitCrypto(); !s.ok()) {
    std::fprintf(stderr, "attacker: %s\n", s.ToString().c_str());
    return 1;
  }
  rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  absl::StatusOr<AttackKit> kit = AttackKit::Read(dir);
  if (!kit.ok()) {
    std::fprintf(stderr, "attacker: %s\n", kit.status().ToString().c_str());
    return 1;
  }
  std::vector<std::shared_ptr<grpc::Channel>> channels = AttackerChannels(*kit);
  std::vector<std::unique_ptr<v1::Identity::Stub>> identity;
  std::vector<std::unique_ptr<v1::Log::Stub>> log;
  std::vector<v1::Log::Stub*> log_stubs;
  for (const auto& c : channels) {
    identity.push_back(v1::Identity::NewStub(c));
    log.push_back(v1::Log::NewStub(c));
    log_stubs.push_back(log.back().get());
  }

  Tally tally;
  std::unique_ptr<UnaryFlood> unary;
  std::unique_ptr<WatchFlood> watch;
  auto identity_stub = [&](int lane) { return identity[lane % kConnections].get(); };
  auto log_stub = [&](int lane) { return log[lane % kConnections].get(); };

  if (kind == "burn") {
    // Nothing to start: the loop below spins instead of sleeping.
  } else if (kind == "watch") {
    watch = std::make_unique<WatchFlood>(log_stubs, kLanes, kMaxWatchStreams,
                                         &tally);
  } else if (kind == "challenge") {
    v1::GetChallengeRequest request;
    request.set_identity_key(kit->victim_key);
    unary = std::make_unique<UnaryFlood>(
        kLanes,
        [&, request](int lane, CallDone done) {
          StartUnary<v1::GetChallengeRequest, v1::Challenge>(
              request, "",
              [stub = identity_stub(lane)](auto... args) {
                stub->async()->GetChallenge(args...);
              },
              std::move(done));
        },
        &tally);
  } else if (kind == "enroll") {
    Ed25519PrivateKey key = Ed25519PrivateKey::Generate();
    v1::EnrollRequest valid_invite;
    valid_invite.set_invite(kit->invite);
    valid_invite.set_name(kit->invite_name);
    valid_invite.set_key_bundle(CostlyKeyBundle(key));
    valid_invite.set_signature(std::string(kEd25519SignatureSize, 'x'));
    v1::EnrollRequest unknown_invite = valid_invite;
    unknown_invite.set_invite("pi1-0000-0000-0000-0000-0000-0000-0000-0000");
    auto counter = std::make_shared<std::atomic<uint64_t>>(0);
    unary = std::make_unique<UnaryFlood>(
        kLanes,
        [&, valid_invite, unknown_invite, counter](int lane, CallDone done) {
          const bool valid = (*counter)++ % 2 == 0;
          StartUnary<v1::EnrollRequest, v1::EnrollResponse>(
              valid ? valid_invite : unknown_invite, "",
              [stub = identity_stub(lane)](auto... args) {
                stub->async()->Enroll(args...);
              },
              std::move(done));
        },
        &tally);
  } else if (kind == "logread") {
    absl::StatusOr<Ed25519PrivateKey> key =
        Ed25519PrivateKey::FromSeed(kit->reader_seed);
    if (!key.ok()) {
      std::fprintf(stderr, "attacker: %s\n", key.status().ToString().c_str());
      return 1;
    }
    absl::StatusOr<std::string> token =
        AttackerSignIn(*identity[0], *key, kit->origin);
    if (!token.ok()) {
      std::fprintf(stderr, "attacker: %s\n", token.status().ToString().c_str());
      return 1;
    }
    v1::GetEntriesRequest entries;  // from 0, one page
    v1::GetInclusionProofRequest proof;
    proof.set_index(0);
    unary = std::make_unique<UnaryFlood>(
        kLanes,
        [&, entries, proof, token = *token](int lane, CallDone done) {
          if (lane % 2 == 0) {
            StartUnary<v1::GetEntriesRequest, v1::GetEntriesResponse>(
                entries, token,
                [stub = log_stub(lane)](auto... args) {
                  stub->async()->GetEntries(args...);
                },
                std::move(done));
          } else {
            StartUnary<v1::GetInclusionProofRequest, v1::InclusionProof>(
                proof, token,
                [stub = log_stub(lane)](auto... args) {
                  stub->async()->GetInclusionProof(args...);
                },
                std::move(done));
          }
        },
        &tally);
  } else {
    std::fprintf(stderr,
                 "attacker: unknown --attack=%s (burn, watch, challenge, "
                 "enroll, logread)\n",
                 kind.c_str());
    return 2;
  }

  rusage before;
  getrusage(RUSAGE_SELF, &before);
  const SteadyTime start = SteadyNow();
  if (watch != nullptr) watch->Start();
  if (unary != nullptr) unary->Start();
  std::printf("READY\n");
  std::fflush(stdout);
  const absl::Time hard_stop = absl::Now() + absl::Seconds(max_seconds);
  const bool burn = kind == "burn";
  while (absl::Now() < hard_stop &&
         !StdinClosed(absl::Milliseconds(burn ? 0 : 100))) {
    if (watch != nullptr) watch->Reap();
    if (burn) {
      const SteadyTime until = SteadyNow() + std::chrono::milliseconds(50);
      while (SteadyNow() < until) {
      }
    }
  }
  const double seconds = Millis(start, SteadyNow()) / 1e3;
  bool stopped = true;
  nlohmann::json report;
  if (watch != nullptr) {
    report["max_open_streams"] = watch->max_open();
    stopped = watch->Stop(absl::Seconds(10));
  }
  if (unary != nullptr) stopped = unary->Stop(absl::Seconds(15));
  rusage after;
  getrusage(RUSAGE_SELF, &after);
  auto cpu = [](const rusage& r) {
    return r.ru_utime.tv_sec + r.ru_stime.tv_sec +
           (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
  };
  report.update(tally.ToJson());
  report["attack"] = kind;
  report["seconds"] = seconds;
  report["cpu_seconds"] = cpu(after) - cpu(before);
  std::printf("%s\n", report.dump().c_str());
  std::fflush(stdout);
  if (!stopped) {
    // Calls still in flight would make a clean exit wait on them.
    std::fprintf(stderr, "attacker: calls still in flight; exiting anyway\n");
    _exit(0);
  }
  return 0;
}

// --- The attacker seen from the bench ------------------------------------------

// A child process started through taskset with its stdin and stdout on
// pipes. The destructor kills and reaps it if Finish was not called.
class PinnedProcess {
 public:
  // REQUIRES: argv[0] is a program on $PATH.
  static absl::StatusOr<std::unique_ptr<PinnedProcess>> Spawn(
      const std::vector<std::string>& argv) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
      return absl::InternalError("pipe2 failed");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid;
    int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(),
                          environ);
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    if (rc != 0) {
      close(in[1]);
      close(out[0]);
      return absl::InternalError(
          absl::StrCat("cannot start ", argv[0], ": ", std::strerror(rc)));
    }
    auto p = std::unique_ptr<PinnedProcess>(new PinnedProcess);
    p->pid_ = pid;
    p->stdin_ = in[1];
    p->stdout_ = out[0];
    return p;
  }

  ~PinnedProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (stdin_ >= 0) close(stdin_);
    if (stdout_ >= 0) close(stdout_);
  }

  pid_t pid() const { return pid_; }

  // The next line of the child's stdout; DeadlineExceeded after `timeout`,
  // OutOfRange at end of file.
  absl::StatusOr<std::string> ReadLine(absl::Duration timeout) {
    const absl::Time until = absl::Now() + timeout;
    while (true) {
      if (size_t nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      const int64_t left = absl::ToInt64Milliseconds(until - absl::Now());
      if (left <= 0) return absl::DeadlineExceededError("no line from child");
      pollfd p{stdout_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char chunk[4096];
      ssize_t n = read(stdout_, chunk, sizeof chunk);
      if (n <= 0) return absl::OutOfRangeError("child closed its output");
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  // Closes the child's stdin (an attacker's signal to stop), sends `signal`
  // if non-zero, and reaps it, killing it after `timeout`. Returns its last
  // line of output ("" if none).
  std::string Finish(int signal, absl::Duration timeout) {
    close(stdin_);
    stdin_ = -1;
    if (signal != 0) kill(pid_, signal);
    std::string last;
    const absl::Time until = absl::Now() + timeout;
    while (true) {
      absl::StatusOr<std::string> line = ReadLine(until - absl::Now());
      if (!line.ok()) break;
      last = *std::move(line);
    }
    if (absl::Now() >= until) kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return last;
  }

 private:
  PinnedProcess() = default;
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  std::string buffer_;
};

// The last CPU this process may run on: the attacker's core (1 on a
// 2-core machine), leaving the others to parleyd and the honest member.
int AttackerCpu() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
  for (int cpu = CPU_SETSIZE - 1; cpu >= 0; --cpu) {
    if (CPU_ISSET(cpu, &set)) return cpu;
  }
  return 0;
}

std::string SelfPath() {
  std::error_code error;
  std::filesystem::path p = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? "parley-hostile-bench" : p.string();
}

int ThreadCount(pid_t pid) {
  std::error_code error;
  int n = 0;
  for (std::filesystem::directory_iterator it(
           absl::StrCat("/proc/", pid, "/task"), error), end;
       !error && it != end; it.increment(error)) {
    ++n;
  }
  return error ? -1 : n;
}

// --- The honest member ------------------------------------------------------------

struct SendRun {
  std::vector<double> ms;
  int errors = 0;
  std::string first_error;
};

// a and b take turns sending to channel c at kHonestSendsPerSecond in all
// (one Send at a time; a late one is not made up for), each envelope sealed
// just before its Send and not timed, for `duration`.
SendRun HonestSends(BenchClient& client, absl::Duration duration) {
  SendRun run;
  const std::string channel = client.Name("c");
  const std::vector<EnvelopeRecipient> to = client.Recipients({"m", "a", "b"});
  const std::string payload(kPayloadBytes, 'p');
  const auto interval = std::chrono::microseconds(
      static_cast<int64_t>(1e6 / kHonestSendsPerSecond));
  const SteadyTime end = SteadyNow() + absl::ToChronoMilliseconds(duration);
  SteadyTime next = SteadyNow();
  for (int i = 0; SteadyNow() < end; ++i) {
    Device& sender = client.device(i % 2 == 0 ? "a" : "b");
    const Device::Chain before = sender.chains[channel];
    absl::StatusOr<Sealed> sealed = client.SealNext(sender, channel, payload, to);
    if (!sealed.ok()) {
      run.errors++;
      if (run.first_error.empty()) run.first_error = sealed.status().ToString();
      continue;
    }
    v1::SendRequest request;
    request.set_channel(channel);
    request.set_envelope(sealed->bytes);
    std::this_thread::sleep_until(next);
    grpc::ClientContext context;
    BenchClient::Authorize(&context, sender);
    context.set_deadline(DeadlineIn(absl::Seconds(30)));
    v1::SendResponse response;
    const SteadyTime t0 = SteadyNow();
    grpc::Status s = client.channels().Send(&context, request, &response);
    const SteadyTime t1 = SteadyNow();
    next = std::max(t1, next + interval);
    if (s.ok()) {
      run.ms.push_back(Millis(t0, t1));
    } else {
      sender.chains[channel] = before;  // the server did not take it
      run.errors++;
      if (run.first_error.empty()) run.first_error = Describe(s);
    }
  }
  return run;
}

struct SignInResult {
  bool ok = false;
  double ms = 0;
  std::string error;
};

// A fresh sign-in (GetChallenge, Authenticate) of `device`; keeps the new
// token.
SignInResult SignIn(v1::Identity::Stub& identity, Device& device,
                    const std::string& origin) {
  SignInResult result;
  const SteadyTime t0 = SteadyNow();
  grpc::ClientContext challenge_context;
  challenge_context.set_deadline(DeadlineIn(absl::Seconds(30)));
  v1::GetChallengeRequest request;
  request.set_identity_key(device.key());
  v1::Challenge challenge;
  grpc::Status s =
      identity.GetChallenge(&challenge_context, request, &challenge);
  v1::SessionToken token;
  if (s.ok()) {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(absl::Seconds(30)));
    v1::AuthenticateRequest r;
    r.set_identity_key(device.key());
    r.set_nonce(challenge.nonce());
    r.set_signature(device.identity.Sign(
        AuthStatement(origin, challenge.nonce(), device.key())));
    s = identity.Authenticate(&context, r, &token);
  }
  result.ms = Millis(t0, SteadyNow());
  result.ok = s.ok();
  if (s.ok()) {
    device.token = token.token();
  } else {
    result.error = Describe(s);
  }
  return result;
}

// --- Scenarios -----------------------------------------------------------------------

struct Options {
  double seconds = 10;
  bool smoke = false;
  bool json = false;
  bool isolate = false;
  int attacker_cpu = 0;  // AttackerCpu(), before --isolate narrows ours
};

// Attacks 1-4 of the issue, judged against the 3x target; "burn" is a
// control.
bool IsAttack(const std::string& scenario) {
  return scenario != "idle" && scenario != "burn";
}

struct ScenarioResult {
  std::string name;
  SendRun sends;
  double p50 = 0, p99 = 0;
  std::optional<double> ratio;  // p99 / idle p99
  nlohmann::json attacker;      // the child's report (null for idle)
  double attacker_seconds = 0;
  SignInResult sign_in;
  int server_threads = -1;
  double server_rss_mib = 0;
  double server_cpu_percent = 0;  // of one core, during the scenario
  double load_average = 0;        // 1-minute, at the end of the scenario
  std::vector<std::string> problems;

  double PerSecond(const char* key) const {
    if (attacker.is_null() || attacker_seconds <= 0) return 0;
    return attacker.value(key, 0.0) / attacker_seconds;
  }
};

class HostileBench {
 public:
  HostileBench(const Options& options, ServerProcess* server,
               BenchClient* client, std::string origin, std::string kit_dir)
      : options_(options),
        server_(server),
        client_(client),
        origin_(std::move(origin)),
        kit_dir_(std::move(kit_dir)),
        identity_(v1::Identity::NewStub(client->NewChannel(1))) {}

  // Runs the idle baseline, the burn control and the four attacks, in that
  // order.
  std::vector<ScenarioResult> Run() {
    // Connection, TLS, allocator and pools warm before the baseline.
    HonestSends(*client_, absl::Seconds(options_.smoke ? 0.2 : 1));
    std::vector<ScenarioResult> results;
    for (const char* name :
         {"idle", "burn", "watch", "challenge", "enroll", "logread"}) {
      if (!results.empty()) {
        // Lets the attacker address's public bucket fill again, so that
        // each attack starts against a full burst, as a first one would.
        absl::SleepFor(Rest());
      }
      results.push_back(RunScenario(name));
      if (results.size() > 1 && results[0].p99 > 0) {
        results.back().ratio = results.back().p99 / results[0].p99;
      }
    }
    return results;
  }

 private:
  absl::Duration Rest() const {
    if (options_.smoke) return absl::Seconds(1);
    const LimitOptions defaults;
    return absl::Seconds(std::min(
        30.0, defaults.address_burst / defaults.address_requests_per_second));
  }

  ScenarioResult RunScenario(const std::string& name) {
    ScenarioResult r;
    r.name = name;
    const bool idle = name == "idle";
    const std::string cpu = absl::StrCat(options_.attacker_cpu);
    std::vector<std::string> argv = {"taskset", "-c", cpu};
    if (idle) {
      argv.push_back("sleep");
      argv.push_back(absl::StrCat(static_cast<int>(options_.seconds) + 120));
    } else {
      argv.push_back(SelfPath());
      argv.push_back("--attack=" + name);
      argv.push_back("--dir=" + kit_dir_);
      argv.push_back(absl::StrCat("--max-seconds=", options_.seconds + 120));
    }
    Progress(absl::StrCat(name, ": ", absl::StrJoin(argv, " ")));
    absl::StatusOr<std::unique_ptr<PinnedProcess>> child =
        PinnedProcess::Spawn(argv);
    if (!child.ok()) {
      r.problems.push_back(child.status().ToString());
      return r;
    }
    if (!idle) {
      absl::StatusOr<std::string> ready = (*child)->ReadLine(absl::Seconds(60));
      if (!ready.ok() || *ready != "READY") {
        r.problems.push_back(absl::StrCat(
            "the attacker did not start: ",
            ready.ok() ? *ready : ready.status().ToString()));
        return r;
      }
    }
    const double cpu_before = server_->CpuSeconds();
    const SteadyTime t0 = SteadyNow();
    r.sends = HonestSends(*client_, absl::Seconds(options_.seconds));
    r.server_threads = ThreadCount(server_->pid());
    r.server_rss_mib = server_->RssKiB() / 1024.0;
    r.server_cpu_percent =
        100 * (server_->CpuSeconds() - cpu_before) / (Millis(t0, SteadyNow()) / 1e3);
    r.load_average = LoadAverage();
    // Sign-in while the attack still runs.
    r.sign_in = SignIn(*identity_, client_->device("a"), origin_);
    const std::string last =
        (*child)->Finish(idle ? SIGTERM : 0, absl::Seconds(60));
    if (!idle) {
      r.attacker = nlohmann::json::parse(last, nullptr, /*allow_exceptions=*/false);
      if (r.attacker.is_discarded() || !r.attacker.is_object()) {
        r.problems.push_back("no report from the attacker: \"" + last + "\"");
        r.attacker = nullptr;
      } else {
        r.attacker_seconds = r.attacker.value("seconds", 0.0);
      }
    }
    r.p50 = Percentile(r.sends.ms, 0.50);
    r.p99 = Percentile(r.sends.ms, 0.99);
    Check(r);
    Progress(absl::StrCat(name, ": ", r.sends.ms.size(), " sends, p99 ", r.p99,
                          " ms; sign-in ", r.sign_in.ok ? "ok" : "FAILED"));
    return r;
  }

  // What must hold whatever the timings: the scenario ran, the honest
  // member was served and signed in, and the attacker met a limit.
  static void Check(ScenarioResult& r) {
    if (r.sends.ms.empty()) r.problems.push_back("no honest Send completed");
    if (r.sends.errors > 0) {
      r.problems.push_back(absl::StrCat(r.sends.errors,
                                        " honest Sends failed, first: ",
                                        r.sends.first_error));
    }
    if (!r.sign_in.ok) r.problems.push_back("sign-in failed: " + r.sign_in.error);
    if (!IsAttack(r.name) || r.attacker.is_null()) return;
    if (r.attacker.value("requests", 0) == 0) {
      r.problems.push_back("the attacker made no request");
    }
    if (r.attacker.value("refused", 0) == 0) {
      r.problems.push_back("the attacker was never refused");
    }
  }

  const Options options_;
  ServerProcess* const server_;
  BenchClient* const client_;
  const std::string origin_;
  const std::string kit_dir_;
  std::unique_ptr<v1::Identity::Stub> identity_;
};

// --- Report ------------------------------------------------------------------------

bool WithinTarget(const ScenarioResult& r) {
  return r.ratio.has_value() && *r.ratio <= kTargetRatio;
}

nlohmann::json ToJson(const Options& options, const nlohmann::json& context,
                      const std::vector<ScenarioResult>& results) {
  nlohmann::json doc = context;
  nlohmann::json scenarios = nlohmann::json::array();
  for (const ScenarioResult& r : results) {
    nlohmann::json s = {
        {"scenario", r.name},
        {"sends", r.sends.ms.size()},
        {"send_errors", r.sends.errors},
        {"send_p50_ms", r.p50},
        {"send_p99_ms", r.p99},
        {"send_max_ms",
         r.sends.ms.empty()
             ? 0.0
             : *std::max_element(r.sends.ms.begin(), r.sends.ms.end())},
        {"sign_in_ok", r.sign_in.ok},
        {"sign_in_ms", r.sign_in.ms},
        {"server_threads", r.server_threads},
        {"server_rss_mib", r.server_rss_mib},
        {"server_cpu_percent", r.server_cpu_percent},
        {"load_average", r.load_average},
        {"problems", r.problems}};
    if (r.ratio.has_value()) s["p99_ratio_to_idle"] = *r.ratio;
    if (!r.attacker.is_null()) {
      s["attacker"] = r.attacker;
      s["attacker_served_per_s"] = r.PerSecond("served");
      s["attacker_refused_per_s"] = r.PerSecond("refused");
    }
    if (!options.smoke && IsAttack(r.name)) {
      s["p99_within_3x_of_idle"] = WithinTarget(r);
    }
    scenarios.push_back(s);
  }
  doc["scenarios"] = scenarios;
  return doc;
}

void PrintTable(const Options& options, const nlohmann::json& context,
                const std::vector<ScenarioResult>& results) {
  std::printf("\nparley-hostile-bench  %s\n", context.dump().c_str());
  std::printf("%-10s %6s %8s %8s %8s %11s %11s %13s %8s %9s %9s\n", "scenario",
              "sends", "p50 ms", "p99 ms", "p99/idle", "atk ok/s",
              "atk refused/s", "sign-in", "threads", "RSS MiB", "srv CPU%");
  for (const ScenarioResult& r : results) {
    std::string ratio = r.ratio.has_value() ? absl::StrFormat("%.2f", *r.ratio)
                                            : (r.name == "idle" ? "1.00" : "-");
    std::string served = "-", refused = "-";
    if (!r.attacker.is_null()) {
      served = absl::StrFormat("%.0f", r.PerSecond("served"));
      refused = absl::StrFormat("%.0f", r.PerSecond("refused"));
    }
    std::string sign_in = r.sign_in.ok
                              ? absl::StrFormat("ok %.1f ms", r.sign_in.ms)
                              : std::string("FAILED");
    std::printf("%-10s %6zu %8.2f %8.2f %8s %11s %13s %13s %8d %9.1f %9.0f\n",
                r.name.c_str(), r.sends.ms.size(), r.p50, r.p99, ratio.c_str(),
                served.c_str(), refused.c_str(), sign_in.c_str(),
                r.server_threads, r.server_rss_mib, r.server_cpu_percent);
  }
  for (const ScenarioResult& r : results) {
    if (r.name == "watch" && !r.attacker.is_null()) {
      std::printf("watch: at most %d streams open at once (atk ok/s: streams "
                  "admitted)\n",
                  r.attacker.value("max_open_streams", 0));
    }
  }
  for (const ScenarioResult& r : results) {
    if (!IsAttack(r.name) || options.smoke) continue;
    std::printf("%s: p99 within 3x of idle: %s\n", r.name.c_str(),
                WithinTarget(r) ? "yes" : "no");
  }
  for (const ScenarioResult& r : results) {
    for (const std::string& p : r.problems) {
      std::printf("problem: %s: %s\n", r.name.c_str(), p.c_str());
    }
  }
}

// --- main ----------------------------------------------------------------------------

// Enrolls the cast over `client` and writes the attackers' kit to `kit_dir`.
absl::Status SetUp(BenchClient& client, const std::string& bootstrap_invite,
                   const std::string& origin, int port,
                   const std::string& ca_pem, const std::string& kit_dir) {
  if (absl::Status s = client.EnrollAdmin(bootstrap_invite); !s.ok()) return s;
  for (const auto& [name, role] :
       std::vector<std::pair<std::string, v1::Role>>{
           {"m", v1::ROLE_MEDIATOR},
           {"a", v1::ROLE_PARTY},
           {"b", v1::ROLE_PARTY},
           {"x", v1::ROLE_PARTY}}) {
    if (absl::Status s = client.AddMember(name, role).status(); !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = client.CreateChannel(client.device("m"), "c", {"a", "b"});
      !s.ok()) {
    return s;
  }
  // An invite the enroll attacker holds (never redeemed).
  auto admin = v1::Admin::NewStub(client.NewChannel(2));
  grpc::ClientContext context;
  BenchClient::Authorize(&context, client.device("admin"));
  v1::CreateInviteRequest request;
  request.set_role(v1::ROLE_PARTY);
  request.set_name(client.Name("e"));
  v1::Invite invite;
  if (grpc::Status s = admin->CreateInvite(&context, request, &invite); !s.ok()) {
    return ToAbsl(s, "CreateInvite e");
  }
  AttackKit kit;
  kit.port = port;
  kit.ca_pem = ca_pem;
  kit.origin = origin;
  kit.victim_key = client.device("a").key();
  kit.reader_seed = std::string(client.device("x").identity.seed().view());
  kit.invite = invite.code();
  kit.invite_name = client.Name("e");
  return kit.Write(kit_dir);
}

int Usage(const std::string& arg) {
  std::fprintf(stderr,
               "usage: parley-hostile-bench [--seconds N] [--smoke] [--json] "
               "[--isolate]\n"
               "(unknown or incomplete argument: %s)\n",
               arg.c_str());
  return 2;
}

int Main(int argc, char** argv) {
  Options options;
  std::string attack, dir;
  double max_seconds = 300;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
    } else if (arg == "--seconds" && i + 1 < argc) {
      value = argv[++i];
    }
    if (arg == "--smoke") {
      options.smoke = true;
      options.seconds = 1;
    } else if (arg == "--json") {
      options.json = true;
    } else if (arg == "--isolate") {
      options.isolate = true;
    } else if (arg == "--seconds") {
      if (!absl::SimpleAtod(value, &options.seconds) || options.seconds <= 0 ||
          options.seconds > 600) {
        return Usage(argv[i]);
      }
    } else if (arg == "--attack") {
      attack = value;
    } else if (arg == "--dir") {
      dir = value;
    } else if (arg == "--max-seconds") {
      if (!absl::SimpleAtod(value, &max_seconds)) return Usage(argv[i]);
    } else {
      return Usage(argv[i]);
    }
  }
  if (!attack.empty()) return RunAttacker(attack, dir, max_seconds);
  options.attacker_cpu = AttackerCpu();

  if (absl::Status s = InitCrypto(); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  const char* base = std::getenv("PARLEY_BENCH_DIR");
  std::string scratch = std::string(base != nullptr ? base : "/tmp") +
                        "/parley-hostile-bench-XXXXXX";
  if (mkdtemp(scratch.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  struct Cleanup {
    std::string path;
    ~Cleanup() { std::filesystem::remove_all(path); }
  } cleanup{scratch};
  const std::string kit_dir = scratch + "/attacker";
  std::filesystem::create_directory(kit_dir);

  InitOptions init;
  init.origin = "hostile-bench.parley/log";
  init.now = absl::Now();
  absl::StatusOr<InitResult> initialised = InitDataDir(scratch + "/data", init);
  if (!initialised.ok()) {
    std::fprintf(stderr, "init: %s\n", initialised.status().ToString().c_str());
    return 1;
  }
  // The default [limits]: the point is to measure them. IPv6 as well as
  // IPv4, so that the attacker ([::1]) and the member (127.0.0.1) are
  // different peers.
  ServerConfig config;
  config.data = scratch + "/data";
  config.listen = "[::]:0";
  config.log_level = "warn";
  config.shutdown_grace = absl::Seconds(2);

  if (options.isolate) {
    // Inherited by parleyd's process, forked below.
    cpu_set_t set;
    CPU_ZERO(&set);
    for (unsigned cpu = 0; cpu < std::thread::hardware_concurrency(); ++cpu) {
      if (static_cast<int>(cpu) != options.attacker_cpu) CPU_SET(cpu, &set);
    }
    if (CPU_COUNT(&set) == 0 || sched_setaffinity(0, sizeof set, &set) != 0) {
      std::fprintf(stderr, "--isolate needs at least two cores\n");
      return 1;
    }
  }
  // Fork before this process touches gRPC.
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start(config);
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<std::string> ca = ReadFile(config.data + "/tls/ca.crt");
  if (!ca.ok()) {
    std::fprintf(stderr, "%s\n", ca.status().ToString().c_str());
    return 1;
  }
  const int port = (*server)->parley_port();
  Progress(absl::StrCat("parleyd pid ", (*server)->pid(), ", port ", port));
  BenchClient client(absl::StrCat("127.0.0.1:", port), *ca,
                     initialised->origin);
  if (absl::Status s = SetUp(client, initialised->bootstrap_invite,
                             initialised->origin, port, *ca, kit_dir);
      !s.ok()) {
    std::fprintf(stderr, "set-up failed: %s\n", s.ToString().c_str());
    return 1;
  }

  nlohmann::json context = {
      {"date", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(),
                                absl::UTCTimeZone())},
      {"cores", std::thread::hardware_concurrency()},
      {"attacker_cpu", options.attacker_cpu},
      {"isolated", options.isolate},
      {"load_before", LoadAverage()},
      {"seconds_per_scenario", options.seconds},
      {"smoke", options.smoke},
      {"honest_sends_per_s", kHonestSendsPerSecond},
      {"attacker_calls_in_flight", kLanes},
      {"limits", "LimitOptions defaults"}};
  std::vector<ScenarioResult> results =
      HostileBench(options, server->get(), &client, initialised->origin,
                   kit_dir)
          .Run();
  if (options.json) {
    std::cout << ToJson(options, context, results).dump(2) << "\n";
  } else {
    PrintTable(options, context, results);
  }
  for (const ScenarioResult& r : results) {
    if (!r.problems.empty()) return 1;
  }
  return 0;
}

}  // namespace
}  // namespace parley::bench

int main(int argc, char** argv) { return parley::bench::Main(argc, argv); }
