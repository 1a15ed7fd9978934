#include "client/core/message_limit.h"

#include "absl/strings/str_cat.h"

namespace parley {

absl::Status CheckEnvelopeFits(uint64_t envelope_bytes, uint64_t limit,
                               absl::string_view what,
                               absl::string_view advice) {
  if (envelope_bytes <= limit) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      what, " is ", envelope_bytes,
      " bytes sealed, over the server's limit of ", limit,
      " bytes (its limits.max_message_bytes), so the server could never log "
      "it; nothing was queued. ",
      advice));
}

}  // namespace parley
