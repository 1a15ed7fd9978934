#ifndef PARLEY_CRYPTO_ENCODING_H_
#define PARLEY_CRYPTO_ENCODING_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace parley {

// Lower-case hexadecimal.
std::string HexEncode(std::string_view bytes);
// Accepts upper or lower case; fails with InvalidArgument on odd length or a
// non-hex character.
absl::StatusOr<std::string> HexDecode(std::string_view hex);

// Standard base64 with padding (RFC 4648 §4), as C2SP notes use.
std::string Base64Encode(std::string_view bytes);
// Strict: rejects missing padding, whitespace and non-alphabet characters
// with InvalidArgument.
absl::StatusOr<std::string> Base64Decode(std::string_view text);

}  // namespace parley

#endif  // PARLEY_CRYPTO_ENCODING_H_
