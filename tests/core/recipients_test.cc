// RecipientResolver without a server: the "server" is two functions the
// test controls, the state a real LocalState in a temporary directory, the
// time a FakeClock. Checks when the directory and bundles are asked for
// again, and what is sealed, or refused, once the server is out of reach.

#include "client/core/recipients.h"

#include <filesystem>
#include <string>
#include <vector>

#include "client/core/identity.h"
#include "client/core/sealed_file.h"
#include "crypto/ed25519.h"
#include "crypto/prekey.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"

namespace parley {
namespace {

using ::parley::testing::FakeClock;
using ::parley::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::SizeIs;

// `result` failed with `code` and a message containing `part`.
template <typename T>
void ExpectStatus(const T& result, absl::StatusCode code,
                  const std::string& part) {
  const absl::Status& s = ::parley::testing::GetStatus(result);
  EXPECT_EQ(s.code(), code) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(part));
}

class RecipientResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(InitCrypto());
    ASSERT_OK_AND_ASSIGN(me_, DeviceKeys::Generate(clock_.Now(), random_));
    ASSERT_OK_AND_ASSIGN(bob_, DeviceKeys::Generate(clock_.Now(), random_));
    std::filesystem::create_directories(tmp_.Sub("state"));
    ASSERT_OK_AND_ASSIGN(state_,
                         LocalState::Open(tmp_.Sub("state"),
                                          DeriveStateKey(me_->identity())));
  }

  RecipientResolver Resolver(bool require_online = false) {
    return RecipientResolver(
        *state_, clock_, "me", [this] { return me_->Bundle(); },
        require_online,
        {.list_members =
             [this]() -> absl::StatusOr<std::vector<v1::Member>> {
               ++list_calls_;
               if (!server_up_) return absl::UnavailableError("server down");
               std::vector<v1::Member> members(2);
               members[0].set_name("me");
               members[1].set_name("bob");
               return members;
             },
         .fetch_bundle =
             [this](const std::string& name) -> absl::StatusOr<KeyBundle> {
               ++fetch_calls_;
               if (!server_up_) return absl::UnavailableError("server down");
               if (name == "me") return me_->Bundle();
               if (name != "bob") return absl::NotFoundError("no such member");
               return bob_->Bundle();
             }});
  }

  // What a device keeps after it verified bob online.
  void CacheBob() {
    ASSERT_OK(state_->ObserveMemberKey("bob", bob_->identity().public_key())
                  .status());
    ASSERT_OK(state_->CacheKeyBundle("bob", SerializeKeyBundle(bob_->Bundle())));
    ASSERT_OK(state_->CacheMembers(
        {CachedMember{"me", MemberRole::kMediator, "org", false},
         CachedMember{"bob", MemberRole::kParty, "org", false}}));
  }

  ::parley::testing::TempDir tmp_;
  FakeClock clock_;
  Random& random_ = SystemRandom();
  std::optional<DeviceKeys> me_, bob_;
  std::optional<LocalState> state_;
  bool server_up_ = true;
  int list_calls_ = 0;
  int fetch_calls_ = 0;
};

TEST_F(RecipientResolverTest, ReusesWhatItVerifiedForAMinuteOrWhileHeld) {
  RecipientResolver resolver = Resolver();
  Reach reach;
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Member> members,
                       resolver.Members(reach));
  EXPECT_THAT(members, SizeIs(2));
  ASSERT_OK(resolver.Recipients({"me", "bob"}, reach).status());
  ASSERT_OK(resolver.Members(reach).status());
  ASSERT_OK(resolver.Recipients({"bob"}, reach).status());
  EXPECT_EQ(list_calls_, 1);
  EXPECT_EQ(fetch_calls_, 2);  // me and bob, each once

  clock_.Advance(absl::Seconds(61));
  ASSERT_OK(resolver.Members(reach).status());
  ASSERT_OK(resolver.Recipients({"bob"}, reach).status());
  EXPECT_EQ(list_calls_, 2);
  EXPECT_EQ(fetch_calls_, 3);

  EXPECT_FALSE(resolver.Hold(true));
  clock_.Advance(absl::Minutes(10));
  ASSERT_OK(resolver.Members(reach).status());
  ASSERT_OK(resolver.Recipients({"bob"}, reach).status());
  EXPECT_EQ(list_calls_, 2);
  EXPECT_EQ(fetch_calls_, 3);

  resolver.Forget();
  ASSERT_OK(resolver.Members(reach).status());
  EXPECT_EQ(list_calls_, 3);
  EXPECT_TRUE(reach.online());
}

TEST_F(RecipientResolverTest, GoesOfflineWithTheCauseAndSealsFromTheCache) {
  ASSERT_NO_FATAL_FAILURE(CacheBob());
  RecipientResolver resolver = Resolver();
  server_up_ = false;
  Reach reach;
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Member> members,
                       resolver.Members(reach));
  EXPECT_THAT(members, SizeIs(2));
  EXPECT_FALSE(reach.online());
  EXPECT_THAT(reach.offline_cause(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(reach.offline_cause().message(), "server down");

  // Offline: bob from the cache, this device from its own keys; the server
  // is not asked.
  const int fetches = fetch_calls_;
  ASSERT_OK_AND_ASSIGN(std::vector<EnvelopeRecipient> recipients,
                       resolver.Recipients({"me", "bob"}, reach));
  ASSERT_THAT(recipients, SizeIs(2));
  EXPECT_EQ(recipients[0].identity_public_key, me_->identity().public_key());
  EXPECT_EQ(recipients[1].identity_public_key, bob_->identity().public_key());
  EXPECT_EQ(fetch_calls_, fetches);
}

TEST_F(RecipientResolverTest, FallsBackToTheCacheWhenTheServerStopsMidway) {
  ASSERT_NO_FATAL_FAILURE(CacheBob());
  RecipientResolver resolver = Resolver();
  Reach reach;  // online when the directory was listed ...
  server_up_ = false;  // ... but gone before the bundles are fetched
  ASSERT_OK_AND_ASSIGN(std::vector<EnvelopeRecipient> recipients,
                       resolver.Recipients({"bob"}, reach));
  ASSERT_THAT(recipients, SizeIs(1));
  EXPECT_EQ(recipients[0].identity_public_key, bob_->identity().public_key());
}

TEST_F(RecipientResolverTest, RefusesWhatCannotBeSealedOffline) {
  RecipientResolver resolver = Resolver();
  server_up_ = false;
  Reach reach;
  // No cached directory: nothing can be sealed, and it says what to do.
  ExpectStatus(resolver.Members(reach),
               absl::StatusCode::kUnavailable,
               "never seen the member directory");
  EXPECT_THAT(resolver.Members(reach).status().message(),
              HasSubstr("server down"));
  // No cached bundle of bob.
  ExpectStatus(resolver.Recipients({"bob"}, reach),
               absl::StatusCode::kUnavailable,
               "no verified key of bob");

  // A cached bundle whose key is no longer bob's current verified key.
  ASSERT_NO_FATAL_FAILURE(CacheBob());
  ASSERT_OK_AND_ASSIGN(DeviceKeys other,
                       DeviceKeys::Generate(clock_.Now(), random_));
  ASSERT_OK(state_->ObserveMemberKey("bob", other.identity().public_key())
                .status());
  ExpectStatus(resolver.Recipients({"bob"}, reach),
               absl::StatusCode::kUnavailable,
               "no current verified key of bob");

  // A non-transient refusal online is the server's answer, not "offline".
  server_up_ = true;
  Reach online;
  ExpectStatus(resolver.Recipients({"carol"}, online),
               absl::StatusCode::kNotFound,
               "cannot encrypt to carol");
  EXPECT_TRUE(online.online());
}

TEST_F(RecipientResolverTest, RequireOnlineNeverFallsBack) {
  ASSERT_NO_FATAL_FAILURE(CacheBob());
  RecipientResolver resolver = Resolver(/*require_online=*/true);
  server_up_ = false;
  Reach reach;
  ExpectStatus(resolver.Members(reach),
               absl::StatusCode::kUnavailable,
               "not sent and not queued (--require-online)");
  Reach online;
  ExpectStatus(resolver.Recipients({"bob"}, online),
               absl::StatusCode::kUnavailable,
               "cannot encrypt to bob");
}

}  // namespace
}  // namespace parley
