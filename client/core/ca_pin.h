#ifndef PARLEY_CLIENT_CORE_CA_PIN_H_
#define PARLEY_CLIENT_CORE_CA_PIN_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace parley {

// Turns a user-given SHA-256 certificate fingerprint into the canonical form
// (64 lower-case hex digits). Colons and whitespace are ignored, so both
// parleyd's output and `openssl x509 -fingerprint -sha256` are accepted.
// Returns InvalidArgument if what remains is not 64 hex digits.
absl::StatusOr<std::string> NormalizeFingerprint(std::string_view fingerprint);

// Trust on first use, made safe by a pin: learns a server's CA certificate
// from the server itself, and accepts it only if it matches a fingerprint the
// user got out of band (parleyd prints it at start).
//
// Opens a TLS 1.2+ connection to `host_port` ("host:port", "1.2.3.4:port" or
// "[::1]:port"), offering ALPN "h2" as gRPC does, and reads the certificate
// chain the server presents; nothing is sent after the handshake. Returns the
// PEM of the certificate in that chain whose SHA-256(DER) equals
// `fingerprint_hex`, after checking that it is a CA (basicConstraints
// CA:TRUE) and that the server's leaf certificate verifies against it as the
// only trust anchor, for TLS server use, at the current time. The host name
// is not checked here: gRPC does that when it uses the returned PEM as
// pem_root_certs.
//
// Errors:
//   InvalidArgument: `fingerprint_hex` or `host_port` is malformed.
//   Unavailable: name resolution, connection or TLS handshake failed or took
//     longer than `timeout` ("cannot reach HOST:PORT: connection refused").
//   PermissionDenied: no certificate in the chain has the pinned fingerprint
//     (the message names the fingerprint the server does present), or the
//     pinned certificate is not a CA, or the leaf does not verify against it.
//
// Blocks the calling thread for at most about `timeout` (name resolution
// uses the system resolver and is not bounded by it). Thread-safe.
absl::StatusOr<std::string> FetchPinnedCaCertificate(
    const std::string& host_port, std::string_view fingerprint_hex,
    absl::Duration timeout);

}  // namespace parley

#endif  // PARLEY_CLIENT_CORE_CA_PIN_H_
