// `parley gui` end to end: a real parleyd, a coordinator who notifies a
// movement with the CLI, and a party who answers from the GUI's JSON API
// (the same calls its page makes), driven over HTTP against the real
// `parley gui` process. The coordinator's CLI then shows what the server
// recorded. Requests without the token, or with a foreign Host, change
// nothing.

#include <fstream>
#include <regex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/notification_content.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "tests/testing/parley_processes.h"
#include "tests/testing/subprocess.h"

namespace parley {
namespace {

using ::parley::testing::ChildProcess;
using ::parley::testing::ParleyCli;
using ::parley::testing::ParleyPath;
using ::parley::testing::TempDir;
using ::testing::HasSubstr;
using Json = nlohmann::json;
using Server = ::parley::testing::ParleydProcess;

std::string Rfc3339(absl::Time t) {
  return FormatRfc3339Utc(absl::FromUnixSeconds(absl::ToUnixSeconds(t)));
}

Json PartyRow(const Json& state, const std::string& party) {
  for (const Json& p : state["parties"]) {
    if (p["party"] == party) return p;
  }
  return Json();
}

class GuiProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    init_ = ::parley::testing::InitParleydData(tmp_.Sub("data"));
    ASSERT_TRUE(init_.is_object());
    server_ = std::make_unique<Server>(tmp_.Sub("data"));
    ASSERT_TRUE(server_->ready()) << server_->process().Stderr();
    ASSERT_NO_FATAL_FAILURE(cli_.EnrollCast(
        server_->address(), init_,
        {{"mediator", "mediator", "org-mediator"},
         {"coordinator", "coordinator", "org-coordinator"},
         {"partya", "party", "org-partya"},
         {"partyb", "party", "org-partyb"}}));
  }

  // Starts `parley gui --port 0 --no-open` as `who` and reads the address
  // it prints.
  void StartGui(const std::string& who) {
    gui_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{ParleyPath(), "--home", tmp_.Sub("clients"),
                                 "--profile", who, "gui", "--port", "0",
                                 "--no-open"},
        std::map<std::string, std::string>{
            {"PARLEY_PASSPHRASE", "pass-" + who}});
    ASSERT_TRUE(gui_->WaitForOutput("#token=", absl::Seconds(60)))
        << gui_->Stdout() << gui_->Stderr();
    std::smatch m;
    const std::string out = gui_->Stdout();
    ASSERT_TRUE(std::regex_search(
        out, m,
        std::regex("http://127\\.0\\.0\\.1:([0-9]+)/#token=([0-9a-f]{64})")))
        << out;
    ASSERT_TRUE(absl::SimpleAtoi(m[1].str(), &port_));
    token_ = m[2].str();
    http_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    http_->set_read_timeout(60, 0);
  }

  httplib::Headers Auth() const {
    return {{"Authorization", "Bearer " + token_}};
  }

  Json GetOk(const std::string& path) {
    httplib::Result r = http_->Get(path, Auth());
    EXPECT_TRUE(r) << path;
    if (!r) return Json();
    EXPECT_EQ(r->status, 200) << path << ": " << r->body;
    return Json::parse(r->body, nullptr, false);
  }

  httplib::Result Post(const std::string& path, const Json& body,
                       const httplib::Headers& headers) {
    return http_->Post(path, headers, body.dump(), "application/json");
  }

  TempDir tmp_;
  ParleyCli cli_{tmp_.Sub("clients")};
  Json init_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<ChildProcess> gui_;
  std::unique_ptr<httplib::Client> http_;
  int port_ = 0;
  std::string token_;
};

TEST_F(GuiProcessTest, PartyAcknowledgesReceiptFromTheGui) {
  const std::string route = tmp_.Sub("route.geojson");
  {
    std::ofstream f(route);
    f << R"({"type":"LineString","coordinates":[[36.20,37.10],[36.40,37.20]]})";
  }
  const absl::Time now = absl::Now();
  cli_.RunOk("coordinator",
             {"notify", "movement", "--id", "mv-gui", "--to",
              "partya,partyb", "--route", route, "--depart",
              Rfc3339(now + absl::Hours(72)), "--arrive",
              Rfc3339(now + absl::Hours(75)), "--ack-by",
              Rfc3339(now + absl::Hours(48)), "--vehicles",
              "1xtruck:soft-skin", "--personnel", "2", "--cargo",
              "water", "--contact", "Ops desk,+41221234567", "--type",
              "cargo"});

  ASSERT_NO_FATAL_FAILURE(StartGui("partya"));

  Json status = GetOk("/api/status");
  EXPECT_EQ(status["me"]["name"], "partya") << status;
  EXPECT_EQ(status["me"]["role"], "party") << status;

  Json list = GetOk("/api/notifications");
  ASSERT_EQ(list["notifications"].size(), 1u) << list;
  EXPECT_EQ(list["notifications"][0]["id"], "mv-gui");
  EXPECT_NE(PartyRow(list["notifications"][0], "partya"), Json()) << list;

  Json detail = GetOk("/api/notification?id=mv-gui");
  ASSERT_FALSE(detail["versions"].empty()) << detail;
  EXPECT_TRUE(detail["versions"].back().contains("content")) << detail;
  EXPECT_THAT(detail.dump(), HasSubstr("water"));  // decrypted here

  // Without the token, with a wrong one, or from a rebinding page: refused,
  // and the server records nothing.
  httplib::Result no_token =
      Post("/api/notification/acknowledge", {{"id", "mv-gui"}}, {});
  ASSERT_TRUE(no_token);
  EXPECT_EQ(no_token->status, 401) << no_token->body;
  httplib::Headers foreign_host = Auth();
  foreign_host.emplace("Host", absl::StrCat("evil.example:", port_));
  httplib::Result rebinding =
      Post("/api/notification/acknowledge", {{"id", "mv-gui"}}, foreign_host);
  ASSERT_TRUE(rebinding);
  EXPECT_EQ(rebinding->status, 403) << rebinding->body;
  httplib::Result by_get = http_->Get(
      "/api/notification/acknowledge?id=mv-gui", Auth());
  ASSERT_TRUE(by_get);
  EXPECT_EQ(by_get->status, 405) << by_get->body;
  httplib::Result no_reason =
      Post("/api/notification/object", {{"id", "mv-gui"}}, Auth());
  ASSERT_TRUE(no_reason);
  EXPECT_EQ(no_reason->status, 400) << no_reason->body;
  Json shown = cli_.RunOk("coordinator", {"notification", "show", "mv-gui"});
  EXPECT_NE(PartyRow(shown, "partya")["state"], "acknowledged-receipt")
      << shown;
  EXPECT_EQ(PartyRow(shown, "partya")["acknowledged_receipt_at"], Json())
      << shown;
  EXPECT_EQ(PartyRow(shown, "partya")["objected_at"], Json()) << shown;

  httplib::Result acked =
      Post("/api/notification/acknowledge", {{"id", "mv-gui"}}, Auth());
  ASSERT_TRUE(acked);
  ASSERT_EQ(acked->status, 200) << acked->body;
  Json answer = Json::parse(acked->body, nullptr, false);
  EXPECT_EQ(answer["level"], "acknowledged-receipt");
  EXPECT_THAT(answer["message"].get<std::string>(),
              HasSubstr("acknowledged receipt"));

  shown = cli_.RunOk("coordinator", {"notification", "show", "mv-gui"});
  EXPECT_EQ(PartyRow(shown, "partya")["state"], "acknowledged-receipt")
      << shown;
  EXPECT_TRUE(PartyRow(shown, "partya")["acknowledged_receipt_at"].is_string())
      << shown;
  EXPECT_NE(PartyRow(shown, "partyb")["state"], "acknowledged-receipt");
  EXPECT_EQ(shown["overall"], "partially-acknowledged") << shown;

  // The GUI shows the new state with the product's words (a party sees
  // only its own row).
  list = GetOk("/api/notifications");
  EXPECT_EQ(PartyRow(list["notifications"][0], "partya")["state_words"],
            "acknowledged receipt")
      << list;
  EXPECT_EQ(PartyRow(list["notifications"][0], "partyb"), Json()) << list;

  gui_->Signal(SIGTERM);
  std::optional<::parley::testing::ProcessResult> done =
      gui_->Wait(absl::Seconds(30));
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->exit_code, 0) << done->err;
}

TEST_F(GuiProcessTest, SendsAndReceivesChannelMessages) {
  cli_.RunOk("mediator",
             {"channel", "create", "liaison", "--members", "partya"});
  cli_.RunOk("mediator", {"send", "liaison", "--text", "hello from the cell"});
  ASSERT_NO_FATAL_FAILURE(StartGui("partya"));

  Json channels = GetOk("/api/channels");
  EXPECT_EQ(channels["offline"], false);
  ASSERT_EQ(channels["channels"].size(), 1u) << channels;
  EXPECT_EQ(channels["channels"][0]["name"], "liaison");

  // The background sync fetches the mediator's message.
  bool seen = false;
  for (int i = 0; i < 60 && !seen; ++i) {
    Json messages = GetOk("/api/messages?channel=liaison");
    seen = messages.dump().find("hello from the cell") != std::string::npos;
    if (!seen) absl::SleepFor(absl::Milliseconds(500));
  }
  EXPECT_TRUE(seen);

  httplib::Result sent = Post(
      "/api/send", {{"channel", "liaison"}, {"text", "received, thanks"}},
      Auth());
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->status, 200) << sent->body;
  httplib::Result empty =
      Post("/api/send", {{"channel", "liaison"}, {"text", ""}}, Auth());
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 400) << empty->body;

  Json outbox = GetOk("/api/outbox");
  EXPECT_TRUE(outbox["outbox"].empty()) << outbox;
  Json synced = Json::parse(
      Post("/api/sync", Json::object(), Auth())->body, nullptr, false);
  EXPECT_THAT(synced.value("message", ""), HasSubstr("caught up")) << synced;

  Json inbox = cli_.RunOk("mediator", {"inbox"});
  EXPECT_THAT(inbox.dump(), HasSubstr("received, thanks"));
}

}  // namespace
}  // namespace parley
