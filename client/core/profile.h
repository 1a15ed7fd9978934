#ifndef PARLEY_CLIENT_CORE_PROFILE_H_
#define PARLEY_CLIENT_CORE_PROFILE_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace parley {

// Where a profile's state lives. The base directory is, first found:
// --home DIR, $PARLEY_HOME, $XDG_DATA_HOME/parley, ~/.local/share/parley.
// Each profile is a subdirectory named after it (default "default"), mode
// 0700; files in it are 0600.
absl::StatusOr<std::string> ResolveProfileDir(const std::string& home_flag,
                                              const std::string& profile);

// The server a profile talks to, remembered after the first successful
// connection so later commands need no --server / --ca-fingerprint.
struct ServerPin {
  std::string address;         // HOST:PORT
  std::string ca_fingerprint;  // lower-case hex SHA-256 of the CA's DER
  std::string ca_pem;          // the pinned CA certificate
};

// A profile's state directory. Not thread-safe; one process uses it at a
// time.
class Profile {
 public:
  // Creates the directory if needed. Fails with FailedPrecondition if it
  // exists but is not a parley profile (foreign files, corrupted state),
  // with a message naming the file.
  static absl::StatusOr<Profile> Open(const std::string& dir);

  const std::string& dir() const { return dir_; }

  // The stored pin, if any. DataLoss if the stored files are corrupted.
  absl::StatusOr<std::optional<ServerPin>> LoadServerPin() const;
  absl::Status SaveServerPin(const ServerPin& pin) const;

 private:
  explicit Profile(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace parley

#endif  // PARLEY_CLIENT_CORE_PROFILE_H_
