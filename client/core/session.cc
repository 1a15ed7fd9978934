#include "client/core/session.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/core/ca_pin.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "parley/v1/info.grpc.pb.h"

namespace parley {

absl::Status FromRpcStatus(const grpc::Status& status,
                           const std::string& address) {
  if (status.ok()) return absl::OkStatus();
  auto code = static_cast<absl::StatusCode>(status.error_code());
  std::string message = status.error_message();
  if (code == absl::StatusCode::kUnavailable ||
      code == absl::StatusCode::kDeadlineExceeded) {
    std::string hint;
    // Only a failed certificate check, not a connection that dropped
    // during the handshake (a server restarting).
    if (absl::StrContains(message, "Ssl handshake failed") ||
        absl::StrContains(message, "CERTIFICATE_VERIFY_FAILED") ||
        absl::StrContains(message, "certificate verify failed")) {
      hint = " (TLS failed: the server's certificate is not signed by the CA "
             "pinned in this profile; if the server was re-initialised, "
             "connect again with its new --ca-fingerprint)";
    }
    return absl::Status(code, absl::StrCat("cannot reach parleyd at ", address,
                                           ": ", message, hint));
  }
  return absl::Status(code, message);
}

namespace {

// A gRPC channel over TLS that trusts only the pinned CA.
std::shared_ptr<grpc::Channel> NewPinnedChannel(const ServerPin& pin) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = pin.ca_pem;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  // Field networks drop for long stretches: keep retrying the connection,
  // but never wait more than 10 s once the server is back.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 500);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 500);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 10'000);
  return grpc::CreateCustomChannel(
      pin.address, grpc::SslCredentials(ssl), args);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Session>> Session::Connect(
    const Profile& profile, const ConnectOptions& options) {
  if (options.channel_factory) {
    ServerPin pin;
    pin.address = options.server.empty() ? "in-process" : options.server;
    return std::unique_ptr<Session>(
        new Session(std::move(pin), options.channel_factory, options.timeout));
  }
  absl::StatusOr<std::optional<ServerPin>> stored = profile.LoadServerPin();
  if (!stored.ok()) return stored.status();

  ServerPin pin;
  pin.address = !options.server.empty()
                    ? options.server
                    : (stored->has_value() ? (*stored)->address : "");
  if (pin.address.empty()) {
    return absl::FailedPreconditionError(
        "no server known for this profile: pass --server HOST:PORT and "
        "--ca-fingerprint SHA256HEX (both printed when parleyd starts)");
  }
  if (!options.ca_fingerprint.empty()) {
    absl::StatusOr<std::string> fp = NormalizeFingerprint(options.ca_fingerprint);
    if (!fp.ok()) return fp.status();
    pin.ca_fingerprint = *fp;
  } else if (stored->has_value() && (*stored)->address == pin.address) {
    pin.ca_fingerprint = (*stored)->ca_fingerprint;
  } else {
    return absl::FailedPreconditionError(absl::StrCat(
        "this profile has no pinned CA for ", pin.address,
        ": pass --ca-fingerprint SHA256HEX (printed when parleyd starts)"));
  }

  if (stored->has_value() &&
      (*stored)->ca_fingerprint == pin.ca_fingerprint) {
    pin.ca_pem = (*stored)->ca_pem;
  } else {
    absl::StatusOr<std::string> pem = FetchPinnedCaCertificate(
        pin.address, pin.ca_fingerprint, options.timeout);
    if (!pem.ok()) return pem.status();
    pin.ca_pem = std::move(*pem);
  }
  if (!stored->has_value() || (*stored)->address != pin.address ||
      (*stored)->ca_fingerprint != pin.ca_fingerprint) {
    if (absl::Status s = profile.SaveServerPin(pin); !s.ok()) return s;
  }

  ChannelFactory make_channel = [pin] { return NewPinnedChannel(pin); };
  return std::unique_ptr<Session>(new Session(
      std::move(pin), std::move(make_channel), options.timeout));
}

void Session::ResetChannel() { channel_ = make_channel_(); }

absl::StatusOr<v1::ServerInfo> Session::GetServerInfo() const {
  auto api = v1::Info::NewStub(channel_);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoMilliseconds(timeout_));
  context.set_wait_for_ready(false);
  v1::ServerInfo info;
  grpc::Status status =
      api->GetServerInfo(&context, v1::GetServerInfoRequest(), &info);
  if (!status.ok()) return FromRpcStatus(status, pin_.address);
  return info;
}

}  // namespace parley
