// Deconfliction end to end with real parleyd and parley processes: a
// coordinator notifies a movement to two parties, one acknowledges receipt,
// the other lets the deadline pass (escalated) and then objects; a proof
// bundle verifies offline and fails after any flipped byte; a party not
// addressed sees nothing; the register exports as CSV, GeoJSON and CAP.

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/deconfliction/notification_content.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/parley_processes.h"
#include "tests/testing/subprocess.h"

namespace parley {
namespace {

using ::parley::testing::Rfc3339;
using ::parley::testing::BinaryPath;
using ::parley::testing::ChildProcess;
using ::parley::testing::ProcessResult;
using ::parley::testing::RunProcess;
using ::parley::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;
using Server = ::parley::testing::ParleydProcess;
using ::parley::testing::ParleyCli;
using ::parley::testing::ParleyPath;
using ::parley::testing::ParleydPath;


class DeconflictionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    init_ = ::parley::testing::InitParleydData(tmp_.Sub("data"));
    ASSERT_TRUE(init_.is_object());
    {
      std::ofstream config(tmp_.Sub("parleyd.toml"));
      config << "[deconfliction]\nreminder_before_hours = 0\n"
                "second_escalation_after_hours = 0\n";
    }
    server_ = std::make_unique<Server>(
        tmp_.Sub("data"), "127.0.0.1:0",
        std::vector<std::string>{"--log-level", "warn", "--config",
                                 tmp_.Sub("parleyd.toml")});
    ASSERT_TRUE(server_->ready()) << server_->process().Stderr();
  }

  // `parley --json --home CLIENTS --profile WHO ARGS...` as WHO.
  ProcessResult Run(const std::string& who,
                    const std::vector<std::string>& args) {
    return cli_.Run(who, args);
  }
  // Run, expecting exit 0 and one JSON document.
  Json RunOk(const std::string& who, const std::vector<std::string>& args) {
    return cli_.RunOk(who, args);
  }
  void EnrollEveryone() {
    cli_.EnrollCast(server_->address(), init_,
                    {{"mediator", "mediator", "org-mediator"},
                     {"coordinator", "coordinator", "org-coordinator"},
                     {"partya", "party", "org-partya"},
                     {"partyb", "party", "org-partyb"},
                     {"partyc", "party", "org-partyc"}});
  }

  TempDir tmp_;
  ParleyCli cli_{tmp_.Sub("clients")};
  Json init_;
  std::unique_ptr<Server> server_;
};


Json PartyRow(const Json& show, const std::string& party) {
  for (const Json& p : show["parties"]) {
    if (p["party"] == party) return p;
  }
  return Json();
}

TEST_F(DeconflictionTest, NotifyAckEscalateObjectProveAndExport) {
  ASSERT_NO_FATAL_FAILURE(EnrollEveryone());
  const std::string route = tmp_.Sub("route.geojson");
  {
    std::ofstream f(route);
    f << R"({"type":"LineString","coordinates":[[36.20,37.10],[36.30,37.15],[36.40,37.20]]})";
  }
  const absl::Time now = absl::Now();
  const absl::Time ack_by = now + absl::Seconds(4);
  ProcessResult notified = Run(
      "coordinator",
      {"notify", "movement", "--id", "mv-1", "--to", "partya,partyb",
       "--route", route, "--depart", Rfc3339(now + absl::Hours(1)),
       "--arrive", Rfc3339(now + absl::Hours(3)), "--ack-by", Rfc3339(ack_by),
       "--vehicles", "2xtruck:soft-skin", "--personnel", "4", "--cargo",
       "medical supplies", "--contact", "Ops desk,+41221234567", "--type",
       "medical"});
  ASSERT_EQ(notified.exit_code, 0) << notified.err;
  Json n = Json::parse(notified.out, nullptr, false);
  ASSERT_TRUE(n.is_object()) << notified.out;
  EXPECT_TRUE(n["late"].get<bool>());
  EXPECT_EQ(n["version"], 1);
  EXPECT_THAT(notified.err, HasSubstr("is below the required 48 h — logged and flagged"));

  // Validation names the field, exit 2, nothing sent.
  ProcessResult bad = Run("coordinator",
      {"notify", "movement", "--to", "partya", "--route", route, "--depart",
       Rfc3339(now + absl::Hours(3)), "--arrive", Rfc3339(now + absl::Hours(1)),
       "--contact", "Ops,+4122"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("arrival"));

  for (const std::string who : {"partya", "partyb"}) RunOk(who, {"inbox"});
  Json shown = RunOk("coordinator", {"notification", "show", "mv-1"});
  EXPECT_EQ(PartyRow(shown, "partya")["state"], "delivered") << shown;
  EXPECT_EQ(PartyRow(shown, "partyb")["state"], "delivered") << shown;

  Json acked = RunOk("partya", {"ack", "mv-1"});
  EXPECT_EQ(acked["level"], "acknowledged-receipt");

  // Past the deadline the server's watcher escalates partyb.
  absl::SleepFor(ack_by - absl::Now() + absl::Seconds(3));
  shown = RunOk("coordinator", {"notification", "show", "mv-1"});
  EXPECT_EQ(shown["overall"], "overdue") << shown;
  EXPECT_EQ(PartyRow(shown, "partya")["state"], "acknowledged-receipt");
  EXPECT_NE(PartyRow(shown, "partyb")["escalation"], "none") << shown;
  EXPECT_THAT(shown.dump(), HasSubstr("ESCALATION"));

  RunOk("partyb", {"ack", "mv-1", "--object", "route crosses a closed road"});
  shown = RunOk("coordinator", {"notification", "show", "mv-1"});
  EXPECT_EQ(shown["overall"], "objected");
  EXPECT_THAT(shown.dump(), HasSubstr("route crosses a closed road"));
  // partya (another party) learns nothing of partyb's answer.
  Json party_view = RunOk("partya", {"notification", "show", "mv-1"});
  EXPECT_EQ(party_view["parties"].size(), 1u) << party_view;
  EXPECT_THAT(party_view.dump(), Not(HasSubstr("closed road")));

  const std::string bundle = tmp_.Sub("mv-1.proof.json");
  RunOk("coordinator", {"proof", "export", "mv-1", "--out", bundle});
  ProcessResult verified = RunProcess({ParleyPath(), "proof", "verify", bundle});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_THAT(verified.out, HasSubstr("acknowledged receipt"));
  EXPECT_THAT(verified.out, HasSubstr("objected"));
  {
    std::ifstream in(bundle, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)),
                      std::istreambuf_iterator<char>());
    bytes[bytes.size() / 2] ^= 0x01;
    std::ofstream out(tmp_.Sub("flipped.json"), std::ios::binary);
    out << bytes;
  }
  ProcessResult flipped =
      RunProcess({ParleyPath(), "proof", "verify", tmp_.Sub("flipped.json")});
  EXPECT_EQ(flipped.exit_code, 5) << flipped.out;

  ProcessResult outsider = Run("partyc", {"notification", "show", "mv-1"});
  EXPECT_EQ(outsider.exit_code, 6) << outsider.err;
  Json list = RunOk("partyc", {"notifications"});
  EXPECT_TRUE(list["notifications"].empty()) << list;

  const std::string csv = tmp_.Sub("register.csv");
  RunOk("coordinator", {"notifications", "export", "--format", "csv", "--out", csv});
  {
    std::ifstream in(csv);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_THAT(text, HasSubstr("acknowledged_receipt_at"));
    EXPECT_THAT(text, HasSubstr("partyb"));
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << text;
  }
  const std::string geojson = tmp_.Sub("register.geojson");
  RunOk("coordinator", {"notifications", "export", "--format", "geojson", "--out", geojson});
  {
    std::ifstream in(geojson);
    Json j = Json::parse(in, nullptr, false);
    EXPECT_EQ(j["type"], "FeatureCollection");
  }
  ProcessResult cap = Run("coordinator", {"notifications", "export", "--format", "cap"});
  ASSERT_EQ(cap.exit_code, 0) << cap.err;
  EXPECT_THAT(cap.out, HasSubstr("<alert"));
  for (const char* word : {"approved", "cleared", "safe"}) {
    EXPECT_THAT(cap.out, Not(HasSubstr(word)));
  }
}

}  // namespace
}  // namespace parley
