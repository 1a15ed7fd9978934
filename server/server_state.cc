#include "server/server_state.h"

#include <algorithm>

#include "crypto/prekey.h"
#include "crypto/receipt.h"

namespace parley {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace

void ServerState::Apply(uint64_t index, const LogEntry& entry) {
  absl::MutexLock lock(&mu_);
  std::visit(
      Overloaded{
          [&](const InviteCreated& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
            InviteRecord invite;
            invite.invite_hash = e.invite_hash;
            invite.role = e.role;
            invite.name = e.name;
            invite.organisation = e.organisation;
            invite.expires_at = e.expires_at;
            invite.created_by = e.created_by;
            invite.log_index = index;
            invites_[e.invite_hash] = std::move(invite);
          },
          [&](const MemberRegistered& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
            absl::StatusOr<KeyBundle> bundle = ParseKeyBundle(e.key_bundle);
            if (!bundle.ok() || members_.contains(e.name)) {
              ++inconsistent_;
              return;
            }
            MemberRecord m;
            m.name = e.name;
            m.role = e.role;
            m.organisation = e.organisation;
            m.identity_key = bundle->identity_public_key;
            m.key_bundle = e.key_bundle;
            m.registration_index = index;
            m.enrolled_index = index;
            m.enrolled_at_ms = entry.logged_at_ms;
            name_by_key_[m.identity_key] = m.name;
            members_[e.name] = std::move(m);
            if (auto it = invites_.find(e.invite_hash); it != invites_.end()) {
              it->second.redeemed = true;
            }
          },
          [&](const KeyBundlePublished& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
            auto it = members_.find(e.name);
            if (it == members_.end()) {
              ++inconsistent_;
              return;
            }
            it->second.key_bundle = e.key_bundle;
            it->second.registration_index = index;
          },
          [&](const MemberRevoked& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
            auto it = members_.find(e.name);
            if (it == members_.end()) {
              ++inconsistent_;
              return;
            }
            it->second.revoked = true;
          },
          [&](const ChannelCreated& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
            ChannelRecord c;
            c.name = e.channel;
            c.created_by = e.created_by;
            c.members.insert(e.members.begin(), e.members.end());
            c.log_index = index;
            channels_[e.channel] = std::move(c);
          },
          [&](const ChannelMembersChanged& e)
              ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
                auto it = channels_.find(e.channel);
                if (it == channels_.end()) {
                  ++inconsistent_;
                  return;
                }
                it->second.members =
                    std::set<std::string>(e.members.begin(), e.members.end());
              },
          [&](const EnvelopeEntry&) {},
          [&](const ReceiptEntry& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
            auto v = notification_versions_.find(e.envelope_index);
            if (v == notification_versions_.end()) return;
            auto n = notifications_.find(v->second.first);
            if (n == notifications_.end()) return;
            n->second.entry_indexes.push_back(index);
            if (n->second.parties.contains(e.recipient)) {
              n->second.party_entry_indexes[e.recipient].push_back(index);
            }
            if (n->second.current.version != v->second.second) return;
            auto p = n->second.parties.find(e.recipient);
            if (p == n->second.parties.end()) return;
            absl::StatusOr<Receipt> receipt = ParseReceipt(e.receipt);
            if (!receipt.ok() || receipt->level != ReceiptLevel::kDelivered) {
              return;
            }
            if (p->second.state == PartyProgress::State::kLogged) {
              p->second.state = PartyProgress::State::kDelivered;
            }
            if (p->second.delivered_at_ms == 0) {
              p->second.delivered_at_ms = entry.logged_at_ms;
              p->second.delivered_index = index;
            }
          },
          [&](const NotificationVersion& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
            NotificationRecord& n = notifications_[e.id];
            n.current = e;
            n.log_index = index;
            n.logged_at_ms = entry.logged_at_ms;
            if (auto issuer = members_.find(e.issuer);
                issuer != members_.end()) {
              n.organisation = issuer->second.organisation;
            }
            n.parties.clear();
            for (const std::string& party : e.parties) {
              PartyProgress progress;
              progress.logged_at_ms = entry.logged_at_ms;
              n.parties[party] = progress;
            }
            n.audience = AudienceLocked(e.issuer, e.parties);
            n.review_reminded = false;
            n.entry_indexes.push_back(index);
            for (const std::string& party : e.parties) {
              n.party_entry_indexes[party].push_back(index);
            }
            notification_versions_[index] = {e.id, e.version};
          },
          [&](const NotificationAck& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
            auto n = notifications_.find(e.id);
            if (n == notifications_.end()) {
              ++inconsistent_;
              return;
            }
            n->second.entry_indexes.push_back(index);
            n->second.party_entry_indexes[e.party].push_back(index);
            if (n->second.current.version != e.version) return;
            auto p = n->second.parties.find(e.party);
            if (p == n->second.parties.end()) return;
            bool objected = !e.reason_envelope.empty();
            p->second.state = objected ? PartyProgress::State::kObjected
                                       : PartyProgress::State::kAcknowledged;
            (objected ? p->second.objected_at_ms
                      : p->second.acknowledged_at_ms) = entry.logged_at_ms;
            p->second.acknowledged_index = index;
          },
          [&](const Escalation& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
            auto n = notifications_.find(e.id);
            if (n == notifications_.end()) return;
            n->second.entry_indexes.push_back(index);
            if (e.step == EscalationStep::kReviewDue) {
              // Addressed to the issuer's coordinators, never to a party.
              if (n->second.current.version == e.version) {
                n->second.review_reminded = true;
              }
              return;
            }
            n->second.party_entry_indexes[e.party].push_back(index);
            if (n->second.current.version != e.version) return;
            auto p = n->second.parties.find(e.party);
            if (p == n->second.parties.end()) return;
            p->second.escalation = std::max<uint8_t>(
                p->second.escalation, static_cast<uint8_t>(e.step));
          },
          [&](const NotificationCancelled& e)
              ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
                auto n = notifications_.find(e.id);
                if (n == notifications_.end()) return;
                n->second.entry_indexes.push_back(index);
                for (const auto& [party, unused] : n->second.parties) {
                  n->second.party_entry_indexes[party].push_back(index);
                }
                n->second.cancelled = true;
              },
          [&](const NotificationStatus& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
            auto n = notifications_.find(e.id);
            if (n == notifications_.end()) return;
            n->second.entry_indexes.push_back(index);
            for (const auto& [party, unused] : n->second.parties) {
              n->second.party_entry_indexes[party].push_back(index);
            }
            if (e.final) n->second.completed = true;
          },
      },
      entry.body);
}

std::set<std::string> ServerState::AudienceLocked(
    const std::string& issuer, const std::vector<std::string>& parties) const {
  std::set<std::string> audience(parties.begin(), parties.end());
  std::string organisation;
  if (auto it = members_.find(issuer); it != members_.end()) {
    organisation = it->second.organisation;
  }
  audience.insert(issuer);
  for (const auto& [name, m] : members_) {
    if (JoinsNotificationAudience(m.role, m.revoked, m.organisation,
                                  organisation)) {
      audience.insert(name);
    }
  }
  return audience;
}

std::set<std::string> ServerState::NotificationAudience(
    const std::string& issuer, const std::vector<std::string>& parties) const {
  absl::MutexLock lock(&mu_);
  return AudienceLocked(issuer, parties);
}

std::optional<NotificationRecord> ServerState::Notification(
    const std::string& id) const {
  absl::MutexLock lock(&mu_);
  auto it = notifications_.find(id);
  if (it == notifications_.end()) return std::nullopt;
  return it->second;
}

std::vector<NotificationRecord> ServerState::NotificationsFor(
    const std::string& member) const {
  absl::MutexLock lock(&mu_);
  std::vector<NotificationRecord> out;
  for (const auto& [id, n] : notifications_) {
    if (n.audience.contains(member)) out.push_back(n);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.current.id < b.current.id;
  });
  return out;
}

std::vector<NotificationRecord> ServerState::OpenNotificationsWithDeadline()
    const {
  absl::MutexLock lock(&mu_);
  std::vector<NotificationRecord> out;
  for (const auto& [id, n] : notifications_) {
    if (n.current.ack_by != 0 && !n.cancelled && !n.completed) {
      out.push_back(n);
    }
  }
  return out;
}

bool ServerState::ReviewDue(const NotificationRecord& n, int64_t now) {
  const NotificationVersion& v = n.current;
  // A version logged on or after its review-by date was itself the
  // coordinator's action after that date (an amendment or deactivation):
  // the clock never reaches its review-by while it is current.
  return v.kind == NotificationKind::kSite && v.valid_until != 0 &&
         now >= v.valid_until && n.logged_at_ms / 1000 < v.valid_until &&
         !n.cancelled && !n.completed && !n.review_reminded;
}

std::vector<NotificationRecord> ServerState::SitesDueForReview(
    int64_t now) const {
  absl::MutexLock lock(&mu_);
  std::vector<NotificationRecord> out;
  for (const auto& [id, n] : notifications_) {
    if (ReviewDue(n, now)) out.push_back(n);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.current.id < b.current.id;
  });
  return out;
}

bool ServerState::OnIssuingSide(const std::string& id,
                                const std::string& member) const {
  absl::MutexLock lock(&mu_);
  auto it = notifications_.find(id);
  return it != notifications_.end() && it->second.audience.contains(member) &&
         !it->second.parties.contains(member);
}

std::optional<std::pair<std::string, uint32_t>> ServerState::NotificationAt(
    uint64_t index) const {
  absl::MutexLock lock(&mu_);
  auto it = notification_versions_.find(index);
  if (it == notification_versions_.end()) return std::nullopt;
  return it->second;
}

std::optional<MemberRecord> ServerState::MemberByName(
    const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = members_.find(name);
  if (it == members_.end()) return std::nullopt;
  return it->second;
}

std::optional<MemberRecord> ServerState::MemberByKey(
    const std::string& key) const {
  absl::MutexLock lock(&mu_);
  auto it = name_by_key_.find(key);
  if (it == name_by_key_.end()) return std::nullopt;
  return members_.at(it->second);
}

std::vector<MemberRecord> ServerState::Members() const {
  absl::MutexLock lock(&mu_);
  std::vector<MemberRecord> out;
  for (const auto& [name, m] : members_) out.push_back(m);
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::optional<InviteRecord> ServerState::Invite(
    const std::string& invite_hash) const {
  absl::MutexLock lock(&mu_);
  auto it = invites_.find(invite_hash);
  if (it == invites_.end()) return std::nullopt;
  return it->second;
}

std::optional<ChannelRecord> ServerState::Channel(
    const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = channels_.find(name);
  if (it == channels_.end()) return std::nullopt;
  return it->second;
}

std::vector<ChannelRecord> ServerState::ChannelsOf(
    const std::string& member) const {
  absl::MutexLock lock(&mu_);
  std::vector<ChannelRecord> out;
  for (const auto& [name, c] : channels_) {
    if (c.members.contains(member)) out.push_back(c);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

uint64_t ServerState::inconsistent_entries() const {
  absl::MutexLock lock(&mu_);
  return inconsistent_;
}

}  // namespace parley
