#ifndef PARLEY_CRYPTO_ED25519_H_
#define PARLEY_CRYPTO_ED25519_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "crypto/random.h"
#include "crypto/secure_buffer.h"

namespace parley {

inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SeedSize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

// Initialises libsodium. Idempotent and thread-safe; every entry point
// (parleyd, parley, tests) calls it before any other crypto/ function.
absl::Status InitCrypto();

// An Ed25519 signing key. The 32-byte seed and the expanded secret key live
// in a SecureBuffer. Move-only; thread-compatible (Sign is const and safe to
// call concurrently).
class Ed25519PrivateKey {
 public:
  static Ed25519PrivateKey Generate(Random& random = SystemRandom());
  // Fails with InvalidArgument unless `seed` is exactly 32 bytes.
  static absl::StatusOr<Ed25519PrivateKey> FromSeed(std::string_view seed);

  Ed25519PrivateKey(Ed25519PrivateKey&&) = default;
  Ed25519PrivateKey& operator=(Ed25519PrivateKey&&) = default;

  // 32-byte public key.
  const std::string& public_key() const { return public_key_; }
  // The seed, for serialisation into an encrypted keystore.
  const SecureBuffer& seed() const { return seed_; }
  // 64-byte detached signature over `message`.
  std::string Sign(std::string_view message) const;

 private:
  Ed25519PrivateKey(SecureBuffer seed, SecureBuffer secret_key,
                    std::string public_key)
      : seed_(std::move(seed)),
        secret_key_(std::move(secret_key)),
        public_key_(std::move(public_key)) {}

  SecureBuffer seed_;
  SecureBuffer secret_key_;
  std::string public_key_;
};

// Returns OK if `signature` is a valid Ed25519 signature of `message` by
// `public_key`; otherwise Unauthenticated (bad signature) or InvalidArgument
// (wrong key or signature length). Rejects small-order public keys (libsodium
// does so by default).
absl::Status Ed25519Verify(std::string_view public_key,
                           std::string_view message,
                           std::string_view signature);

}  // namespace parley

#endif  // PARLEY_CRYPTO_ED25519_H_
