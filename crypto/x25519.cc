#include "crypto/x25519.h"

#include <sodium.h>

#include <array>
#include <cstdint>

namespace parley {
namespace {

using Point = std::array<uint8_t, kX25519KeySize>;

Point Repeated(uint8_t first, uint8_t middle, uint8_t last) {
  Point p;
  p.fill(middle);
  p.front() = first;
  p.back() = last;
  return p;
}

// Canonical encodings (u < p) of the u-coordinates of points whose order
// divides 8. X25519 with any of them yields the all-zero secret.
const std::array<Point, 5>& SmallOrderPoints() {
  static const std::array<Point, 5> points = {
      Repeated(0x00, 0x00, 0x00),  // u = 0, order 2
      Repeated(0x01, 0x00, 0x00),  // u = 1, order 4
      Repeated(0xec, 0xff, 0x7f),  // u = p - 1, order 4
      Point{0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
            0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
            0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
      Point{0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1,
            0x55, 0x9c, 0x83, 0xef, 0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c,
            0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57},
  };
  return points;
}

// True if the little-endian value is >= p = 2^255 - 19 or has bit 255 set.
bool IsNonCanonical(const uint8_t* u) {
  if (u[31] & 0x80) return true;
  if (u[31] != 0x7f) return false;
  for (int i = 30; i >= 1; --i) {
    if (u[i] != 0xff) return false;
  }
  return u[0] >= 0xed;
}

}  // namespace

X25519PrivateKey X25519PrivateKey::Generate(Random& random) {
  SecureBuffer secret(kX25519KeySize);
  random.Fill(secret.data(), secret.size());
  return *FromBytes(secret.view());
}

absl::StatusOr<X25519PrivateKey> X25519PrivateKey::FromBytes(
    std::string_view secret) {
  if (secret.size() != kX25519KeySize) {
    return absl::InvalidArgumentError("X25519 private key must be 32 bytes");
  }
  SecureBuffer buf(reinterpret_cast<const uint8_t*>(secret.data()),
                   secret.size());
  std::string pub(kX25519KeySize, '\0');
  crypto_scalarmult_base(reinterpret_cast<uint8_t*>(pub.data()), buf.data());
  return X25519PrivateKey(std::move(buf), std::move(pub));
}

absl::Status CheckX25519PublicKey(std::string_view public_key) {
  if (public_key.size() != kX25519KeySize) {
    return absl::InvalidArgumentError("X25519 public key must be 32 bytes");
  }
  const auto* u = reinterpret_cast<const uint8_t*>(public_key.data());
  if (IsNonCanonical(u)) {
    return absl::InvalidArgumentError(
        "X25519 public key is not canonically encoded");
  }
  for (const Point& p : SmallOrderPoints()) {
    if (sodium_memcmp(u, p.data(), p.size()) == 0) {
      return absl::InvalidArgumentError(
          "X25519 public key is a point of small order");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<SecureBuffer> X25519SharedSecret(
    const X25519PrivateKey& private_key, std::string_view peer_public_key) {
  if (absl::Status s = CheckX25519PublicKey(peer_public_key); !s.ok()) {
    return s;
  }
  SecureBuffer shared(crypto_scalarmult_BYTES);
  if (crypto_scalarmult(
          shared.data(), private_key.secret().data(),
          reinterpret_cast<const uint8_t*>(peer_public_key.data())) != 0) {
    return absl::UnauthenticatedError(
        "X25519 produced an all-zero shared secret");
  }
  return shared;
}

}  // namespace parley
