#ifndef PARLEY_CRYPTO_KEYSTORE_H_
#define PARLEY_CRYPTO_KEYSTORE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crypto/ed25519.h"
#include "crypto/prekey.h"
#include "crypto/random.h"

namespace parley {

// The device keystore: every private key of a device in one file, encrypted
// with XChaCha20-Poly1305 under a key derived from a passphrase with
// Argon2id. File format in docs/PROTOCOL.md ("Keystore file").

// Argon2id cost. Interactive: 2 passes, 64 MiB (libsodium's
// OPSLIMIT/MEMLIMIT_INTERACTIVE). Moderate: 3 passes, 256 MiB.
enum class KdfStrength { kInteractive, kModerate };

// A device's secrets. Move-only (the keys are).
struct KeystoreContents {
  Ed25519PrivateKey identity;
  // Signed and one-time prekeys whose private parts are still kept.
  std::vector<PrekeyPair> prekeys;
};

inline constexpr size_t kKeystoreHeaderSize = 70;
inline constexpr size_t kMaxKeystorePrekeys = 4096;

// Encrypts `contents` into keystore file bytes. Draws the salt (16 bytes)
// then the nonce (24) from `random`. Errors: InvalidArgument (empty
// passphrase, too many prekeys), ResourceExhausted (Argon2id could not get
// its memory).
absl::StatusOr<std::string> SealKeystore(const KeystoreContents& contents,
                                         std::string_view passphrase,
                                         KdfStrength strength,
                                         Random& random = SystemRandom());

// Decrypts keystore file bytes. Errors, each with a message for the user:
//   DataLoss          truncated or extended file, KDF limits out of range;
//   InvalidArgument   not a keystore (bad magic), unsupported version or KDF;
//   Unauthenticated   wrong passphrase, or a modified file (the two cannot
//                     be told apart);
//   ResourceExhausted Argon2id could not get its memory.
absl::StatusOr<KeystoreContents> OpenKeystore(std::string_view file_bytes,
                                              std::string_view passphrase);

// Writes the sealed keystore to `path` atomically: a temporary file in the
// same directory, mode 0600, fsync, rename over `path`, fsync of the
// directory. On failure `path` is untouched and the temporary file removed.
absl::Status WriteKeystoreFile(const std::string& path,
                               const KeystoreContents& contents,
                               std::string_view passphrase,
                               KdfStrength strength,
                               Random& random = SystemRandom());

// Reads and opens `path`. NotFound if it does not exist; FailedPrecondition
// if group or others may read or write it (fix with chmod 600); otherwise as
// OpenKeystore.
absl::StatusOr<KeystoreContents> ReadKeystoreFile(const std::string& path,
                                                  std::string_view passphrase);

// Erases (drops, wiping their memory) private prekeys that are `grace` past
// expiry. Returns how many were erased. Callers then rewrite the file.
size_t ErasePrekeysPastGrace(KeystoreContents& contents, absl::Time now,
                             absl::Duration grace = kDefaultPrekeyGracePeriod);

// Erases one one-time prekey (after OpenEnvelope consumed it). NotFound if
// there is no one-time prekey with that id.
absl::Status EraseOneTimePrekey(KeystoreContents& contents, uint32_t key_id);

}  // namespace parley

#endif  // PARLEY_CRYPTO_KEYSTORE_H_
