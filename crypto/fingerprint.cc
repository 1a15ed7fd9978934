#include "crypto/fingerprint.h"

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "crypto/domain.h"
#include "crypto/ed25519.h"

namespace parley {
namespace {

constexpr int kGroups = 12;
constexpr int kBytesPerGroup = 5;

// Renders the first 60 bytes of a 64-byte digest: each 5-byte big-endian
// chunk modulo 100000, zero-padded to 5 digits.
std::string RenderDigits(std::string_view digest) {
  std::string out;
  for (int g = 0; g < kGroups; ++g) {
    uint64_t v = 0;
    for (int i = 0; i < kBytesPerGroup; ++i) {
      v = (v << 8) | static_cast<uint8_t>(digest[g * kBytesPerGroup + i]);
    }
    if (g > 0) out.push_back(' ');
    absl::StrAppendFormat(&out, "%05d", static_cast<int>(v % 100000));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> IdentityFingerprint(std::string_view identity_key) {
  if (identity_key.size() != kEd25519PublicKeySize) {
    return absl::InvalidArgumentError("identity key must be 32 bytes");
  }
  return RenderDigits(TaggedBlake2b(kFingerprintTag, {}, {identity_key}, 64));
}

absl::StatusOr<std::string> PairFingerprint(std::string_view identity_key_a,
                                            std::string_view identity_key_b) {
  if (identity_key_a.size() != kEd25519PublicKeySize ||
      identity_key_b.size() != kEd25519PublicKeySize) {
    return absl::InvalidArgumentError("identity keys must be 32 bytes");
  }
  if (identity_key_a == identity_key_b) {
    return absl::InvalidArgumentError(
        "a pair fingerprint needs two different identity keys");
  }
  std::string_view low = identity_key_a, high = identity_key_b;
  if (high < low) std::swap(low, high);
  return RenderDigits(TaggedBlake2b(kPairFingerprintTag, {}, {low, high}, 64));
}

}  // namespace parley
