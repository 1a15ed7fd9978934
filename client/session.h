#ifndef PARLEY_CLIENT_SESSION_H_
#define PARLEY_CLIENT_SESSION_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/profile.h"
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

  // Replaces the channel with a new one (same server and pin). A channel
  // that watched its server die can take long to trust the restarted one;
  // a fresh channel connects at once. REQUIRES: no other thread is using
  // channel() (stubs made from the old channel keep working).
  void ResetChannel();

  // parley.v1.Info/GetServerInfo. Unavailable (with the address and the
  // transport's reason) when the server cannot be reached.
  absl::StatusOr<v1::ServerInfo> GetServerInfo() const;

 private:
  Session(ServerPin pin, std::shared_ptr<grpc::Channel> channel,
          absl::Duration timeout)
      : pin_(std::move(pin)), channel_(std::move(channel)), timeout_(timeout) {}

  ServerPin pin_;
  std::shared_ptr<grpc::Channel> channel_;
  absl::Duration timeout_;
};

// Turns a failed RPC's status into an absl::Status a person can act on,
// naming the server for transport failures.
absl::Status FromRpcStatus(const grpc::Status& status,
                           const std::string& address);

}  // namespace parley

#endif  // PARLEY_CLIENT_SESSION_H_
