#ifndef PARLEY_SERVER_DATA_DIR_H_
#define PARLEY_SERVER_DATA_DIR_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crypto/ed25519.h"

namespace parley {

// The on-disk layout of a parleyd data directory (mode 0700):
//
//   parleyd.json        identity of this server: format, origin, verifier key,
//                       CA fingerprint, creation time. Written last by init.
//   log-signing.key     Ed25519 seed of the log key (0600).
//   tls/ca.crt          development CA certificate (public).
//   tls/ca.key          development CA private key (0600).
//   tls/server.crt      server certificate chain (leaf, then CA).
//   tls/server.key      server private key (0600).
//   bootstrap-invite    one-time admin invite (0600); removed once redeemed.
//   db/                 RocksDB: the log and the indexes derived from it.
inline constexpr char kDataFormat[] = "parley-data/v1";

struct InitOptions {
  // Log origin; empty picks "<hostname>/parley/<8 random hex>".
  std::string origin;
  // Extra names for the server certificate (DNS names or IP addresses).
  std::vector<std::string> server_names;
  absl::Time now;
};

// What `parleyd init` prints.
struct InitResult {
  std::string ca_fingerprint;    // Lower-case hex SHA-256 of the CA's DER.
  std::string bootstrap_invite;  // One-time admin invite code.
  std::string origin;
  std::string verifier_key;      // C2SP verifier key of the log.
};

// Creates a new data directory at `path`: PKI, log key, bootstrap invite,
// identity file. The directory may not exist yet or be empty. Fails with
// AlreadyExists if it is already initialised and FailedPrecondition if it
// holds other files; on failure nothing is left that a later init or start
// would mistake for a valid directory (parleyd.json is written last).
absl::StatusOr<InitResult> InitDataDir(const std::string& path,
                                       const InitOptions& options);

// A validated, opened data directory. Immutable after Open.
class DataDir {
 public:
  // Checks, in order: the directory exists and is writable, parleyd.json is
  // present and well formed, the log key belongs to this directory, the TLS
  // material parses, matches and is not expired at `now`.
  // Errors: NotFound (missing: run `parleyd init`), PermissionDenied (not
  // writable), FailedPrecondition (not a parleyd directory, or files of
  // another server), DataLoss (corrupted file).
  static absl::StatusOr<std::unique_ptr<DataDir>> Open(
      const std::string& path, absl::Time now,
      const std::string& cert_file = "", const std::string& key_file = "");

  const std::string& path() const { return path_; }
  std::string db_path() const { return path_ + "/db"; }
  const std::string& origin() const { return origin_; }
  const std::string& verifier_key() const { return verifier_key_; }
  const std::string& ca_fingerprint() const { return ca_fingerprint_; }
  // SHA-256 of the bootstrap invite (32 raw bytes), as recorded at init.
  const std::string& bootstrap_invite_hash() const {
    return bootstrap_invite_hash_;
  }
  const Ed25519PrivateKey& log_key() const { return *log_key_; }
  const std::string& server_cert_chain_pem() const { return cert_chain_pem_; }
  const std::string& server_key_pem() const { return key_pem_; }
  // Path of the bootstrap invite file; it exists until the invite is used.
  std::string bootstrap_invite_path() const {
    return path_ + "/bootstrap-invite";
  }

 private:
  DataDir() = default;

  std::string path_;
  std::string origin_;
  std::string verifier_key_;
  std::string ca_fingerprint_;
  std::string bootstrap_invite_hash_;
  std::unique_ptr<Ed25519PrivateKey> log_key_;
  std::string cert_chain_pem_;
  std::string key_pem_;
};

}  // namespace parley

#endif  // PARLEY_SERVER_DATA_DIR_H_
