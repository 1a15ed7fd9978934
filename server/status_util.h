#ifndef PARLEY_SERVER_STATUS_UTIL_H_
#define PARLEY_SERVER_STATUS_UTIL_H_

#include <cstddef>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace parley {

// The one place where absl::Status becomes grpc::Status. Codes map one to
// one (they share numbering); the message is kept as written, since every
// internal error is worded for the person who will read it, but cut to
// kMaxStatusMessageBytes: a refusal never carries a caller's whole input
// back (each message quotes input through Quote; this is the backstop).
grpc::Status ToGrpcStatus(const absl::Status& status);
inline constexpr size_t kMaxStatusMessageBytes = 1024;

// `input` (from a request) for an error message: in double quotes, C-escaped
// (no control bytes reach a terminal), at most kMaxQuotedBytes of it; a
// longer input is cut and its size said: "abc..." (300000 bytes).
std::string Quote(absl::string_view input);
inline constexpr size_t kMaxQuotedBytes = 100;

}  // namespace parley

#endif  // PARLEY_SERVER_STATUS_UTIL_H_
