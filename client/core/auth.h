#ifndef PARLEY_CLIENT_CORE_AUTH_H_
#define PARLEY_CLIENT_CORE_AUTH_H_

// Session tokens: the device signs a fresh server challenge
// (AuthStatement, crypto/statements.h) with its identity key and exchanges
// it for a bearer token (15 minutes), which every RPC except Info and
// Identity carries as "authorization: Bearer <token>".

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/core/session.h"
#include "crypto/clock.h"
#include "crypto/ed25519.h"
#include "grpcpp/client_context.h"
#include "parley/v1/identity.pb.h"

namespace parley {

// Obtains and caches a token for one identity on one session: the client's
// side of Identity/Authenticate (the server's side is server/auth.h's
// Authenticator; distinct names, as both link into the in-process tests).
// Thread-safe. `session` and `identity` must outlive it.
class SessionAuthenticator {
 public:
  SessionAuthenticator(const Session& session,
                       const Ed25519PrivateKey& identity, std::string origin,
                       const Clock& clock)
      : session_(session),
        identity_(identity),
        origin_(std::move(origin)),
        clock_(clock) {}

  // Runs `rpc` with a context that carries a token (authenticating first if
  // there is none, or it is about to expire) and the session's deadline. If
  // the server answers UNAUTHENTICATED, authenticates again once and
  // retries. While the server's rate limit refuses the call
  // (RESOURCE_EXHAUSTED with "retry-after-ms"), waits as long as it asks and
  // sends it again, up to 30 s in all; the limiter refuses before the
  // server does anything, so no retry can apply a request twice. `rpc` may
  // therefore run several times. Returns the RPC's status mapped by
  // FromRpcStatus.
  absl::Status Call(
      const std::function<grpc::Status(grpc::ClientContext*)>& rpc);

  // Adds the authorization header to `context` (authenticating if needed),
  // for streaming calls that manage their own context and deadline.
  absl::Status Authorize(grpc::ClientContext* context);
  // Forgets the cached token (after the server refused it).
  void Invalidate();

  // The member the server authenticated (after the first call).
  v1::Member member() const;

 private:
  absl::StatusOr<std::string> Token();

  const Session& session_;
  const Ed25519PrivateKey& identity_;
  const std::string origin_;
  const Clock& clock_;
  mutable absl::Mutex mu_;
  std::string token_ ABSL_GUARDED_BY(mu_);
  absl::Time expires_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  v1::Member member_ ABSL_GUARDED_BY(mu_);
};

// A ClientContext deadline `timeout` from now.
void SetDeadline(grpc::ClientContext* context, absl::Duration timeout);

}  // namespace parley

#endif  // PARLEY_CLIENT_CORE_AUTH_H_
