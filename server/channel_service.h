#ifndef PARLEY_SERVER_CHANNEL_SERVICE_H_
#define PARLEY_SERVER_CHANNEL_SERVICE_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "parley/v1/channels.grpc.pb.h"
#include "server/delivery.h"
#include "server/service_core.h"

namespace parley {

// parley.v1.Channels: backchannels, end-to-end encrypted sends with
// sequence/previous-hash chains, idempotent retries, mediated relay,
// resumable delivery and signed receipts. Thread-safe.
class ChannelService final : public v1::Channels::CallbackService {
 public:
  ChannelService(const ServiceCore* core, DeliveryHub* hub)
      : core_(core), hub_(hub) {}

  grpc::ServerUnaryReactor* CreateChannel(
      grpc::CallbackServerContext* context,
      const v1::CreateChannelRequest* request,
      v1::ChannelInfo* response) override;
  grpc::ServerUnaryReactor* ChangeMembers(
      grpc::CallbackServerContext* context,
      const v1::ChangeMembersRequest* request,
      v1::ChannelInfo* response) override;
  grpc::ServerUnaryReactor* ListChannels(
      grpc::CallbackServerContext* context,
      const v1::ListChannelsRequest* request,
      v1::ListChannelsResponse* response) override;
  grpc::ServerUnaryReactor* Send(grpc::CallbackServerContext* context,
                                 const v1::SendRequest* request,
                                 v1::SendResponse* response) override;
  grpc::ServerUnaryReactor* SendBatch(grpc::CallbackServerContext* context,
                                      const v1::SendBatchRequest* request,
                                      v1::SendBatchResponse* response) override;
  grpc::ServerWriteReactor<v1::Delivery>* Subscribe(
      grpc::CallbackServerContext* context,
      const v1::SubscribeRequest* request) override;
  grpc::ServerUnaryReactor* SubmitReceipts(
      grpc::CallbackServerContext* context,
      const v1::SubmitReceiptsRequest* request,
      v1::SubmitReceiptsResponse* response) override;
  grpc::ServerUnaryReactor* ListReceipts(
      grpc::CallbackServerContext* context,
      const v1::ListReceiptsRequest* request,
      v1::ListReceiptsResponse* response) override;

  // The send logic without gRPC (tests and benchmarks).
  absl::Status DoSend(const Caller& caller, const v1::SendRequest& request,
                      v1::SendResponse* response);
  // SendBatch without gRPC: every send checked in order (each seeing the
  // chains the earlier ones advance), then the new ones logged in one
  // synced write; all or none. On success `results` has one per request.
  // A failure names the item ("send 3 of 8: ...") unless there is one.
  absl::Status DoSendBatch(const Caller& caller,
                           const std::vector<const v1::SendRequest*>& requests,
                           std::vector<v1::SendResponse>* results);
  static constexpr size_t kMaxSendsPerBatch = 100;

 private:
  absl::Status CheckMembers(const std::vector<std::string>& names) const;
  // DataLoss (or the read's error) if the caller's chain cannot be read.
  absl::Status FillChannel(const ChannelRecord& channel,
                           const std::string& caller,
                           v1::ChannelInfo* out) const;
  absl::Mutex* SenderLock(const std::string& sender);

  const ServiceCore* const core_;
  DeliveryHub* const hub_;
  absl::Mutex channels_mu_;  // serialises channel creation and changes
  absl::Mutex senders_mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<absl::Mutex>> senders_
      ABSL_GUARDED_BY(senders_mu_);
};

}  // namespace parley

#endif  // PARLEY_SERVER_CHANNEL_SERVICE_H_
