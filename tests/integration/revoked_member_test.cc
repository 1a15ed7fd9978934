// A revoked member of a channel, end to end with real parleyd and parley
// processes: the server keeps listing the member in the channel, the key
// directory marks it revoked, and a sender recognises that (a typed status,
// client/core/directory.h MemberRevokedError) and seals to the others only.

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/parley_processes.h"
#include "tests/testing/subprocess.h"

namespace parley {
namespace {

using ::parley::testing::ParleyCli;
using ::parley::testing::ProcessResult;
using ::parley::testing::TempDir;
using ::testing::Contains;
using Json = nlohmann::json;
using Server = ::parley::testing::ParleydProcess;

TEST(RevokedMemberTest, SendSkipsARevokedChannelMemberAndReachesTheOthers) {
  TempDir tmp;
  ParleyCli cli(tmp.Sub("clients"));
  Json init = ::parley::testing::InitParleydData(tmp.Sub("data"));
  ASSERT_TRUE(init.is_object());
  Server server(tmp.Sub("data"));
  ASSERT_TRUE(server.ready()) << server.process().Stderr();
  cli.EnrollCast(server.address(), init,
                 {{"mediator", "mediator", "org-mediator"},
                  {"partya", "party", "org-partya"},
                  {"partyb", "party", "org-partyb"}});
  cli.RunOk("mediator",
            {"channel", "create", "bc-1", "--members", "partya,partyb"});
  cli.RunOk("partya", {"send", "bc-1", "--text", "before"});
  cli.RunOk("admin", {"admin", "revoke", "partyb", "--reason", "left"});

  // The channel still names partyb, so the sender meets the revocation.
  Json channels = cli.RunOk("partya", {"channel", "list"});
  ASSERT_EQ(channels["channels"].size(), 1u) << channels;
  ASSERT_THAT(channels["channels"][0]["members"], Contains("partyb"))
      << "the server dropped the revoked member: this test no longer "
         "reaches the client's revoked-member check";

  ProcessResult sent = cli.Run("partya", {"send", "bc-1", "--text", "after"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  Json j = Json::parse(sent.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << sent.out;
  EXPECT_NE(j.value("queued", false), true) << j;
  EXPECT_GT(j["log_index"].get<uint64_t>(), 0u) << j;

  Json inbox = cli.RunOk("mediator", {"inbox"});
  std::vector<std::string> texts;
  for (const Json& m : inbox["messages"]) {
    if (m.contains("text")) texts.push_back(m["text"].get<std::string>());
  }
  EXPECT_THAT(texts, Contains("after")) << inbox;
}

}  // namespace
}  // namespace parley
