#include "server/server_state.h"

#include <algorithm>

#include "crypto/prekey.h"

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
          [&](const InviteCreated& e) {
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
          [&](const MemberRegistered& e) {
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
          [&](const KeyBundlePublished& e) {
            auto it = members_.find(e.name);
            if (it == members_.end()) {
              ++inconsistent_;
              return;
            }
            it->second.key_bundle = e.key_bundle;
            it->second.registration_index = index;
          },
          [&](const MemberRevoked& e) {
            auto it = members_.find(e.name);
            if (it == members_.end()) {
              ++inconsistent_;
              return;
            }
            it->second.revoked = true;
          },
          [&](const ChannelCreated& e) {
            ChannelRecord c;
            c.name = e.channel;
            c.created_by = e.created_by;
            c.members.insert(e.members.begin(), e.members.end());
            c.log_index = index;
            channels_[e.channel] = std::move(c);
          },
          [&](const ChannelMembersChanged& e) {
            auto it = channels_.find(e.channel);
            if (it == channels_.end()) {
              ++inconsistent_;
              return;
            }
            it->second.members =
                std::set<std::string>(e.members.begin(), e.members.end());
          },
          [&](const EnvelopeEntry&) {},
          [&](const ReceiptEntry&) {},
      },
      entry.body);
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
