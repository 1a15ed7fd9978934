#ifndef PARLEY_SERVER_STATUS_UTIL_H_
#define PARLEY_SERVER_STATUS_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace parley {

// The one place where absl::Status becomes grpc::Status. Codes map one to
// one (they share numbering); the message is kept as written, since every
// internal error is worded for the person who will read it.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace parley

#endif  // PARLEY_SERVER_STATUS_UTIL_H_
