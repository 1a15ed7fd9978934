#ifndef PARLEY_SERVER_INFO_SERVICE_H_
#define PARLEY_SERVER_INFO_SERVICE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"

#include "parley/v1/info.grpc.pb.h"
#include "server/refusal_pacer.h"
#include "storage/log_store.h"

namespace parley {

// parley.v1.Info: version, origin, verifier key and tree size. Public (no
// session needed): it reveals nothing a checkpoint does not. Thread-safe.
class InfoService final : public v1::Info::CallbackService {
 public:
  // `log` is not owned and must outlive the service. `admit`, if set,
  // admits each call (rate limits) or returns the refusal to send.
  using AdmitFn = std::function<absl::Status(grpc::CallbackServerContext*)>;
  // `pacer` (not owned, may be null) answers refusals by a limit.
  InfoService(const LogStore* log, std::string version,
              uint64_t max_message_bytes, AdmitFn admit = {},
              RefusalPacer* pacer = nullptr)
      : log_(log),
        version_(std::move(version)),
        max_message_bytes_(max_message_bytes),
        admit_(std::move(admit)),
        pacer_(pacer) {}

  grpc::ServerUnaryReactor* GetServerInfo(
      grpc::CallbackServerContext* context,
      const v1::GetServerInfoRequest* request,
      v1::ServerInfo* response) override;

 private:
  const LogStore* log_;
  const std::string version_;
  const uint64_t max_message_bytes_;
  const AdmitFn admit_;
  RefusalPacer* const pacer_;
};

}  // namespace parley

#endif  // PARLEY_SERVER_INFO_SERVICE_H_
