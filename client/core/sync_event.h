#ifndef PARLEY_CLIENT_CORE_SYNC_EVENT_H_
#define PARLEY_CLIENT_CORE_SYNC_EVENT_H_

// What Device::Sync reports for each new log entry it delivers, and the
// verified receipts it shows.

#include <cstdint>
#include <string>
#include <vector>

#include "client/core/local_state.h"

namespace parley {

// A verified receipt from ListReceipts.
struct ReceiptView {
  uint64_t log_index = 0;
  std::string recipient;
  std::string level;  // "delivered", "acknowledged", "objected"
  int64_t time = 0;
  bool verified = false;
  std::string problem;  // why it did not verify
};

// What Sync reports, in log order.
struct SyncEvent {
  enum class Kind { kMessage, kReceipt, kChannel, kNotification, kWarning };
  Kind kind = Kind::kMessage;
  uint64_t index = 0;
  StoredMessage message;     // kMessage
  ReceiptView receipt;       // kReceipt
  uint64_t envelope_index = 0;  // kReceipt: which envelope
  std::string channel;       // kChannel
  std::vector<std::string> members;  // kChannel
  std::string text;          // kChannel, kNotification, kWarning
  // kNotification: a logged event about a notification (a version, an
  // acknowledgement or objection, an escalation step, a cancellation, a
  // status); kReceipt for a notification version: its id.
  std::string notification_id;
  std::string entry_type;    // kNotification: log entry type name
  uint32_t version = 0;      // kNotification
  std::string member;        // kNotification: issuer, party, poster
  std::string error;         // kNotification: could not open or verify
  // kNotification, escalation entries: "reminder", "escalation",
  // "second-escalation" or "review-due" (EscalationName).
  std::string step;
};

}  // namespace parley

#endif  // PARLEY_CLIENT_CORE_SYNC_EVENT_H_
