#ifndef PARLEY_SERVER_DEV_PKI_H_
#define PARLEY_SERVER_DEV_PKI_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace parley {

// A development public-key infrastructure: a self-signed CA and one server
// certificate issued by it. Every field is PEM text; keys are unencrypted
// PKCS#8 and must be stored with owner-only permissions.
struct DevPki {
  std::string ca_cert_pem;
  std::string ca_key_pem;
  std::string server_cert_chain_pem;  // Server leaf cert, then the CA cert.
  std::string server_key_pem;
};

// Creates a fresh development CA and a server certificate signed by it, both
// with EC P-256 keys and ECDSA-SHA256 signatures.
//
// The CA has basicConstraints critical CA:TRUE pathlen:0, keyUsage
// keyCertSign+cRLSign and subject CN "Parley development CA <random hex>", so
// two data directories never produce CAs with the same name. The server
// certificate has CA:FALSE, keyUsage digitalSignature, extendedKeyUsage
// serverAuth and subjectAltName DNS:localhost, DNS:parleyd, IP:127.0.0.1,
// IP:::1 plus each entry of `server_names` (IP literals, optionally in
// brackets, become IP SANs; anything else a DNS SAN). Serial numbers are 128
// random bits. Both certificates are valid from `now` - 1h to
// `now` + `validity`.
//
// Returns InvalidArgument if a server name is empty or contains characters
// that cannot appear in a DNS name, or if `validity` is not positive;
// InternalError (with OpenSSL's error text) if OpenSSL fails.
absl::StatusOr<DevPki> CreateDevPki(
    const std::vector<std::string>& server_names, absl::Time now,
    absl::Duration validity = absl::Hours(24 * 365));

// Returns the lower-case hex SHA-256 of the DER encoding of the first
// certificate in `pem` (64 characters), the form parleyd prints and
// `parley --ca-fingerprint` accepts. Returns InvalidArgument if `pem` holds
// no parseable certificate.
absl::StatusOr<std::string> CertificateFingerprint(std::string_view pem);

// Checks a certificate chain and private key loaded from disk before the
// server uses them: both parse, the key belongs to the first (leaf)
// certificate, every certificate in the chain is valid at `now` and carries
// a good signature by the next one (the last by `ca_pem`'s certificate if
// given, or by itself if it is self-issued), so a damaged file stops the
// start instead of failing every handshake later. Returns OK if so;
// otherwise InvalidArgument for unparseable input, a key that does not
// match or a bad signature, FailedPrecondition for a certificate outside its
// validity period, each with a message an operator can act on (e.g. "server
// certificate expired on 2026-01-01 00:00:00 UTC").
absl::Status CheckCertificateAndKey(std::string_view cert_chain_pem,
                                    std::string_view key_pem, absl::Time now,
                                    std::string_view ca_pem = {});

}  // namespace parley

#endif  // PARLEY_SERVER_DEV_PKI_H_
