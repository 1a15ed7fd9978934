#ifndef PARLEY_SERVER_INFO_SERVICE_H_
#define PARLEY_SERVER_INFO_SERVICE_H_

#include <functional>
#include <string>

#include "absl/status/status.h"

#include "parley/v1/info.grpc.pb.h"
#include "storage/log_store.h"

namespace parley {

// parley.v1.Info: version, origin, verifier key and tree size. Public (no
// session needed): it reveals nothing a checkpoint does not. Thread-safe.
class InfoService final : public v1::Info::CallbackService {
 public:
  // `log` is not owned and must outlive the service. `admit`, if set,
  // admits each call (rate limits) or returns the refusal to send.
  using AdmitFn = std::function<absl::Status(grpc::CallbackServerContext*)>;
  InfoService(const LogStore* log, std::string version, AdmitFn admit = {})
      : log_(log), version_(std::move(version)), admit_(std::move(admit)) {}

  grpc::ServerUnaryReactor* GetServerInfo(
      grpc::CallbackServerContext* context,
      const v1::GetServerInfoRequest* request,
      v1::ServerInfo* response) override;

 private:
  const LogStore* log_;
  const std::string version_;
  const AdmitFn admit_;
};

}  // namespace parley

#endif  // PARLEY_SERVER_INFO_SERVICE_H_
