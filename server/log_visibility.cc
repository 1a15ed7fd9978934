#include "server/log_visibility.h"

#include <optional>
#include <string>
#include <type_traits>
#include <variant>

#include "server/ledger.h"
#include "spdlog/spdlog.h"
#include "storage/tlog/log_entry.h"

namespace parley {

namespace {

// The member who wrote the entry, if any.
std::string Author(const EntryBody& body) {
  return std::visit(
      [](const auto& e) -> std::string {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, ChannelCreated>) return e.created_by;
        if constexpr (std::is_same_v<T, ChannelMembersChanged>) {
          return e.changed_by;
        }
        if constexpr (std::is_same_v<T, EnvelopeEntry>) return e.sender;
        if constexpr (std::is_same_v<T, ReceiptEntry>) return e.recipient;
        if constexpr (std::is_same_v<T, NotificationVersion>) return e.issuer;
        if constexpr (std::is_same_v<T, NotificationAck>) return e.party;
        if constexpr (std::is_same_v<T, NotificationCancelled>) {
          return e.cancelled_by;
        }
        if constexpr (std::is_same_v<T, NotificationStatus>) {
          return e.posted_by;
        }
        return "";
      },
      body);
}

// The notification an entry is about, if any: its versions, answers,
// escalations, cancellations, statuses, and delivery receipts of a version.
std::optional<std::string> NotificationOf(const Ledger& ledger,
                                          const EntryBody& body) {
  return std::visit(
      [&ledger](const auto& e) -> std::optional<std::string> {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, NotificationVersion> ||
                      std::is_same_v<T, NotificationAck> ||
                      std::is_same_v<T, Escalation> ||
                      std::is_same_v<T, NotificationCancelled> ||
                      std::is_same_v<T, NotificationStatus>) {
          return e.id;
        } else if constexpr (std::is_same_v<T, ReceiptEntry>) {
          std::optional<std::pair<std::string, uint32_t>> version =
              ledger.state().NotificationAt(e.envelope_index);
          if (!version.has_value()) return std::nullopt;
          return version->first;
        } else {
          return std::nullopt;
        }
      },
      body);
}

}  // namespace

bool MayReadEntry(Ledger& ledger, const Caller& caller, uint64_t index,
                  std::string_view entry) {
  switch (caller.role) {
    case MemberRole::kAdmin:
    case MemberRole::kMediator:
    case MemberRole::kObserver:
      return true;
    case MemberRole::kCoordinator:
    case MemberRole::kParty:
      break;
  }
  absl::StatusOr<LogEntry> decoded = DecodeLogEntry(entry);
  if (!decoded.ok()) return false;
  const EntryBody& body = decoded->body;
  if (std::holds_alternative<MemberRegistered>(body) ||
      std::holds_alternative<KeyBundlePublished>(body) ||
      std::holds_alternative<MemberRevoked>(body)) {
    return true;  // The directory every member already sees.
  }
  if (const auto* invite = std::get_if<InviteCreated>(&body)) {
    return invite->name == caller.name;
  }
  if (Author(body) == caller.name) return true;
  if (std::optional<std::string> id = NotificationOf(ledger, body);
      id.has_value() && ledger.state().OnIssuingSide(*id, caller.name)) {
    return true;  // The issuing side follows every party's answers.
  }
  absl::StatusOr<std::optional<std::string>> addressed =
      ledger.log().GetIndex(index_cf::kInbox, InboxKey(caller.name, index));
  if (!addressed.ok()) {
    // Withheld (fail closed), but never silently: the index is damaged.
    spdlog::error(
        "reading the inbox index of {} at {} failed: {}; entry withheld. Run "
        "`parleyd check`",
        caller.name, index, addressed.status().ToString());
    return false;
  }
  return addressed->has_value();
}

}  // namespace parley
