#include "server/auth.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "crypto/ed25519.h"
#include "crypto/encoding.h"
#include "crypto/statements.h"

namespace parley {
namespace {

constexpr absl::Duration kChallengeTtl = absl::Seconds(60);
constexpr size_t kMaxPendingChallenges = 100000;

using R = MemberRole;
const std::vector<MemberRole> kAllRoles = {R::kAdmin, R::kMediator,
                                           R::kCoordinator, R::kParty,
                                           R::kObserver};
const std::vector<MemberRole> kMembersWhoTalk = {R::kMediator, R::kCoordinator,
                                                 R::kParty};

}  // namespace

const std::vector<AuthorizationRule>& AuthorizationTable() {
  static const auto* table = new std::vector<AuthorizationRule>{
      {"parley.v1.Info/GetServerInfo", true, {}},
      {"parley.v1.Log/GetCheckpoint", true, {}},
      {"parley.v1.Log/WatchCheckpoints", true, {}},
      {"parley.v1.Log/GetInclusionProof", false, kAllRoles},
      // Consistency proofs hold only subtree hashes: public, so that anyone
      // holding a checkpoint (a witness, an auditor) can check the next.
      {"parley.v1.Log/GetConsistencyProof", true, {}},
      {"parley.v1.Log/GetEntries", false, kAllRoles},
      {"parley.v1.Identity/Enroll", true, {}},
      {"parley.v1.Identity/GetChallenge", true, {}},
      {"parley.v1.Identity/Authenticate", true, {}},
      {"parley.v1.Admin/CreateInvite", false, {R::kAdmin}},
      {"parley.v1.Admin/Revoke", false, {R::kAdmin}},
      {"parley.v1.Directory/ListMembers", false, kAllRoles},
      {"parley.v1.Directory/GetKeyBundle", false, kAllRoles},
      {"parley.v1.Directory/PublishKeyBundle", false, kAllRoles},
      {"parley.v1.Channels/CreateChannel", false, {R::kMediator}},
      {"parley.v1.Channels/ChangeMembers", false, {R::kMediator}},
      {"parley.v1.Channels/ListChannels", false,
       {R::kMediator, R::kCoordinator, R::kParty, R::kObserver}},
      {"parley.v1.Channels/Send", false, kMembersWhoTalk},
      {"parley.v1.Channels/SendBatch", false, kMembersWhoTalk},
      {"parley.v1.Channels/Subscribe", false,
       {R::kMediator, R::kCoordinator, R::kParty, R::kObserver}},
      {"parley.v1.Channels/SubmitReceipts", false,
       {R::kMediator, R::kCoordinator, R::kParty, R::kObserver}},
      {"parley.v1.Channels/ListReceipts", false,
       {R::kMediator, R::kCoordinator, R::kParty, R::kObserver}},
      {"parley.v1.Notifications/Notify", false, {R::kCoordinator}},
      {"parley.v1.Notifications/Acknowledge", false, {R::kParty}},
      {"parley.v1.Notifications/Cancel", false, {R::kCoordinator}},
      {"parley.v1.Notifications/PostStatus", false, {R::kCoordinator}},
      {"parley.v1.Notifications/ListNotifications", false,
       {R::kMediator, R::kCoordinator, R::kParty, R::kObserver}},
      {"parley.v1.Notifications/GetNotification", false,
       {R::kMediator, R::kCoordinator, R::kParty, R::kObserver}},
  };
  return *table;
}

absl::Status Authorize(const std::string& method, MemberRole role) {
  for (const AuthorizationRule& rule : AuthorizationTable()) {
    if (rule.method != method) continue;
    if (rule.public_access ||
        std::find(rule.roles.begin(), rule.roles.end(), role) !=
            rule.roles.end()) {
      return absl::OkStatus();
    }
    return absl::PermissionDeniedError(
        absl::StrCat("a member with role ", std::string(RoleName(role)),
                     " may not call ", method));
  }
  return absl::NotFoundError(
      absl::StrCat(method, " is not in the authorization table"));
}

Authenticator::Authenticator(const ServerState* state, const Clock* clock,
                             Random* random, std::string origin,
                             absl::Duration token_ttl,
                             int max_pending_per_identity)
    : state_(state),
      clock_(clock),
      random_(random),
      origin_(std::move(origin)),
      token_ttl_(token_ttl),
      max_pending_per_identity_(max_pending_per_identity) {}

std::vector<std::string> Authenticator::LiveChallengesOf(
    const std::string& key, absl::Time now) {
  auto it = by_identity_.find(key);
  if (it == by_identity_.end()) return {};
  std::vector<std::string> live;
  for (const std::string& nonce : it->second) {
    auto c = challenges_.find(nonce);
    if (c == challenges_.end()) continue;
    if (c->second.expires_at <= now) {
      challenges_.erase(c);
    } else {
      live.push_back(nonce);
    }
  }
  if (live.empty()) {
    by_identity_.erase(it);
  } else {
    it->second = live;
  }
  return live;
}

void Authenticator::EraseChallenge(const std::string& nonce) {
  auto c = challenges_.find(nonce);
  if (c == challenges_.end()) return;
  auto it = by_identity_.find(c->second.identity_key);
  if (it != by_identity_.end()) {
    std::erase(it->second, nonce);
    if (it->second.empty()) by_identity_.erase(it);
  }
  challenges_.erase(c);
}

absl::StatusOr<Authenticator::Challenge> Authenticator::NewChallenge(
    const std::string& identity_key, const std::string& peer,
    absl::Duration* retry_after) {
  std::optional<MemberRecord> member = state_->MemberByKey(identity_key);
  if (!member.has_value()) {
    return absl::NotFoundError(
        "this identity key is not enrolled on this server; enroll first with "
        "an invite (parley enroll)");
  }
  if (member->revoked) {
    return absl::PermissionDeniedError(absl::StrCat(
        "member ", member->name, " has been revoked; it cannot sign in"));
  }
  absl::Time now = clock_->Now();
  Challenge challenge{random_->Bytes(32), now + kChallengeTtl};
  absl::MutexLock lock(&mu_);
  std::vector<std::string> live = LiveChallengesOf(identity_key, now);
  std::vector<std::string> from_peer;
  for (const std::string& nonce : live) {
    if (challenges_.at(nonce).peer == peer) from_peer.push_back(nonce);
  }
  if (from_peer.size() >= kMaxPendingPerPeer) {
    EraseChallenge(from_peer.front());
  } else if (live.size() >= static_cast<size_t>(max_pending_per_identity_)) {
    *retry_after = challenges_.at(live.front()).expires_at - now;
    return absl::ResourceExhaustedError(absl::StrCat(
        "too many sign-ins in progress for this identity key (",
        max_pending_per_identity_, " unanswered challenges); retry in ",
        absl::ToInt64Milliseconds(*retry_after), " ms"));
  }
  if (challenges_.size() >= kMaxPendingChallenges) {
    absl::erase_if(challenges_, [now](const auto& kv) {
      return kv.second.expires_at <= now;
    });
    const auto* challenges = &challenges_;  // mu_ is held here.
    absl::erase_if(by_identity_, [challenges](auto& kv) {
      std::erase_if(kv.second, [challenges](const std::string& nonce) {
        return !challenges->contains(nonce);
      });
      return kv.second.empty();
    });
    if (challenges_.size() >= kMaxPendingChallenges) {
      *retry_after = kChallengeTtl;
      return absl::ResourceExhaustedError(
          "too many pending challenges; retry in 60000 ms");
    }
  }
  challenges_[challenge.nonce] = {identity_key, peer, challenge.expires_at};
  by_identity_[identity_key].push_back(challenge.nonce);
  return challenge;
}

absl::StatusOr<Authenticator::Token> Authenticator::Authenticate(
    const std::string& identity_key, const std::string& nonce,
    const std::string& signature) {
  absl::Time now = clock_->Now();
  {
    absl::MutexLock lock(&mu_);
    auto it = challenges_.find(nonce);
    if (it == challenges_.end() || it->second.identity_key != identity_key) {
      return absl::UnauthenticatedError(
          "unknown or already used challenge; ask for a new one");
    }
    bool expired = it->second.expires_at <= now;
    EraseChallenge(nonce);  // Single use, whatever happens next.
    if (expired) {
      return absl::UnauthenticatedError(
          "challenge expired; ask for a new one");
    }
  }
  if (absl::Status s = Ed25519Verify(
          identity_key, AuthStatement(origin_, nonce, identity_key), signature);
      !s.ok()) {
    return absl::UnauthenticatedError(
        "challenge signature does not verify for this identity key");
  }
  std::optional<MemberRecord> member = state_->MemberByKey(identity_key);
  if (!member.has_value()) {
    return absl::UnauthenticatedError("identity key is not enrolled");
  }
  if (member->revoked) {
    return absl::PermissionDeniedError(
        absl::StrCat("member ", member->name, " has been revoked"));
  }
  Token token{HexEncode(random_->Bytes(32)), now + token_ttl_, *member};
  absl::MutexLock lock(&mu_);
  absl::erase_if(sessions_,
                 [now](const auto& kv) { return kv.second.expires_at <= now; });
  sessions_[token.token] = {member->name, token.expires_at, false};
  return token;
}

std::optional<std::string> Authenticator::SessionMember(
    const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return std::nullopt;
  absl::string_view value(it->second.data(), it->second.size());
  if (!absl::ConsumePrefix(&value, "Bearer ")) return std::nullopt;
  absl::MutexLock lock(&mu_);
  auto session = sessions_.find(std::string(value));
  if (session == sessions_.end() || session->second.revoked ||
      session->second.expires_at <= clock_->Now()) {
    return std::nullopt;
  }
  return session->second.name;
}

absl::StatusOr<Caller> Authenticator::Resolve(
    const grpc::ServerContextBase& context, const std::string& method) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return absl::UnauthenticatedError(
        "no session token: sign in (the client does this automatically)");
  }
  std::string value(it->second.data(), it->second.size());
  constexpr absl::string_view kBearer = "Bearer ";
  if (!absl::StartsWith(value, kBearer)) {
    return absl::UnauthenticatedError(
        "authorization metadata must be \"Bearer <token>\"");
  }
  std::string token = value.substr(kBearer.size());
  std::string name;
  {
    absl::MutexLock lock(&mu_);
    auto session = sessions_.find(token);
    if (session == sessions_.end()) {
      return absl::UnauthenticatedError(
          "unknown session token (server restarted?); sign in again");
    }
    if (session->second.expires_at <= clock_->Now()) {
      sessions_.erase(session);
      return absl::UnauthenticatedError("session token expired; sign in again");
    }
    name = session->second.name;
    if (session->second.revoked) {
      return absl::PermissionDeniedError(
          absl::StrCat("member ", name, " has been revoked"));
    }
  }
  std::optional<MemberRecord> member = state_->MemberByName(name);
  if (!member.has_value() || member->revoked) {
    return absl::PermissionDeniedError(
        absl::StrCat("member ", name, " has been revoked"));
  }
  if (absl::Status s = Authorize(method, member->role); !s.ok()) return s;
  return Caller{member->name, member->role, member->identity_key};
}

void Authenticator::RevokeMember(const std::string& name) {
  std::vector<std::function<void()>> callbacks;
  {
    absl::MutexLock lock(&mu_);
    // Kept (until they expire) rather than erased, so that a revoked member
    // holding a token learns it is revoked instead of being told to sign in.
    for (auto& [token, session] : sessions_) {
      if (session.name == name) session.revoked = true;
    }
    for (auto& [id, listener] : listeners_) {
      if (listener.name == name) callbacks.push_back(listener.on_revoke);
    }
  }
  for (auto& callback : callbacks) callback();
}

uint64_t Authenticator::OnRevoke(const std::string& name,
                                 std::function<void()> on_revoke) {
  absl::MutexLock lock(&mu_);
  uint64_t id = next_listener_++;
  listeners_[id] = {name, std::move(on_revoke)};
  return id;
}

void Authenticator::Unregister(uint64_t id) {
  absl::MutexLock lock(&mu_);
  listeners_.erase(id);
}

}  // namespace parley
