// Offline-first behaviour of the real `parley` against a real `parleyd`:
// queueing while the server is down (exit 10), `parley sync` delivering
// exactly once (also after SIGKILL mid-flush and after a lost answer), held
// work, protected and corrupted local state, and --json output.

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/parley_processes.h"
#include "tests/testing/subprocess.h"

namespace parley {
namespace {

using ::parley::testing::Slurp;
using ::parley::testing::WriteFile;
using ::parley::testing::BinaryPath;
using ::parley::testing::ChildProcess;
using ::parley::testing::ProcessResult;
using ::parley::testing::RunProcess;
using ::parley::testing::TempDir;
using ::testing::HasSubstr;
using Json = nlohmann::json;
using Server = ::parley::testing::ParleydProcess;
using ::parley::testing::ParleyCli;
using ::parley::testing::ParleyPath;
using ::parley::testing::ParleydPath;

constexpr int kExitQueued = 10;


class OfflineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    init_ = ::parley::testing::InitParleydData(tmp_.Sub("data"));
    ASSERT_TRUE(init_.is_object());
    StartServer();
    ASSERT_NO_FATAL_FAILURE(EnrollAll());
    RunOk("mediator",
          {"channel", "create", "bc-1", "--members", "partya,partyb"});
    // Online once: remembers the channel and keys for offline sealing.
    RunOk("partya", {"sync"});
  }

  void StartServer() {
    server_ = std::make_unique<Server>(
        tmp_.Sub("data"), address_.empty() ? "127.0.0.1:0" : address_);
    ASSERT_TRUE(server_->ready()) << server_->process().Stderr();
    address_ = server_->address();
  }

  void StopServer() {
    server_->process().Signal(SIGKILL);
    ASSERT_TRUE(server_->process().Wait(absl::Seconds(30)).has_value());
    server_.reset();
  }

  ProcessResult RunAs(const std::string& profile, const std::string& who,
                      const std::vector<std::string>& args, bool json = true) {
    return cli_.Run(profile, args, json, who);
  }
  ProcessResult Run(const std::string& who,
                    const std::vector<std::string>& args, bool json = true) {
    return cli_.Run(who, args, json);
  }
  Json RunOk(const std::string& who, const std::vector<std::string>& args) {
    return cli_.RunOk(who, args);
  }
  void EnrollAll() {
    cli_.EnrollCast(address_, init_,
                    {{"mediator", "mediator"},
                     {"partya", "party"},
                     {"partyb", "party"}});
  }

  // Queues `text` while the server is down: exit 10, {"queued": true}.
  std::string Queue(const std::string& text) {
    ProcessResult r = Run("partya", {"send", "bc-1", "--text", text});
    EXPECT_EQ(r.exit_code, kExitQueued) << r.out << r.err;
    Json j = Json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_object()) << r.out;
    if (!j.is_object()) return "";
    EXPECT_EQ(j["queued"], true) << j;
    return j.value("id", "");
  }

  // Texts of every message partyb's inbox shows now.
  std::vector<std::string> InboxTexts(const std::string& who = "partyb") {
    Json inbox = RunOk(who, {"inbox"});
    std::vector<std::string> texts;
    for (const Json& m : inbox["messages"]) {
      if (m.value("sender", "") == "partya") {
        texts.push_back(m.value("text", "?"));
      }
    }
    return texts;
  }

  Json Outbox() { return RunOk("partya", {"outbox"}); }

  TempDir tmp_;
  ParleyCli cli_{tmp_.Sub("clients")};
  Json init_;
  std::string address_;
  std::unique_ptr<Server> server_;
};

TEST_F(OfflineTest, QueuedWhileServerDownIsDeliveredExactlyOnceAfterSync) {
  ASSERT_NO_FATAL_FAILURE(StopServer());
  ProcessResult human =
      Run("partya", {"send", "bc-1", "--text", "first while down"}, false);
  EXPECT_EQ(human.exit_code, kExitQueued) << human.out << human.err;
  EXPECT_THAT(human.out, HasSubstr("queued, not yet sent"));
  EXPECT_EQ(human.out.find("\033["), std::string::npos) << "colour off a tty";
  const std::string id = Queue("second while down");
  EXPECT_EQ(id.size(), 32u);

  // --require-online refuses instead, and queues nothing.
  ProcessResult strict = Run(
      "partya", {"--require-online", "send", "bc-1", "--text", "not queued"});
  EXPECT_EQ(strict.exit_code, 3) << strict.err;
  EXPECT_TRUE(Json::parse(strict.err, nullptr, false).contains("error"))
      << strict.err;

  Json outbox = Outbox();
  ASSERT_EQ(outbox["outbox"].size(), 2u) << outbox;
  // The first was tried on each run since; the second waits behind it.
  EXPECT_GE(outbox["outbox"][0]["attempts"].get<int>(), 2) << outbox;
  for (const Json& item : outbox["outbox"]) {
    EXPECT_EQ(item["status"], "waiting") << item;
    EXPECT_FALSE(item["last_error"].get<std::string>().empty()) << item;
    EXPECT_GT(item["queued_at_ms"].get<int64_t>(), 0) << item;
  }
  EXPECT_EQ(outbox["outbox"][1]["id"], id);

  // sync while the server is still down: exit 3, nothing lost.
  ProcessResult down = Run("partya", {"sync"});
  EXPECT_EQ(down.exit_code, 3) << down.err;
  EXPECT_EQ(Outbox()["outbox"].size(), 2u);

  ASSERT_NO_FATAL_FAILURE(StartServer());
  Json synced = RunOk("partya", {"sync"});
  ASSERT_EQ(synced["sent"].size(), 2u) << synced;
  EXPECT_EQ(synced["queued"], 0);
  EXPECT_TRUE(Outbox()["outbox"].empty());
  EXPECT_THAT(InboxTexts(), ::testing::ElementsAre("first while down",
                                                   "second while down"));
  EXPECT_TRUE(RunOk("partya", {"sync"})["sent"].empty());
  EXPECT_TRUE(InboxTexts().empty());
}

TEST_F(OfflineTest, ALostAnswerIsRetriedAndLoggedOnce) {
  ASSERT_NO_FATAL_FAILURE(StopServer());
  for (int i = 0; i < 3; ++i) Queue(absl::StrCat("retry ", i));
  const std::string state = tmp_.Sub("clients/partya/state.bin");
  const std::string before = Slurp(state);
  ASSERT_NO_FATAL_FAILURE(StartServer());
  Json first = RunOk("partya", {"sync"});
  ASSERT_EQ(first["sent"].size(), 3u) << first;
  // As if the client died after the server logged them but before it
  // recorded that: the outbox holds the same envelopes again.
  WriteFile(state, before);
  Json again = RunOk("partya", {"sync"});
  ASSERT_EQ(again["sent"].size(), 3u) << again;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(again["sent"][i]["duplicate"], true) << again;
    EXPECT_EQ(again["sent"][i]["log_index"], first["sent"][i]["log_index"]);
    EXPECT_EQ(again["sent"][i]["id"], first["sent"][i]["id"]);
  }
  EXPECT_THAT(InboxTexts(),
              ::testing::ElementsAre("retry 0", "retry 1", "retry 2"));
}

TEST_F(OfflineTest, SigkillDuringSyncStillDeliversEachMessageExactlyOnce) {
  constexpr int kMessages = 50;
  ASSERT_NO_FATAL_FAILURE(StopServer());
  for (int i = 0; i < kMessages; ++i) Queue(absl::StrCat("queued ", i));
  ASSERT_EQ(Outbox()["outbox"].size(), static_cast<size_t>(kMessages));
  ASSERT_NO_FATAL_FAILURE(StartServer());

  std::mt19937 rng(std::random_device{}());
  int kills = 0;
  for (int round = 0; round < 3; ++round) {
    ChildProcess sync({ParleyPath(), "--json", "--home",
                       tmp_.Sub("clients"), "--profile", "partya", "sync"},
                      {{"PARLEY_PASSPHRASE", "pass-partya"}});
    std::this_thread::sleep_for(std::chrono::milliseconds(
        std::uniform_int_distribution<int>(150, 900)(rng)));
    sync.Signal(SIGKILL);
    std::optional<ProcessResult> r = sync.Wait(absl::Seconds(30));
    ASSERT_TRUE(r.has_value());
    if (r->term_signal == SIGKILL) ++kills;
  }
  EXPECT_GT(kills, 0) << "no sync was killed mid-way";
  Json final_sync = RunOk("partya", {"sync"});
  EXPECT_TRUE(Outbox()["outbox"].empty());

  std::vector<std::string> texts = InboxTexts();
  EXPECT_EQ(texts.size(), static_cast<size_t>(kMessages));
  std::set<std::string> distinct(texts.begin(), texts.end());
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kMessages));
  for (int i = 0; i < kMessages; ++i) {
    EXPECT_TRUE(distinct.contains(absl::StrCat("queued ", i))) << i;
  }
  // In queue order: the chain guarantees it, the inbox shows it.
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(texts[i], absl::StrCat("queued ", i));
  }
}

TEST_F(OfflineTest, RefusedWorkIsHeldWithItsReasonAndCanBeResent) {
  ASSERT_NO_FATAL_FAILURE(StopServer());
  const std::string held_id = Queue("to a member who leaves");
  const std::string behind_id = Queue("queued behind it");
  ASSERT_NO_FATAL_FAILURE(StartServer());
  RunOk("admin", {"admin", "revoke", "partyb", "--reason", "left"});
  // The recipients changed: refused for good, held, never dropped.
  ProcessResult sync = Run("partya", {"sync"});
  EXPECT_EQ(sync.exit_code, 0) << sync.err;
  Json outbox = Outbox();
  ASSERT_EQ(outbox["outbox"].size(), 2u) << outbox;
  EXPECT_EQ(outbox["outbox"][0]["id"], held_id);
  EXPECT_EQ(outbox["outbox"][0]["status"], "held");
  EXPECT_THAT(outbox["outbox"][0]["held_reason"].get<std::string>(),
              HasSubstr("recipients"));
  EXPECT_EQ(outbox["outbox"][1]["id"], behind_id);
  EXPECT_EQ(outbox["outbox"][1]["status"], "waiting behind held");
  ProcessResult human = Run("partya", {"outbox"}, false);
  EXPECT_THAT(human.out, HasSubstr("refused"));

  ProcessResult drop_waiting = Run("partya", {"outbox", "drop", behind_id});
  EXPECT_NE(drop_waiting.exit_code, 0);
  Json resent = RunOk("partya", {"outbox", "resend", held_id});
  ASSERT_EQ(resent["resent"].size(), 2u) << resent;
  EXPECT_EQ(resent["resent"][0]["queued"], false);
  EXPECT_TRUE(Outbox()["outbox"].empty());
}

TEST_F(OfflineTest, NothingSensitiveIsStoredInClearInTheProfile) {
  RunOk("partya", {"send", "bc-1", "--text", "marker-7f3a secret"});
  RunOk("partyb", {"inbox"});
  ASSERT_NO_FATAL_FAILURE(StopServer());
  Queue("marker-7f3a queued");
  for (const char* who : {"partya", "partyb"}) {
    const std::string dir = tmp_.Sub(absl::StrCat("clients/", who));
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (!entry.is_regular_file()) continue;
      EXPECT_EQ(Slurp(entry.path()).find("marker-7f3a"), std::string::npos)
          << entry.path();
      EXPECT_EQ(std::filesystem::status(entry.path()).permissions() &
                    std::filesystem::perms::all,
                std::filesystem::perms::owner_read |
                    std::filesystem::perms::owner_write)
          << entry.path();
    }
  }
}

TEST_F(OfflineTest, CorruptedOrForeignStateGivesAClearErrorNeverACrash) {
  RunOk("partya", {"send", "bc-1", "--text", "hello"});
  RunOk("partya", {"inbox"});
  RunOk("partyb", {"inbox"});
  const std::string good = tmp_.Sub("clients/partya");
  int n = 0;
  auto broken_copy = [&] {
    const std::string name = absl::StrCat("broken", n++);
    const std::string dir = tmp_.Sub(absl::StrCat("clients/", name));
    std::filesystem::copy(good, dir, std::filesystem::copy_options::recursive);
    return std::make_pair(name, dir);
  };
  auto expect_clear_error = [&](const std::string& profile,
                                const std::string& what) {
    ProcessResult r = RunAs(profile, "partya", {"inbox"});
    EXPECT_EQ(r.term_signal, 0) << what;
    EXPECT_EQ(r.exit_code, 5) << what << ": " << r.err;
    Json err = Json::parse(r.err, nullptr, false);
    ASSERT_TRUE(err.is_object()) << what << ": " << r.err;
    EXPECT_THAT(err["error"]["message"].get<std::string>(),
                HasSubstr("corrupted"))
        << what;
  };
  for (const char* file : {"state.bin", "contacts.bin", "messages.bin"}) {
    const std::string bytes = Slurp(absl::StrCat(good, "/", file));
    ASSERT_GT(bytes.size(), 40u) << file;
    {
      auto [profile, dir] = broken_copy();
      std::string flipped = bytes;
      flipped[bytes.size() / 2] ^= 0x01;
      WriteFile(absl::StrCat(dir, "/", file), flipped);
      expect_clear_error(profile, absl::StrCat(file, " flipped"));
    }
    {
      auto [profile, dir] = broken_copy();
      WriteFile(absl::StrCat(dir, "/", file), bytes.substr(0, bytes.size() / 3));
      expect_clear_error(profile, absl::StrCat(file, " truncated"));
    }
    {
      // Another identity's file (partyb's profile) dropped in.
      auto [profile, dir] = broken_copy();
      std::filesystem::copy_file(
          tmp_.Sub(absl::StrCat("clients/partyb/", file)),
          absl::StrCat(dir, "/", file),
          std::filesystem::copy_options::overwrite_existing);
      expect_clear_error(profile, absl::StrCat(file, " foreign"));
    }
  }
  // Junk files do not matter.
  auto [profile, dir] = broken_copy();
  WriteFile(absl::StrCat(dir, "/notes.txt"), "junk");
  WriteFile(absl::StrCat(dir, "/state.bin.tmp"), std::string(100, '\xff'));
  std::filesystem::create_directory(absl::StrCat(dir, "/junkdir"));
  ProcessResult ok = RunAs(profile, "partya", {"outbox"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  // A garbage identity.json: a clear error too.
  auto [profile2, dir2] = broken_copy();
  WriteFile(absl::StrCat(dir2, "/identity.json"), "\x01\x02 not json");
  ProcessResult bad_identity = RunAs(profile2, "partya", {"inbox"});
  EXPECT_EQ(bad_identity.term_signal, 0);
  EXPECT_EQ(bad_identity.exit_code, 5) << bad_identity.err;
}

TEST_F(OfflineTest, JsonOutputOfEveryOfflineCommandParses) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"send", "bc-1", "--text", "online"},
           {"outbox"},
           {"sync"},
           {"help", "offline"},
           {"help", "exit-codes"}}) {
    RunOk("partya", args);
  }
  ASSERT_NO_FATAL_FAILURE(StopServer());
  Queue("offline json");
  RunOk("partya", {"outbox"});
  ProcessResult drop = Run("partya", {"outbox", "drop", "nosuchid"});
  EXPECT_EQ(drop.exit_code, 6);
  EXPECT_TRUE(Json::parse(drop.err, nullptr, false).contains("error"));
  ProcessResult completion = Run("partya", {"completion", "bash"}, false);
  EXPECT_EQ(completion.exit_code, 0);
  EXPECT_THAT(completion.out, HasSubstr("complete -F _parley parley"));
  EXPECT_THAT(completion.out, HasSubstr("outbox"));
}

TEST_F(OfflineTest, UnknownMemberGetsADidYouMean) {
  ProcessResult r = Run("mediator", {"channel", "create", "bc-2", "--members",
                                     "partya,partyc"}, false);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("did you mean partya?"));
}

}  // namespace
}  // namespace parley
