#ifndef PARLEY_CRYPTO_FINGERPRINT_H_
#define PARLEY_CRYPTO_FINGERPRINT_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace parley {

// Human-comparable renderings of identity keys for out-of-band checks (read
// aloud over a phone, compared on paper). Both are 60 decimal digits in 12
// groups of 5 separated by single spaces, e.g. "01234 56789 ... 43210".
// Algorithm in docs/PROTOCOL.md ("Fingerprints").

// Fingerprint of one Ed25519 identity key. InvalidArgument unless the key is
// 32 bytes.
absl::StatusOr<std::string> IdentityFingerprint(std::string_view identity_key);

// Fingerprint of a pair of identities: the same string on both sides,
// whichever order the keys are given in. InvalidArgument unless both keys
// are 32 bytes and distinct.
absl::StatusOr<std::string> PairFingerprint(std::string_view identity_key_a,
                                            std::string_view identity_key_b);

}  // namespace parley

#endif  // PARLEY_CRYPTO_FINGERPRINT_H_
