#ifndef PARLEY_CLIENT_CORE_IDENTITY_H_
#define PARLEY_CLIENT_CORE_IDENTITY_H_

// A device's private keys (its identity key and the signed prekeys it still
// keeps), how they are obtained from and saved to the profile's keystore
// (PROFILE/keystore, crypto/keystore.h), and signed-prekey rotation.

#include <cstdint>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crypto/keystore.h"
#include "crypto/prekey.h"
#include "crypto/random.h"
#include "crypto/secure_buffer.h"

namespace parley {

// Where the keystore passphrase comes from, first found: the file
// descriptor `fd` (when >= 0), $PARLEY_PASSPHRASE (then unset, so children
// do not inherit it), a prompt on the terminal without echo.
struct PassphraseSource {
  int fd = -1;
  bool allow_prompt = true;
};

// Obtains the passphrase. For a new keystore (`confirm`) a prompt asks
// twice. FailedPrecondition if no source is available (no terminal).
absl::StatusOr<SecureBuffer> ObtainPassphrase(const PassphraseSource& source,
                                              bool confirm);

// Signed prekeys live this long (the maximum).
inline constexpr absl::Duration kSignedPrekeyLifetime = kMaxPrekeyLifetime;

// The keys of one device. Move-only.
class DeviceKeys {
 public:
  // A new identity and signed prekey 1 valid from `now`.
  static absl::StatusOr<DeviceKeys> Generate(absl::Time now,
                                             Random& random = SystemRandom());
  // Opens PROFILE/keystore. NotFound if it does not exist; Unauthenticated
  // for a wrong passphrase; see ReadKeystoreFile.
  static absl::StatusOr<DeviceKeys> Load(const std::string& path,
                                         std::string_view passphrase);
  // Writes the keystore atomically (0600).
  absl::Status Save(const std::string& path, std::string_view passphrase,
                    Random& random = SystemRandom()) const;

  const Ed25519PrivateKey& identity() const { return contents_.identity; }
  std::span<const PrekeyPair> prekeys() const { return contents_.prekeys; }
  // The newest signed prekey (highest key id). REQUIRES: one exists.
  const PrekeyPair& current_signed_prekey() const;
  // The bundle to publish: identity key and current signed prekey; no
  // one-time prekeys (the server does not hand them out yet).
  KeyBundle Bundle() const;

  // Adds a new signed prekey (next key id) valid from `now` and returns the
  // bundle to publish; older private prekeys are kept until past grace.
  absl::StatusOr<KeyBundle> RotateSignedPrekey(
      absl::Time now, Random& random = SystemRandom());
  // Drops private prekeys past their grace period, except the current one.
  size_t EraseExpired(absl::Time now);

 private:
  explicit DeviceKeys(KeystoreContents contents)
      : contents_(std::move(contents)) {}
  KeystoreContents contents_;
};

}  // namespace parley

#endif  // PARLEY_CLIENT_CORE_IDENTITY_H_
