#ifndef PARLEY_CRYPTO_PADDING_H_
#define PARLEY_CRYPTO_PADDING_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace parley {

// Payload padding, so ciphertext lengths reveal only a size bucket.
// Buckets are 256 * 2^k bytes up to 1 MiB, then multiples of 1 MiB.
// A padded payload is `payload || 0x80 || 0x00...` filling its bucket
// (ISO/IEC 7816-4), so a payload of n bytes takes the smallest bucket of at
// least n + 1 bytes.

inline constexpr size_t kMaxPayloadSize = 16 * 1024 * 1024 - 1;

// The bucket a payload of `payload_size` bytes is padded to.
// REQUIRES: payload_size <= kMaxPayloadSize.
size_t PaddedSize(size_t payload_size);
// True if `size` is a bucket size.
bool IsPaddedSize(size_t size);

// InvalidArgument if the payload is larger than kMaxPayloadSize.
absl::StatusOr<std::string> PadPayload(std::string_view payload);
// Strict: InvalidArgument unless `padded` has a bucket size, ends in
// 0x80 0x00* and its payload would be padded to exactly this bucket.
absl::StatusOr<std::string> UnpadPayload(std::string_view padded);

}  // namespace parley

#endif  // PARLEY_CRYPTO_PADDING_H_
