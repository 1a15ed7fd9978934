#include "server/auth.h"

#include <set>

#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "parley/v1/channels.grpc.pb.h"
#include "parley/v1/identity.grpc.pb.h"
#include "parley/v1/info.grpc.pb.h"
#include "parley/v1/log.grpc.pb.h"
#include "parley/v1/notifications.grpc.pb.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::parley::testing::StatusIs;

// Every RPC of every parley.v1 service is in the table exactly once.
TEST(AuthorizationTableTest, CoversEveryRpcExactlyOnce) {
  std::set<std::string> in_table;
  for (const AuthorizationRule& rule : AuthorizationTable()) {
    EXPECT_TRUE(in_table.insert(rule.method).second) << rule.method;
  }
  std::set<std::string> in_protos;
  for (const char* name :
       {v1::Info::service_full_name(), v1::Log::service_full_name(),
        v1::Identity::service_full_name(), v1::Admin::service_full_name(),
        v1::Directory::service_full_name(),
        v1::Channels::service_full_name(),
        v1::Notifications::service_full_name()}) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            name);
    ASSERT_NE(service, nullptr) << name;
    for (int i = 0; i < service->method_count(); ++i) {
      in_protos.insert(service->full_name() + "/" +
                       service->method(i)->name());
    }
  }
  EXPECT_EQ(in_table, in_protos);
}

// The table, cell by cell: the expected answer for each role and RPC.
TEST(AuthorizationTableTest, EveryCell) {
  using R = MemberRole;
  const std::vector<R> roles = {R::kAdmin, R::kMediator, R::kCoordinator,
                                R::kParty, R::kObserver};
  // Rows: method, then allowed for admin, mediator, coordinator, party,
  // observer.
  const std::vector<std::pair<std::string, std::vector<bool>>> expected = {
      {"parley.v1.Info/GetServerInfo", {1, 1, 1, 1, 1}},
      {"parley.v1.Log/GetCheckpoint", {1, 1, 1, 1, 1}},
      {"parley.v1.Log/WatchCheckpoints", {1, 1, 1, 1, 1}},
      {"parley.v1.Log/GetInclusionProof", {1, 1, 1, 1, 1}},
      {"parley.v1.Log/GetConsistencyProof", {1, 1, 1, 1, 1}},
      {"parley.v1.Log/GetEntries", {1, 1, 1, 1, 1}},
      {"parley.v1.Identity/Enroll", {1, 1, 1, 1, 1}},
      {"parley.v1.Identity/GetChallenge", {1, 1, 1, 1, 1}},
      {"parley.v1.Identity/Authenticate", {1, 1, 1, 1, 1}},
      {"parley.v1.Admin/CreateInvite", {1, 0, 0, 0, 0}},
      {"parley.v1.Admin/Revoke", {1, 0, 0, 0, 0}},
      {"parley.v1.Directory/ListMembers", {1, 1, 1, 1, 1}},
      {"parley.v1.Directory/GetKeyBundle", {1, 1, 1, 1, 1}},
      {"parley.v1.Directory/PublishKeyBundle", {1, 1, 1, 1, 1}},
      {"parley.v1.Channels/CreateChannel", {0, 1, 0, 0, 0}},
      {"parley.v1.Channels/ChangeMembers", {0, 1, 0, 0, 0}},
      {"parley.v1.Channels/ListChannels", {0, 1, 1, 1, 1}},
      {"parley.v1.Channels/Send", {0, 1, 1, 1, 0}},
      {"parley.v1.Channels/SendBatch", {0, 1, 1, 1, 0}},
      {"parley.v1.Channels/Subscribe", {0, 1, 1, 1, 1}},
      {"parley.v1.Channels/SubmitReceipts", {0, 1, 1, 1, 1}},
      {"parley.v1.Channels/ListReceipts", {0, 1, 1, 1, 1}},
      {"parley.v1.Notifications/Notify", {0, 0, 1, 0, 0}},
      {"parley.v1.Notifications/Acknowledge", {0, 0, 0, 1, 0}},
      {"parley.v1.Notifications/Cancel", {0, 0, 1, 0, 0}},
      {"parley.v1.Notifications/PostStatus", {0, 0, 1, 0, 0}},
      {"parley.v1.Notifications/ListNotifications", {0, 1, 1, 1, 1}},
      {"parley.v1.Notifications/GetNotification", {0, 1, 1, 1, 1}},
  };
  EXPECT_EQ(expected.size(), AuthorizationTable().size());
  for (const auto& [method, allowed] : expected) {
    for (size_t i = 0; i < roles.size(); ++i) {
      absl::Status s = Authorize(method, roles[i]);
      if (allowed[i]) {
        EXPECT_OK(s) << method << " " << RoleName(roles[i]);
      } else {
        EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied))
            << method << " " << RoleName(roles[i]);
      }
    }
  }
}

TEST(AuthorizationTableTest, UnknownMethodFailsClosed) {
  EXPECT_THAT(Authorize("parley.v1.Nope/Nothing", MemberRole::kAdmin),
              StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace parley
