#include "client/core/delivery_check.h"

#include <string>
#include <variant>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "crypto/envelope.h"
#include "crypto/receipt.h"
#include "storage/tlog/log_entry.h"

namespace parley {
namespace {

// OK if `envelope` parses and is signed by the identity it names and, when
// `channel` is not empty, is sealed for that channel. Else why not.
absl::Status CheckEnvelope(absl::string_view what, std::string_view envelope,
                           absl::string_view channel) {
  absl::StatusOr<ParsedEnvelope> parsed = ParseEnvelope(envelope);
  if (absl::IsUnauthenticated(parsed.status())) {
    return absl::DataLossError(
        absl::StrCat("the signature of its ", what, " does not verify"));
  }
  if (!parsed.ok()) {
    return absl::DataLossError(absl::StrCat(
        "its ", what, " is malformed: ", parsed.status().message()));
  }
  if (!channel.empty() && parsed->header.metadata.channel_id != channel) {
    return absl::DataLossError(
        absl::StrCat("its ", what,
                     " was sealed for another channel than the "
                     "one the entry names"));
  }
  return absl::OkStatus();
}

// OK if `receipt` parses and is signed by the identity it names.
absl::Status CheckReceipt(std::string_view receipt) {
  absl::StatusOr<Receipt> parsed = ParseReceipt(receipt);
  if (!parsed.ok()) {
    return absl::DataLossError(
        absl::StrCat("its receipt is malformed: ", parsed.status().message()));
  }
  if (absl::StatusOr<Receipt> v = VerifyReceipt(
          receipt, parsed->recipient_identity, parsed->envelope_hash);
      !v.ok()) {
    return absl::DataLossError("the signature of its receipt does not verify");
  }
  return absl::OkStatus();
}

// The checks of CheckDeliveredEntry for one decoded entry.
absl::Status CheckSigned(const LogEntry& entry) {
  if (const auto* e = std::get_if<EnvelopeEntry>(&entry.body)) {
    return CheckEnvelope("envelope", e->envelope, e->channel);
  }
  if (const auto* r = std::get_if<ReceiptEntry>(&entry.body)) {
    return CheckReceipt(r->receipt);
  }
  if (const auto* v = std::get_if<NotificationVersion>(&entry.body)) {
    return CheckEnvelope("notification envelope", v->envelope,
                         NotificationChannel(v->id));
  }
  if (const auto* a = std::get_if<NotificationAck>(&entry.body)) {
    if (absl::Status s = CheckReceipt(a->receipt); !s.ok()) return s;
    if (a->reason_envelope.empty()) return absl::OkStatus();
    return CheckEnvelope("objection envelope", a->reason_envelope, "");
  }
  if (const auto* c = std::get_if<NotificationCancelled>(&entry.body)) {
    if (c->reason_envelope.empty()) return absl::OkStatus();
    return CheckEnvelope("cancellation envelope", c->reason_envelope, "");
  }
  if (const auto* s = std::get_if<NotificationStatus>(&entry.body)) {
    return CheckEnvelope("status envelope", s->envelope, "");
  }
  return absl::OkStatus();  // nothing signed in it to check
}

}  // namespace

absl::StatusOr<LogEntry> CheckDeliveredEntry(uint64_t index,
                                             std::string_view bytes) {
  absl::StatusOr<LogEntry> entry = DecodeLogEntry(bytes);
  absl::Status s = entry.ok()
                       ? CheckSigned(*entry)
                       : absl::DataLossError(absl::StrCat(
                             "it does not decode: ", entry.status().message()));
  if (!s.ok()) {
    return absl::DataLossError(absl::StrCat(
        "log entry ", index, " failed verification: ", s.message()));
  }
  return entry;
}

}  // namespace parley
