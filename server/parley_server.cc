#include "server/parley_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/grpcpp.h"
#include "crypto/encoding.h"
#include "server/auth.h"
#include "server/channel_service.h"
#include "server/data_dir.h"
#include "server/delivery.h"
#include "server/identity_service.h"
#include "server/info_service.h"
#include "server/ledger.h"
#include "server/log_service.h"
#include "server/notification_service.h"
#include "server/rate_limit.h"
#include "server/service_core.h"
#include "server/log_visibility.h"
#include "server/work_pool.h"
#include "spdlog/spdlog.h"
#include "storage/log_store.h"

namespace parley {
namespace {

// gRPC reports a failed bind only as a null server; probe first so the
// operator learns why ("Address already in use").
absl::Status ProbeListenAddress(const std::string& address) {
  size_t colon = address.rfind(':');
  std::string host = address.substr(0, colon);
  int port = 0;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid listen address ", address));
  }
  if (port == 0) return absl::OkStatus();
  bool v6 = false;
  if (!host.empty() && host.front() == '[') {
    host = host.substr(1, host.size() - 2);
    v6 = true;
  }
  sockaddr_storage storage{};
  socklen_t len = 0;
  if (v6) {
    auto* sa = reinterpret_cast<sockaddr_in6*>(&storage);
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET6, host.c_str(), &sa->sin6_addr) != 1) {
      return absl::OkStatus();  // Let gRPC resolve it.
    }
    len = sizeof(*sa);
  } else {
    auto* sa = reinterpret_cast<sockaddr_in*>(&storage);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(static_cast<uint16_t>(port));
    if (host == "0.0.0.0" || host == "*") {
      sa->sin_addr.s_addr = htonl(INADDR_ANY);
    } else if (inet_pton(AF_INET, host.c_str(), &sa->sin_addr) != 1) {
      return absl::OkStatus();  // A host name: let gRPC resolve it.
    }
    len = sizeof(*sa);
  }
  int fd = ::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::OkStatus();
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&storage), len);
  int err = errno;
  ::close(fd);
  if (rc != 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", address, ": ", std::strerror(err),
        err == EADDRINUSE ? " (is another parleyd running? choose another "
                            "port with --listen)"
                          : ""));
  }
  return absl::OkStatus();
}

class ParleyServerImpl final : public ParleyServer {
 public:
  ~ParleyServerImpl() override { Shutdown(); }

  static absl::StatusOr<std::unique_ptr<ParleyServer>> Create(
      const ServerConfig& config, Clock& clock) {
    auto server = std::make_unique<ParleyServerImpl>();
    server->grace_ = config.shutdown_grace;

    absl::StatusOr<std::unique_ptr<DataDir>> dir = DataDir::Open(
        config.data, clock.Now(), config.tls_cert_file, config.tls_key_file);
    if (!dir.ok()) return dir.status();
    server->dir_ = std::move(*dir);

    LogOptions log_options;
    log_options.path = server->dir_->db_path();
    log_options.origin = server->dir_->origin();
    log_options.signer = &server->dir_->log_key();
    log_options.clock = &clock;
    log_options.checkpoint_interval = config.checkpoint_interval;
    absl::StatusOr<std::unique_ptr<LogStore>> log =
        LogStore::Open(log_options, LedgerIndexFamilies());
    if (!log.ok()) return log.status();
    if ((*log)->RecoveredTornWalTail()) {
      spdlog::warn(
          "the write-ahead log ended in an incomplete record (a write cut "
          "short by a crash or power loss, never acknowledged); it was "
          "dropped and the log checked against its latest signed checkpoint");
    }
    server->log_ = std::move(*log);

    if (absl::Status s = ProbeListenAddress(config.listen); !s.ok()) return s;

    absl::StatusOr<std::unique_ptr<Ledger>> ledger =
        Ledger::Open(server->log_.get(), &clock);
    if (!ledger.ok()) return ledger.status();
    server->ledger_ = std::move(*ledger);
    if (absl::Status s = EnsureBootstrapInvite(
            *server->ledger_, server->dir_->bootstrap_invite_hash());
        !s.ok()) {
      return s;
    }
    server->auth_ = std::make_unique<Authenticator>(
        &server->ledger_->state(), &clock, &SystemRandom(),
        server->dir_->origin(), config.session_ttl);
    server->limiter_ = std::make_unique<RateLimiter>(&clock, config.limits);
    server->hub_ = std::make_unique<DeliveryHub>(server->ledger_.get());
    DeliveryHub* hub = server->hub_.get();
    server->ledger_->SetListener(
        [hub](const std::vector<std::string>& members, uint64_t) {
          hub->Notify(members);
        });
    server->pool_ = std::make_unique<WorkPool>(32);
    server->core_ = ServiceCore{server->ledger_.get(),
                                server->auth_.get(),
                                server->limiter_.get(),
                                &clock,
                                &SystemRandom(),
                                config.max_message_bytes,
                                server->dir_->bootstrap_invite_path(),
                                [hub](const std::string& name) {
                                  hub->Revoke(name);
                                },
                                server->pool_.get()};

    server->info_ =
        std::make_unique<InfoService>(server->log_.get(), ParleydVersion());
    LogServiceOptions log_service_options;
    Authenticator* auth = server->auth_.get();
    Ledger* entries_ledger = server->ledger_.get();
    log_service_options.authorize_private_read =
        [auth, entries_ledger](const grpc::CallbackServerContext& context)
        -> absl::StatusOr<EntryFilter> {
      // Entries and proofs carry metadata: enrolled members only, and each
      // reads in full only what concerns it (server/log_visibility.h).
      absl::StatusOr<Caller> caller =
          auth->Resolve(context, "parley.v1.Log/GetEntries");
      if (!caller.ok()) return caller.status();
      return EntryFilter(
          [entries_ledger, caller = *std::move(caller)](
              uint64_t index, std::string_view entry) {
            return MayReadEntry(*entries_ledger, caller, index, entry);
          });
    };
    log_service_options.pool = server->pool_.get();
    server->log_service_ = std::make_unique<LogService>(
        server->log_.get(), std::move(log_service_options));
    server->identity_ =
        std::make_unique<IdentityService>(&server->core_, &server->registry_);
    server->admin_ =
        std::make_unique<AdminService>(&server->core_, &server->registry_);
    server->directory_ =
        std::make_unique<DirectoryService>(&server->core_, &server->registry_);
    server->channels_ =
        std::make_unique<ChannelService>(&server->core_, server->hub_.get());
    server->notifications_ =
        std::make_unique<NotificationService>(&server->core_,
                                              config.deconfliction);

    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    // Without this, two servers could share a port with SO_REUSEPORT.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    builder.SetMaxReceiveMessageSize(
        static_cast<int>(config.max_message_bytes + 64 * 1024));
    // TLS frames of at most 2 KiB instead of 16 KiB: gRPC sizes each
    // connection's TLS protector buffer by this, and with one connection
    // per subscribed device that was ~35 KiB of resident memory per
    // connection (docs/PERFORMANCE.md, issue #8 pass). The cost is more TLS
    // records per large message (a 25 KB delivery: 13 instead of 2).
    builder.AddChannelArgument(GRPC_ARG_TSI_MAX_FRAME_SIZE, 2048);
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back(
        {server->dir_->server_key_pem(), server->dir_->server_cert_chain_pem()});
    builder.AddListeningPort(config.listen, grpc::SslServerCredentials(ssl),
                             &server->port_);
    builder.RegisterService(server->info_.get());
    builder.RegisterService(server->log_service_.get());
    builder.RegisterService(server->identity_.get());
    builder.RegisterService(server->admin_.get());
    builder.RegisterService(server->directory_.get());
    builder.RegisterService(server->channels_.get());
    builder.RegisterService(server->notifications_.get());
    server->grpc_ = builder.BuildAndStart();
    if (server->grpc_ == nullptr || server->port_ == 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", config.listen,
                       " (address in use, not local, or not permitted)"));
    }
    grpc::HealthCheckServiceInterface* health =
        server->grpc_->GetHealthCheckService();
    if (health != nullptr) {
      health->SetServingStatus(true);
      health->SetServingStatus("parley.v1.Log", true);
      health->SetServingStatus("parley.v1.Info", true);
      health->SetServingStatus("parley.v1.Identity", true);
      health->SetServingStatus("parley.v1.Channels", true);
      health->SetServingStatus("parley.v1.Notifications", true);
    }
    if (config.run_deadline_watcher) {
      server->deadlines_ =
          std::make_unique<DeadlineWatcher>(server->notifications_.get());
    }
    spdlog::info("parleyd {} listening on {} (port {}), origin {}",
                 ParleydVersion(), config.listen, server->port_,
                 server->dir_->origin());
    return std::unique_ptr<ParleyServer>(std::move(server));
  }

  int port() const override { return port_; }
  const std::string& ca_fingerprint() const override {
    return dir_->ca_fingerprint();
  }
  const std::string& origin() const override { return dir_->origin(); }
  absl::StatusOr<int> RunDueDeadlines() override {
    return notifications_->RunDueDeadlines();
  }

  void Shutdown() override {
    absl::MutexLock lock(&shutdown_mu_);
    if (shut_down_) return;
    shut_down_ = true;
    if (grpc_ != nullptr) {
      if (auto* health = grpc_->GetHealthCheckService()) {
        health->Shutdown();
      }
      deadlines_.reset();
      // Open streams end now with a resumable cursor; unary calls get the
      // grace period to finish.
      hub_->Shutdown();
      grpc_->Shutdown(std::chrono::system_clock::now() +
                      absl::ToChronoMilliseconds(grace_));
      grpc_->Wait();
    }
    pool_.reset();  // Every RPC has finished: its work is done.
    hub_.reset();
    ledger_.reset();
    log_.reset();  // Closes RocksDB cleanly after every call has finished.
    spdlog::info("parleyd stopped");
  }

 private:
  absl::Duration grace_;
  std::unique_ptr<DataDir> dir_;
  std::unique_ptr<LogStore> log_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<RateLimiter> limiter_;
  std::unique_ptr<DeliveryHub> hub_;
  std::unique_ptr<WorkPool> pool_;
  ServiceCore core_{};
  RegistryLock registry_;
  std::unique_ptr<InfoService> info_;
  std::unique_ptr<LogService> log_service_;
  std::unique_ptr<IdentityService> identity_;
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<DirectoryService> directory_;
  std::unique_ptr<ChannelService> channels_;
  std::unique_ptr<NotificationService> notifications_;
  std::unique_ptr<DeadlineWatcher> deadlines_;
  std::unique_ptr<grpc::Server> grpc_;
  int port_ = 0;
  absl::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

}  // namespace

const char* ParleydVersion() { return PARLEY_VERSION; }

absl::StatusOr<std::unique_ptr<ParleyServer>> ParleyServer::Start(
    const ServerConfig& config, Clock& clock) {
  return ParleyServerImpl::Create(config, clock);
}

}  // namespace parley
