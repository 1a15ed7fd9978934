#include "crypto/ed25519.h"

#include <sodium.h>

namespace parley {

absl::Status InitCrypto() {
  static const int result = sodium_init();
  if (result < 0) return absl::InternalError("libsodium failed to initialise");
  return absl::OkStatus();
}

Ed25519PrivateKey Ed25519PrivateKey::Generate(Random& random) {
  SecureBuffer seed(kEd25519SeedSize);
  random.Fill(seed.data(), seed.size());
  return *FromSeed(seed.view());
}

absl::StatusOr<Ed25519PrivateKey> Ed25519PrivateKey::FromSeed(
    std::string_view seed) {
  if (seed.size() != kEd25519SeedSize) {
    return absl::InvalidArgumentError("Ed25519 seed must be 32 bytes");
  }
  SecureBuffer seed_buf(reinterpret_cast<const uint8_t*>(seed.data()),
                        seed.size());
  SecureBuffer secret(crypto_sign_SECRETKEYBYTES);
  std::string pub(crypto_sign_PUBLICKEYBYTES, '\0');
  crypto_sign_seed_keypair(reinterpret_cast<uint8_t*>(pub.data()),
                           secret.data(), seed_buf.data());
  return Ed25519PrivateKey(std::move(seed_buf), std::move(secret),
                           std::move(pub));
}

std::string Ed25519PrivateKey::Sign(std::string_view message) const {
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<uint8_t*>(sig.data()), nullptr,
                       reinterpret_cast<const uint8_t*>(message.data()),
                       message.size(), secret_key_.data());
  return sig;
}

absl::Status Ed25519Verify(std::string_view public_key,
                           std::string_view message,
                           std::string_view signature) {
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES) {
    return absl::InvalidArgumentError("Ed25519 public key must be 32 bytes");
  }
  if (signature.size() != crypto_sign_BYTES) {
    return absl::InvalidArgumentError("Ed25519 signature must be 64 bytes");
  }
  if (crypto_sign_verify_detached(
          reinterpret_cast<const uint8_t*>(signature.data()),
          reinterpret_cast<const uint8_t*>(message.data()), message.size(),
          reinterpret_cast<const uint8_t*>(public_key.data())) != 0) {
    return absl::UnauthenticatedError("Ed25519 signature does not verify");
  }
  return absl::OkStatus();
}

}  // namespace parley
