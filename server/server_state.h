#ifndef PARLEY_SERVER_SERVER_STATE_H_
#define PARLEY_SERVER_SERVER_STATE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "storage/tlog/log_entry.h"

namespace parley {

struct MemberRecord {
  std::string name;
  MemberRole role = MemberRole::kParty;
  std::string organisation;
  std::string identity_key;
  std::string key_bundle;
  uint64_t registration_index = 0;  // entry holding key_bundle
  uint64_t enrolled_index = 0;      // first registration
  int64_t enrolled_at_ms = 0;
  bool revoked = false;
};

struct InviteRecord {
  std::string invite_hash;
  MemberRole role = MemberRole::kParty;
  std::string name;  // empty: the bootstrap invite (name chosen at enroll)
  std::string organisation;
  int64_t expires_at = 0;  // Unix seconds
  std::string created_by;
  uint64_t log_index = 0;
  bool redeemed = false;
};

struct ChannelRecord {
  std::string name;
  std::string created_by;
  std::set<std::string> members;
  uint64_t log_index = 0;
};

// One party's progress on the current version of a notification.
struct PartyProgress {
  enum class State { kLogged = 1, kDelivered, kAcknowledged, kObjected };
  State state = State::kLogged;
  int64_t logged_at_ms = 0;
  int64_t delivered_at_ms = 0;
  int64_t acknowledged_at_ms = 0;
  int64_t objected_at_ms = 0;
  uint8_t escalation = 0;  // highest EscalationStep logged, 0 none
  uint64_t delivered_index = 0;
  uint64_t acknowledged_index = 0;
};

struct NotificationRecord {
  NotificationVersion current;  // the current version, envelope included
  uint64_t log_index = 0;       // of the current version
  int64_t logged_at_ms = 0;     // of the current version
  std::string organisation;     // the issuer's
  std::map<std::string, PartyProgress> parties;
  std::set<std::string> audience;  // members who may see it
  bool cancelled = false;
  bool completed = false;
  // A site: the review-due reminder (EscalationStep::kReviewDue) of the
  // current version is logged. Reset by every new version.
  bool review_reminded = false;
  std::vector<uint64_t> entry_indexes;  // every entry about it, all versions
  // Per party, the entries a party's own view lists (PROTOCOL.md 15.6):
  // each version naming it, its own receipts, answers and escalations, and
  // every cancellation and status posted while it was a party.
  std::map<std::string, std::vector<uint64_t>> party_entry_indexes;
};

// The small, hot part of server state (members, invites, channels), held in
// memory and rebuilt at start by replaying the log through Apply. The large
// part (per-envelope records, inboxes, receipts) lives in index column
// families written in the same batch as the entry that implies it.
// Thread-safe.
class ServerState {
 public:
  // Applies a logged entry. Entries were validated before they were logged,
  // so Apply never fails; anything inconsistent is ignored (and counted, for
  // the audit of a hand-edited log).
  void Apply(uint64_t index, const LogEntry& entry);

  std::optional<MemberRecord> MemberByName(const std::string& name) const;
  std::optional<MemberRecord> MemberByKey(const std::string& key) const;
  std::vector<MemberRecord> Members() const;
  std::optional<InviteRecord> Invite(const std::string& invite_hash) const;
  std::optional<ChannelRecord> Channel(const std::string& name) const;
  std::vector<ChannelRecord> ChannelsOf(const std::string& member) const;
  uint64_t inconsistent_entries() const;

  std::optional<NotificationRecord> Notification(const std::string& id) const;
  // Notifications `member` may see, ordered by id.
  std::vector<NotificationRecord> NotificationsFor(
      const std::string& member) const;
  // Every notification with a deadline that is neither cancelled nor
  // completed (for the deadline watcher).
  std::vector<NotificationRecord> OpenNotificationsWithDeadline() const;
  // Sites whose current version is due for its review-by reminder at `now`
  // (Unix seconds): not cancelled, a review-by date (valid_until) that is
  // at or before `now` and that was still ahead when the version was
  // logged, and no reminder logged for the version yet (PROTOCOL.md 15.3).
  std::vector<NotificationRecord> SitesDueForReview(int64_t now) const;
  // True if `n`'s current version is due for its review-by reminder at
  // `now`; the rule SitesDueForReview applies.
  static bool ReviewDue(const NotificationRecord& n, int64_t now);
  // (id, version) of the notification version logged at `index`, if any.
  std::optional<std::pair<std::string, uint32_t>> NotificationAt(
      uint64_t index) const;
  // True if `member` is on the issuing side of notification `id`: in its
  // audience (the issuer's organisation's coordinators, the mediators) and
  // not one of its parties. The issuing side follows every party's answers.
  bool OnIssuingSide(const std::string& id, const std::string& member) const;
  // Who must receive a notification's content: its parties, every mediator,
  // and the coordinators of the issuer's organisation.
  std::set<std::string> NotificationAudience(
      const std::string& issuer, const std::vector<std::string>& parties) const;

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, MemberRecord> members_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> name_by_key_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, InviteRecord> invites_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, ChannelRecord> channels_
      ABSL_GUARDED_BY(mu_);
  uint64_t inconsistent_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, NotificationRecord> notifications_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, std::pair<std::string, uint32_t>>
      notification_versions_ ABSL_GUARDED_BY(mu_);

  std::set<std::string> AudienceLocked(const std::string& issuer,
                                       const std::vector<std::string>& parties)
      const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
};

}  // namespace parley

#endif  // PARLEY_SERVER_SERVER_STATE_H_
