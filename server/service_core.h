#ifndef PARLEY_SERVER_SERVICE_CORE_H_
#define PARLEY_SERVER_SERVICE_CORE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "crypto/clock.h"
#include "crypto/envelope.h"
#include "crypto/random.h"
#include "grpcpp/grpcpp.h"
#include "parley/v1/identity.pb.h"
#include "server/auth.h"
#include "server/ledger.h"
#include "server/rate_limit.h"
#include "server/refusal_pacer.h"
#include "server/work_pool.h"

namespace parley {

// What every parley.v1 service shares. Nothing here is owned; ParleyServer
// owns it all and outlives the services.
struct ServiceCore {
  Ledger* ledger;
  Authenticator* auth;
  RateLimiter* limiter;
  const Clock* clock;
  Random* random;
  uint64_t max_message_bytes;
  // File holding the bootstrap invite; removed once it is redeemed.
  std::string bootstrap_invite_path;
  // Ends a revoked member's open streams.
  std::function<void(const std::string&)> on_revoke;
  // Runs RPC work that commits to the log off gRPC's callback threads.
  WorkPool* pool = nullptr;
  // Answers refusals by a limit after a delay; null: at once.
  RefusalPacer* pacer = nullptr;

  // Finishes a call refused before any work (by Admit, AdmitPublic or a
  // limit): RESOURCE_EXHAUSTED through the pacer, anything else at once.
  grpc::ServerUnaryReactor* Refuse(grpc::CallbackServerContext* context,
                                   const absl::Status& status) const;

  // Authenticates the caller, checks the authorization table for `method`
  // and takes `tokens` rate-limit tokens (one per envelope of a batch). On
  // RESOURCE_EXHAUSTED it also sets the trailing metadata "retry-after-ms".
  absl::StatusOr<Caller> Admit(grpc::CallbackServerContext* context,
                               const std::string& method,
                               int tokens = 1) const;

  // Admits a call that needs no session: one token from the member's bucket
  // if the call carries a valid session token, else from the peer address's
  // bucket and the bucket all such calls share (RateLimiter::TakePublic).
  // RESOURCE_EXHAUSTED with "retry-after-ms" as for Admit.
  absl::Status AdmitPublic(grpc::CallbackServerContext* context) const;

  // The checks every envelope a member hands the server goes through:
  // size within max_message_bytes (INVALID_ARGUMENT), well formed
  // (INVALID_ARGUMENT), signature (UNAUTHENTICATED), signed by the caller
  // (PERMISSION_DENIED), header channel id == `channel` (INVALID_ARGUMENT),
  // created at most 10 minutes ahead of the server and at most 7 days ago
  // (INVALID_ARGUMENT).
  absl::StatusOr<ParsedEnvelope> CheckSignedEnvelope(
      const Caller& caller, const std::string& bytes,
      const std::string& channel) const;
};

// The key the caller's address is limited under (PeerAddressKey).
std::string PeerKey(const grpc::CallbackServerContext& context);

// Adds the trailing metadata "retry-after-ms" to a call refused with
// RESOURCE_EXHAUSTED; does nothing for any other status.
void AddRetryAfter(grpc::CallbackServerContext* context,
                   const absl::Status& status, absl::Duration retry_after);

// Finishes a unary call with `status` mapped to gRPC (server/status_util.h).
grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* context,
                                      const absl::Status& status);

// Runs `work` on the core's pool (inline when there is none) and finishes the
// call with its status. For handlers that commit to the log: the callback
// thread returns at once. `work` may use the request and response: gRPC
// keeps them alive until Finish.
grpc::ServerUnaryReactor* FinishUnaryOnPool(
    const ServiceCore& core, grpc::CallbackServerContext* context,
    std::function<absl::Status()> work);

// Fills a parley.v1.Member.
void FillMember(const MemberRecord& record, v1::Member* out);

}  // namespace parley

#endif  // PARLEY_SERVER_SERVICE_CORE_H_
