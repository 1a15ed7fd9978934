// `parley notify --from-file` in bulk, end to end with real parleyd and
// parley processes: against a server whose rate limit is far below what the
// client could send, every good line is logged exactly once and nothing is
// left queued; bad lines are reported with their line number and field;
// running the same file again notifies nothing twice.

#include <signal.h>

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

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

using ::parley::testing::WriteFile;
using ::parley::testing::Rfc3339;
using ::parley::testing::ParleyCli;
using ::parley::testing::ProcessResult;
using ::parley::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;
using Server = ::parley::testing::ParleydProcess;

// The server's limit per identity in these tests: a 120-line import needs
// several seconds of refill, so the client must wait for it.
constexpr int kRequestsPerSecond = 25;
constexpr int kBurst = 10;

// A movement line; `tag` goes into the cargo so that lines differ.
std::string MovementLine(const std::string& to, absl::Time depart,
                         const std::string& tag, double origin_lat = 37.10,
                         const std::string& extra = "") {
  return absl::StrCat(
      R"({"schema":"parley-movement/v1","to":")", to,
      R"(","contact":{"name":"Ops","phone":"+41221234567"},"movement_type":"cargo",)",
      R"("route":{"origin":{"lat":)", origin_lat,
      R"(,"lon":36.20},"destination":{"lat":37.20,"lon":36.40}},)",
      R"("departure":")", Rfc3339(depart), R"(","arrival":")",
      Rfc3339(depart + absl::Hours(4)),
      R"(","vehicles":[{"count":1,"type":"truck","protection":"soft-skin"}],)",
      R"("personnel":{"count":2},"cargo":")", tag, "\"", extra, "}");
}

class BulkNotifyTest : public ::parley::testing::EnrolledServerTest {
 protected:
  std::string ServerConfig() const override {
    return absl::StrCat("[limits]\nrequests_per_second = ", kRequestsPerSecond,
                        "\nburst = ", kBurst, "\n");
  }

  // The coordinator's notifications as the server lists them, by id.
  std::map<std::string, Json> Listed() {
    Json list = cli_.RunOk("coordinator", {"notifications"});
    std::map<std::string, Json> out;
    for (const Json& n : list["notifications"]) {
      out[n["id"].get<std::string>()] = n;
    }
    EXPECT_EQ(out.size(), list["notifications"].size()) << "an id twice";
    return out;
  }
};

TEST_F(BulkNotifyTest, EveryGoodLineIsLoggedOnceAtTheServersPace) {
  const absl::Time t = absl::Now() + absl::Hours(72);
  constexpr int kLines = 120;
  const std::map<int, std::string> bad = {
      {7, R"({"schema":"parley-movement/v1","to":"partya",)"},
      {40, MovementLine("partya", t, "bad latitude", 95.0)},
      {99, MovementLine("partyz", t, "unknown party")}};
  std::string text;
  for (int line = 1; line <= kLines; ++line) {
    auto it = bad.find(line);
    // Only partya at first: partyb's key is first needed at line 60.
    const std::string to = line < 60 ? "partya" : "partya,partyb";
    absl::StrAppend(&text,
                    it != bad.end()
                        ? it->second
                        : MovementLine(to, t + absl::Minutes(line),
                                       absl::StrCat("line ", line)),
                    "\n");
  }
  const std::string file = tmp_.Sub("bulk.jsonl");
  WriteFile(file, text);

  const absl::Time start = absl::Now();
  ProcessResult r = cli_.Run("coordinator", {"notify", "--from-file", file});
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(r.exit_code, 1) << r.err;  // some lines refused
  Json summary = Json::parse(r.out, nullptr, false);
  ASSERT_TRUE(summary.is_object()) << r.out << r.err;
  EXPECT_EQ(summary["lines"], kLines);
  EXPECT_EQ(summary["accepted"], kLines - 3) << summary["refusals"];
  EXPECT_EQ(summary["refused"], 3);
  // Waited for the limit rather than queueing or refusing.
  EXPECT_EQ(summary["queued"], 0) << summary["queued_notifications"];
  EXPECT_EQ(summary["already_logged"], 0);
  // The limit was the wall: more requests than the burst went out.
  EXPECT_GE(took, absl::Seconds((kLines - 3 - kBurst) / kRequestsPerSecond));

  std::map<int, Json> refused;
  for (const Json& x : summary["refusals"]) refused[x["line"].get<int>()] = x;
  ASSERT_EQ(refused.size(), 3u) << summary["refusals"];
  EXPECT_THAT(refused[7]["reason"].get<std::string>(),
              HasSubstr("malformed JSON"));
  EXPECT_THAT(refused[40]["reason"].get<std::string>(),
              HasSubstr("route.origin"));
  EXPECT_EQ(refused[40]["code"], "INVALID_ARGUMENT");
  EXPECT_THAT(refused[99]["reason"].get<std::string>(),
              HasSubstr("to: no member named \"partyz\""));
  EXPECT_EQ(refused[99]["code"], "NOT_FOUND");

  // Each good line once, in line order, with its own id; and the server
  // holds exactly those.
  std::set<std::string> ids;
  int previous_line = 0;
  for (const Json& n : summary["notifications"]) {
    const int line = n["line"].get<int>();
    EXPECT_GT(line, previous_line);
    previous_line = line;
    EXPECT_FALSE(bad.contains(line)) << line;
    EXPECT_EQ(n["version"], 1);
    EXPECT_FALSE(n["duplicate"].get<bool>()) << n;
    EXPECT_GT(n["log_index"].get<uint64_t>(), 0u);
    EXPECT_EQ(n["parties"].size(), line < 60 ? 1u : 2u) << n;
    EXPECT_TRUE(ids.insert(n["id"].get<std::string>()).second) << n;
  }
  std::map<std::string, Json> listed = Listed();
  EXPECT_EQ(listed.size(), static_cast<size_t>(kLines - 3));
  for (const std::string& id : ids) EXPECT_TRUE(listed.contains(id)) << id;
  const Json outbox = cli_.RunOk("coordinator", {"outbox"});
  EXPECT_TRUE(outbox["outbox"].is_array() && outbox["outbox"].empty())
      << outbox;
}

TEST_F(BulkNotifyTest, RunningTheSameFileAgainNotifiesNothingTwice) {
  const absl::Time t = absl::Now() + absl::Hours(72);
  const std::string same = MovementLine("partya", t, "weekly water");
  std::string text;
  for (int i = 0; i < 20; ++i) {
    absl::StrAppend(&text,
                    MovementLine(i % 2 ? "partyb" : "partya,partyb",
                                 t + absl::Minutes(i), absl::StrCat("run ", i)),
                    "\n");
  }
  // Two identical lines are two notifications; a site without
  // submitted_at; a line naming its own id.
  absl::StrAppend(&text, same, "\n", same, "\n");
  absl::StrAppend(
      &text,
      R"({"schema":"parley-site/v1","to":["partya"],"contact":{"name":"WH","email":"wh@example.org"},"name":"Warehouse 3","site_type":"warehouse","critical_infrastructure":false,"points":[{"lat":36.2,"lon":37.1}],"humanitarian_function":"food storage"})",
      "\n");
  absl::StrAppend(&text,
                  MovementLine("partya", t, "named", 37.10,
                               R"(,"id":"mv-named-1")"),
                  "\n");
  const std::string file = tmp_.Sub("again.jsonl");
  WriteFile(file, text);
  constexpr size_t kLines = 24;

  Json first = cli_.RunOk("coordinator", {"notify", "--from-file", file});
  ASSERT_EQ(first["accepted"], kLines) << first["refusals"];
  std::map<int, std::string> id_of_line;
  for (const Json& n : first["notifications"]) {
    EXPECT_FALSE(n["duplicate"].get<bool>());
    id_of_line[n["line"].get<int>()] = n["id"].get<std::string>();
  }
  ASSERT_EQ(id_of_line.size(), kLines);
  EXPECT_NE(id_of_line[21], id_of_line[22]);  // the identical lines
  EXPECT_EQ(id_of_line[24], "mv-named-1");

  // Again: the lines without an id are recognised as logged; the line
  // naming its id is refused as existing. Nothing is logged twice.
  ProcessResult again = cli_.Run("coordinator", {"notify", "--from-file", file});
  EXPECT_EQ(again.exit_code, 1) << again.err;
  Json second = Json::parse(again.out, nullptr, false);
  ASSERT_TRUE(second.is_object()) << again.out << again.err;
  EXPECT_EQ(second["accepted"], kLines - 1) << second["refusals"];
  EXPECT_EQ(second["already_logged"], kLines - 1);
  EXPECT_EQ(second["queued"], 0);
  for (const Json& n : second["notifications"]) {
    const int line = n["line"].get<int>();
    EXPECT_TRUE(n["duplicate"].get<bool>()) << n;
    EXPECT_EQ(n["id"], id_of_line[line]) << n;
    EXPECT_EQ(n["version"], 1);
  }
  ASSERT_EQ(second["refusals"].size(), 1u);
  EXPECT_EQ(second["refusals"][0]["line"], 24);
  EXPECT_EQ(second["refusals"][0]["code"], "ALREADY_EXISTS");
  EXPECT_THAT(second["refusals"][0]["reason"].get<std::string>(),
              HasSubstr("mv-named-1"));
  EXPECT_EQ(Listed().size(), kLines);

  // For people: the summary says what was not notified again.
  ProcessResult text_run =
      cli_.Run("coordinator", {"notify", "--from-file", file}, /*json=*/false);
  EXPECT_THAT(text_run.out,
              HasSubstr("23 already logged by an earlier run, not notified "
                        "again"));
  EXPECT_EQ(Listed().size(), kLines);
}

TEST_F(BulkNotifyTest, RunAgainWhileOfflineQueuesNothingTwice) {
  const absl::Time t = absl::Now() + absl::Hours(72);
  // Online once, so that the directory and keys are cached for offline
  // sealing.
  const std::string warmup = tmp_.Sub("warmup.jsonl");
  WriteFile(warmup, MovementLine("partya,partyb", t, "warm-up") + "\n");
  cli_.RunOk("coordinator", {"notify", "--from-file", warmup});

  constexpr size_t kLines = 6;
  std::string text;
  for (size_t i = 0; i < kLines; ++i) {
    absl::StrAppend(&text,
                    MovementLine(i % 2 ? "partya" : "partya,partyb",
                                 t + absl::Minutes(i), absl::StrCat("off ", i)),
                    "\n");
  }
  const std::string file = tmp_.Sub("offline.jsonl");
  WriteFile(file, text);
  const std::string address = server_->address();
  server_->process().Signal(SIGKILL);
  ASSERT_TRUE(server_->process().Wait(absl::Seconds(30)).has_value());

  auto queued_ids = [&](const ProcessResult& r) {
    EXPECT_EQ(r.exit_code, 10) << r.err;  // queued, not yet sent
    Json j = Json::parse(r.out, nullptr, false);
    std::set<std::string> ids;
    if (!j.is_object()) {
      ADD_FAILURE() << r.out << r.err;
      return ids;
    }
    EXPECT_EQ(j["queued"], kLines) << j;
    for (const Json& q : j["queued_notifications"]) {
      ids.insert(q["outbox_id"].get<std::string>());
    }
    return ids;
  };
  const std::set<std::string> first =
      queued_ids(cli_.Run("coordinator", {"notify", "--from-file", file}));
  const std::set<std::string> again =
      queued_ids(cli_.Run("coordinator", {"notify", "--from-file", file}));
  EXPECT_EQ(first.size(), kLines);
  EXPECT_EQ(again, first);  // the same queued work, not new copies
  EXPECT_EQ(cli_.RunOk("coordinator", {"outbox"})["outbox"].size(), kLines);

  server_ = std::make_unique<Server>(
      tmp_.Sub("data"), address,
      std::vector<std::string>{"--log-level", "warn", "--config",
                               tmp_.Sub("parleyd.toml")});
  ASSERT_TRUE(server_->ready()) << server_->process().Stderr();
  // Online: the queued work goes first; the lines are then known.
  Json online = cli_.RunOk("coordinator", {"notify", "--from-file", file});
  EXPECT_EQ(online["accepted"], kLines) << online;
  EXPECT_EQ(online["already_logged"], kLines) << online;
  EXPECT_EQ(Listed().size(), kLines + 1);
  const Json outbox = cli_.RunOk("coordinator", {"outbox"});
  EXPECT_TRUE(outbox["outbox"].empty()) << outbox;
}

TEST_F(BulkNotifyTest, ExportShowsProgressOnATerminalOnlyAndKeepsToTheLimit) {
  const absl::Time t = absl::Now() + absl::Hours(72);
  constexpr int kNotifications = 60;
  std::string text;
  for (int i = 0; i < kNotifications; ++i) {
    absl::StrAppend(&text,
                    MovementLine("partya", t + absl::Minutes(i),
                                 absl::StrCat("export ", i)),
                    "\n");
  }
  const std::string file = tmp_.Sub("export.jsonl");
  WriteFile(file, text);
  Json imported = cli_.RunOk("coordinator", {"notify", "--from-file", file});
  ASSERT_EQ(imported["accepted"], kNotifications) << imported["refusals"];

  // On a terminal: the bar, redrawn in place, through the proofs (more
  // than the burst: the client waits for the limit) to the last one.
  const std::string csv = tmp_.Sub("register.csv");
  ProcessResult r = ::parley::testing::RunWithStderrOnTerminal(
      {::parley::testing::ParleyPath(), "--home", tmp_.Sub("clients"),
       "--profile", "coordinator", "--json", "notifications", "export",
       "--format", "csv", "--out", csv},
      {{"PARLEY_PASSPHRASE", "pass-coordinator"}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("\r["));
  EXPECT_THAT(r.err, HasSubstr("log entries proven: "));
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat(kNotifications, "/",
                                            kNotifications, " notifications")));
  Json summary = Json::parse(r.out, nullptr, false);
  ASSERT_TRUE(summary.is_object()) << r.out;  // stdout holds only the JSON
  EXPECT_EQ(summary["notifications"], kNotifications);
  std::ifstream in(csv);
  size_t rows = 0;
  for (std::string line; std::getline(in, line);) ++rows;
  EXPECT_EQ(rows, 1u + kNotifications);  // header, one party each

  // Not a terminal: no bar at all.
  ProcessResult piped = cli_.Run(
      "coordinator",
      {"notifications", "export", "--format", "csv", "--out", csv});
  EXPECT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_THAT(piped.err, Not(HasSubstr("\r")));
  EXPECT_THAT(piped.err, Not(HasSubstr("[#")));
  EXPECT_THAT(piped.err, Not(HasSubstr("notifications")));
}

}  // namespace
}  // namespace parley
