#ifndef PARLEY_CLIENT_CORE_SESSION_H_
#define PARLEY_CLIENT_CORE_SESSION_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/core/profile.h"
#include "grpcpp/channel.h"
#include "parley/v1/info.pb.h"

namespace parley {

struct ConnectOptions {
  // HOST:PORT; empty uses the profile's remembered server.
  std::string server;
  // SHA-256 of the server's CA certificate (hex, colons allowed); empty uses
  // the profile's pin. Required the first time a profile meets a server.
  std::string ca_fingerprint;
  absl::Duration timeout = absl::Seconds(10);
  // A test seam: when set, the session takes its channels from this (for
  // example a channel to a parleyd started in the same process) instead of
  // dialling `server` over TLS pinned to the profile's CA. Nothing is
  // fetched or pinned, and the profile is not changed; `server` (default
  // "in-process") only names the server in messages. ResetChannel calls it
  // again. The command line and the GUI never set it.
  std::function<std::shared_ptr<grpc::Channel>()> channel_factory;
};

// A connection to parleyd over TLS pinned to the server's CA. The one client
// core that the CLI and the GUI both use. Thread-safe.
class Session {
 public:
  // Resolves the server and the pin (from `options`, else the profile). When
  // the profile holds no CA certificate for this fingerprint, fetches the
  // server's chain and keeps the CA only if its SHA-256 matches the pin
  // (PermissionDenied otherwise, naming both fingerprints); the pin is then
  // remembered in the profile. No network round trip happens beyond that:
  // RPCs connect lazily.
  static absl::StatusOr<std::unique_ptr<Session>> Connect(
      const Profile& profile, const ConnectOptions& options);

  const ServerPin& pin() const { return pin_; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  absl::Duration timeout() const { return timeout_; }

  // Replaces the channel with a new one (same server and pin, or the
  // ConnectOptions::channel_factory's next channel). A channel
  // that watched its server die can take long to trust the restarted one;
  // a fresh channel connects at once. REQUIRES: no other thread is using
  // channel() (stubs made from the old channel keep working).
  void ResetChannel();

  // parley.v1.Info/GetServerInfo. Unavailable (with the address and the
  // transport's reason) when the server cannot be reached.
  absl::StatusOr<v1::ServerInfo> GetServerInfo() const;

 private:
  using ChannelFactory = std::function<std::shared_ptr<grpc::Channel>()>;
  Session(ServerPin pin, ChannelFactory make_channel, absl::Duration timeout)
      : pin_(std::move(pin)),
        make_channel_(std::move(make_channel)),
        channel_(make_channel_()),
        timeout_(timeout) {}

  ServerPin pin_;
  ChannelFactory make_channel_;
  std::shared_ptr<grpc::Channel> channel_;
  absl::Duration timeout_;
};

// Turns a failed RPC's status into an absl::Status a person can act on,
// naming the server for transport failures.
absl::Status FromRpcStatus(const grpc::Status& status,
                           const std::string& address);

}  // namespace parley

#endif  // PARLEY_CLIENT_CORE_SESSION_H_
