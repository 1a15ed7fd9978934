#include "crypto/hash.h"

#include <sodium.h>

namespace parley {

std::string Sha256(std::string_view data) { return Sha256({data}); }

std::string Sha256(std::initializer_list<std::string_view> parts) {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  for (std::string_view part : parts) {
    crypto_hash_sha256_update(
        &state, reinterpret_cast<const uint8_t*>(part.data()), part.size());
  }
  std::string out(kSha256Size, '\0');
  crypto_hash_sha256_final(&state, reinterpret_cast<uint8_t*>(out.data()));
  return out;
}

}  // namespace parley
