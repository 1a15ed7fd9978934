#include "crypto/encoding.h"

#include <sodium.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"

namespace parley {

std::string HexEncode(std::string_view bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(),
                 reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  out.resize(bytes.size() * 2);
  return out;
}

absl::StatusOr<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return absl::InvalidArgumentError("hex string has odd length");
  }
  std::string out(hex.size() / 2, '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(reinterpret_cast<uint8_t*>(out.data()), out.size(),
                     hex.data(), hex.size(), nullptr, &len, &end) != 0 ||
      end != hex.data() + hex.size() || len != out.size()) {
    return absl::InvalidArgumentError("not a valid hex string");
  }
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  constexpr int kVariant = sodium_base64_VARIANT_ORIGINAL;
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(),
                    reinterpret_cast<const uint8_t*>(bytes.data()),
                    bytes.size(), kVariant);
  out.resize(out.size() - 1);  // Drop the terminating NUL.
  return out;
}

absl::StatusOr<std::string> Base64Decode(std::string_view text) {
  // libsodium 1.0.18 takes some bytes outside the alphabet (0xc1, ...) for
  // digits, so a text would have more than one encoding; only RFC 4648's
  // alphabet and '=' get through to it.
  for (char c : text) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '+' &&
        c != '/' && c != '=') {
      return absl::InvalidArgumentError("not valid base64");
    }
  }
  std::string out(text.size() / 4 * 3 + 3, '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<uint8_t*>(out.data()), out.size(),
                        text.data(), text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return absl::InvalidArgumentError("not valid base64");
  }
  out.resize(len);
  return out;
}

}  // namespace parley
