#ifndef PARLEY_SERVER_NOTIFICATION_SERVICE_H_
#define PARLEY_SERVER_NOTIFICATION_SERVICE_H_

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "crypto/envelope.h"
#include "parley/v1/notifications.grpc.pb.h"
#include "server/deconfliction_options.h"
#include "server/service_core.h"

namespace parley {

// The overall state shown for a notification's current version.
v1::NotificationState::Overall OverallState(const NotificationRecord& record,
                                            absl::Time now);

// parley.v1.Notifications. Thread-safe.
class NotificationService final : public v1::Notifications::CallbackService {
 public:
  NotificationService(const ServiceCore* core, DeconflictionOptions options)
      : core_(core), options_(options) {}

  grpc::ServerUnaryReactor* Notify(grpc::CallbackServerContext* context,
                                   const v1::NotifyRequest* request,
                                   v1::NotifyResponse* response) override;
  grpc::ServerUnaryReactor* Acknowledge(
      grpc::CallbackServerContext* context,
      const v1::AcknowledgeRequest* request,
      v1::AcknowledgeResponse* response) override;
  grpc::ServerUnaryReactor* Cancel(grpc::CallbackServerContext* context,
                                   const v1::CancelRequest* request,
                                   v1::CancelResponse* response) override;
  grpc::ServerUnaryReactor* PostStatus(
      grpc::CallbackServerContext* context,
      const v1::PostStatusRequest* request,
      v1::PostStatusResponse* response) override;
  grpc::ServerUnaryReactor* ListNotifications(
      grpc::CallbackServerContext* context,
      const v1::ListNotificationsRequest* request,
      v1::ListNotificationsResponse* response) override;
  grpc::ServerUnaryReactor* GetNotification(
      grpc::CallbackServerContext* context,
      const v1::GetNotificationRequest* request,
      v1::NotificationState* response) override;

  // The logic without gRPC (tests, benchmarks, bulk import).
  absl::Status DoNotify(const Caller& caller, const v1::NotifyRequest& request,
                        v1::NotifyResponse* response);
  absl::Status DoAcknowledge(const Caller& caller,
                             const v1::AcknowledgeRequest& request,
                             v1::AcknowledgeResponse* response);

  // Logs every escalation step that is due at the clock's time and not yet
  // logged: reminder (deadline - reminder_before, to the party), escalation
  // (deadline, to the issuer's coordinators and the mediators; the party is
  // reminded), second escalation (deadline + second_escalation_after); and
  // for each site whose current version reached its review-by date (and
  // was logged before it) and is not cancelled, one review-due step
  // (EscalationStep::kReviewDue, party = the issuer, deadline = review-by;
  // to the issuer's organisation's coordinators). Each at most once per
  // version, also across restarts (the state is rebuilt from the log).
  // Returns how many entries it logged; stops at the first failed append.
  absl::StatusOr<int> RunDueDeadlines();

 private:
  // A party sees only its own row, and the overall state as it stands for
  // it alone: parties to a conflict do not learn each other's answers.
  void FillState(const NotificationRecord& record, const Caller& viewer,
                 v1::NotificationState* out) const;
  // Checks an envelope that rides with a notification action (objection
  // reason, cancellation reason, status; PROTOCOL.md 15.4a): signed by
  // `caller`, channel id `channel`, sequence 0 and a zero previous hash
  // (INVALID_ARGUMENT otherwise: each is a statement of its own, not a
  // chain), encrypted to exactly `recipients` (see CheckRecipients).
  // `recipients_are` names that set in refusals ("the issuer side").
  absl::StatusOr<ParsedEnvelope> CheckSideEnvelope(
      const Caller& caller, const std::string& bytes,
      const std::string& channel, const std::set<std::string>& recipients,
      std::string_view recipients_are) const;
  // FAILED_PRECONDITION unless the envelope's recipient identity keys are
  // exactly the keys of the unrevoked members named in `names`. The
  // message names the members it is encrypted to in excess (the sender
  // first) and those it leaves out, at most a few of each.
  absl::Status CheckRecipients(const ParsedEnvelope& envelope,
                               const std::set<std::string>& names,
                               std::string_view recipients_are) const;

  // The notification `id` if `caller` issued it: NOT_FOUND outside its
  // audience, PERMISSION_DENIED ("only the issuing coordinator may
  // <action>") for anyone else in it.
  // REQUIRES: LockFor(id) held.
  absl::StatusOr<NotificationRecord> IssuedByCaller(const Caller& caller,
                                                    const std::string& id,
                                                    std::string_view action);

  // Serialises the changes to one notification (a version, an answer, a
  // cancellation, a status, an escalation step): each checks the state it
  // read before its append lands. Changes to different notifications run
  // in parallel and share the log's group commit. Striped, so memory does
  // not grow with the number of notifications.
  absl::Mutex& LockFor(std::string_view id);

  const ServiceCore* const core_;
  const DeconflictionOptions options_;
  static constexpr size_t kLockStripes = 64;
  absl::Mutex locks_[kLockStripes];
};

// Calls NotificationService::RunDueDeadlines once a second.
class DeadlineWatcher {
 public:
  explicit DeadlineWatcher(NotificationService* service);
  ~DeadlineWatcher();

 private:
  NotificationService* const service_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace parley

#endif  // PARLEY_SERVER_NOTIFICATION_SERVICE_H_
