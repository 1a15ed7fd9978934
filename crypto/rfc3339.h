#ifndef PARLEY_CRYPTO_RFC3339_H_
#define PARLEY_CRYPTO_RFC3339_H_

// RFC 3339 times in UTC, the one textual time format of Parley: notification
// content, reports, proof bundles and the server's messages all use these.
// A time is evidence: the text every party reads must say the instant the
// writer meant, in the one zone everybody shares, so offsets other than
// zero are refused rather than normalised. Pure and thread-safe.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace parley {

// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+00:00|-00:00)" (T/Z in either
// case). InvalidArgument naming the problem otherwise, including a valid
// RFC 3339 time with a non-zero offset.
absl::StatusOr<absl::Time> ParseRfc3339Utc(std::string_view text);

// "YYYY-MM-DDTHH:MM:SSZ" with a four-digit year, and a fraction only when
// the time has one ("...:05.25Z").
std::string FormatRfc3339Utc(absl::Time t);

}  // namespace parley

#endif  // PARLEY_CRYPTO_RFC3339_H_
