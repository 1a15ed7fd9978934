#ifndef PARLEY_CLIENT_CORE_REJECTED_ENTRIES_H_
#define PARLEY_CLIENT_CORE_REJECTED_ENTRIES_H_

// Evidence of log entries a device refused: the exact bytes the server
// delivered for an entry that failed verification
// (client/core/delivery_check.h), kept in the profile so that the user can show
// the operator or an inquiry what was received. The entry is fetched again on
// the next sync; these files stay until removed by hand.
//
//   PROFILE/rejected/INDEX-HASH.entry  the bytes as delivered
//   PROFILE/rejected/INDEX-HASH.json   {"index", "reason", "received_at",
//                                       "sha256", "bytes"}
//
// HASH is the first 16 hex digits of the bytes' SHA-256, so each distinct
// bad copy of one entry is kept once. Files are mode 0600 and not sealed:
// they hold only what the server sent (server-visible metadata and
// ciphertext), and must be readable for an audit without the passphrase.
// Not thread-safe for one profile (one process per profile).

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace parley {

// Writes the evidence of entry `index` under `profile_dir`, unless this
// copy is kept already. Returns the path of the .entry file. An error if
// the directory or a file cannot be written (the path and errno text).
absl::StatusOr<std::string> KeepRejectedEntry(const std::string& profile_dir,
                                              uint64_t index,
                                              std::string_view bytes,
                                              absl::string_view reason,
                                              absl::Time received_at);

}  // namespace parley

#endif  // PARLEY_CLIENT_CORE_REJECTED_ENTRIES_H_
