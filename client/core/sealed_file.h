#ifndef PARLEY_CLIENT_CORE_SEALED_FILE_H_
#define PARLEY_CLIENT_CORE_SEALED_FILE_H_

// Encryption at rest for the profile's state files (client/core/local_state.h).
//
// The state key is derived from the device's identity seed, which only the
// passphrase-protected keystore holds: BLAKE2b keyed with the seed,
// personalisation "parley/v1/state" (crypto/domain.h), 32 bytes. The
// keystore format (crypto/keystore.h) has no room for an extra secret, and a
// derived key needs none: whoever can open the keystore can open the state,
// and nobody else.
//
// Two layouts, both XChaCha20-Poly1305 (IETF) with a random 24-byte nonce
// per seal and the file's role ("state", "contacts", "messages") as
// associated data, so one file cannot be passed off as another:
//
//   whole file   "PLYSEAL1" || nonce || ciphertext
//   record log   "PLYRECS1" || { u32be(len) || nonce || ciphertext }*
//                (len counts nonce and ciphertext; appended one record at a
//                time, so a crash leaves at most one partial last record)

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "crypto/ed25519.h"
#include "crypto/random.h"
#include "crypto/secure_buffer.h"

namespace parley {

inline constexpr size_t kStateKeySize = 32;
inline constexpr std::string_view kStateKeyTag = "parley/v1/state";

// The profile's state key, derived from the identity seed.
SecureBuffer DeriveStateKey(const Ed25519PrivateKey& identity);

// Whole-file layout. OpenSealedFile: DataLoss (naming `path`) when the bytes
// are not a sealed file, are truncated, were modified, were sealed for
// another role or under another key (another identity's profile).
std::string SealFileBytes(const SecureBuffer& key, std::string_view role,
                          std::string_view plaintext,
                          Random& random = SystemRandom());
absl::StatusOr<std::string> OpenSealedFile(const SecureBuffer& key,
                                           std::string_view role,
                                           std::string_view bytes,
                                           const std::string& path);

// Record-log layout.
inline constexpr std::string_view kRecordLogMagic = "PLYRECS1";
// One record ready to append (without the file magic).
std::string SealRecord(const SecureBuffer& key, std::string_view role,
                       std::string_view plaintext,
                       Random& random = SystemRandom());
struct OpenedRecords {
  std::vector<std::string> records;
  // Bytes of the file that hold whole records (with the magic); anything
  // after is a partial record a crash left behind, which the caller cuts.
  size_t valid_size = 0;
};
// Opens every record. DataLoss (naming `path`) for a wrong magic, or a whole
// record that does not authenticate.
absl::StatusOr<OpenedRecords> OpenRecordLog(const SecureBuffer& key,
                                            std::string_view role,
                                            std::string_view bytes,
                                            const std::string& path);

}  // namespace parley

#endif  // PARLEY_CLIENT_CORE_SEALED_FILE_H_
