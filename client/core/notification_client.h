#ifndef PARLEY_CLIENT_CORE_NOTIFICATION_CLIENT_H_
#define PARLEY_CLIENT_CORE_NOTIFICATION_CLIENT_H_

// Movement and site notifications (PROTOCOL.md sections 15 and 16) as one
// enrolled device issues, answers, reads and proves them. Content is sealed
// to the audience: the parties, every unrevoked mediator and the
// coordinators of the issuer's organisation, each key bundle verified
// against the log. "Acknowledged" always means acknowledged receipt.
// Issuing and answering go through the outbox (client/core/outbox.h), so
// they survive a broken network; reading proves every entry against the log
// (client/core/log_client.h).

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "client/core/auth.h"
#include "client/core/identity.h"
#include "client/core/local_state.h"
#include "client/core/log_client.h"
#include "client/core/message_limit.h"
#include "client/core/outbox.h"
#include "client/core/recipients.h"
#include "client/core/session.h"
#include "client/core/sync_event.h"
#include "client/deconfliction/notification_content.h"
#include "crypto/clock.h"
#include "crypto/envelope.h"
#include "crypto/random.h"
#include "nlohmann/json_fwd.hpp"
#include "parley/v1/identity.pb.h"
#include "parley/v1/notifications.pb.h"
#include "storage/tlog/log_entry.h"

namespace parley {

// What Notify did.
struct NotifyResult {
  uint64_t log_index = 0;
  uint32_t version = 0;
  bool duplicate = false;
  bool late = false;
  int64_t lead_time_seconds = 0;
  int64_t required_lead_time_seconds = 0;
  std::vector<FieldChange> changes;  // amendments: against the old version
  // Sealed and signed but not yet accepted (the server could not be
  // reached): it waits in the outbox as `outbox_id`; log_index is 0.
  bool queued = false;
  std::string outbox_id;
  std::string queued_reason;
};

// What AcknowledgeNotification did.
struct AckResult {
  uint32_t version = 0;  // the version answered
  uint64_t log_index = 0;
  bool duplicate = false;
  bool queued = false;  // as NotifyResult::queued
  std::string outbox_id;
  std::string queued_reason;
};

// One logged event about a notification, opened where it is encrypted.
struct NotificationEvent {
  uint64_t index = 0;
  int64_t logged_at_ms = 0;
  std::string kind;   // log entry type name ("notification-ack", ...)
  uint32_t version = 0;
  std::string member;  // party, poster or canceller
  std::string text;    // what happened, for people
  std::string error;   // could not open or verify
  std::string step;    // escalation entries: as SyncEvent::step
};

// One version of a notification, opened.
struct NotificationVersionView {
  uint32_t version = 0;
  uint64_t log_index = 0;
  int64_t logged_at_ms = 0;
  bool late = false;
  std::string envelope_hash;
  std::optional<NotificationContent> content;
  std::string error;  // non-empty: content could not be opened
};

// What `parley notification show` shows.
struct NotificationView {
  v1::NotificationState state;
  // Ascending; a party sees only the current version.
  std::vector<NotificationVersionView> versions;
  std::vector<NotificationEvent> events;  // log order (not for parties)
};

// One notification of NotifyBatch.
struct BatchNotification {
  NotificationContent content;
  // The id was derived from the notification's source (a line of a file,
  // DeriveNotificationId), so the same source always names the same
  // notification: the server's "already exists" for a version 1 this
  // device's member issued is then answered as a duplicate (an earlier
  // run logged it), not as an error.
  bool derived_id = false;
};

struct NotifyBatchOptions {
  // Notify calls in flight at once.
  int max_in_flight = 8;
  // Called on this thread with each item's index and result, as each
  // group of items is answered.
  std::function<void(size_t, const absl::StatusOr<NotifyResult>&)> on_result;
};

// Not thread-safe; one per Device, which owns everything it is given.
class NotificationClient {
 public:
  struct Options {
    // Fail (Unavailable) instead of queueing (--require-online).
    bool require_online = false;
    // The largest sealed envelope the server accepts.
    uint64_t max_message_bytes = 0;
  };
  // What it asks the device for.
  struct Directory {
    // The member directory from the server, cached in the state.
    std::function<absl::StatusOr<std::vector<v1::Member>>()> list_members;
    // `name`'s identity key as the verified directory holds it.
    std::function<absl::StatusOr<std::string>(const std::string& name)>
        member_key;
  };

  NotificationClient(Session& session, SessionAuthenticator& auth,
                     LocalState& state, const ProfileIdentity& identity,
                     const DeviceKeys& keys, const Clock& clock,
                     Random& random, RecipientResolver& recipients,
                     Outbox& outbox, DeviceLog& log, Directory directory,
                     Options options)
      : session_(session),
        auth_(auth),
        state_(state),
        identity_(identity),
        keys_(keys),
        clock_(clock),
        random_(random),
        recipients_(recipients),
        outbox_(outbox),
        log_(log),
        directory_(std::move(directory)),
        options_(options) {}

  // `sealed` (what sealing filled in) completed with the server's answer
  // to its "notify" work, sent now or by a later flush.
  static NotifyResult NotifyAnswered(const OutboxAnswer& answer,
                                     NotifyResult sealed);
  // Validates `content` (InvalidArgument listing every problem), seals it
  // and submits it through the outbox (Outbox::Submit, kind "notify", the
  // envelope's client message id as idempotency id). Version 1 is new; a
  // later version must supersede the current one (FailedPrecondition
  // otherwise) and needs the server. A new notification can be sealed
  // while the server cannot be reached from the member list and verified
  // key bundles this device cached when online; then it is queued
  // (NotifyResult::queued). Unavailable, saying why, when the cache lacks
  // them or with Options::require_online.
  absl::StatusOr<NotifyResult> Notify(const NotificationContent& content);
  // `notify --from-file`: Notify for every item, in bulk. The directory is
  // listed once and each audience member's key bundle verified once for the
  // whole batch (a member first named by a later item is verified then;
  // if the server says the audience changed meanwhile, both are fetched
  // again and the item sealed again, once). New notifications (version 1)
  // are sealed and recorded in the outbox a group at a time (one state
  // write per group, not per item) and sent with up to max_in_flight calls
  // in flight; calls the server's rate limit refuses wait and go again
  // (SessionAuthenticator::Call), so a long batch runs at the server's pace.
  // Amendments, and notifications with work already queued under the same
  // id, go one at a time through Notify, in their place. Returns one result
  // per item, in order, each as Notify's: queued when the server cannot be
  // reached, the server's refusal otherwise.
  std::vector<absl::StatusOr<NotifyResult>> NotifyBatch(
      const std::vector<BatchNotification>& items,
      const NotifyBatchOptions& options);
  // A notification id derived from `source` and this device's identity
  // secret: `prefix` and 16 hex digits, the same for the same source on
  // every run, unlinkable to the source by anyone without the keystore.
  std::string DeriveNotificationId(std::string_view prefix,
                                   std::string_view source) const;
  // Also remembers the states for this Device's lifetime: ShowNotification
  // of a listed id then uses the listed state, and its first call fetches
  // the entries of every listed notification in one batch (`notifications
  // export` lists then shows each).
  absl::StatusOr<std::vector<v1::NotificationState>> ListNotifications();
  // NotFound if this device is not in the notification's audience. Log
  // entries come from the verified-entry cache (LocalState::VerifiedEntry)
  // or are fetched in parallel and verified against one checkpoint.
  absl::StatusOr<NotificationView> ShowNotification(const std::string& id);
  // Parties: acknowledged receipt of the current version, or (with a
  // non-empty `objection`) objected, the reason sealed to the issuer side.
  // Signed, then submitted through the outbox (kind "ack"). When the
  // server cannot be reached, answers the latest version this device
  // received and opened (Sync stored it) and queues the answer
  // (AckResult::queued); if that version was superseded meanwhile the
  // server refuses it and it is held. Unavailable, saying why, when this
  // device never received the notification, or with require_online.
  // FailedPrecondition if an answer to `id` is already queued.
  absl::StatusOr<AckResult> AcknowledgeNotification(
      const std::string& id, const std::string& objection);
  absl::StatusOr<uint64_t> CancelNotification(const std::string& id,
                                              const std::string& reason);
  absl::StatusOr<uint64_t> PostNotificationStatus(const std::string& id,
                                                  const std::string& status,
                                                  const std::string& note,
                                                  bool final);
  // A parley-proof/v1 bundle of every entry this device may see about `id`
  // against one fresh checkpoint (a party: its own view), with the
  // registrations of every signer. Checked before it is returned.
  absl::StatusOr<std::string> ExportProofBundle(const std::string& id);
  // Notifications opened by Sync, as stored in the profile.
  absl::StatusOr<std::vector<NotificationVersionView>> StoredNotifications()
      const;

  // Sync's part: `entry` (logged at `index`) is about a notification. Opens
  // and stores a version addressed to this device (and queues its
  // delivered receipt) and reports the event to `sink`.
  absl::Status HandleDelivery(uint64_t index, const LogEntry& entry,
                              const std::function<void(const SyncEvent&)>& sink);

  // A notification version as Sync stored it (notifications.bin).
  struct KnownVersion {
    std::string id;
    uint32_t version = 0;
    std::string issuer;
    std::string envelope_hash;
    std::vector<std::string> parties;
    bool opened = false;  // its content opened and checked
  };
  // Stored versions by log index, read once.
  absl::StatusOr<const std::map<uint64_t, KnownVersion>*> KnownVersions();
 private:
  // Validates and seals `content` into a "notify" outbox item, not yet
  // queued; fills result->version and, for an amendment, result->changes.
  // While `reach` is online it asks the server (the current version of an
  // amendment, the directory, key bundles); it marks `reach` offline when
  // the server cannot be reached and the cached directory and bundles were
  // used instead.
  absl::StatusOr<OutboxItem> SealNotification(
      const NotificationContent& content, Reach& reach, NotifyResult* result);
  // For a derived id (BatchNotification::derived_id) the server refused
  // with AlreadyExists: the notification as logged, as a duplicate, when
  // this device's member issued it; else `refused`.
  absl::StatusOr<NotifyResult> LoggedBefore(const std::string& id,
                                            const absl::Status& refused);
  // Seals, queues and sends `indexes` of `items` together (NotifyBatch).
  void NotifyGroup(const std::vector<BatchNotification>& items,
                   const std::vector<size_t>& indexes, int max_in_flight,
                   std::vector<absl::StatusOr<NotifyResult>>* results);
  // `payload` sealed for the audience of `current` (its own recipients less
  // members revoked since, PROTOCOL.md 15.4a) on "n/ID/" + `side`, as a
  // stand-alone envelope (sequence 0): a cancellation or a status.
  absl::StatusOr<std::string> SealForAudience(
      const v1::NotificationState& current, const std::string& side,
      const std::string& content_type, const nlohmann::json& payload);
  absl::StatusOr<std::string> SealNotificationEnvelope(
      const std::string& channel, const std::vector<std::string>& audience,
      const std::string& content_type, const std::string& payload,
      uint64_t sequence, const std::string& previous_hash,
      const Reach& reach = Reach(), std::string* client_message_id = nullptr);
  absl::StatusOr<NotificationView> ShowState(
      const v1::NotificationState& state);
  absl::StatusOr<OpenedEnvelope> OpenSigned(const std::string& envelope,
                                            const std::string& signer,
                                            const std::string& channel);
  absl::StatusOr<v1::NotificationState> GetNotificationState(
      const std::string& id);
  NotificationEvent DescribeNotificationEntry(uint64_t index,
                                              const LogEntry& entry);
  NotificationVersionView OpenVersion(uint64_t index, const LogEntry& entry);

  Session& session_;
  SessionAuthenticator& auth_;
  LocalState& state_;
  const ProfileIdentity& identity_;
  const DeviceKeys& keys_;
  const Clock& clock_;
  Random& random_;
  RecipientResolver& recipients_;
  Outbox& outbox_;
  DeviceLog& log_;
  const Directory directory_;
  const Options options_;
  std::optional<std::map<uint64_t, KnownVersion>> known_versions_;
  // ListNotifications' answer (see there); prefetched_: its entries were
  // fetched.
  std::map<std::string, v1::NotificationState> listed_;
  bool prefetched_ = false;
};

}  // namespace parley

#endif  // PARLEY_CLIENT_CORE_NOTIFICATION_CLIENT_H_
