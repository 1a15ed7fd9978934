#include "server/service_core.h"

#include "absl/strings/str_cat.h"
#include "server/status_util.h"

namespace parley {

absl::StatusOr<Caller> ServiceCore::Admit(grpc::CallbackServerContext* context,
                                          const std::string& method) const {
  absl::StatusOr<Caller> caller = auth->Resolve(*context, method);
  if (!caller.ok()) return caller.status();
  absl::Duration retry_after;
  if (absl::Status s = limiter->Take(caller->name, &retry_after); !s.ok()) {
    context->AddTrailingMetadata(
        "retry-after-ms", absl::StrCat(absl::ToInt64Milliseconds(retry_after)));
    return s;
  }
  return caller;
}

grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* context,
                                      const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
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
