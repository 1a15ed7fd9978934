#include "server/info_service.h"

#include "server/status_util.h"

namespace parley {

grpc::ServerUnaryReactor* InfoService::GetServerInfo(
    grpc::CallbackServerContext* context, const v1::GetServerInfoRequest*,
    v1::ServerInfo* response) {
  if (admit_) {
    if (absl::Status s = admit_(context); !s.ok()) {
      return FinishPaced(pacer_, context, s);
    }
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  response->set_version(version_);
  response->set_origin(log_->origin());
  response->set_verifier_key(log_->VerifierKey());
  response->set_tree_size(log_->Size());
  response->set_max_message_bytes(max_message_bytes_);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace parley
