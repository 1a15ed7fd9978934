#include "crypto/domain.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>

namespace parley {

std::string SigningInput(std::string_view tag, std::string_view body) {
  std::string out;
  out.reserve(tag.size() + 1 + body.size());
  out.append(tag);
  out.push_back('\0');
  out.append(body);
  return out;
}

void TaggedBlake2bTo(std::string_view tag, std::string_view key,
                     std::initializer_list<std::string_view> parts,
                     uint8_t* out, size_t out_len) {
  // Programming errors, not data errors: every caller passes constants.
  if (tag.size() > crypto_generichash_blake2b_PERSONALBYTES ||
      key.size() > crypto_generichash_blake2b_KEYBYTES_MAX ||
      out_len < crypto_generichash_blake2b_BYTES_MIN ||
      out_len > crypto_generichash_blake2b_BYTES_MAX) {
    std::abort();
  }
  uint8_t personal[crypto_generichash_blake2b_PERSONALBYTES] = {0};
  std::memcpy(personal, tag.data(), tag.size());
  const uint8_t salt[crypto_generichash_blake2b_SALTBYTES] = {0};

  crypto_generichash_blake2b_state state;
  crypto_generichash_blake2b_init_salt_personal(
      &state,
      key.empty() ? nullptr : reinterpret_cast<const uint8_t*>(key.data()),
      key.size(), out_len, salt, personal);
  for (std::string_view part : parts) {
    crypto_generichash_blake2b_update(
        &state, reinterpret_cast<const uint8_t*>(part.data()), part.size());
  }
  crypto_generichash_blake2b_final(&state, out, out_len);
  sodium_memzero(&state, sizeof(state));
}

std::string TaggedBlake2b(std::string_view tag, std::string_view key,
                          std::initializer_list<std::string_view> parts,
                          size_t out_len) {
  std::string out(out_len, '\0');
  TaggedBlake2bTo(tag, key, parts, reinterpret_cast<uint8_t*>(out.data()),
                  out_len);
  return out;
}

}  // namespace parley
