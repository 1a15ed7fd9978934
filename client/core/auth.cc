#include "client/core/auth.h"

#include <algorithm>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "crypto/statements.h"
#include "parley/v1/identity.grpc.pb.h"

namespace parley {
namespace {

// Tokens are renewed this long before they expire, so a call never starts
// with a token that dies in flight.
constexpr absl::Duration kRenewMargin = absl::Seconds(60);

// How long one call keeps waiting, over its retries, while the server's rate
// limit refuses it. A batch of thousands of calls then goes at the server's
// pace instead of failing.
constexpr absl::Duration kRateLimitPatience = absl::Seconds(30);

// The wait the server's rate limiter asked for: it refuses with
// RESOURCE_EXHAUSTED and the trailing metadata "retry-after-ms"
// (server/service_core.cc). nullopt for any other answer, including other
// RESOURCE_EXHAUSTED refusals (too many open streams, a message too large),
// which waiting does not cure.
std::optional<absl::Duration> RateLimitRetryAfter(
    const grpc::Status& status, const grpc::ClientContext& context) {
  if (status.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) {
    return std::nullopt;
  }
  const auto& trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find("retry-after-ms");
  if (it == trailers.end()) return std::nullopt;
  int64_t ms = 0;
  if (!absl::SimpleAtoi(std::string(it->second.data(), it->second.size()),
                        &ms) ||
      ms < 0) {
    return std::nullopt;
  }
  // At least a millisecond, at most a few seconds per wait.
  return std::clamp(absl::Milliseconds(ms), absl::Milliseconds(1),
                    absl::Seconds(5));
}

// Sleeps out a rate-limit refusal (RateLimitRetryAfter) if the total wait,
// *waited, stays within kRateLimitPatience; true if the call should be sent
// again.
bool WaitOutRateLimit(const Clock& clock, const grpc::Status& status,
                      const grpc::ClientContext& context,
                      absl::Duration* waited) {
  std::optional<absl::Duration> wait = RateLimitRetryAfter(status, context);
  if (!wait.has_value() || *waited + *wait > kRateLimitPatience) return false;
  clock.SleepFor(*wait);
  *waited += *wait;
  return true;
}

}  // namespace

void SetDeadline(grpc::ClientContext* context, absl::Duration timeout) {
  context->set_deadline(std::chrono::system_clock::now() +
                        absl::ToChronoMilliseconds(timeout));
}

absl::StatusOr<std::string> SessionAuthenticator::Token() {
  {
    absl::MutexLock lock(&mu_);
    if (!token_.empty() && clock_.Now() + kRenewMargin < expires_at_) {
      return token_;
    }
  }
  auto api = v1::Identity::NewStub(session_.channel());
  // Signing in is limited per address on the server (calls without a
  // session): wait as asked, as Call does for members' calls.
  auto call = [this](const std::function<grpc::Status(grpc::ClientContext*)>&
                         rpc) {
    absl::Duration waited;
    for (;;) {
      grpc::ClientContext context;
      SetDeadline(&context, session_.timeout());
      grpc::Status status = rpc(&context);
      if (WaitOutRateLimit(clock_, status, context, &waited)) continue;
      return status;
    }
  };
  v1::GetChallengeRequest challenge_request;
  challenge_request.set_identity_key(identity_.public_key());
  v1::Challenge challenge;
  grpc::Status status = call([&](grpc::ClientContext* context) {
    return api->GetChallenge(context, challenge_request, &challenge);
  });
  if (!status.ok()) return FromRpcStatus(status, session_.pin().address);
  v1::AuthenticateRequest request;
  request.set_identity_key(identity_.public_key());
  request.set_nonce(challenge.nonce());
  request.set_signature(identity_.Sign(AuthStatement(
      origin_, challenge.nonce(), identity_.public_key())));
  v1::SessionToken token;
  status = call([&](grpc::ClientContext* context) {
    return api->Authenticate(context, request, &token);
  });
  if (!status.ok()) return FromRpcStatus(status, session_.pin().address);
  absl::MutexLock lock(&mu_);
  token_ = token.token();
  // Trust our own clock for renewal, bounded by the server's answer.
  expires_at_ = std::min(absl::FromUnixSeconds(token.expires_at()),
                         clock_.Now() + absl::Minutes(15));
  member_ = token.member();
  return token_;
}

absl::Status SessionAuthenticator::Authorize(grpc::ClientContext* context) {
  absl::StatusOr<std::string> token = Token();
  if (!token.ok()) return token.status();
  context->AddMetadata("authorization", absl::StrCat("Bearer ", *token));
  return absl::OkStatus();
}

void SessionAuthenticator::Invalidate() {
  absl::MutexLock lock(&mu_);
  token_.clear();
  expires_at_ = absl::InfinitePast();
}

v1::Member SessionAuthenticator::member() const {
  absl::MutexLock lock(&mu_);
  return member_;
}

absl::Status SessionAuthenticator::Call(
    const std::function<grpc::Status(grpc::ClientContext*)>& rpc) {
  bool reauthenticated = false;
  absl::Duration waited;
  for (;;) {
    grpc::ClientContext context;
    SetDeadline(&context, session_.timeout());
    if (absl::Status s = Authorize(&context); !s.ok()) return s;
    grpc::Status status = rpc(&context);
    if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED &&
        !reauthenticated) {
      reauthenticated = true;
      Invalidate();
      continue;
    }
    // The rate limiter refused the call before doing anything: the same
    // request is safe to send again once the bucket has refilled.
    if (WaitOutRateLimit(clock_, status, context, &waited)) continue;
    return FromRpcStatus(status, session_.pin().address);
  }
}

}  // namespace parley
