#include "server/parley_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

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
#include "server/refusal_pacer.h"
#include "server/service_core.h"
#include "server/storage_scrub.h"
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
    log_options.min_free_bytes = config.min_free_disk_bytes;
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
        server->dir_->origin(), config.session_ttl,
        config.limits.max_pending_challenges_per_identity);
    server->limiter_ = std::make_unique<RateLimiter>(&clock, config.limits);
    server->pacer_ =
        std::make_unique<RefusalPacer>(config.limits.refusal_delay);
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
                                server->pool_.get(),
                                server->pacer_.get()};

    const ServiceCore* core = &server->core_;
    auto admit_public = [core](grpc::CallbackServerContext* context) {
      return core->AdmitPublic(context);
    };
    server->info_ = std::make_unique<InfoService>(
        server->log_.get(), ParleydVersion(), config.max_message_bytes,
        admit_public, server->pacer_.get());
    LogServiceOptions log_service_options;
    Ledger* entries_ledger = server->ledger_.get();
    log_service_options.authorize_private_read =
        [core, entries_ledger](grpc::CallbackServerContext* context)
        -> absl::StatusOr<EntryFilter> {
      // Entries and proofs carry metadata: enrolled members only, each
      // within its rate limit, and each reads in full only what concerns it
      // (server/log_visibility.h).
      absl::StatusOr<Caller> caller =
          core->Admit(context, "parley.v1.Log/GetEntries");
      if (!caller.ok()) return caller.status();
      return EntryFilter(
          [entries_ledger, caller = *std::move(caller)](
              uint64_t index, std::string_view entry) {
            return MayReadEntry(*entries_ledger, caller, index, entry);
          });
    };
    log_service_options.admit_public = admit_public;
    log_service_options.pacer = server->pacer_.get();
    RateLimiter* limiter = server->limiter_.get();
    Authenticator* auth = server->auth_.get();
    log_service_options.charge_read = [auth, limiter](
                                          grpc::CallbackServerContext* context,
                                          size_t bytes) {
      if (std::optional<std::string> member = auth->SessionMember(*context)) {
        limiter->Charge(*member, static_cast<double>(
                                     bytes / RateLimiter::kReadBytesPerToken));
      }
    };
    log_service_options.open_watch =
        [limiter](grpc::CallbackServerContext* context)
        -> absl::StatusOr<std::function<void()>> {
      std::string address = PeerKey(*context);
      if (absl::Status s = limiter->OpenWatchStream(address); !s.ok()) {
        context->AddTrailingMetadata("retry-after-ms", "5000");
        return s;
      }
      return std::function<void()>(
          [limiter, address] { limiter->CloseWatchStream(address); });
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
      health->SetServingStatus("parley.v1.Admin", true);
      health->SetServingStatus("parley.v1.Directory", true);
      health->SetServingStatus("parley.v1.Channels", true);
      health->SetServingStatus("parley.v1.Notifications", true);
    }
    server->write_watch_ = std::thread([raw = server.get()] {
      raw->WatchWritable();
    });
    if (config.run_deadline_watcher) {
      server->deadlines_ =
          std::make_unique<DeadlineWatcher>(server->notifications_.get());
    }
    if (config.scrub_entries_per_second > 0) {
      // Damage the scrub finds: "parley.storage" turns NOT_SERVING, and
      // "parley.v1.Log" too if the log itself is damaged. The server as a
      // whole ("") keeps serving: undamaged data stays available
      // (docs/OPERATIONS.md, "Checking and repairing storage").
      if (health != nullptr) health->SetServingStatus("parley.storage", true);
      StorageScrubOptions scrub;
      scrub.interval = absl::Seconds(2);
      scrub.entries_per_slice = 2 * config.scrub_entries_per_second;
      scrub.index_keys_per_slice = 8 * config.scrub_entries_per_second;
      server->scrub_ = std::make_unique<StorageScrub>(
          server->log_.get(), scrub,
          [health](StorageScrub::Damage damage, const absl::Status&) {
            if (health == nullptr) return;
            health->SetServingStatus("parley.storage", false);
            if (damage == StorageScrub::Damage::kLog) {
              health->SetServingStatus("parley.v1.Log", false);
            }
          });
      server->scrub_->Start();
    }
    spdlog::info("parleyd {} listening on {} (port {}), origin {}",
                 ParleydVersion(), config.listen, server->port_,
                 server->dir_->origin());
    return std::unique_ptr<ParleyServer>(std::move(server));
  }

  int port() const override { return port_; }

  // Reports whether writes can go through (the disk reserve, a failed
  // write) in the health service and the log, on every change. Reads do
  // not depend on it: Log and Info stay SERVING.
  void WatchWritable() {
    static constexpr const char* kWritingServices[] = {
        "parley.v1.Identity", "parley.v1.Admin", "parley.v1.Directory",
        "parley.v1.Channels", "parley.v1.Notifications"};
    bool writable = true;
    absl::MutexLock lock(&write_watch_mu_);
    while (!stop_write_watch_) {
      write_watch_mu_.Unlock();
      absl::Status status = log_->WritableStatus();
      write_watch_mu_.Lock();
      if (stop_write_watch_) break;
      if (status.ok() != writable) {
        writable = status.ok();
        if (writable) {
          spdlog::info("writes are accepted again");
        } else {
          spdlog::error("writes are refused: {}",
                        std::string(status.message()));
        }
        if (auto* health = grpc_->GetHealthCheckService()) {
          for (const char* service : kWritingServices) {
            health->SetServingStatus(service, writable);
          }
        }
      }
      write_watch_mu_.AwaitWithTimeout(
          absl::Condition(&stop_write_watch_), kWriteWatchPeriod);
    }
  }
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
    {
      absl::MutexLock stop_lock(&write_watch_mu_);
      stop_write_watch_ = true;
    }
    if (write_watch_.joinable()) write_watch_.join();
    if (grpc_ != nullptr) {
      if (auto* health = grpc_->GetHealthCheckService()) {
        health->Shutdown();
      }
      deadlines_.reset();
      scrub_.reset();
      // Open streams end now with a resumable cursor; unary calls get the
      // grace period to finish.
      hub_->Shutdown();
      log_service_->Shutdown();
      pacer_->Shutdown();  // Paced refusals are answered now.
      grpc_->Shutdown(std::chrono::system_clock::now() +
                      absl::ToChronoMilliseconds(grace_));
      grpc_->Wait();
      grpc_.reset();
    }
    log_service_.reset();  // Its broadcaster thread reads the log.
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
  std::unique_ptr<RefusalPacer> pacer_;
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
  std::unique_ptr<StorageScrub> scrub_;
  std::unique_ptr<grpc::Server> grpc_;
  int port_ = 0;
  static constexpr absl::Duration kWriteWatchPeriod = absl::Milliseconds(500);
  std::thread write_watch_;
  absl::Mutex write_watch_mu_;
  bool stop_write_watch_ ABSL_GUARDED_BY(write_watch_mu_) = false;
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
