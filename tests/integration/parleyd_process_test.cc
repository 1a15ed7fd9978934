// Start-up, pinned TLS and shutdown of real parleyd and parley processes.

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "absl/strings/numbers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/parley_processes.h"
#include "tests/testing/subprocess.h"

namespace parley {
namespace {

using ::parley::testing::BinaryPath;
using ::parley::testing::ChildProcess;
using ::parley::testing::ProcessResult;
using ::parley::testing::RunProcess;
using ::parley::testing::TempDir;
using ::testing::HasSubstr;

std::string Parleyd() { return BinaryPath("server/parleyd"); }
std::string Parley() { return BinaryPath("client/parley"); }

nlohmann::json InitDataDir(const std::string& dir,
                           const std::string& origin = "") {
  return ::parley::testing::InitParleydData(
      dir, origin.empty() ? std::vector<std::string>{}
                          : std::vector<std::string>{"--origin", origin});
}

// A parleyd on 127.0.0.1 with an OS-chosen port, logging at info.
class RunningServer : public ::parley::testing::ParleydProcess {
 public:
  explicit RunningServer(const std::string& data,
                         const std::string& listen = "127.0.0.1:0")
      : ParleydProcess(data, listen, {"--log-level", "info"}) {}
};

TEST(ParleydInitTest, PrintsJsonWithEveryFieldAndRefusesSecondInit) {
  TempDir tmp;
  nlohmann::json init = InitDataDir(tmp.Sub("data"), "test.example/log");
  ASSERT_TRUE(init.is_object());
  EXPECT_EQ(init["origin"], "test.example/log");
  EXPECT_EQ(init["ca_fingerprint"].get<std::string>().size(), 64u);
  EXPECT_THAT(init["bootstrap_invite"].get<std::string>(), HasSubstr("pi1-"));
  EXPECT_THAT(init["verifier_key"].get<std::string>(),
              ::testing::StartsWith("test.example/log+"));
  EXPECT_EQ(std::filesystem::status(tmp.Sub("data")).permissions() &
                std::filesystem::perms::all,
            std::filesystem::perms::owner_all);

  ProcessResult again =
      RunProcess({Parleyd(), "init", "--data", tmp.Sub("data")});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_THAT(again.err, HasSubstr("already initialised"));
}

TEST(ParleydInitTest, RefusesNonEmptyForeignDirectory) {
  TempDir tmp;
  std::ofstream(tmp.Sub("somebody-elses-file")) << "x";
  ProcessResult r = RunProcess({Parleyd(), "init", "--data", tmp.path()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("not empty"));
}

TEST(ParleydProcessTest, StatusOverPinnedTlsThenGracefulShutdown) {
  TempDir tmp;
  nlohmann::json init = InitDataDir(tmp.Sub("data"), "status.test/log");
  RunningServer server(tmp.Sub("data"));
  ASSERT_TRUE(server.ready()) << server.process().Stderr();

  // Global options both before and after the command name.
  ProcessResult status = RunProcess(
      {Parley(), "--home", tmp.Sub("client"), "status", "--server",
       server.address(), "--ca-fingerprint",
       init["ca_fingerprint"].get<std::string>(), "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  nlohmann::json json = nlohmann::json::parse(status.out, nullptr, false);
  ASSERT_TRUE(json.is_object()) << status.out;
  EXPECT_EQ(json["origin"], "status.test/log");
  EXPECT_EQ(json["version"], PARLEY_VERSION);
  EXPECT_EQ(json["verifier_key"], init["verifier_key"]);
  EXPECT_TRUE(json["tree_size"].is_number_unsigned());

  // The pin is remembered: no --server / --ca-fingerprint needed now.
  ProcessResult again =
      RunProcess({Parley(), "--json", "--home", tmp.Sub("client"), "status"});
  ASSERT_EQ(again.exit_code, 0) << again.err;

  server.process().Signal(SIGTERM);
  std::optional<ProcessResult> exit = server.process().Wait(absl::Seconds(30));
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->term_signal, 0);
  EXPECT_EQ(exit->exit_code, 0) << exit->err;
  EXPECT_THAT(exit->err, HasSubstr("parleyd stopped"));

  // Restart reuses the same credentials and identity.
  RunningServer restarted(tmp.Sub("data"));
  ASSERT_TRUE(restarted.ready()) << restarted.process().Stderr();
  ProcessResult after = RunProcess(
      {Parley(), "status", "--json", "--home", tmp.Sub("client2"), "--server",
       restarted.address(), "--ca-fingerprint",
       init["ca_fingerprint"].get<std::string>()});
  ASSERT_EQ(after.exit_code, 0) << after.err;
  restarted.process().Signal(SIGINT);
  std::optional<ProcessResult> exit2 =
      restarted.process().Wait(absl::Seconds(30));
  ASSERT_TRUE(exit2.has_value());
  EXPECT_EQ(exit2->exit_code, 0);
}

// A parleyd killed in the middle of a WAL write starts again by itself: the
// incomplete last record (never acknowledged) is dropped, with a warning.
TEST(ParleydProcessTest, KilledMidWriteRestartsWithoutAnOperator) {
  TempDir tmp;
  InitDataDir(tmp.Sub("data"));
  {
    RunningServer server(tmp.Sub("data"));
    ASSERT_TRUE(server.ready()) << server.process().Stderr();
    server.Stop(SIGKILL);
  }
  // What a write cut short leaves: the first bytes of a record header.
  std::filesystem::path wal;
  for (const auto& e : std::filesystem::directory_iterator(tmp.Sub("data/db"))) {
    if (e.path().extension() == ".log" &&
        (wal.empty() || e.path().filename() > wal.filename())) {
      wal = e.path();
    }
  }
  ASSERT_FALSE(wal.empty());
  constexpr size_t kBlock = 32768;  // RocksDB's WAL block.
  size_t left = kBlock - std::filesystem::file_size(wal) % kBlock;
  std::string tail(left < 7 ? left : 0, '\0');  // The writer's block trailer.
  tail += "\x5a\xa5\x3c";
  std::ofstream(wal, std::ios::binary | std::ios::app) << tail;

  RunningServer restarted(tmp.Sub("data"));
  ASSERT_TRUE(restarted.ready()) << restarted.process().Stderr();
  EXPECT_THAT(restarted.process().Stderr(),
              HasSubstr("the write-ahead log ended in an incomplete record"));
  restarted.Stop();
}

TEST(ParleydProcessTest, WrongFingerprintIsRefused) {
  TempDir tmp;
  InitDataDir(tmp.Sub("data"));
  nlohmann::json other = InitDataDir(tmp.Sub("other"));
  RunningServer server(tmp.Sub("data"));
  ASSERT_TRUE(server.ready()) << server.process().Stderr();
  ProcessResult r = RunProcess(
      {Parley(), "--home", tmp.Sub("client"), "--json", "status", "--server",
       server.address(), "--ca-fingerprint",
       other["ca_fingerprint"].get<std::string>()});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_TRUE(r.out.empty());
  nlohmann::json err = nlohmann::json::parse(r.err, nullptr, false);
  ASSERT_TRUE(err.is_object()) << r.err;
  EXPECT_EQ(err["error"]["code"], "PERMISSION_DENIED");
  EXPECT_THAT(err["error"]["message"].get<std::string>(),
              HasSubstr("refusing to connect"));
  // Nothing was pinned by the refused attempt.
  EXPECT_FALSE(std::filesystem::exists(tmp.Sub("client/default/ca.pem")));

  ProcessResult bad = RunProcess({Parley(), "--home", tmp.Sub("client"),
                                  "status", "--server", server.address(),
                                  "--ca-fingerprint", "xyz"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("fingerprint"));
}

TEST(ParleydProcessTest, UnreachableServerIsReportedWithAddress) {
  TempDir tmp;
  nlohmann::json init = InitDataDir(tmp.Sub("data"));
  ProcessResult r = RunProcess(
      {Parley(), "--home", tmp.Sub("client"), "status", "--server",
       "127.0.0.1:1", "--ca-fingerprint",
       init["ca_fingerprint"].get<std::string>()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("127.0.0.1:1"));
}

TEST(ParleydStartupErrorTest, PortInUse) {
  TempDir tmp;
  InitDataDir(tmp.Sub("a"));
  InitDataDir(tmp.Sub("b"));
  RunningServer first(tmp.Sub("a"));
  ASSERT_TRUE(first.ready());
  ProcessResult second =
      RunProcess({Parleyd(), "--data", tmp.Sub("b"), "--listen",
                  first.address()},
                 {}, absl::Seconds(30));
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_THAT(second.err, HasSubstr("Address already in use"));
}

TEST(ParleydStartupErrorTest, MissingDataDirectorySaysHowToCreateIt) {
  TempDir tmp;
  ProcessResult r = RunProcess(
      {Parleyd(), "--data", tmp.Sub("nope"), "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("parleyd init --data"));
}

TEST(ParleydStartupErrorTest, DataDirectoryNotWritable) {
  TempDir tmp;
  std::string dir = "/sys";  // Not writable even for root.
  if (geteuid() != 0) {
    InitDataDir(tmp.Sub("data"));
    std::filesystem::permissions(tmp.Sub("data"),
                                 std::filesystem::perms::owner_read |
                                     std::filesystem::perms::owner_exec);
    dir = tmp.Sub("data");
  }
  ProcessResult r =
      RunProcess({Parleyd(), "--data", dir, "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("is not writable"));
  std::filesystem::permissions(tmp.path(), std::filesystem::perms::owner_all);
}

TEST(ParleydStartupErrorTest, ForeignDirectoryIsNotADataDirectory) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.Sub("data"));
  std::ofstream(tmp.Sub("data/notes.txt")) << "not parley";
  ProcessResult r = RunProcess(
      {Parleyd(), "--data", tmp.Sub("data"), "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("not a parleyd data directory"));
}

TEST(ParleydStartupErrorTest, FilesOfAnotherServerAreRefused) {
  TempDir tmp;
  InitDataDir(tmp.Sub("a"));
  InitDataDir(tmp.Sub("b"));
  std::filesystem::copy_file(
      tmp.Sub("b/log-signing.key"), tmp.Sub("a/log-signing.key"),
      std::filesystem::copy_options::overwrite_existing);
  ProcessResult r = RunProcess(
      {Parleyd(), "--data", tmp.Sub("a"), "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("mixes files of two servers"));
}

TEST(ParleydStartupErrorTest, LogOfAnotherServerIsRefused) {
  TempDir tmp;
  InitDataDir(tmp.Sub("a"));
  InitDataDir(tmp.Sub("b"));
  {
    RunningServer b(tmp.Sub("b"));  // Creates b's log.
    ASSERT_TRUE(b.ready());
  }
  std::filesystem::remove_all(tmp.Sub("a/db"));
  std::filesystem::copy(tmp.Sub("b/db"), tmp.Sub("a/db"),
                        std::filesystem::copy_options::recursive);
  ProcessResult r = RunProcess(
      {Parleyd(), "--data", tmp.Sub("a"), "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("cannot start"));
}

TEST(ParleydStartupErrorTest, CorruptedIdentityFile) {
  TempDir tmp;
  InitDataDir(tmp.Sub("data"));
  std::filesystem::resize_file(tmp.Sub("data/parleyd.json"), 20);
  ProcessResult r = RunProcess(
      {Parleyd(), "--data", tmp.Sub("data"), "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("corrupted"));
}

TEST(ParleydStartupErrorTest, BadConfigFileNamesTheProblem) {
  TempDir tmp;
  std::ofstream(tmp.Sub("parleyd.toml")) << "listen = 5\n";
  ProcessResult r = RunProcess({Parleyd(), "--config", tmp.Sub("parleyd.toml")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("\"listen\" must be a string"));
}

}  // namespace
}  // namespace parley
