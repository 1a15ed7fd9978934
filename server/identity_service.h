#ifndef PARLEY_SERVER_IDENTITY_SERVICE_H_
#define PARLEY_SERVER_IDENTITY_SERVICE_H_

#include "absl/synchronization/mutex.h"
#include "parley/v1/identity.grpc.pb.h"
#include "server/service_core.h"

namespace parley {

// Serialises changes to the member registry (invites, enrollments,
// revocations, key bundles) so validation and commit see one state.
struct RegistryLock {
  absl::Mutex mu;
};

// parley.v1.Identity: enrollment with one-time invites, challenge-response
// sign-in. Thread-safe.
class IdentityService final : public v1::Identity::CallbackService {
 public:
  IdentityService(const ServiceCore* core, RegistryLock* registry)
      : core_(core), registry_(registry) {}

  grpc::ServerUnaryReactor* Enroll(grpc::CallbackServerContext* context,
                                   const v1::EnrollRequest* request,
                                   v1::EnrollResponse* response) override;
  grpc::ServerUnaryReactor* GetChallenge(
      grpc::CallbackServerContext* context,
      const v1::GetChallengeRequest* request,
      v1::Challenge* response) override;
  grpc::ServerUnaryReactor* Authenticate(
      grpc::CallbackServerContext* context,
      const v1::AuthenticateRequest* request,
      v1::SessionToken* response) override;

  // The enrollment logic, callable without gRPC (tests, benchmarks).
  absl::Status DoEnroll(const v1::EnrollRequest& request,
                        v1::EnrollResponse* response);

 private:
  // The invite a code names if it is known, unused and unexpired: NotFound,
  // FailedPrecondition or InvalidArgument otherwise. Cheap (no signature).
  absl::StatusOr<InviteRecord> CheckInvite(const std::string& invite) const;
  static constexpr size_t kMaxInviteCodeBytes = 128;

  const ServiceCore* const core_;
  RegistryLock* const registry_;
};

// parley.v1.Admin: invites and revocation. Admin only. Thread-safe.
class AdminService final : public v1::Admin::CallbackService {
 public:
  AdminService(const ServiceCore* core, RegistryLock* registry)
      : core_(core), registry_(registry) {}

  grpc::ServerUnaryReactor* CreateInvite(
      grpc::CallbackServerContext* context,
      const v1::CreateInviteRequest* request, v1::Invite* response) override;
  grpc::ServerUnaryReactor* Revoke(grpc::CallbackServerContext* context,
                                   const v1::RevokeRequest* request,
                                   v1::RevokeResponse* response) override;

  absl::Status DoCreateInvite(const Caller& caller,
                              const v1::CreateInviteRequest& request,
                              v1::Invite* response);

 private:
  const ServiceCore* const core_;
  RegistryLock* const registry_;
};

// parley.v1.Directory: members, key bundles with their log entries, and
// prekey rotation. Thread-safe.
class DirectoryService final : public v1::Directory::CallbackService {
 public:
  DirectoryService(const ServiceCore* core, RegistryLock* registry)
      : core_(core), registry_(registry) {}

  grpc::ServerUnaryReactor* ListMembers(
      grpc::CallbackServerContext* context,
      const v1::ListMembersRequest* request,
      v1::ListMembersResponse* response) override;
  grpc::ServerUnaryReactor* GetKeyBundle(
      grpc::CallbackServerContext* context,
      const v1::GetKeyBundleRequest* request,
      v1::KeyBundleRecord* response) override;
  grpc::ServerUnaryReactor* PublishKeyBundle(
      grpc::CallbackServerContext* context,
      const v1::PublishKeyBundleRequest* request,
      v1::PublishKeyBundleResponse* response) override;

 private:
  const ServiceCore* const core_;
  RegistryLock* const registry_;
};

// Logs the bootstrap invite (role admin, no name) on a server that has no
// members and no record of it yet. Idempotent.
absl::Status EnsureBootstrapInvite(Ledger& ledger,
                                   const std::string& invite_hash);

}  // namespace parley

#endif  // PARLEY_SERVER_IDENTITY_SERVICE_H_
