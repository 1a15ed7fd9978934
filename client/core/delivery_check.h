#ifndef PARLEY_CLIENT_CORE_DELIVERY_CHECK_H_
#define PARLEY_CLIENT_CORE_DELIVERY_CHECK_H_

// What a device checks of every log entry the server delivers, before it
// stores, shows or answers it: what anyone can verify from the entry's
// bytes alone, whatever this device's keys. parleyd checks the same when it
// accepts an envelope or a receipt, so an honest log never holds an entry
// that fails: a failure means the bytes were damaged or altered after they
// were logged (a broken disk, a broken or malicious server). The device then
// never skips the entry (Device::Sync keeps its cursor before it and keeps
// the bytes, client/core/rejected_entries.h). Pure; thread-safe.

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "storage/tlog/log_entry.h"

namespace parley {

// Decodes `bytes`, the delivered log entry `index`, and checks every signed
// object in it: each envelope (a message, a notification version, status,
// cancellation or objection reason) parses strictly and its signature
// verifies under the identity it names, and a message or notification
// version names the channel its entry files it under; each receipt parses
// and its signature verifies under the identity it names.
// DataLoss "log entry INDEX failed verification: REASON" otherwise.
// Does not check who signed: that needs the directory (Device::OpenEntry).
absl::StatusOr<LogEntry> CheckDeliveredEntry(uint64_t index,
                                             std::string_view bytes);

}  // namespace parley

#endif  // PARLEY_CLIENT_CORE_DELIVERY_CHECK_H_
