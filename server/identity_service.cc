#include "server/identity_service.h"
#include "server/status_util.h"

#include <unistd.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "crypto/ed25519.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/prekey.h"
#include "crypto/rfc3339.h"
#include "crypto/statements.h"
#include "spdlog/spdlog.h"

namespace parley {
namespace {

constexpr absl::Duration kDefaultInviteLifetime = absl::Hours(72);
constexpr absl::Duration kMaxInviteLifetime = absl::Hours(24 * 30);

std::string FormatTime(int64_t unix_seconds) {
  return FormatRfc3339Utc(absl::FromUnixSeconds(unix_seconds));
}

std::string NewInviteCode(Random& random) {
  std::string hex = HexEncode(random.Bytes(16));
  std::string code = "pi1";
  for (size_t i = 0; i < hex.size(); i += 4) {
    absl::StrAppend(&code, "-", hex.substr(i, 4));
  }
  return code;
}

}  // namespace

absl::Status EnsureBootstrapInvite(Ledger& ledger,
                                   const std::string& invite_hash) {
  if (invite_hash.size() != 32) return absl::OkStatus();
  if (ledger.state().Invite(invite_hash).has_value() ||
      !ledger.state().Members().empty()) {
    return absl::OkStatus();
  }
  InviteCreated invite;
  invite.invite_hash = invite_hash;
  invite.role = MemberRole::kAdmin;
  invite.expires_at = 0;  // The bootstrap invite does not expire.
  absl::StatusOr<uint64_t> index = ledger.Commit(std::move(invite));
  return index.status();
}

absl::Status IdentityService::DoEnroll(const v1::EnrollRequest& request,
                                       v1::EnrollResponse* response) {
  // The invite first: an unknown or used code costs no signature check.
  absl::StatusOr<InviteRecord> checked = CheckInvite(request.invite());
  if (!checked.ok()) return checked.status();
  const std::string invite_hash = checked->invite_hash;
  absl::StatusOr<KeyBundle> bundle = ParseKeyBundle(request.key_bundle());
  if (!bundle.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("key bundle: ", bundle.status().message()));
  }
  const absl::Time now = core_->clock->Now();
  if (absl::Status s = VerifyKeyBundleAt(*bundle, now); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("key bundle: ", s.message()));
  }

  absl::MutexLock lock(&registry_->mu);
  const ServerState& state = core_->ledger->state();
  // Again under the lock: another enrollment may have redeemed it since.
  absl::StatusOr<InviteRecord> invite = CheckInvite(request.invite());
  if (!invite.ok()) return invite.status();
  std::string name = invite->name;
  if (name.empty()) {
    name = request.name();
    if (name.empty()) {
      return absl::InvalidArgumentError(
          "the bootstrap invite needs a name for the first admin (--name)");
    }
  } else if (request.name() != name) {
    // The enroll statement (and so the logged signature) names the member:
    // the device must sign the invited name. The holder of the code may
    // learn it.
    return absl::InvalidArgumentError(absl::StrCat(
        "this invite is for ", Quote(name), request.name().empty() ? "" : absl::StrCat(", not ", Quote(request.name())),
        ": enroll with --name ", name));
  }
  if (absl::Status s = ValidateName("member", name); !s.ok()) return s;
  if (state.MemberByName(name).has_value()) {
    return absl::AlreadyExistsError(
        absl::StrCat("a member named ", Quote(name), " already exists"));
  }
  if (state.MemberByKey(bundle->identity_public_key).has_value()) {
    return absl::AlreadyExistsError(
        "this identity key is already registered to another member");
  }
  if (absl::Status s = Ed25519Verify(
          bundle->identity_public_key,
          EnrollStatement(invite_hash, name, request.key_bundle()),
          request.signature());
      !s.ok()) {
    return absl::UnauthenticatedError(
        "the enrollment signature does not verify with the bundle's identity "
        "key");
  }
  MemberRegistered entry;
  entry.name = name;
  entry.role = invite->role;
  entry.organisation = invite->organisation;
  entry.invite_hash = invite_hash;
  entry.key_bundle = request.key_bundle();
  entry.signature = request.signature();
  absl::StatusOr<uint64_t> index = core_->ledger->Commit(std::move(entry));
  if (!index.ok()) return index.status();
  if (invite->created_by.empty() && !core_->bootstrap_invite_path.empty()) {
    ::unlink(core_->bootstrap_invite_path.c_str());
  }
  spdlog::info("enrolled {} as {} at log index {}", name,
               std::string(RoleName(invite->role)), *index);
  std::optional<MemberRecord> member = state.MemberByName(name);
  if (member.has_value()) FillMember(*member, response->mutable_member());
  response->set_registration_index(*index);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* IdentityService::Enroll(
    grpc::CallbackServerContext* context, const v1::EnrollRequest* request,
    v1::EnrollResponse* response) {
  // The cheap checks and the limits on this thread; the signature checks
  // (up to one per prekey) and the commit on the pool.
  if (absl::Status s = core_->AdmitPublic(context); !s.ok()) {
    return core_->Refuse(context, s);
  }
  absl::StatusOr<InviteRecord> invite = CheckInvite(request->invite());
  if (!invite.ok()) return core_->Refuse(context, invite.status());
  absl::Duration retry_after;
  if (absl::Status s = core_->limiter->TakeEnrollment(
          PeerKey(*context), invite->invite_hash, &retry_after);
      !s.ok()) {
    AddRetryAfter(context, s, retry_after);
    return core_->Refuse(context, s);
  }
  return FinishUnaryOnPool(*core_, context, [=, this] {
    return DoEnroll(*request, response);
  });
}

absl::StatusOr<InviteRecord> IdentityService::CheckInvite(
    const std::string& invite) const {
  std::string code(absl::StripAsciiWhitespace(invite));
  if (code.empty()) {
    return absl::InvalidArgumentError("an invite code is required");
  }
  if (code.size() > kMaxInviteCodeBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "an invite code is at most ", kMaxInviteCodeBytes,
        " characters (\"pi1-\" and eight groups of four hex digits); this one has ", code.size()));
  }
  std::string invite_hash = Sha256(code);
  std::optional<InviteRecord> record =
      core_->ledger->state().Invite(invite_hash);
  if (!record.has_value()) {
    return absl::NotFoundError(
        "unknown invite code: check it for typos, or ask the admin for a new "
        "one");
  }
  if (record->redeemed) {
    return absl::FailedPreconditionError(
        "this invite has already been used; ask the admin for a new one");
  }
  if (record->expires_at != 0 &&
      absl::ToUnixSeconds(core_->clock->Now()) >= record->expires_at) {
    return absl::FailedPreconditionError(
        absl::StrCat("this invite expired at ", FormatTime(record->expires_at),
                     "; ask the admin for a new one"));
  }
  return *std::move(record);
}

grpc::ServerUnaryReactor* IdentityService::GetChallenge(
    grpc::CallbackServerContext* context,
    const v1::GetChallengeRequest* request, v1::Challenge* response) {
  if (absl::Status s = core_->AdmitPublic(context); !s.ok()) {
    return core_->Refuse(context, s);
  }
  absl::Duration retry_after;
  absl::StatusOr<Authenticator::Challenge> challenge =
      core_->auth->NewChallenge(request->identity_key(), PeerKey(*context),
                                &retry_after);
  AddRetryAfter(context, challenge.status(), retry_after);
  if (challenge.ok()) {
    response->set_nonce(challenge->nonce);
    response->set_expires_at(absl::ToUnixSeconds(challenge->expires_at));
  }
  return core_->Refuse(context, challenge.status());
}

grpc::ServerUnaryReactor* IdentityService::Authenticate(
    grpc::CallbackServerContext* context,
    const v1::AuthenticateRequest* request, v1::SessionToken* response) {
  if (absl::Status s = core_->AdmitPublic(context); !s.ok()) {
    return core_->Refuse(context, s);
  }
  absl::StatusOr<Authenticator::Token> token = core_->auth->Authenticate(
      request->identity_key(), request->nonce(), request->signature());
  if (token.ok()) {
    response->set_token(token->token);
    response->set_expires_at(absl::ToUnixSeconds(token->expires_at));
    FillMember(token->member, response->mutable_member());
  }
  return FinishUnary(context, token.status());
}

absl::Status AdminService::DoCreateInvite(const Caller& caller,
                                          const v1::CreateInviteRequest& request,
                                          v1::Invite* response) {
  if (request.role() < v1::ROLE_ADMIN || request.role() > v1::ROLE_OBSERVER) {
    return absl::InvalidArgumentError(
        "role must be admin, mediator, coordinator, party or observer");
  }
  if (absl::Status s = ValidateName("member", request.name()); !s.ok()) {
    return s;
  }
  if (request.organisation().size() > 128) {
    return absl::InvalidArgumentError("organisation must be at most 128 bytes");
  }
  absl::Duration lifetime =
      request.expires_in_seconds() == 0
          ? kDefaultInviteLifetime
          : absl::Seconds(request.expires_in_seconds());
  if (lifetime <= absl::ZeroDuration() || lifetime > kMaxInviteLifetime) {
    return absl::InvalidArgumentError(
        "an invite must expire within 30 days (and after now)");
  }
  absl::MutexLock lock(&registry_->mu);
  if (core_->ledger->state().MemberByName(request.name()).has_value()) {
    return absl::AlreadyExistsError(
        absl::StrCat("a member named ", Quote(request.name()), " already exists"));
  }
  std::string code = NewInviteCode(*core_->random);
  InviteCreated entry;
  entry.invite_hash = Sha256(code);
  entry.role = static_cast<MemberRole>(request.role());
  entry.name = request.name();
  entry.organisation = request.organisation();
  entry.expires_at = absl::ToUnixSeconds(core_->clock->Now() + lifetime);
  entry.created_by = caller.name;
  int64_t expires_at = entry.expires_at;
  absl::StatusOr<uint64_t> index = core_->ledger->Commit(std::move(entry));
  if (!index.ok()) return index.status();
  response->set_code(code);
  response->set_name(request.name());
  response->set_role(request.role());
  response->set_expires_at(expires_at);
  response->set_log_index(*index);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AdminService::CreateInvite(
    grpc::CallbackServerContext* context,
    const v1::CreateInviteRequest* request, v1::Invite* response) {
  absl::StatusOr<Caller> caller =
      core_->Admit(context, "parley.v1.Admin/CreateInvite");
  if (!caller.ok()) return core_->Refuse(context, caller.status());
  return FinishUnaryOnPool(*core_, context, [=, this] {
    return DoCreateInvite(*caller, *request, response);
  });
}

grpc::ServerUnaryReactor* AdminService::Revoke(
    grpc::CallbackServerContext* context, const v1::RevokeRequest* request,
    v1::RevokeResponse* response) {
  absl::StatusOr<Caller> caller =
      core_->Admit(context, "parley.v1.Admin/Revoke");
  if (!caller.ok()) return core_->Refuse(context, caller.status());
  return FinishUnaryOnPool(*core_, context, [=, this]() -> absl::Status {
    absl::Status status = [&]() -> absl::Status {
      if (request->reason().size() > 1024) {
        return absl::InvalidArgumentError("reason must be at most 1024 bytes");
      }
      absl::MutexLock lock(&registry_->mu);
      std::optional<MemberRecord> member =
          core_->ledger->state().MemberByName(request->name());
      if (!member.has_value()) {
        return absl::NotFoundError(
            absl::StrCat("no member named ", Quote(request->name())));
      }
      if (member->revoked) {
        return absl::FailedPreconditionError(
            absl::StrCat(request->name(), " is already revoked"));
      }
      if (member->name == caller->name) {
        return absl::FailedPreconditionError(
            "an admin cannot revoke themselves; ask another admin");
      }
      MemberRevoked entry{request->name(), caller->name, request->reason()};
      absl::StatusOr<uint64_t> index = core_->ledger->Commit(std::move(entry));
      if (!index.ok()) return index.status();
      response->set_log_index(*index);
      return absl::OkStatus();
    }();
    if (status.ok()) {
      core_->auth->RevokeMember(request->name());
      if (core_->on_revoke) core_->on_revoke(request->name());
      spdlog::info("revoked {}", request->name());
    }
    return status;
  });
}

grpc::ServerUnaryReactor* DirectoryService::ListMembers(
    grpc::CallbackServerContext* context, const v1::ListMembersRequest*,
    v1::ListMembersResponse* response) {
  absl::StatusOr<Caller> caller =
      core_->Admit(context, "parley.v1.Directory/ListMembers");
  if (!caller.ok()) return core_->Refuse(context, caller.status());
  for (const MemberRecord& m : core_->ledger->state().Members()) {
    FillMember(m, response->add_members());
  }
  return FinishUnary(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* DirectoryService::GetKeyBundle(
    grpc::CallbackServerContext* context,
    const v1::GetKeyBundleRequest* request, v1::KeyBundleRecord* response) {
  absl::StatusOr<Caller> caller =
      core_->Admit(context, "parley.v1.Directory/GetKeyBundle");
  if (!caller.ok()) return core_->Refuse(context, caller.status());
  std::optional<MemberRecord> member =
      core_->ledger->state().MemberByName(request->name());
  if (!member.has_value()) {
    return FinishUnary(context, absl::NotFoundError(absl::StrCat(
                                    "no member named ", Quote(request->name()),
                                    "")));
  }
  absl::StatusOr<std::string> entry =
      core_->ledger->log().GetEntry(member->registration_index);
  if (!entry.ok()) return FinishUnary(context, entry.status());
  FillMember(*member, response->mutable_member());
  response->set_key_bundle(member->key_bundle);
  response->set_entry(*entry);
  return FinishUnary(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* DirectoryService::PublishKeyBundle(
    grpc::CallbackServerContext* context,
    const v1::PublishKeyBundleRequest* request,
    v1::PublishKeyBundleResponse* response) {
  absl::StatusOr<Caller> caller =
      core_->Admit(context, "parley.v1.Directory/PublishKeyBundle");
  if (!caller.ok()) return core_->Refuse(context, caller.status());
  return FinishUnaryOnPool(*core_, context, [=, this]() -> absl::Status {
    absl::StatusOr<KeyBundle> bundle = ParseKeyBundle(request->key_bundle());
    if (!bundle.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("key bundle: ", bundle.status().message()));
    }
    if (bundle->identity_public_key != caller->identity_key) {
      return absl::PermissionDeniedError(
          "a key bundle must carry the caller's own identity key");
    }
    if (absl::Status s = VerifyKeyBundleAt(*bundle, core_->clock->Now());
        !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("key bundle: ", s.message()));
    }
    if (absl::Status s = Ed25519Verify(
            caller->identity_key,
            RotateStatement(caller->name, request->key_bundle()),
            request->signature());
        !s.ok()) {
      return absl::UnauthenticatedError(
          "the rotation signature does not verify");
    }
    absl::MutexLock lock(&registry_->mu);
    KeyBundlePublished entry{caller->name, request->key_bundle(),
                             request->signature()};
    absl::StatusOr<uint64_t> index = core_->ledger->Commit(std::move(entry));
    if (!index.ok()) return index.status();
    response->set_log_index(*index);
    return absl::OkStatus();
  });
}

}  // namespace parley
