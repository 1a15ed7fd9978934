#ifndef PARLEY_SERVER_SERVER_STATE_H_
#define PARLEY_SERVER_SERVER_STATE_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "storage/log_entry.h"

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

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, MemberRecord> members_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> name_by_key_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, InviteRecord> invites_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, ChannelRecord> channels_
      ABSL_GUARDED_BY(mu_);
  uint64_t inconsistent_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace parley

#endif  // PARLEY_SERVER_SERVER_STATE_H_
