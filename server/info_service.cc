#include "server/info_service.h"

namespace parley {

grpc::ServerUnaryReactor* InfoService::GetServerInfo(
    grpc::CallbackServerContext* context, const v1::GetServerInfoRequest*,
    v1::ServerInfo* response) {
  response->set_version(version_);
  response->set_origin(log_->origin());
  response->set_verifier_key(log_->VerifierKey());
  response->set_tree_size(log_->Size());
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace parley
