// Notification flows end to end with real parleyd and parley processes:
// static sites (acknowledged receipt, review-by, deactivation), bulk
// notification from a JSON-lines file, amendments (acknowledgements start
// again; parties see what changed), cancellation, status and outcome posts
// (live in `parley watch`), and `parley deconflict check` over the
// decrypted notifications. Every --json output is parsed.

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/deconfliction/notification_content.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/parley_processes.h"
#include "tests/testing/subprocess.h"

namespace parley {
namespace {

using ::parley::testing::WriteFile;
using ::parley::testing::Rfc3339;
using ::parley::testing::ChildProcess;
using ::parley::testing::ParleyCli;
using ::parley::testing::ParleyPath;
using ::parley::testing::ProcessResult;
using ::parley::testing::RunWithStderrOnTerminal;
using ::parley::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;
using Server = ::parley::testing::ParleydProcess;

Json ParseOut(const ProcessResult& r) {
  return Json::parse(r.out, nullptr, false);
}

// The {"error": {"code", "message"}} document --json prints on stderr.
Json ErrorOf(const ProcessResult& r) {
  Json j = Json::parse(r.err, nullptr, false);
  if (!j.is_object() || !j.contains("error")) {
    // Warnings may precede it: take the last line.
    const size_t end = r.err.find_last_not_of('\n');
    const size_t start = r.err.rfind('\n', end);
    j = Json::parse(
        r.err.substr(start == std::string::npos ? 0 : start + 1), nullptr,
        false);
  }
  return j.is_object() && j.contains("error") ? j["error"] : Json();
}

Json PartyRow(const Json& state, const std::string& party) {
  for (const Json& p : state["parties"]) {
    if (p["party"] == party) return p;
  }
  return Json();
}

bool HasChange(const Json& changes, const std::string& path_prefix) {
  for (const Json& c : changes) {
    if (c["path"].get<std::string>().rfind(path_prefix, 0) == 0) return true;
  }
  return false;
}

// Words the product must never use about an acknowledged notification.
void ExpectNoApprovalWords(const std::string& text) {
  for (const char* word : {"approved", "cleared", "safe"}) {
    EXPECT_THAT(text, Not(HasSubstr(word))) << text;
  }
}

class NotificationFlowsTest : public ::parley::testing::EnrolledServerTest {
 protected:
  std::string ServerConfig() const override {
    return "[deconfliction]\nreminder_before_hours = 0\n"
           "second_escalation_after_hours = 0\n";
  }

  ProcessResult Run(const std::string& who, const std::vector<std::string>& args) {
    return cli_.Run(who, args);
  }
  ProcessResult RunText(const std::string& who,
                        const std::vector<std::string>& args) {
    return cli_.Run(who, args, /*json=*/false);
  }
  Json RunOk(const std::string& who, const std::vector<std::string>& args) {
    return cli_.RunOk(who, args);
  }

  // A movement from the coordinator along `route` (GeoJSON [lon, lat]).
  Json NotifyMovement(const std::string& id, const std::string& to,
                      const std::string& route_geojson, absl::Time depart,
                      absl::Time arrive) {
    const std::string route = tmp_.Sub(id + ".geojson");
    WriteFile(route, route_geojson);
    return RunOk("coordinator",
                 {"notify", "movement", "--id", id, "--to", to, "--route",
                  route, "--depart", Rfc3339(depart), "--arrive",
                  Rfc3339(arrive), "--vehicles", "2xtruck:soft-skin",
                  "--personnel", "4", "--contact", "Ops desk,+41221234567",
                  "--type", "cargo"});
  }
};

constexpr char kRoute[] =
    R"({"type":"LineString","coordinates":[[36.20,37.10],[36.30,37.15],[36.40,37.20]]})";

// --- 1. Static sites ---------------------------------------------------------

TEST_F(NotificationFlowsTest, SiteIsAcknowledgedFallsDueForReviewAndIsDeactivated) {
  const absl::Time review_by = absl::Now() + absl::Seconds(8);
  Json site = RunOk("coordinator",
                    {"notify", "site", "--id", "site-1", "--to", "partya,partyb",
                     "--name", "Al Amal hospital", "--type", "health-facility",
                     "--point", "36.2021,37.1343", "--point", "36.2030,37.1350",
                     "--contact", "Site manager,+963111111", "--review-by",
                     Rfc3339(review_by)});
  EXPECT_EQ(site["id"], "site-1");
  EXPECT_EQ(site["kind"], "site");
  EXPECT_EQ(site["version"], 1);
  EXPECT_FALSE(site["late"].get<bool>());  // lead time is for movements

  // A polygon site too.
  const std::string polygon = tmp_.Sub("warehouse.geojson");
  WriteFile(polygon,
            R"({"type":"Polygon","coordinates":[[[37.0,36.0],[37.01,36.0],[37.01,36.01],[37.0,36.0]]]})");
  Json warehouse = RunOk("coordinator",
                         {"notify", "site", "--to", "partyb", "--name", "WH 3",
                          "--type", "warehouse", "--polygon", polygon,
                          "--contact", "Logistics,logs@example.org"});
  EXPECT_THAT(warehouse["id"].get<std::string>(), ::testing::StartsWith("site-"));

  // The recipients receive it and acknowledge receipt.
  Json inbox = RunOk("partya", {"inbox"});
  EXPECT_THAT(inbox.dump(), HasSubstr("site-1"));
  ProcessResult ack = RunText("partya", {"ack", "site-1"});
  ASSERT_EQ(ack.exit_code, 0) << ack.err;
  EXPECT_THAT(ack.out, HasSubstr("acknowledged receipt of site-1"));
  ExpectNoApprovalWords(ack.out);
  RunOk("partyb", {"inbox"});

  Json shown = RunOk("coordinator", {"notification", "show", "site-1"});
  EXPECT_EQ(PartyRow(shown, "partya")["state"], "acknowledged-receipt") << shown;
  EXPECT_EQ(PartyRow(shown, "partyb")["state"], "delivered") << shown;
  EXPECT_EQ(shown["overall"], "partially-acknowledged");
  EXPECT_FALSE(shown["review_due"].get<bool>());
  const Json content = shown["versions"].back()["content"];
  EXPECT_EQ(content["points"].size(), 2u);
  EXPECT_EQ(content["site_type"], "health-facility");
  EXPECT_EQ(content["review_by"], Rfc3339(review_by));

  // At review-by the server marks the site expired; the coordinator's
  // register says a review is due.
  absl::SleepFor(review_by - absl::Now() + absl::Seconds(2));
  Json list = RunOk("coordinator", {"notifications"});
  bool found = false;
  for (const Json& n : list["notifications"]) {
    if (n["id"] != "site-1") continue;
    found = true;
    EXPECT_EQ(n["overall"], "expired") << n;
    EXPECT_TRUE(n["review_due"].get<bool>()) << n;
  }
  EXPECT_TRUE(found) << list;
  ProcessResult text = RunText("coordinator", {"notifications"});
  EXPECT_THAT(text.out, HasSubstr("review due (review-by date passed)"));

  // The server logged one review-due reminder at review-by (its deadline
  // watcher runs every second) and delivered it to the coordinator only.
  auto review_reminders = [](const Json& inbox) {
    std::vector<Json> out;
    for (const Json& e : inbox["events"]) {
      if (e.value("step", "") == "review-due") out.push_back(e);
    }
    return out;
  };
  std::vector<Json> reminders =
      review_reminders(RunOk("coordinator", {"inbox"}));
  ASSERT_EQ(reminders.size(), 1u);
  EXPECT_EQ(reminders[0]["entry_type"], "escalation");
  EXPECT_EQ(reminders[0]["notification_id"], "site-1");
  EXPECT_EQ(reminders[0]["version"], 1);
  EXPECT_EQ(reminders[0]["member"], "coordinator");
  EXPECT_THAT(reminders[0]["text"].get<std::string>(),
              HasSubstr("REVIEW DUE: site site-1 version 1 reached its "
                        "review-by date (" + Rfc3339(review_by) + ")"));
  const uint64_t reminder_index = reminders[0]["index"].get<uint64_t>();
  for (const std::string who : {"mediator", "partya", "partyb"}) {
    EXPECT_TRUE(review_reminders(RunOk(who, {"inbox"})).empty()) << who;
  }
  shown = RunOk("coordinator", {"notification", "show", "site-1"});
  ASSERT_TRUE(shown["review_reminder"].is_object()) << shown;
  EXPECT_EQ(shown["review_reminder"]["index"], reminder_index);
  EXPECT_TRUE(shown["review_due"].get<bool>());
  text = RunText("coordinator", {"notification", "show", "site-1"});
  EXPECT_THAT(text.out, HasSubstr(absl::StrCat("review reminder logged ")));
  EXPECT_THAT(text.out, HasSubstr(absl::StrCat("(entry #", reminder_index,
                                               ")")));
  const std::string bundle = tmp_.Sub("site-1.proof.json");
  RunOk("coordinator", {"proof", "export", "site-1", "--out", bundle});
  ProcessResult verified = RunText("coordinator", {"proof", "verify", bundle});
  ASSERT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_THAT(verified.out,
              HasSubstr("review due: coordinator is asked to review site "
                        "site-1 version 1 (review-by " +
                        Rfc3339(review_by) + ")"));
  EXPECT_THAT(verified.out, HasSubstr("review due: reminder to coordinator"));

  // Deactivation: a new version, acknowledgements start again.
  Json deactivated = RunOk("coordinator", {"notification", "amend", "site-1",
                                           "--deactivate"});
  EXPECT_EQ(deactivated["version"], 2);
  ASSERT_EQ(deactivated["changes"].size(), 1u) << deactivated;
  EXPECT_EQ(deactivated["changes"][0]["path"], "deactivated");
  EXPECT_EQ(deactivated["changes"][0]["after"], "true");
  RunOk("partya", {"inbox"});
  Json party_view = RunOk("partya", {"notification", "show", "site-1"});
  EXPECT_EQ(party_view["version"], 2);
  EXPECT_EQ(party_view["versions"].back()["content"]["deactivated"], true);
  EXPECT_EQ(party_view["changed_from_version"], 1);
  EXPECT_TRUE(HasChange(party_view["changes"], "deactivated")) << party_view;
  EXPECT_NE(PartyRow(party_view, "partya")["state"], "acknowledged-receipt");

  // Bad input names the flag, exit 2, nothing notified.
  struct Bad {
    std::vector<std::string> args;
    std::string field;
  };
  const std::vector<Bad> bad = {
      {{"--to", "partya", "--name", "X", "--type", "school", "--point",
        "91,37", "--contact", "A,+1"},
       "--point"},
      {{"--to", "partya", "--type", "school", "--point", "36,37",
        "--contact", "A,+1"},
       "--name"},
      {{"--to", "partya", "--name", "X", "--type", "hospital", "--point",
        "36,37", "--contact", "A,+1"},
       "--type"},
      {{"--to", "partya", "--name", "X", "--type", "school", "--contact", "A,+1"},
       "--point or --polygon"},
      {{"--to", "partya", "--name", "X", "--type", "school", "--point",
        "36,37", "--contact", "A,+1", "--review-by", "2020-01-01T00:00:00Z"},
       "review_by"},
  };
  for (const Bad& b : bad) {
    std::vector<std::string> args = {"notify", "site"};
    args.insert(args.end(), b.args.begin(), b.args.end());
    ProcessResult r = Run("coordinator", args);
    EXPECT_EQ(r.exit_code, 2) << b.field << ": " << r.err;
    EXPECT_THAT(ErrorOf(r)["message"].get<std::string>(), HasSubstr(b.field))
        << r.err;
  }
  ProcessResult unknown = Run("coordinator",
                              {"notify", "site", "--to", "partyz", "--name",
                               "X", "--type", "school", "--point", "36,37",
                               "--contact", "A,+1"});
  EXPECT_EQ(unknown.exit_code, 6) << unknown.err;
  EXPECT_THAT(ErrorOf(unknown)["message"].get<std::string>(),
              HasSubstr("--to: no member named \"partyz\""));
  EXPECT_EQ(RunOk("coordinator", {"notifications"})["notifications"].size(), 2u);
  // Version 2 was logged after its (unchanged) review-by date: the
  // deactivation is the coordinator's answer, not reminded again.
  EXPECT_TRUE(review_reminders(RunOk("coordinator", {"inbox"})).empty());
}

// --- 2. Bulk notification from a file ----------------------------------------

std::string MovementLine(const std::string& to, absl::Time depart,
                         absl::Time arrive, const std::string& extra = "",
                         double origin_lat = 37.10) {
  return absl::StrCat(
      R"({"schema":"parley-movement/v1","to":")", to,
      R"(","contact":{"name":"Ops","phone":"+41221234567"},"movement_type":"cargo",)",
      R"("route":{"origin":{"lat":)", origin_lat,
      R"(,"lon":36.20},"destination":{"lat":37.20,"lon":36.40}},)",
      R"("departure":")", Rfc3339(depart), R"(","arrival":")", Rfc3339(arrive),
      R"(","vehicles":[{"count":1,"type":"truck","protection":"soft-skin"}],)",
      R"("personnel":{"count":2})", extra, "}");
}

constexpr char kSiteLine[] =
    R"({"schema":"parley-site/v1","to":["partya"],"contact":{"name":"WH","email":"wh@example.org"},"name":"Warehouse 3","site_type":"warehouse","critical_infrastructure":false,"points":[{"lat":36.2,"lon":37.1}],"humanitarian_function":"food storage"})";

TEST_F(NotificationFlowsTest, FromFileAcceptsGoodLinesAndReportsEachRefusal) {
  const absl::Time t = absl::Now() + absl::Hours(72);
  const std::string file = tmp_.Sub("batch.jsonl");
  WriteFile(file,
            absl::StrCat(
                MovementLine("partya,partyb", t, t + absl::Hours(4)), "\n",  // 1
                MovementLine("partya", t, t + absl::Hours(4), "", 95.0), "\n",  // 2
                MovementLine("partya", t + absl::Hours(5), t), "\n",  // 3
                "\n",                                                  // 4
                kSiteLine, "\n",                                       // 5
                MovementLine("partya", t, t + absl::Hours(4),
                             absl::StrCat(R"(,"ack_by":")",
                                          Rfc3339(t + absl::Hours(1)), "\"")),
                "\n",                                                   // 6
                R"({"schema":"parley-movement/v1","to":"partya",)", "\n",  // 7
                MovementLine("partyz", t, t + absl::Hours(4)), "\n",    // 8
                MovementLine("partyb", t, t + absl::Hours(2)), "\n"));  // 9

  ProcessResult r = Run("coordinator", {"notify", "--from-file", file});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  Json summary = ParseOut(r);
  ASSERT_TRUE(summary.is_object()) << r.out;
  EXPECT_EQ(summary["lines"], 8);
  EXPECT_EQ(summary["accepted"], 3) << summary;
  EXPECT_EQ(summary["refused"], 5) << summary;
  EXPECT_EQ(summary["queued"], 0);
  std::set<int> accepted_lines;
  for (const Json& n : summary["notifications"]) {
    accepted_lines.insert(n["line"].get<int>());
    EXPECT_EQ(n["version"], 1);
    EXPECT_GT(n["log_index"].get<uint64_t>(), 0u);
  }
  EXPECT_EQ(accepted_lines, (std::set<int>{1, 5, 9}));
  std::map<int, Json> refused;
  for (const Json& x : summary["refusals"]) refused[x["line"].get<int>()] = x;
  ASSERT_EQ(refused.size(), 5u) << summary;
  EXPECT_THAT(refused[2]["reason"].get<std::string>(),
              HasSubstr("route.origin"));  // latitude 95
  EXPECT_THAT(refused[2]["reason"].get<std::string>(), HasSubstr("95"));
  EXPECT_THAT(refused[3]["reason"].get<std::string>(),
              HasSubstr("arrival must be after departure"));
  EXPECT_THAT(refused[6]["reason"].get<std::string>(),
              HasSubstr("ack_by must be before departure"));
  EXPECT_THAT(refused[7]["reason"].get<std::string>(),
              HasSubstr("malformed JSON"));
  EXPECT_THAT(refused[8]["reason"].get<std::string>(),
              HasSubstr("to: no member named \"partyz\""));
  for (int line : {2, 3, 6, 7}) {
    EXPECT_EQ(refused[line]["code"], "INVALID_ARGUMENT") << refused[line];
  }
  EXPECT_EQ(refused[8]["code"], "NOT_FOUND");
  // stderr is not a terminal here: no progress bar.
  EXPECT_THAT(r.err, Not(HasSubstr("\r")));
  EXPECT_THAT(r.err, Not(HasSubstr("[#")));

  Json list = RunOk("coordinator", {"notifications"});
  EXPECT_EQ(list["notifications"].size(), 3u) << list;

  // For people: a summary line, then each refusal with FILE:LINE.
  ProcessResult text = RunText("coordinator", {"notify", "--from-file", file});
  EXPECT_EQ(text.exit_code, 1) << text.err;
  EXPECT_THAT(text.out, HasSubstr("8 lines: 3 accepted"));
  EXPECT_THAT(text.out, HasSubstr("5 refused"));
  for (int line : {2, 3, 6, 7, 8}) {
    EXPECT_THAT(text.out, HasSubstr(absl::StrCat(file, ":", line)));
  }
  EXPECT_THAT(text.out, Not(HasSubstr(absl::StrCat(file, ":9"))));

  // An unreadable file is a usage error.
  ProcessResult missing =
      Run("coordinator", {"notify", "--from-file", tmp_.Sub("nope.jsonl")});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(ErrorOf(missing)["message"].get<std::string>(),
              HasSubstr("--from-file"));
}

TEST_F(NotificationFlowsTest, FromFileOfTwoHundredLinesShowsProgressOnATerminal) {
  const absl::Time t = absl::Now() + absl::Hours(72);
  std::string lines;
  for (int i = 0; i < 200; ++i) {
    absl::StrAppend(&lines,
                    MovementLine(i % 2 ? "partya" : "partya,partyb",
                                 t + absl::Minutes(i), t + absl::Minutes(i + 240)),
                    "\n");
  }
  const std::string file = tmp_.Sub("200.jsonl");
  WriteFile(file, lines);
  ProcessResult r = RunWithStderrOnTerminal(
      {ParleyPath(), "--home", tmp_.Sub("clients"), "--profile", "coordinator",
       "--json", "notify", "--from-file", file},
      {{"PARLEY_PASSPHRASE", "pass-coordinator"}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  Json summary = ParseOut(r);
  ASSERT_TRUE(summary.is_object()) << r.out;
  EXPECT_EQ(summary["accepted"], 200) << summary["refusals"].dump(1)
                                      << summary["queued_notifications"].dump(1);
  EXPECT_EQ(summary["refused"], 0);
  EXPECT_EQ(summary["queued"], 0);
  EXPECT_EQ(summary["notifications"].size(), 200u);
  // The bar is redrawn in place on the terminal and ends complete.
  EXPECT_THAT(r.err, HasSubstr("\r["));
  EXPECT_THAT(r.err, HasSubstr("200/200"));
  EXPECT_EQ(RunOk("coordinator", {"notifications"})["notifications"].size(), 200u);
}

// --- 3. Amendments -------------------------------------------------------------

TEST_F(NotificationFlowsTest, AmendmentResetsAcknowledgementsAndShowsWhatChanged) {
  const absl::Time t = absl::Now() + absl::Hours(72);
  NotifyMovement("mv-a", "partya,partyb", kRoute, t, t + absl::Hours(3));
  RunOk("partya", {"inbox"});
  Json acked = RunOk("partya", {"ack", "mv-a"});
  EXPECT_EQ(acked["level"], "acknowledged-receipt");
  EXPECT_EQ(acked["version"], 1);

  Json amended = RunOk("coordinator",
                       {"notification", "amend", "mv-a", "--depart",
                        Rfc3339(t + absl::Hours(1)), "--cargo", "water"});
  EXPECT_EQ(amended["version"], 2);
  EXPECT_TRUE(HasChange(amended["changes"], "departure")) << amended;
  EXPECT_TRUE(HasChange(amended["changes"], "cargo")) << amended;

  Json state = RunOk("coordinator", {"notification", "show", "mv-a"});
  EXPECT_EQ(state["version"], 2);
  EXPECT_EQ(state["overall"], "pending") << state;
  EXPECT_EQ(PartyRow(state, "partya")["state"], "logged") << state;
  EXPECT_EQ(state["versions"].size(), 2u);

  RunOk("partya", {"inbox"});
  Json party = RunOk("partya", {"notification", "show", "mv-a"});
  EXPECT_EQ(party["version"], 2);
  EXPECT_EQ(PartyRow(party, "partya")["state"], "delivered") << party;
  EXPECT_EQ(party["parties"].size(), 1u);  // its own row only
  EXPECT_EQ(party["changed_from_version"], 1);
  bool cargo = false;
  for (const Json& c : party["changes"]) {
    if (c["path"] == "cargo") {
      cargo = true;
      EXPECT_EQ(c["before"], "");
      EXPECT_EQ(c["after"], "\"water\"");
    }
  }
  EXPECT_TRUE(cargo) << party["changes"];
  ProcessResult text = RunText("partya", {"notification", "show", "mv-a"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("changed since version 1:"));
  EXPECT_THAT(text.out, HasSubstr("cargo: (none) -> \"water\""));
  ExpectNoApprovalWords(text.out);

  acked = RunOk("partya", {"ack", "mv-a"});
  EXPECT_EQ(acked["version"], 2);
  state = RunOk("coordinator", {"notification", "show", "mv-a"});
  EXPECT_EQ(PartyRow(state, "partya")["state"], "acknowledged-receipt");
  EXPECT_EQ(state["overall"], "partially-acknowledged");

  // Refusals: a site flag on a movement, no change, not the issuer.
  ProcessResult r = Run("coordinator", {"notification", "amend", "mv-a", "--name", "X"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(ErrorOf(r)["message"].get<std::string>(),
              HasSubstr("--name: applies to sites"));
  r = Run("coordinator", {"notification", "amend", "mv-a", "--cargo", "water"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(ErrorOf(r)["message"].get<std::string>(), HasSubstr("nothing to amend"));
  r = Run("partya", {"notification", "amend", "mv-a", "--cargo", "fuel"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_EQ(ErrorOf(r)["code"], "PERMISSION_DENIED");
  EXPECT_EQ(RunOk("coordinator", {"notification", "show", "mv-a"})["version"], 2);
}

// --- 4. Cancellation -----------------------------------------------------------

TEST_F(NotificationFlowsTest, CancelledNotificationIsSeenAndCannotBeAcknowledged) {
  const absl::Time t = absl::Now() + absl::Hours(72);
  NotifyMovement("mv-c", "partya", kRoute, t, t + absl::Hours(3));
  RunOk("partya", {"inbox"});

  ProcessResult empty = Run("coordinator", {"notification", "cancel", "mv-c",
                                            "--reason", " "});
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_THAT(ErrorOf(empty)["message"].get<std::string>(), HasSubstr("--reason"));

  Json cancelled = RunOk("coordinator", {"notification", "cancel", "mv-c",
                                         "--reason", "road closed"});
  EXPECT_EQ(cancelled["cancelled"], true);
  EXPECT_GT(cancelled["log_index"].get<uint64_t>(), 0u);

  Json inbox = RunOk("partya", {"inbox"});
  EXPECT_THAT(inbox.dump(), HasSubstr("mv-c cancelled by coordinator: road closed"));
  Json party = RunOk("partya", {"notification", "show", "mv-c"});
  EXPECT_EQ(party["overall"], "cancelled");
  EXPECT_THAT(party["events"].dump(), HasSubstr("road closed"));

  ProcessResult ack = Run("partya", {"ack", "mv-c"});
  EXPECT_EQ(ack.exit_code, 1) << ack.err;
  EXPECT_EQ(ErrorOf(ack)["code"], "FAILED_PRECONDITION") << ack.err;
  EXPECT_THAT(ErrorOf(ack)["message"].get<std::string>(), HasSubstr("cancelled"));
  Json outbox = RunOk("partya", {"outbox"});
  EXPECT_THAT(outbox.dump(), Not(HasSubstr("mv-c"))) << outbox;

  ProcessResult again = Run("coordinator", {"notification", "cancel", "mv-c",
                                            "--reason", "twice"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(ErrorOf(again)["code"], "FAILED_PRECONDITION");
  ProcessResult amend = Run("coordinator", {"notification", "amend", "mv-c",
                                            "--cargo", "x"});
  EXPECT_EQ(amend.exit_code, 1);
  EXPECT_THAT(ErrorOf(amend)["message"].get<std::string>(), HasSubstr("cancelled"));
}

// --- 5. Status and outcome -----------------------------------------------------

TEST_F(NotificationFlowsTest, StatusAndOutcomeReachPartiesLiveAndInShow) {
  const absl::Time t = absl::Now() + absl::Hours(72);
  NotifyMovement("mv-s", "partya", kRoute, t, t + absl::Hours(3));
  RunOk("partya", {"inbox"});
  ChildProcess watch({ParleyPath(), "--home", tmp_.Sub("clients"), "--profile",
                      "partya", "--json", "watch"},
                     {{"PARLEY_PASSPHRASE", "pass-partya"}});

  Json posted = RunOk("coordinator", {"notification", "status", "mv-s",
                                      "departed", "--note", "left the depot"});
  EXPECT_EQ(posted["status"], "departed");
  EXPECT_EQ(posted["final"], false);
  EXPECT_TRUE(watch.WaitForOutput("mv-s status: departed (left the depot)",
                                  absl::Seconds(30)))
      << watch.Stdout() << watch.Stderr();
  RunOk("coordinator", {"notification", "status", "mv-s", "at-checkpoint"});
  EXPECT_TRUE(watch.WaitForOutput("mv-s status: at-checkpoint", absl::Seconds(30)))
      << watch.Stdout();

  // A party may not post.
  ProcessResult denied = Run("partya", {"notification", "status", "mv-s", "halted"});
  EXPECT_EQ(denied.exit_code, 4) << denied.err;
  EXPECT_EQ(ErrorOf(denied)["code"], "PERMISSION_DENIED");
  EXPECT_THAT(ErrorOf(denied)["message"].get<std::string>(),
              HasSubstr("party may not call parley.v1.Notifications/PostStatus"));
  ProcessResult word = Run("coordinator", {"notification", "status", "mv-s", "approved"});
  EXPECT_EQ(word.exit_code, 2);
  EXPECT_THAT(ErrorOf(word)["message"].get<std::string>(), HasSubstr("STATUS"));

  Json outcome = RunOk("coordinator", {"notification", "status", "mv-s",
                                       "facilitated", "--note", "arrived at 14:00"});
  EXPECT_EQ(outcome["final"], true);
  EXPECT_TRUE(watch.WaitForOutput("mv-s outcome: facilitated", absl::Seconds(30)))
      << watch.Stdout();
  watch.Signal(SIGTERM);
  std::optional<ProcessResult> ended = watch.Wait(absl::Seconds(20));
  ASSERT_TRUE(ended.has_value());
  const std::vector<std::string> lines = absl::StrSplit(watch.Stdout(), '\n');
  for (const std::string& line : lines) {
    if (line.empty()) continue;
    EXPECT_FALSE(Json::parse(line, nullptr, false).is_discarded()) << line;
  }

  Json party = RunOk("partya", {"notification", "show", "mv-s"});
  EXPECT_EQ(party["overall"], "completed");
  const std::string events = party["events"].dump();
  EXPECT_THAT(events, HasSubstr("departed (left the depot)"));
  EXPECT_THAT(events, HasSubstr("at-checkpoint"));
  EXPECT_THAT(events, HasSubstr("outcome: facilitated (arrived at 14:00)"));
  ProcessResult text = RunText("partya", {"notification", "show", "mv-s"});
  EXPECT_THAT(text.out, HasSubstr("mv-s outcome: facilitated"));
  Json coordinator = RunOk("coordinator", {"notification", "show", "mv-s"});
  EXPECT_EQ(coordinator["overall"], "completed");
}

// --- 6. Deconfliction checks -------------------------------------------------

TEST_F(NotificationFlowsTest, DeconflictCheckReportsOverlapsInSpaceAndTime) {
  const absl::Time t = absl::Now() + absl::Hours(72);
  // Two routes about 330 m apart (0.003 degrees of latitude), overlapping
  // in time; a third on the same road a day later; a fourth crossing zone
  // Bravo, far from the others.
  NotifyMovement("mv-north", "partya", kRoute, t, t + absl::Hours(3));
  NotifyMovement(
      "mv-south", "partyb",
      R"({"type":"LineString","coordinates":[[36.20,37.097],[36.30,37.147],[36.40,37.197]]})",
      t + absl::Hours(2), t + absl::Hours(5));
  NotifyMovement("mv-later", "partya", kRoute, t + absl::Hours(24),
                 t + absl::Hours(27));
  NotifyMovement(
      "mv-zone", "partya",
      R"({"type":"LineString","coordinates":[[36.95,36.05],[37.15,36.05]]})", t,
      t + absl::Hours(2));
  RunOk("coordinator", {"notify", "site", "--id", "site-in", "--to", "partya",
                        "--name", "Clinic", "--type", "health-facility",
                        "--point", "36.06,37.05", "--contact", "C,+1"});
  RunOk("coordinator", {"notify", "site", "--id", "site-out", "--to", "partya",
                        "--name", "School", "--type", "school", "--point",
                        "35.00,35.00", "--contact", "C,+1"});
  const std::string zones = tmp_.Sub("zones.geojson");
  WriteFile(zones,
            R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"Bravo"},)"
            R"("geometry":{"type":"Polygon","coordinates":[[[37.0,36.0],[37.1,36.0],[37.1,36.1],[37.0,36.1],[37.0,36.0]]]}}]})");

  auto findings_of = [](const Json& report) {
    std::set<std::string> out;
    for (const Json& f : report["findings"]) {
      out.insert(absl::StrCat(f["kind"].get<std::string>(), " ",
                              f["subject"].get<std::string>(), " | ",
                              f["other"].get<std::string>()));
    }
    return out;
  };
  const std::set<std::string> expected = {
      "movement-near-zone mv-zone v1 outbound | Bravo",
      "movements-near mv-north v1 outbound | mv-south v1 outbound",
      "site-near-zone site site-in v1 (Clinic) | Bravo",
  };
  for (const std::string who : {"coordinator", "mediator"}) {
    Json report = RunOk(who, {"deconflict", "check", "--zones", zones,
                              "--distance", "1km"});
    EXPECT_EQ(report["scope"], "audience");
    EXPECT_EQ(report["movement_legs"], 4) << report;
    EXPECT_EQ(report["sites"], 2);
    EXPECT_EQ(report["unreadable"], 0);
    EXPECT_EQ(findings_of(report), expected) << who << ": " << report.dump(1);
  }
  // Closer than the routes' 330 m: no movement pair any more.
  Json tight = RunOk("coordinator", {"deconflict", "check", "--zones", zones,
                                     "--distance", "200m"});
  for (const Json& f : tight["findings"]) {
    EXPECT_NE(f["kind"], "movements-near") << f;
  }
  ProcessResult text = RunText("coordinator", {"deconflict", "check", "--zones", zones});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("zone Bravo"));
  ExpectNoApprovalWords(text.out);

  // A party checks only what was addressed to it: partyb has mv-south.
  Json party = RunOk("partyb", {"deconflict", "check", "--zones", zones});
  EXPECT_EQ(party["scope"], "addressed-to-you");
  EXPECT_EQ(party["notifications"], 1);
  EXPECT_EQ(party["movement_legs"], 1);
  EXPECT_TRUE(party["findings"].empty()) << party;

  // A deactivated site is no longer checked.
  RunOk("coordinator", {"notification", "amend", "site-in", "--deactivate"});
  Json after = RunOk("coordinator", {"deconflict", "check", "--zones", zones});
  for (const Json& f : after["findings"]) {
    EXPECT_NE(f["kind"], "site-near-zone") << f;
  }

  ProcessResult bad = Run("coordinator", {"deconflict", "check", "--distance", "far"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(ErrorOf(bad)["message"].get<std::string>(), HasSubstr("--distance"));
  bad = Run("coordinator", {"deconflict", "check", "--zones", tmp_.Sub("none.geojson")});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(ErrorOf(bad)["message"].get<std::string>(), HasSubstr("--zones"));
  WriteFile(tmp_.Sub("bad-zones.geojson"), R"({"type":"Point","coordinates":[1,2]})");
  bad = Run("coordinator", {"deconflict", "check", "--zones", tmp_.Sub("bad-zones.geojson")});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(ErrorOf(bad)["message"].get<std::string>(), HasSubstr("--zones"));
}

// --- 7. Coordinators without an organisation ----------------------------------

// Two coordinators enrolled without an organisation. The audience rule
// (PROTOCOL.md section 12, JoinsNotificationAudience) shares an issuer's
// notifications with the coordinators of its organisation, and an issuer
// without one with no other coordinator: the client must seal to exactly
// the audience the server checks. (It used to count every coordinator
// without an organisation as a colleague, and the server refused the
// envelope: "must be encrypted to exactly N members".)
class UnaffiliatedCoordinatorsTest : public NotificationFlowsTest {
 protected:
  std::vector<std::vector<std::string>> Cast() const override {
    return {{"mediator", "mediator", "org-mediator"},
            {"coordinator", "coordinator"},
            {"lone", "coordinator"},
            {"partya", "party", "org-partya"}};
  }
};

TEST_F(UnaffiliatedCoordinatorsTest, IssuerWithoutOrganisationSharesWithNoOtherCoordinator) {
  const absl::Time t = absl::Now() + absl::Hours(72);
  Json sent = NotifyMovement("mv-u", "partya", kRoute, t, t + absl::Hours(3));
  EXPECT_GT(sent["log_index"].get<uint64_t>(), 0u) << sent;

  Json party = RunOk("partya", {"notification", "show", "mv-u"});
  EXPECT_EQ(party["id"], "mv-u") << party;
  RunOk("mediator", {"notification", "show", "mv-u"});
  ProcessResult other = Run("lone", {"notification", "show", "mv-u"});
  EXPECT_NE(other.exit_code, 0) << other.err;
  EXPECT_EQ(ErrorOf(other)["code"], "NOT_FOUND") << other.err;

  // The cancel envelope goes to the same audience, named by the issuer.
  Json cancelled = RunOk("coordinator", {"notification", "cancel", "mv-u",
                                         "--reason", "road closed"});
  EXPECT_EQ(cancelled["cancelled"], true) << cancelled;
}

}  // namespace
}  // namespace parley
