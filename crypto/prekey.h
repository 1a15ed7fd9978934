#ifndef PARLEY_CRYPTO_PREKEY_H_
#define PARLEY_CRYPTO_PREKEY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crypto/clock.h"
#include "crypto/ed25519.h"
#include "crypto/random.h"
#include "crypto/x25519.h"

namespace parley {

// Prekeys: X25519 keys that a device publishes, signed by its Ed25519
// identity key, so senders can encrypt to it while it is offline. Layouts
// are in docs/PROTOCOL.md ("Signed prekeys", "Key bundles").

enum class PrekeyKind : uint8_t {
  kSigned = 1,   // medium-term, rotated at least every 7 days
  kOneTime = 2,  // used for at most one envelope, then erased
};

// A prekey may be valid for at most this long (expires_at - created_at).
inline constexpr absl::Duration kMaxPrekeyLifetime = absl::Hours(7 * 24);
// Owners rotate the signed prekey when it is this old, so a bundle fetched
// just before rotation stays usable for at least a day.
inline constexpr absl::Duration kPrekeyRotationAge = absl::Hours(6 * 24);
// Default time a private prekey is kept after it expires, so envelopes
// delayed by bad networks can still be opened. After it, erase.
inline constexpr absl::Duration kDefaultPrekeyGracePeriod =
    absl::Hours(14 * 24);
// Tolerated skew between the owner's clock and the verifier's.
inline constexpr absl::Duration kMaxClockSkew = absl::Minutes(5);

// The public, signed part of a prekey. Plain value type.
struct SignedPrekey {
  PrekeyKind kind = PrekeyKind::kSigned;
  uint32_t key_id = 0;     // chosen by the owner; non-zero, unique per kind
  std::string public_key;  // 32-byte X25519 public key
  int64_t created_at = 0;  // Unix seconds
  int64_t expires_at = 0;  // Unix seconds
  std::string signature;   // 64-byte Ed25519 signature by the identity key

  bool operator==(const SignedPrekey&) const = default;
};

// The bytes the signature covers (everything but the signature).
std::string SignedPrekeyBody(const SignedPrekey& prekey);
// Canonical encoding: SignedPrekeyBody || signature (119 bytes).
std::string SerializeSignedPrekey(const SignedPrekey& prekey);
inline constexpr size_t kSignedPrekeySize = 119;
// Strict parse: InvalidArgument on wrong length, unknown version or kind,
// zero key id, non-canonical or small-order key, or expires_at <= created_at.
// Does not check the signature or the time; see VerifySignedPrekey.
absl::StatusOr<SignedPrekey> ParseSignedPrekey(std::string_view bytes);

// A prekey together with its private part, as its owner keeps it.
struct PrekeyPair {
  SignedPrekey prekey;
  X25519PrivateKey private_key;
};

// Generates and signs a prekey valid from `created_at` for `lifetime`.
// InvalidArgument if key_id is 0, lifetime is not in (0, kMaxPrekeyLifetime]
// or created_at is before the Unix epoch.
absl::StatusOr<PrekeyPair> GeneratePrekey(const Ed25519PrivateKey& identity,
                                          PrekeyKind kind, uint32_t key_id,
                                          absl::Time created_at,
                                          absl::Duration lifetime,
                                          Random& random = SystemRandom());

// OK if `prekey` is signed by `identity_public_key` and valid at `at`:
//   Unauthenticated     bad signature (or signed by another identity);
//   FailedPrecondition  expired (at >= expires_at) or not yet valid
//                       (created_at > at + kMaxClockSkew);
//   InvalidArgument     malformed fields or lifetime over 7 days.
absl::Status VerifySignedPrekeyAt(std::string_view identity_public_key,
                                  const SignedPrekey& prekey, absl::Time at);
// Same, at clock.Now().
absl::Status VerifySignedPrekey(std::string_view identity_public_key,
                                const SignedPrekey& prekey,
                                const Clock& clock);

// True when the owner should publish a new signed prekey.
bool PrekeyNeedsRotation(const SignedPrekey& prekey, absl::Time now);
// True when the private part must be erased: `grace` after expiry.
bool PrekeyPastGrace(const SignedPrekey& prekey, absl::Time now,
                     absl::Duration grace = kDefaultPrekeyGracePeriod);

// What a device publishes through the server: its identity key, its current
// signed prekey and zero or more one-time prekeys. The server cannot forge
// one (every prekey is signed) but can withhold one-time prekeys.
struct KeyBundle {
  std::string identity_public_key;  // 32-byte Ed25519 public key
  SignedPrekey signed_prekey;
  std::vector<SignedPrekey> one_time_prekeys;

  bool operator==(const KeyBundle&) const = default;
};

inline constexpr size_t kMaxOneTimePrekeysPerBundle = 100;

std::string SerializeKeyBundle(const KeyBundle& bundle);
// Strict parse (InvalidArgument); signatures are not checked.
absl::StatusOr<KeyBundle> ParseKeyBundle(std::string_view bytes);
// The structure docs/PROTOCOL.md 5.2 requires of a bundle, without
// signatures or times: the signed-prekey slot holds a signed prekey
// (kind 1); every one-time slot a one-time prekey (kind 2), with distinct key
// ids, at most kMaxOneTimePrekeysPerBundle of them. InvalidArgument naming
// the rule otherwise.
absl::Status CheckKeyBundleStructure(const KeyBundle& bundle);
// CheckKeyBundleStructure, then every prekey of `bundle` against
// bundle.identity_public_key at `at` (see VerifySignedPrekeyAt). The caller
// must separately decide to trust bundle.identity_public_key (e.g. by
// comparing fingerprints).
absl::Status VerifyKeyBundleAt(const KeyBundle& bundle, absl::Time at);

}  // namespace parley

#endif  // PARLEY_CRYPTO_PREKEY_H_
