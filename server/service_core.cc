#include "server/service_core.h"

#include "absl/strings/str_cat.h"
#include "server/status_util.h"

namespace parley {

absl::StatusOr<Caller> ServiceCore::Admit(grpc::CallbackServerContext* context,
                                          const std::string& method,
                                          int tokens) const {
  absl::StatusOr<Caller> caller = auth->Resolve(*context, method);
  if (!caller.ok()) return caller.status();
  absl::Duration retry_after;
  if (absl::Status s = limiter->Take(caller->name, &retry_after, tokens);
      !s.ok()) {
    AddRetryAfter(context, s, retry_after);
    return s;
  }
  return caller;
}

absl::Status ServiceCore::AdmitPublic(
    grpc::CallbackServerContext* context) const {
  absl::Duration retry_after;
  absl::Status s;
  if (std::optional<std::string> member = auth->SessionMember(*context)) {
    s = limiter->Take(*member, &retry_after);
  } else {
    s = limiter->TakePublic(PeerKey(*context), &retry_after);
  }
  AddRetryAfter(context, s, retry_after);
  return s;
}

grpc::ServerUnaryReactor* ServiceCore::Refuse(
    grpc::CallbackServerContext* context, const absl::Status& status) const {
  return FinishPaced(pacer, context, status);
}

std::string PeerKey(const grpc::CallbackServerContext& context) {
  return PeerAddressKey(context.peer());
}

void AddRetryAfter(grpc::CallbackServerContext* context,
                   const absl::Status& status, absl::Duration retry_after) {
  if (!absl::IsResourceExhausted(status)) return;
  context->AddTrailingMetadata(
      "retry-after-ms",
      absl::StrCat(std::max<int64_t>(1, absl::ToInt64Milliseconds(retry_after))));
}

namespace {
constexpr absl::Duration kMaxFutureSkew = absl::Minutes(10);
constexpr absl::Duration kMaxEnvelopeAge = absl::Hours(7 * 24);
}  // namespace

absl::StatusOr<ParsedEnvelope> ServiceCore::CheckSignedEnvelope(
    const Caller& caller, const std::string& bytes,
    const std::string& channel) const {
  if (bytes.size() > max_message_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "envelope of ", bytes.size(), " bytes exceeds the limit of ",
        max_message_bytes));
  }
  absl::StatusOr<ParsedEnvelope> envelope = ParseEnvelope(bytes);
  if (!envelope.ok()) {
    if (absl::IsUnauthenticated(envelope.status())) {
      return absl::UnauthenticatedError(
          "the envelope's signature does not verify: refused");
    }
    return absl::InvalidArgumentError(
        absl::StrCat("malformed envelope: ", envelope.status().message()));
  }
  if (envelope->header.sender_identity != caller.identity_key) {
    return absl::PermissionDeniedError(
        "the envelope is signed by another identity than the caller's");
  }
  if (envelope->header.metadata.channel_id != channel) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the envelope's channel id must be ", Quote(channel)));
  }
  const absl::Time now = clock->Now();
  const absl::Time created =
      absl::FromUnixSeconds(envelope->header.metadata.created_at);
  if (created > now + kMaxFutureSkew || created < now - kMaxEnvelopeAge) {
    return absl::InvalidArgumentError(
        "the envelope's creation time is more than 10 minutes ahead of the "
        "server or older than 7 days; check the device clock");
  }
  return envelope;
}

grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* context,
                                      const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

grpc::ServerUnaryReactor* FinishUnaryOnPool(
    const ServiceCore& core, grpc::CallbackServerContext* context,
    std::function<absl::Status()> work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (core.pool == nullptr) {
    reactor->Finish(ToGrpcStatus(work()));
    return reactor;
  }
  core.pool->Run([reactor, work = std::move(work)] {
    reactor->Finish(ToGrpcStatus(work()));
  });
  return reactor;
}

void FillMember(const MemberRecord& record, v1::Member* out) {
  out->set_name(record.name);
  out->set_role(static_cast<v1::Role>(record.role));
  out->set_organisation(record.organisation);
  out->set_identity_key(record.identity_key);
  out->set_registration_index(record.registration_index);
  out->set_enrolled_index(record.enrolled_index);
  out->set_revoked(record.revoked);
  out->set_enrolled_at(record.enrolled_at_ms / 1000);
}

}  // namespace parley
