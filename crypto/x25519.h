#ifndef PARLEY_CRYPTO_X25519_H_
#define PARLEY_CRYPTO_X25519_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "crypto/random.h"
#include "crypto/secure_buffer.h"

namespace parley {

inline constexpr size_t kX25519KeySize = 32;

// An X25519 key-agreement key (used for prekeys and envelope ephemerals;
// never derived from an Ed25519 identity key). The 32-byte secret lives in a
// SecureBuffer. Move-only; thread-compatible.
class X25519PrivateKey {
 public:
  static X25519PrivateKey Generate(Random& random = SystemRandom());
  // Fails with InvalidArgument unless `secret` is exactly 32 bytes.
  static absl::StatusOr<X25519PrivateKey> FromBytes(std::string_view secret);

  X25519PrivateKey(X25519PrivateKey&&) = default;
  X25519PrivateKey& operator=(X25519PrivateKey&&) = default;

  // The 32-byte secret scalar as generated (clamping happens inside X25519).
  const SecureBuffer& secret() const { return secret_; }
  // 32-byte public u-coordinate, little-endian.
  const std::string& public_key() const { return public_key_; }

 private:
  X25519PrivateKey(SecureBuffer secret, std::string public_key)
      : secret_(std::move(secret)), public_key_(std::move(public_key)) {}

  SecureBuffer secret_;
  std::string public_key_;
};

// OK if `public_key` is acceptable as a peer key: exactly 32 bytes, canonical
// (high bit clear and u < 2^255 - 19) and not one of the points of small
// order (0, 1, -1 and the two points of order 8). Otherwise InvalidArgument.
absl::Status CheckX25519PublicKey(std::string_view public_key);

// X25519(private_key, peer_public_key). Fails with InvalidArgument if the
// peer key does not pass CheckX25519PublicKey, and with Unauthenticated if the
// shared secret is all zero (libsodium reports this as an error).
absl::StatusOr<SecureBuffer> X25519SharedSecret(
    const X25519PrivateKey& private_key, std::string_view peer_public_key);

}  // namespace parley

#endif  // PARLEY_CRYPTO_X25519_H_
