#ifndef PARLEY_CLIENT_CORE_MESSAGE_LIMIT_H_
#define PARLEY_CLIENT_CORE_MESSAGE_LIMIT_H_

// The server's size limit on one sealed envelope, checked by the client
// before work is queued: an envelope over it can never be logged, so it
// must be refused at once rather than wait in the outbox for ever.

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace parley {

// parleyd's default `[limits] max_message_bytes` (deploy/parleyd.toml,
// docs/PROTOCOL.md 14.1): the limit a client checks against when its server
// did not report its own (Info/GetServerInfo max_message_bytes).
inline constexpr uint64_t kDefaultMaxMessageBytes = 256 * 1024;

// OK if a sealed envelope of `envelope_bytes` is within `limit`. Else
// InvalidArgument: "`what` is N bytes sealed, over the server's limit of
// L bytes ...; nothing was queued. `advice`".
absl::Status CheckEnvelopeFits(uint64_t envelope_bytes, uint64_t limit,
                               absl::string_view what,
                               absl::string_view advice);

}  // namespace parley

#endif  // PARLEY_CLIENT_CORE_MESSAGE_LIMIT_H_
