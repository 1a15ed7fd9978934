#ifndef PARLEY_SERVER_AUTH_H_
#define PARLEY_SERVER_AUTH_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "crypto/clock.h"
#include "crypto/random.h"
#include "grpcpp/server_context.h"
#include "server/server_state.h"
#include "storage/tlog/log_entry.h"

namespace parley {

// An authenticated, authorised member making a call.
struct Caller {
  std::string name;
  MemberRole role = MemberRole::kParty;
  std::string identity_key;
};

// One row of the authorization table: which roles may call an RPC.
struct AuthorizationRule {
  std::string method;  // "parley.v1.Channels/Send"
  bool public_access;  // callable without a session
  std::vector<MemberRole> roles;
};

// The role x RPC table (also in docs/ARCHITECTURE.md). Every RPC of every
// parley.v1 service appears exactly once.
const std::vector<AuthorizationRule>& AuthorizationTable();

// OK if `role` may call `method`; PermissionDenied naming both otherwise,
// and NotFound for a method missing from the table (a programming error
// that fails closed).
absl::Status Authorize(const std::string& method, MemberRole role);

// Challenge-response authentication and session tokens. Tokens are random
// 256-bit values held in memory only (a restart signs everyone out), bound
// to one identity, valid for `token_ttl`. Thread-safe.
class Authenticator {
 public:
  // `max_pending_per_identity` bounds the unanswered challenges of one key.
  Authenticator(const ServerState* state, const Clock* clock, Random* random,
                std::string origin,
                absl::Duration token_ttl = absl::Minutes(15),
                int max_pending_per_identity = 16);

  struct Challenge {
    std::string nonce;
    absl::Time expires_at;
  };
  // A single-use nonce valid for 60 s, for a sign-in from `peer` (the
  // caller's address key). NotFound if the key is not enrolled,
  // PermissionDenied if its member is revoked: neither gets a challenge.
  // At most kMaxPendingPerPeer unanswered challenges per key and peer (a
  // newer one replaces that peer's oldest, so a client that lost answers
  // can always sign in again) and at most max_pending_per_identity per key
  // in all (ResourceExhausted beyond, with *retry_after set to when the
  // oldest expires): someone flooding a key from elsewhere cannot evict a
  // challenge the member is answering, and memory stays bounded by the
  // number of members.
  absl::StatusOr<Challenge> NewChallenge(const std::string& identity_key,
                                         const std::string& peer,
                                         absl::Duration* retry_after);
  static constexpr int kMaxPendingPerPeer = 4;

  // The member whose valid, unrevoked session token `context` carries, if
  // any (for counting a public call against its member, not its address).
  std::optional<std::string> SessionMember(
      const grpc::ServerContextBase& context);

  struct Token {
    std::string token;
    absl::Time expires_at;
    MemberRecord member;
  };
  // Checks the nonce (issued to this key, unexpired, unused), the signature
  // over AuthStatement(origin, nonce, key), and that the member is enrolled
  // and not revoked. Unauthenticated or PermissionDenied otherwise.
  absl::StatusOr<Token> Authenticate(const std::string& identity_key,
                                     const std::string& nonce,
                                     const std::string& signature);

  // Resolves "authorization: Bearer <token>" to a caller and checks
  // `method` against the authorization table. Unauthenticated for a missing,
  // unknown or expired token (the message says to sign in again);
  // PermissionDenied for a revoked member or a role not allowed.
  absl::StatusOr<Caller> Resolve(const grpc::ServerContextBase& context,
                                 const std::string& method);

  // Marks every token of `name` revoked (Resolve then answers
  // PermissionDenied "revoked", not "sign in again", until the token
  // expires) and runs the revocation listeners registered for it (open
  // streams end at once).
  void RevokeMember(const std::string& name);
  // `on_revoke` runs (on the revoking thread) if `name` is revoked while
  // registered. Returns an id for Unregister.
  uint64_t OnRevoke(const std::string& name, std::function<void()> on_revoke);
  void Unregister(uint64_t id);

 private:
  struct PendingChallenge {
    std::string identity_key;
    std::string peer;
    absl::Time expires_at;
  };
  // Drops `key`'s expired challenges. Returns its live ones, oldest first.
  std::vector<std::string> LiveChallengesOf(const std::string& key,
                                            absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EraseChallenge(const std::string& nonce)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  struct Session {
    std::string name;
    absl::Time expires_at;
    bool revoked = false;  // kept until expiry to answer PermissionDenied
  };
  struct Listener {
    std::string name;
    std::function<void()> on_revoke;
  };

  const ServerState* const state_;
  const Clock* const clock_;
  Random* const random_;
  const std::string origin_;
  const absl::Duration token_ttl_;
  const int max_pending_per_identity_;

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, PendingChallenge> challenges_
      ABSL_GUARDED_BY(mu_);
  // Identity key -> its pending nonces, oldest first.
  absl::flat_hash_map<std::string, std::vector<std::string>> by_identity_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Session> sessions_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, Listener> listeners_ ABSL_GUARDED_BY(mu_);
  uint64_t next_listener_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace parley

#endif  // PARLEY_SERVER_AUTH_H_
