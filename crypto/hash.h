#ifndef PARLEY_CRYPTO_HASH_H_
#define PARLEY_CRYPTO_HASH_H_

#include <string>
#include <string_view>

namespace parley {

inline constexpr size_t kSha256Size = 32;

// SHA-256 of the concatenation of `parts`. Returns 32 raw bytes.
std::string Sha256(std::string_view data);
std::string Sha256(std::initializer_list<std::string_view> parts);

}  // namespace parley

#endif  // PARLEY_CRYPTO_HASH_H_
