// Notification work over a broken network, with real parleyd and parley
// processes: `parley ack` and `parley notify` queue in the outbox while the
// server is down (exit 10), `parley sync` logs each exactly once (also after
// SIGKILL mid-flush), the decrypted notification cache is sealed at rest,
// and the coordinator's inbox verifies notification receipts and lists
// notification events in --json.

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <thread>

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

using ::parley::testing::Slurp;
using ::parley::testing::WriteFile;
using ::parley::testing::Rfc3339;
using ::parley::testing::ChildProcess;
using ::parley::testing::ParleyCli;
using ::parley::testing::ParleyPath;
using ::parley::testing::ProcessResult;
using ::parley::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;
using Server = ::parley::testing::ParleydProcess;

constexpr int kExitQueued = 10;
constexpr char kMarker[] = "cargo-marker-5e1d";

class OfflineNotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    init_ = ::parley::testing::InitParleydData(tmp_.Sub("data"));
    ASSERT_TRUE(init_.is_object());
    {
      std::ofstream config(tmp_.Sub("parleyd.toml"));
      config << "[deconfliction]\nreminder_before_hours = 0\n"
                "second_escalation_after_hours = 0\n";
    }
    ASSERT_NO_FATAL_FAILURE(StartServer());
    cli_.EnrollCast(address_, init_,
                    {{"mediator", "mediator", "org-mediator"},
                     {"coordinator", "coordinator", "org-coordinator"},
                     {"partya", "party", "org-partya"},
                     {"partyb", "party", "org-partyb"}});
    {
      std::ofstream f(route_);
      f << R"({"type":"LineString","coordinates":[[36.20,37.10],[36.40,37.20]]})";
    }
  }

  void StartServer() {
    server_ = std::make_unique<Server>(
        tmp_.Sub("data"), address_.empty() ? "127.0.0.1:0" : address_,
        std::vector<std::string>{"--log-level", "warn", "--config",
                                 tmp_.Sub("parleyd.toml")});
    ASSERT_TRUE(server_->ready()) << server_->process().Stderr();
    address_ = server_->address();
  }

  void StopServer() {
    server_->process().Signal(SIGKILL);
    ASSERT_TRUE(server_->process().Wait(absl::Seconds(30)).has_value());
    server_.reset();
  }

  ProcessResult Run(const std::string& who,
                    const std::vector<std::string>& args, bool json = true) {
    return cli_.Run(who, args, json);
  }
  Json RunOk(const std::string& who, const std::vector<std::string>& args) {
    return cli_.RunOk(who, args);
  }

  std::vector<std::string> NotifyArgs(const std::string& id,
                                      absl::Duration ack_in = absl::Hours(1)) {
    const absl::Time now = absl::Now();
    return {"notify",   "movement",
            "--id",     id,
            "--to",     "partya,partyb",
            "--route",  route_,
            "--depart", Rfc3339(now + absl::Hours(72)),
            "--arrive", Rfc3339(now + absl::Hours(74)),
            "--ack-by", Rfc3339(now + ack_in),
            "--vehicles", "2xtruck:soft-skin",
            "--cargo",  absl::StrCat(kMarker, " medical supplies"),
            "--contact", "Ops desk,+41221234567"};
  }

  // How many times `party` answered `id`, as the issuer sees the log.
  int AnswersBy(const std::string& id, const std::string& party) {
    Json shown = RunOk("coordinator", {"notification", "show", id});
    int n = 0;
    for (const Json& e : shown["events"]) {
      if (e.value("kind", "") == "notification-ack" &&
          e.value("member", "") == party) {
        ++n;
      }
    }
    return n;
  }

  Json Outbox(const std::string& who) { return RunOk(who, {"outbox"}); }

  // Every regular file of `who`'s profile.
  std::vector<std::filesystem::path> ProfileFiles(const std::string& who) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(
             tmp_.Sub(absl::StrCat("clients/", who)))) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    return files;
  }

  TempDir tmp_;
  ParleyCli cli_{tmp_.Sub("clients")};
  Json init_;
  std::string address_;
  std::string route_ = tmp_.Sub("route.geojson");
  std::unique_ptr<Server> server_;
};

TEST_F(OfflineNotifyTest, AckQueuedWhileServerDownIsLoggedOnceAfterSync) {
  RunOk("coordinator", NotifyArgs("mv-1"));
  RunOk("partya", {"inbox"});
  ASSERT_NO_FATAL_FAILURE(StopServer());

  // --require-online refuses instead, and queues nothing.
  ProcessResult strict = Run("partya", {"--require-online", "ack", "mv-1"});
  EXPECT_EQ(strict.exit_code, 3) << strict.err;
  EXPECT_TRUE(Outbox("partya")["outbox"].empty());

  ProcessResult human = Run("partya", {"ack", "mv-1"}, false);
  ASSERT_EQ(human.exit_code, kExitQueued) << human.out << human.err;
  EXPECT_THAT(human.out, HasSubstr("queued, not yet sent"));
  // A second answer to the same notification is refused while one waits.
  ProcessResult again = Run("partya", {"ack", "mv-1"});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.exit_code, kExitQueued);
  EXPECT_THAT(again.err, HasSubstr("already queued"));

  Json outbox = Outbox("partya");
  ASSERT_EQ(outbox["outbox"].size(), 1u) << outbox;
  EXPECT_EQ(outbox["outbox"][0]["kind"], "ack");
  EXPECT_EQ(outbox["outbox"][0]["status"], "waiting");
  EXPECT_THAT(outbox["outbox"][0].value("description", ""),
              HasSubstr("acknowledge receipt of mv-1 version 1"));
  ProcessResult listed = Run("partya", {"outbox"}, false);
  EXPECT_THAT(listed.out, HasSubstr("acknowledge receipt of mv-1"));

  ASSERT_NO_FATAL_FAILURE(StartServer());
  Json synced = RunOk("partya", {"sync"});
  ASSERT_EQ(synced["sent"].size(), 1u) << synced;
  EXPECT_EQ(synced["sent"][0]["kind"], "ack");
  EXPECT_TRUE(Outbox("partya")["outbox"].empty());
  EXPECT_TRUE(RunOk("partya", {"sync"})["sent"].empty());
  EXPECT_EQ(AnswersBy("mv-1", "partya"), 1);
  Json party_view = RunOk("partya", {"notification", "show", "mv-1"});
  bool acknowledged = false;
  for (const Json& p : party_view["parties"]) {
    if (p["party"] == "partya") acknowledged = p["state"] == "acknowledged-receipt";
  }
  EXPECT_TRUE(acknowledged) << party_view;

  // An objection queued offline is sealed to the issuer side from the
  // cached directory and keys, and logged once too.
  RunOk("coordinator", NotifyArgs("mv-obj"));
  RunOk("partyb", {"sync"});
  ASSERT_NO_FATAL_FAILURE(StopServer());
  ProcessResult objected =
      Run("partyb", {"ack", "mv-obj", "--object", "closed road at km 12"});
  ASSERT_EQ(objected.exit_code, kExitQueued) << objected.err;
  ASSERT_NO_FATAL_FAILURE(StartServer());
  RunOk("partyb", {"sync"});
  EXPECT_EQ(AnswersBy("mv-obj", "partyb"), 1);
  Json shown = RunOk("coordinator", {"notification", "show", "mv-obj"});
  EXPECT_THAT(shown.dump(), HasSubstr("closed road at km 12"));
}

TEST_F(OfflineNotifyTest, OfflineAckOfANotificationNeverReceivedIsRefusedClearly) {
  RunOk("partya", {"sync"});  // caches the directory and keys
  ASSERT_NO_FATAL_FAILURE(StopServer());
  ProcessResult r = Run("partya", {"ack", "mv-nonexistent"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("never received"));
  EXPECT_TRUE(Outbox("partya")["outbox"].empty());
}

TEST_F(OfflineNotifyTest, NotifyQueuedWhileServerDownIsLoggedOnceAfterSync) {
  RunOk("coordinator", {"sync"});  // caches the directory and keys
  ASSERT_NO_FATAL_FAILURE(StopServer());
  ProcessResult strict =
      Run("coordinator", [&] {
        std::vector<std::string> a = NotifyArgs("mv-strict");
        a.insert(a.begin(), "--require-online");
        return a;
      }());
  EXPECT_EQ(strict.exit_code, 3) << strict.err;
  EXPECT_TRUE(Outbox("coordinator")["outbox"].empty());

  ProcessResult queued = Run("coordinator", NotifyArgs("mv-2"));
  ASSERT_EQ(queued.exit_code, kExitQueued) << queued.out << queued.err;
  Json q = Json::parse(queued.out, nullptr, false);
  ASSERT_TRUE(q.is_object()) << queued.out;
  EXPECT_EQ(q["queued"], true);
  EXPECT_EQ(q.value("outbox_id", "").size(), 32u) << q;
  ProcessResult human = Run("coordinator", NotifyArgs("mv-3"), false);
  ASSERT_EQ(human.exit_code, kExitQueued) << human.err;
  EXPECT_THAT(human.out, HasSubstr("queued, not yet sent"));

  Json outbox = Outbox("coordinator");
  ASSERT_EQ(outbox["outbox"].size(), 2u) << outbox;
  EXPECT_EQ(outbox["outbox"][0]["kind"], "notify");
  EXPECT_EQ(outbox["outbox"][0]["id"], q["outbox_id"]);
  EXPECT_THAT(outbox["outbox"][0].value("description", ""),
              HasSubstr("notify movement mv-2 version 1 to partya, partyb"));

  ASSERT_NO_FATAL_FAILURE(StartServer());
  Json synced = RunOk("coordinator", {"sync"});
  ASSERT_EQ(synced["sent"].size(), 2u) << synced;
  EXPECT_EQ(synced["sent"][0]["kind"], "notify");
  EXPECT_LT(synced["sent"][0]["log_index"].get<uint64_t>(),
            synced["sent"][1]["log_index"].get<uint64_t>())
      << "flushed in the order queued";
  EXPECT_TRUE(RunOk("coordinator", {"sync"})["sent"].empty());

  Json list = RunOk("coordinator", {"notifications"});
  std::multiset<std::string> ids;
  for (const Json& n : list["notifications"]) ids.insert(n.value("id", ""));
  EXPECT_EQ(ids.count("mv-2"), 1u) << list;
  EXPECT_EQ(ids.count("mv-3"), 1u) << list;
  EXPECT_EQ(ids.count("mv-strict"), 0u) << list;
  // The party reads what was sealed offline, once.
  Json inbox = RunOk("partya", {"inbox", "--json"});
  int versions = 0;
  for (const Json& e : inbox["events"]) {
    if (e.value("entry_type", "") == "notification" &&
        e.value("notification_id", "") == "mv-2") {
      ++versions;
      EXPECT_FALSE(e.contains("error")) << e;
    }
  }
  EXPECT_EQ(versions, 1) << inbox;
  RunOk("partya", {"ack", "mv-2"});
  EXPECT_EQ(AnswersBy("mv-2", "partya"), 1);
}

TEST_F(OfflineNotifyTest, SigkillDuringSyncStillLogsEachAnswerExactlyOnce) {
  constexpr int kNotifications = 6;
  std::vector<std::string> ids;
  for (int i = 0; i < kNotifications; ++i) {
    ids.push_back(absl::StrCat("mv-k", i));
    RunOk("coordinator", NotifyArgs(ids.back()));
  }
  RunOk("coordinator", {"sync"});
  RunOk("partya", {"inbox"});
  ASSERT_NO_FATAL_FAILURE(StopServer());
  for (const std::string& id : ids) {
    ProcessResult r = Run("partya", {"ack", id});
    ASSERT_EQ(r.exit_code, kExitQueued) << r.err;
  }
  std::vector<std::string> queued_notes;
  for (int i = 0; i < 4; ++i) {
    queued_notes.push_back(absl::StrCat("mv-q", i));
    ProcessResult r = Run("coordinator", NotifyArgs(queued_notes.back()));
    ASSERT_EQ(r.exit_code, kExitQueued) << r.err;
  }
  ASSERT_NO_FATAL_FAILURE(StartServer());

  std::mt19937 rng(std::random_device{}());
  int kills = 0;
  for (int round = 0; round < 3; ++round) {
    for (const char* who : {"partya", "coordinator"}) {
      ChildProcess sync({ParleyPath(), "--json", "--home", tmp_.Sub("clients"),
                         "--profile", who, "sync"},
                        {{"PARLEY_PASSPHRASE", absl::StrCat("pass-", who)}});
      std::this_thread::sleep_for(std::chrono::milliseconds(
          std::uniform_int_distribution<int>(100, 700)(rng)));
      sync.Signal(SIGKILL);
      std::optional<ProcessResult> r = sync.Wait(absl::Seconds(30));
      ASSERT_TRUE(r.has_value());
      if (r->term_signal == SIGKILL) ++kills;
    }
  }
  EXPECT_GT(kills, 0) << "no sync was killed mid-way";
  RunOk("partya", {"sync"});
  RunOk("coordinator", {"sync"});
  EXPECT_TRUE(Outbox("partya")["outbox"].empty());
  EXPECT_TRUE(Outbox("coordinator")["outbox"].empty());
  for (const std::string& id : ids) {
    EXPECT_EQ(AnswersBy(id, "partya"), 1) << id;
  }
  Json list = RunOk("coordinator", {"notifications"});
  std::multiset<std::string> listed;
  for (const Json& n : list["notifications"]) listed.insert(n.value("id", ""));
  for (const std::string& id : queued_notes) {
    EXPECT_EQ(listed.count(id), 1u) << id << ": " << list;
  }
}

TEST_F(OfflineNotifyTest, NotificationCacheIsSealedAndCorruptionIsExit5) {
  RunOk("coordinator", NotifyArgs("mv-seal"));
  RunOk("partya", {"inbox"});
  RunOk("partya", {"ack", "mv-seal"});
  RunOk("coordinator", {"inbox"});
  RunOk("coordinator", {"notification", "show", "mv-seal"});
  for (const char* who : {"partya", "coordinator"}) {
    const std::string dir = tmp_.Sub(absl::StrCat("clients/", who));
    EXPECT_FALSE(std::filesystem::exists(dir + "/notifications.jsonl"));
    ASSERT_TRUE(std::filesystem::exists(dir + "/notifications.bin")) << who;
    for (const std::filesystem::path& file : ProfileFiles(who)) {
      EXPECT_EQ(Slurp(file).find(kMarker), std::string::npos) << file;
      EXPECT_EQ(std::filesystem::status(file).permissions() &
                    std::filesystem::perms::all,
                std::filesystem::perms::owner_read |
                    std::filesystem::perms::owner_write)
          << file;
    }
  }
  // The content is still readable through the client.
  Json shown = RunOk("partya", {"notification", "show", "mv-seal"});
  EXPECT_THAT(shown.dump(), HasSubstr(kMarker));

  const std::string good = tmp_.Sub("clients/partya");
  for (const char* file : {"notifications.bin", "entries.bin"}) {
    const std::string bytes = Slurp(absl::StrCat(good, "/", file));
    ASSERT_GT(bytes.size(), 40u) << file;
    const std::string copy = tmp_.Sub(absl::StrCat("clients/broken-", file));
    std::filesystem::copy(good, copy,
                          std::filesystem::copy_options::recursive);
    std::string flipped = bytes;
    flipped[bytes.size() / 2] ^= 0x01;
    WriteFile(absl::StrCat(copy, "/", file), flipped);
    ProcessResult r =
        cli_.Run(absl::StrCat("broken-", file),
                 {"notification", "show", "mv-seal"}, true, "partya");
    EXPECT_EQ(r.term_signal, 0) << file;
    EXPECT_EQ(r.exit_code, 5) << file << ": " << r.err;
    Json err = Json::parse(r.err, nullptr, false);
    ASSERT_TRUE(err.is_object()) << r.err;
    EXPECT_THAT(err["error"]["message"].get<std::string>(),
                HasSubstr("corrupted"));
    EXPECT_THAT(err["error"]["message"].get<std::string>(), HasSubstr(file));
  }
}

TEST_F(OfflineNotifyTest, CoordinatorInboxVerifiesReceiptsAndListsEvents) {
  // Deadline soon: partyb stays silent and is escalated.
  RunOk("coordinator", NotifyArgs("mv-in", absl::Seconds(3)));
  RunOk("partya", {"inbox"});
  RunOk("partyb", {"inbox"});
  RunOk("partya", {"ack", "mv-in"});
  absl::SleepFor(absl::Seconds(6));

  ProcessResult human = Run("coordinator", {"inbox"}, false);
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_THAT(human.out, Not(HasSubstr("NOT VERIFIED")));
  EXPECT_THAT(human.out, HasSubstr("signature verified"));
  EXPECT_THAT(human.out, HasSubstr("partya acknowledged receipt of mv-in"));

  // And with --json: a new notification, delivered to partya.
  RunOk("coordinator", NotifyArgs("mv-in2"));
  RunOk("partya", {"inbox"});
  absl::SleepFor(absl::Seconds(1));
  Json inbox = RunOk("coordinator", {"inbox"});
  ASSERT_TRUE(inbox.contains("events")) << inbox;
  int receipts = 0, versions = 0;
  for (const Json& e : inbox["events"]) {
    if (e["type"] == "receipt") {
      ++receipts;
      EXPECT_EQ(e["verified"], true) << e;
      EXPECT_EQ(e.value("notification_id", ""), "mv-in2") << e;
    }
    if (e["type"] == "notification" && e["entry_type"] == "notification") {
      ++versions;
      EXPECT_EQ(e["notification_id"], "mv-in2");
    }
  }
  EXPECT_EQ(versions, 1) << inbox;
  EXPECT_GE(receipts, 1) << inbox;
}

TEST_F(OfflineNotifyTest, InboxJsonKeepsAcknowledgementsAndEscalations) {
  RunOk("coordinator", NotifyArgs("mv-esc", absl::Seconds(3)));
  RunOk("partya", {"inbox"});
  RunOk("partyb", {"inbox"});
  RunOk("partya", {"ack", "mv-esc"});
  absl::SleepFor(absl::Seconds(6));
  Json inbox = RunOk("coordinator", {"inbox"});
  std::set<std::string> kinds;
  for (const Json& e : inbox["events"]) {
    if (e["type"] != "notification") continue;
    EXPECT_EQ(e["notification_id"], "mv-esc") << e;
    kinds.insert(e["entry_type"].get<std::string>() + ":" +
                 e["member"].get<std::string>());
  }
  EXPECT_TRUE(kinds.contains("notification:coordinator")) << inbox;
  EXPECT_TRUE(kinds.contains("notification-ack:partya")) << inbox;
  EXPECT_TRUE(kinds.contains("escalation:partyb")) << inbox;
}

}  // namespace
}  // namespace parley
