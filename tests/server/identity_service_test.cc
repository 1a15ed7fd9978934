// parley.v1.Identity, Admin and the authorization table, over gRPC against an
// in-process parleyd.

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/server_test_util.h"

namespace parley {
namespace {

using ::parley::testing::Describe;
using ::parley::testing::Device;
using ::parley::testing::ServerTest;
using ::testing::HasSubstr;

class IdentityServiceTest : public ServerTest {};

// --- Enrollment ------------------------------------------------------------

TEST_F(IdentityServiceTest, BootstrapInviteEnrollsFirstAdminAndIsRemoved) {
  uint64_t before = TreeSize();
  auto d = NewDevice("root");
  v1::EnrollResponse response;
  grpc::Status s = Enroll(EnrollRequestFor(*d, BootstrapInvite(), "root"),
                          &response);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(response.member().name(), "root");
  EXPECT_EQ(response.member().role(), v1::ROLE_ADMIN);
  EXPECT_EQ(response.member().identity_key(), d->key());
  EXPECT_EQ(response.registration_index(), before);
  EXPECT_EQ(TreeSize(), before + 1);
  EXPECT_FALSE(std::filesystem::exists(tmp_.Sub("data/bootstrap-invite")));
  EXPECT_TRUE(SignIn(*d).ok());
}

TEST_F(IdentityServiceTest, BootstrapInviteWithoutNameIsInvalidArgument) {
  auto d = NewDevice("root");
  uint64_t before = TreeSize();
  grpc::Status s = Enroll(EnrollRequestFor(*d, BootstrapInvite(), ""));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("name"));
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(IdentityServiceTest, ReusedInviteIsFailedPrecondition) {
  std::string code = BootstrapInvite();
  auto first = NewDevice("root");
  ASSERT_TRUE(Enroll(EnrollRequestFor(*first, code, "root")).ok());
  uint64_t before = TreeSize();
  auto second = NewDevice("root2");
  grpc::Status s = Enroll(EnrollRequestFor(*second, code, "root2"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("already been used"));
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(IdentityServiceTest, UnknownInviteIsNotFound) {
  uint64_t before = TreeSize();
  auto d = NewDevice("x");
  grpc::Status s =
      Enroll(EnrollRequestFor(*d, "pi1-0000-0000-0000-0000-0000-0000-0000-0000",
                              "x"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("unknown invite"));
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(IdentityServiceTest, ExpiredInviteIsFailedPrecondition) {
  Device& admin = EnrollAdmin();
  v1::Invite invite;
  ASSERT_TRUE(CreateInvite(admin, v1::ROLE_PARTY, "late", &invite).ok());
  clock_.Advance(absl::Hours(72) + absl::Seconds(1));
  uint64_t before = TreeSize();
  // A prekey created now, so only the invite is stale.
  auto d = NewDevice("late");
  grpc::Status s = Enroll(EnrollRequestFor(*d, invite.code(), "late"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("expired"));
  EXPECT_THAT(s.error_message(), HasSubstr("new one"));
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(IdentityServiceTest, InviteJustBeforeExpiryStillWorks) {
  Device& admin = EnrollAdmin();
  v1::Invite invite;
  ASSERT_TRUE(CreateInvite(admin, v1::ROLE_PARTY, "ontime", &invite).ok());
  clock_.Advance(absl::Hours(72) - absl::Seconds(1));
  auto d = NewDevice("ontime");
  grpc::Status s = Enroll(EnrollRequestFor(*d, invite.code(), "ontime"));
  EXPECT_TRUE(s.ok()) << Describe(s);
}

TEST_F(IdentityServiceTest, BadEnrollmentSignatureIsUnauthenticated) {
  uint64_t before = TreeSize();
  auto d = NewDevice("root");
  v1::EnrollRequest r = EnrollRequestFor(*d, BootstrapInvite(), "root");
  std::string sig = r.signature();
  sig[0] ^= 1;
  r.set_signature(sig);
  grpc::Status s = Enroll(r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("signature"));
  EXPECT_EQ(TreeSize(), before);
  // The invite was not consumed.
  EXPECT_TRUE(Enroll(EnrollRequestFor(*d, BootstrapInvite(), "root")).ok());
}

TEST_F(IdentityServiceTest, SignatureOverAnotherNameIsUnauthenticated) {
  auto d = NewDevice("root");
  v1::EnrollRequest r = EnrollRequestFor(*d, BootstrapInvite(), "root");
  r.set_name("other");  // The statement signed names "root".
  grpc::Status s = Enroll(r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
}

TEST_F(IdentityServiceTest, NameOtherThanInvitedIsInvalidArgument) {
  Device& admin = EnrollAdmin();
  v1::Invite invite;
  ASSERT_TRUE(CreateInvite(admin, v1::ROLE_PARTY, "alice", &invite).ok());
  uint64_t before = TreeSize();
  auto d = NewDevice("mallory");
  grpc::Status s = Enroll(EnrollRequestFor(*d, invite.code(), "mallory"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("alice"));
  EXPECT_THAT(s.error_message(), HasSubstr("mallory"));
  EXPECT_EQ(TreeSize(), before);
  // An empty name means "the invited name".
  v1::EnrollResponse response;
  s = Enroll(EnrollRequestFor(*d, invite.code(), "alice"), &response);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(response.member().name(), "alice");
  EXPECT_EQ(response.member().role(), v1::ROLE_PARTY);
}

TEST_F(IdentityServiceTest, DuplicateNameIsAlreadyExists) {
  Device& admin = EnrollAdmin();
  // CreateInvite already refuses a taken name...
  v1::Invite invite;
  grpc::Status s = CreateInvite(admin, v1::ROLE_PARTY, "admin", &invite);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << Describe(s);
  // ...and two invites for one name: the second redemption is refused.
  v1::Invite first, second;
  ASSERT_TRUE(CreateInvite(admin, v1::ROLE_PARTY, "twin", &first).ok());
  ASSERT_TRUE(CreateInvite(admin, v1::ROLE_PARTY, "twin", &second).ok());
  auto d1 = NewDevice("twin");
  ASSERT_TRUE(Enroll(EnrollRequestFor(*d1, first.code(), "twin")).ok());
  uint64_t before = TreeSize();
  auto d2 = NewDevice("twin");
  s = Enroll(EnrollRequestFor(*d2, second.code(), "twin"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("twin"));
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(IdentityServiceTest, SameIdentityKeyTwiceIsAlreadyExists) {
  Device& admin = EnrollAdmin();
  v1::Invite invite;
  ASSERT_TRUE(CreateInvite(admin, v1::ROLE_PARTY, "copy", &invite).ok());
  uint64_t before = TreeSize();
  grpc::Status s = Enroll(EnrollRequestFor(admin, invite.code(), "copy"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("identity key"));
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(IdentityServiceTest, ExpiredPrekeyInBundleIsRefused) {
  // A prekey valid for one hour, presented two hours later.
  auto d = NewDevice("root", absl::Hours(1));
  clock_.Advance(absl::Hours(2));
  uint64_t before = TreeSize();
  grpc::Status s = Enroll(EnrollRequestFor(*d, BootstrapInvite(), "root"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("key bundle"));
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(IdentityServiceTest, MalformedBundleIsInvalidArgument) {
  auto d = NewDevice("root");
  v1::EnrollRequest r = EnrollRequestFor(*d, BootstrapInvite(), "root");
  r.set_key_bundle("not a bundle");
  grpc::Status s = Enroll(r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("key bundle"));
}

// --- Authentication --------------------------------------------------------

TEST_F(IdentityServiceTest, TokenAuthorizesCalls) {
  Device& admin = EnrollAdmin();
  grpc::ClientContext context;
  Authorize(&context, admin);
  v1::ListMembersResponse members;
  grpc::Status s = directory_->ListMembers(&context, {}, &members);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(members.members_size(), 1);
  EXPECT_EQ(members.members(0).name(), "admin");
}

TEST_F(IdentityServiceTest, TokenExpiresAfterFifteenMinutes) {
  Device& admin = EnrollAdmin();
  clock_.Advance(absl::Minutes(14));
  {
    grpc::ClientContext context;
    Authorize(&context, admin);
    v1::ListMembersResponse members;
    EXPECT_TRUE(directory_->ListMembers(&context, {}, &members).ok());
  }
  clock_.Advance(absl::Minutes(2));
  grpc::ClientContext context;
  Authorize(&context, admin);
  v1::ListMembersResponse members;
  grpc::Status s = directory_->ListMembers(&context, {}, &members);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("sign in again"));
  // Signing in again works.
  ASSERT_TRUE(SignIn(admin).ok());
  grpc::ClientContext again;
  Authorize(&again, admin);
  EXPECT_TRUE(directory_->ListMembers(&again, {}, &members).ok());
}

TEST_F(IdentityServiceTest, ChallengeIsSingleUse) {
  Device& admin = EnrollAdmin();
  v1::Challenge challenge;
  {
    grpc::ClientContext context;
    v1::GetChallengeRequest r;
    r.set_identity_key(admin.key());
    ASSERT_TRUE(identity_->GetChallenge(&context, r, &challenge).ok());
  }
  v1::AuthenticateRequest r;
  r.set_identity_key(admin.key());
  r.set_nonce(challenge.nonce());
  r.set_signature(admin.identity.Sign(
      AuthStatement(server_->origin(), challenge.nonce(), admin.key())));
  v1::SessionToken token;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(identity_->Authenticate(&context, r, &token).ok());
  }
  grpc::ClientContext context;
  grpc::Status s = identity_->Authenticate(&context, r, &token);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("new one"));
}

TEST_F(IdentityServiceTest, ChallengeExpiresAfterSixtySeconds) {
  Device& admin = EnrollAdmin();
  v1::Challenge challenge;
  {
    grpc::ClientContext context;
    v1::GetChallengeRequest r;
    r.set_identity_key(admin.key());
    ASSERT_TRUE(identity_->GetChallenge(&context, r, &challenge).ok());
  }
  EXPECT_EQ(challenge.expires_at(),
            absl::ToUnixSeconds(clock_.Now() + absl::Seconds(60)));
  clock_.Advance(absl::Seconds(61));
  v1::AuthenticateRequest r;
  r.set_identity_key(admin.key());
  r.set_nonce(challenge.nonce());
  r.set_signature(admin.identity.Sign(
      AuthStatement(server_->origin(), challenge.nonce(), admin.key())));
  grpc::ClientContext context;
  v1::SessionToken token;
  grpc::Status s = identity_->Authenticate(&context, r, &token);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("expired"));
}

TEST_F(IdentityServiceTest, WrongChallengeSignatureIsUnauthenticated) {
  Device& admin = EnrollAdmin();
  auto stranger = NewDevice("stranger");
  v1::Challenge challenge;
  {
    grpc::ClientContext context;
    v1::GetChallengeRequest r;
    r.set_identity_key(admin.key());
    ASSERT_TRUE(identity_->GetChallenge(&context, r, &challenge).ok());
  }
  v1::AuthenticateRequest r;
  r.set_identity_key(admin.key());
  r.set_nonce(challenge.nonce());
  // Signed by another key.
  r.set_signature(stranger->identity.Sign(
      AuthStatement(server_->origin(), challenge.nonce(), admin.key())));
  grpc::ClientContext context;
  v1::SessionToken token;
  grpc::Status s = identity_->Authenticate(&context, r, &token);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("signature"));
  EXPECT_TRUE(token.token().empty());
}

TEST_F(IdentityServiceTest, SignatureForAnotherOriginIsUnauthenticated) {
  Device& admin = EnrollAdmin();
  v1::Challenge challenge;
  {
    grpc::ClientContext context;
    v1::GetChallengeRequest r;
    r.set_identity_key(admin.key());
    ASSERT_TRUE(identity_->GetChallenge(&context, r, &challenge).ok());
  }
  v1::AuthenticateRequest r;
  r.set_identity_key(admin.key());
  r.set_nonce(challenge.nonce());
  r.set_signature(admin.identity.Sign(
      AuthStatement("other.server/log", challenge.nonce(), admin.key())));
  grpc::ClientContext context;
  v1::SessionToken token;
  grpc::Status s = identity_->Authenticate(&context, r, &token);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
}

TEST_F(IdentityServiceTest, ChallengeForUnknownKeyIsNotFound) {
  auto stranger = NewDevice("stranger");
  grpc::ClientContext context;
  v1::GetChallengeRequest r;
  r.set_identity_key(stranger->key());
  v1::Challenge challenge;
  grpc::Status s = identity_->GetChallenge(&context, r, &challenge);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("enroll"));
}

TEST_F(IdentityServiceTest, RevokedMemberCannotSignInAndTokenIsRefusedAtOnce) {
  Device& admin = EnrollAdmin();
  Device& party = AddMember("p", v1::ROLE_PARTY);
  {
    grpc::ClientContext context;
    Authorize(&context, party);
    v1::ListChannelsResponse list;
    ASSERT_TRUE(channels_->ListChannels(&context, {}, &list).ok());
  }
  uint64_t before = TreeSize();
  {
    grpc::ClientContext context;
    Authorize(&context, admin);
    v1::RevokeRequest r;
    r.set_name("p");
    r.set_reason("left the process");
    v1::RevokeResponse response;
    grpc::Status s = admin_->Revoke(&context, r, &response);
    ASSERT_TRUE(s.ok()) << Describe(s);
    EXPECT_EQ(response.log_index(), before);
  }
  EXPECT_EQ(TreeSize(), before + 1);
  // The token still held is refused, with the reason.
  {
    grpc::ClientContext context;
    Authorize(&context, party);
    v1::ListChannelsResponse list;
    grpc::Status s = channels_->ListChannels(&context, {}, &list);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << Describe(s);
    EXPECT_THAT(s.error_message(), HasSubstr("revoked"));
  }
  // And no new session.
  std::string old_token = party.token;
  grpc::Status s = SignIn(party);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.error_code(),
              ::testing::AnyOf(grpc::StatusCode::PERMISSION_DENIED,
                               grpc::StatusCode::NOT_FOUND))
      << Describe(s);
  EXPECT_EQ(party.token, old_token);
}

TEST_F(IdentityServiceTest, AdminCannotRevokeThemselves) {
  Device& admin = EnrollAdmin();
  grpc::ClientContext context;
  Authorize(&context, admin);
  v1::RevokeRequest r;
  r.set_name("admin");
  v1::RevokeResponse response;
  grpc::Status s = admin_->Revoke(&context, r, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(s);
}

// --- Authorization at the RPC level ----------------------------------------

TEST_F(IdentityServiceTest, PartyMayNotCreateInvites) {
  AddMember("p", v1::ROLE_PARTY);
  uint64_t before = TreeSize();
  v1::Invite invite;
  grpc::Status s = CreateInvite(device("p"), v1::ROLE_PARTY, "q", &invite);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("party"));
  EXPECT_THAT(s.error_message(), HasSubstr("CreateInvite"));
  EXPECT_TRUE(invite.code().empty());
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(IdentityServiceTest, PartyMayNotCreateChannels) {
  AddMember("p", v1::ROLE_PARTY);
  AddMember("q", v1::ROLE_PARTY);
  uint64_t before = TreeSize();
  grpc::Status s = CreateChannel(device("p"), "side", {"q"});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("CreateChannel"));
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(IdentityServiceTest, AdminMayNotCreateChannels) {
  Device& admin = EnrollAdmin();
  AddMember("p", v1::ROLE_PARTY);
  uint64_t before = TreeSize();
  grpc::Status s = CreateChannel(admin, "side", {"p"});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(s);
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(IdentityServiceTest, MissingTokenIsUnauthenticated) {
  EnrollAdmin();
  uint64_t before = TreeSize();
  grpc::ClientContext context;
  v1::CreateInviteRequest r;
  r.set_role(v1::ROLE_PARTY);
  r.set_name("q");
  v1::Invite invite;
  grpc::Status s = admin_->CreateInvite(&context, r, &invite);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("sign in"));
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(IdentityServiceTest, GarbageTokenIsUnauthenticated) {
  EnrollAdmin();
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer 0123");
  v1::ListMembersResponse members;
  grpc::Status s = directory_->ListMembers(&context, {}, &members);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
}

// --- Log access ------------------------------------------------------------

TEST_F(IdentityServiceTest, LogEntriesNeedASession) {
  Device& admin = EnrollAdmin();
  {
    grpc::ClientContext context;
    v1::GetEntriesRequest r;
    v1::GetEntriesResponse response;
    grpc::Status s = log_->GetEntries(&context, r, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << Describe(s);
    EXPECT_EQ(response.entries_size(), 0);
  }
  grpc::ClientContext context;
  Authorize(&context, admin);
  v1::GetEntriesRequest r;
  v1::GetEntriesResponse response;
  grpc::Status s = log_->GetEntries(&context, r, &response);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(static_cast<uint64_t>(response.entries_size()), TreeSize());
  // The checkpoint stays public.
  grpc::ClientContext public_context;
  v1::Checkpoint checkpoint;
  EXPECT_TRUE(log_->GetCheckpoint(&public_context, {}, &checkpoint).ok());
}

// --- Rate limit --------------------------------------------------------------

class RateLimitTest : public ServerTest {
 protected:
  void Configure(ServerConfig& config) override {
    config.limits.requests_per_second = 1;
    config.limits.burst = 2;
  }
};

TEST_F(RateLimitTest, ThirdQuickCallIsResourceExhaustedWithRetryAfter) {
  Device& p = AddMember("p", v1::ROLE_PARTY);
  Device& admin = device("admin");
  clock_.Advance(absl::Seconds(5));  // Refill the admin's bucket.
  // ListMembers as the admin; `retry_after` gets the trailer, if any.
  auto list = [&](std::string* retry_after) {
    grpc::ClientContext context;
    Authorize(&context, admin);
    v1::ListMembersResponse members;
    grpc::Status s = directory_->ListMembers(&context, {}, &members);
    const auto& trailers = context.GetServerTrailingMetadata();
    if (auto it = trailers.find("retry-after-ms"); it != trailers.end()) {
      retry_after->assign(it->second.data(), it->second.size());
    }
    return s;
  };
  std::string retry_after;
  EXPECT_TRUE(list(&retry_after).ok());
  EXPECT_TRUE(list(&retry_after).ok());
  EXPECT_EQ(retry_after, "");
  grpc::Status s = list(&retry_after);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("retry in"));
  EXPECT_EQ(retry_after, "1000");
  // The limit is per identity: another member is unaffected.
  {
    grpc::ClientContext context;
    Authorize(&context, p);
    v1::ListChannelsResponse channels;
    grpc::Status other = channels_->ListChannels(&context, {}, &channels);
    EXPECT_TRUE(other.ok()) << Describe(other);
  }
  // The bucket refills on the (fake) clock.
  clock_.Advance(absl::Seconds(1));
  s = list(&retry_after);
  EXPECT_TRUE(s.ok()) << Describe(s);
}

}  // namespace
}  // namespace parley
