// Crash safety: a child process (this test binary re-executed in child mode)
// appends from several threads and records, after each Append returns, the
// acknowledged index and bytes, and every checkpoint it sees signed. The
// parent SIGKILLs it at random moments, reopens the log, and checks that
// every acknowledged entry is there and the tree is consistent with every
// checkpoint signed before the kill. A kill can cut a WAL write short (the
// kernel stops write(2) between pages on SIGKILL); the reopen then drops
// that never-acknowledged record by itself.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "crypto/encoding.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/log_store.h"
#include "storage/tlog/checkpoint.h"
#include "storage/tlog/merkle.h"
#include "tests/storage/log_test_util.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::parley::testing::ScratchDir;

constexpr char kChildEnv[] = "PARLEY_LOG_CRASH_CHILD_DIR";
constexpr int kChildAppenders = 4;

LogOptions CrashOptions(const std::string& dir, const Ed25519PrivateKey* key) {
  LogOptions o;
  o.path = dir + "/db";
  o.origin = testing::kTestOrigin;
  o.signer = key;
  o.checkpoint_interval = absl::Milliseconds(20);
  return o;
}

// Appends `line` and fdatasyncs, so the record survives even an OS crash.
void AppendRecord(int fd, const std::string& line) {
  if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()) ||
      fdatasync(fd) != 0) {
    _exit(4);
  }
}

// Child mode only: runs until killed.
TEST(LogCrashChild, AppendUntilKilled) {
  const char* dir = std::getenv(kChildEnv);
  if (dir == nullptr) GTEST_SKIP() << "runs only as the crash test's child";
  Ed25519PrivateKey key = testing::TestLogKey();
  absl::StatusOr<std::unique_ptr<LogStore>> store =
      LogStore::Open(CrashOptions(dir, &key));
  if (!store.ok()) {
    fprintf(stderr, "child open failed: %s\n",
            std::string(store.status().message()).c_str());
    _exit(2);
  }
  int acked = open((std::string(dir) + "/acked").c_str(),
                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  int checkpoints = open((std::string(dir) + "/checkpoints").c_str(),
                         O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (acked < 0 || checkpoints < 0) _exit(5);
  std::vector<std::thread> threads;
  for (int t = 0; t < kChildAppenders; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(getpid() * 31 + t);
      for (uint64_t seq = 0;; ++seq) {
        // Sizes vary so group commits vary in size too.
        std::string entry = absl::StrCat("pid ", getpid(), " thread ", t,
                                         " seq ", seq, " ",
                                         std::string(rng() % 300, 'x'));
        absl::StatusOr<uint64_t> index = (*store)->Append(entry);
        if (!index.ok()) {
          fprintf(stderr, "append failed: %s\n",
                  std::string(index.status().message()).c_str());
          _exit(3);
        }
        AppendRecord(acked, absl::StrCat(*index, " ", entry, "\n"));
      }
    });
  }
  uint64_t seen = 0;
  while (true) {
    std::optional<SignedCheckpoint> cp =
        (*store)->WaitForCheckpoint(seen, absl::Seconds(1));
    if (!cp.has_value()) continue;
    seen = cp->size;
    AppendRecord(checkpoints, Base64Encode(cp->note) + "\n");
  }
}

std::vector<std::string> CompleteLines(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = all.find('\n', start)) != std::string::npos;
       start = nl + 1) {
    lines.push_back(all.substr(start, nl - start));
  }
  return lines;  // A torn last line (no newline) is ignored.
}

pid_t SpawnChild(const std::string& dir) {
  std::string filter = "--gtest_filter=LogCrashChild.AppendUntilKilled";
  std::string env = absl::StrCat(kChildEnv, "=", dir);
  std::vector<std::string> env_strings = {env};
  for (char** e = environ; *e != nullptr; ++e) {
    if (!std::string_view(*e).starts_with(kChildEnv)) env_strings.push_back(*e);
  }
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    execle("/proc/self/exe", "storage_tests", filter.c_str(), "--gtest_brief=1",
           nullptr, envp.data());
    _exit(127);
  }
  return pid;
}

size_t LineCount(const std::string& path) { return CompleteLines(path).size(); }

// A kill can cut the child's own write of a line short too: drop the torn
// line, so the next child does not append to it.
void DropTornLine(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string all = ss.str();
  size_t keep = all.rfind('\n') == std::string::npos ? 0 : all.rfind('\n') + 1;
  if (keep != all.size()) std::filesystem::resize_file(path, keep);
}

// Kills the child and waits for it; drops what it left torn.
void KillChild(pid_t pid, const std::string& dir) {
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "child ended with status " << status << " instead of being killed";
  for (const char* file : {"/acked", "/checkpoints"}) {
    std::string path = dir + file;
    if (std::filesystem::exists(path)) DropTornLine(path);
  }
}

LogOptions ReopenOptions(const std::string& dir, const Ed25519PrivateKey* key) {
  LogOptions o = CrashOptions(dir, key);
  o.background_checkpoints = false;
  return o;
}

// Every entry the child saw acknowledged is in `store` at its index, with
// its bytes. Returns how many there were.
size_t ExpectAcknowledgedEntries(const LogStore& store, const std::string& dir) {
  std::vector<std::string> acked = CompleteLines(dir + "/acked");
  for (const std::string& line : acked) {
    size_t space = line.find(' ');
    uint64_t index = std::stoull(line.substr(0, space));
    EXPECT_LT(index, store.Size()) << "acknowledged index lost: " << line;
    if (index >= store.Size()) continue;
    absl::StatusOr<std::string> entry = store.GetEntry(index);
    EXPECT_TRUE(entry.ok()) << entry.status();
    if (entry.ok()) {
      EXPECT_EQ(*entry, line.substr(space + 1)) << "index " << index;
    }
  }
  return acked.size();
}

// Runs the child until it has acknowledged `entries` appends, then kills it.
void RunChildUntilKilled(const std::string& dir, size_t entries) {
  pid_t pid = SpawnChild(dir);
  ASSERT_GT(pid, 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (LineCount(dir + "/acked") < entries &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  KillChild(pid, dir);
}

// The newest non-empty WAL file of the store in `dir`.
std::filesystem::path NewestWal(const std::string& dir) {
  std::filesystem::path newest;
  for (const auto& e : std::filesystem::directory_iterator(dir + "/db")) {
    if (e.path().extension() == ".log" && e.file_size() > 0 &&
        (newest.empty() || e.path().filename() > newest.filename())) {
      newest = e.path();
    }
  }
  return newest;
}

// Appends what a write cut short leaves at the end of a RocksDB WAL: the
// start of a record header, or a whole header (type full, claiming the rest
// of its 32 KiB block) followed by only part of its body. Block trailers
// shorter than a header are zero-filled first, as the writer does.
enum class Tear { kHeader, kBody };
void TearWalTail(const std::filesystem::path& wal, Tear tear) {
  constexpr size_t kBlock = 32768;
  constexpr size_t kHeaderBytes = 7;
  size_t left = kBlock - std::filesystem::file_size(wal) % kBlock;
  std::string tail;
  if (left < kHeaderBytes + 32) {
    tail.assign(left, '\0');
    left = kBlock;
  }
  if (tear == Tear::kHeader) {
    tail += std::string("\x5a\xa5\x3c", 3);
  } else {
    size_t length = left - kHeaderBytes;
    tail += std::string("\x5a\xa5\x3c\xc3", 4);  // A checksum never checked.
    tail += static_cast<char>(length & 0xff);
    tail += static_cast<char>(length >> 8);
    tail += '\x01';  // kFullType
    tail += "part of a batch";
  }
  std::ofstream(wal, std::ios::binary | std::ios::app) << tail;
}

TEST(LogCrashTest, SigkillNeverLosesAcknowledgedEntriesOrSignedCheckpoints) {
  constexpr int kRounds = 24;
  ScratchDir dir;
  Ed25519PrivateKey key = testing::TestLogKey();
  std::mt19937 rng(4242);
  size_t total_acked = 0;
  size_t total_checkpoints = 0;
  int torn_tails = 0;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    const std::string acked_path = dir.path() + "/acked";
    const size_t before = LineCount(acked_path);
    pid_t pid = SpawnChild(dir.path());
    ASSERT_GT(pid, 0);
    // Let the child make progress, then kill it at a random moment.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (LineCount(acked_path) < before + 20 &&
           std::chrono::steady_clock::now() < deadline) {
      int status;
      ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0)
          << "child exited early with status " << status;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 150000));
    KillChild(pid, dir.path());
    ASSERT_FALSE(::testing::Test::HasFatalFailure());

    // Reopen. A kill that cut a WAL write short leaves an incomplete last
    // record, which the open drops by itself; nothing acknowledged is in it.
    absl::StatusOr<std::unique_ptr<LogStore>> store =
        LogStore::Open(ReopenOptions(dir.path(), &key));
    ASSERT_TRUE(store.ok()) << store.status();
    if ((*store)->RecoveredTornWalTail()) ++torn_tails;
    const uint64_t size = (*store)->Size();
    ASSERT_GT(LineCount(acked_path), before);
    total_acked = ExpectAcknowledgedEntries(**store, dir.path());
    ASSERT_FALSE(::testing::Test::HasFailure());

    std::vector<std::string> notes = CompleteLines(dir.path() + "/checkpoints");
    for (const std::string& b64 : notes) {
      absl::StatusOr<std::string> note = Base64Decode(b64);
      ASSERT_TRUE(note.ok());
      absl::StatusOr<SignedCheckpoint> cp =
          VerifyCheckpointNote(*note, (*store)->Verifier(), testing::kTestOrigin);
      ASSERT_TRUE(cp.ok()) << cp.status();
      ASSERT_LE(cp->size, size) << "signed checkpoint lost";
      absl::StatusOr<std::string> root = (*store)->RootHash(cp->size);
      ASSERT_TRUE(root.ok()) << root.status();
      ASSERT_EQ(*root, cp->root_hash) << "fork at size " << cp->size;
      if (cp->size > 0) {
        absl::StatusOr<std::string> now_root = (*store)->RootHash(size);
        absl::StatusOr<std::vector<std::string>> proof =
            (*store)->ConsistencyProof(cp->size, size);
        ASSERT_TRUE(proof.ok()) << proof.status();
        ASSERT_TRUE(VerifyConsistency(cp->size, size, cp->root_hash, *now_root,
                                      *proof)
                        .ok());
      }
    }
    total_checkpoints = notes.size();
    if (round % 8 == 7 || round == kRounds - 1) {
      ASSERT_TRUE((*store)->Audit().ok());
    }
  }
  EXPECT_GE(total_acked, size_t{kRounds * 20});
  EXPECT_GT(total_checkpoints, size_t{kRounds});
  std::printf(
      "crash test: %zu acknowledged entries, %zu checkpoints, %d kills, %d "
      "torn WAL tails dropped\n",
      total_acked, total_checkpoints, kRounds, torn_tails);
}

// What a write cut short leaves (by a kill or a power loss) is dropped at
// open without an operator, and the tear is gone for the next open.
TEST(LogCrashTest, IncompleteLastWalRecordIsDroppedAndNothingAcknowledgedIsLost) {
  for (Tear tear : {Tear::kHeader, Tear::kBody}) {
    SCOPED_TRACE(tear == Tear::kHeader ? "torn header" : "torn body");
    ScratchDir dir;
    Ed25519PrivateKey key = testing::TestLogKey();
    ASSERT_NO_FATAL_FAILURE(RunChildUntilKilled(dir.path(), 50));
    std::filesystem::path wal = NewestWal(dir.path());
    ASSERT_FALSE(wal.empty());
    TearWalTail(wal, tear);
    {
      absl::StatusOr<std::unique_ptr<LogStore>> store =
          LogStore::Open(ReopenOptions(dir.path(), &key));
      ASSERT_TRUE(store.ok()) << store.status();
      EXPECT_TRUE((*store)->RecoveredTornWalTail());
      EXPECT_GE(ExpectAcknowledgedEntries(**store, dir.path()), 50u);
      EXPECT_TRUE((*store)->Audit().ok());
    }
    absl::StatusOr<std::unique_ptr<LogStore>> again =
        LogStore::Open(ReopenOptions(dir.path(), &key));
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_FALSE((*again)->RecoveredTornWalTail());
  }
}

// Damage to a record that was written completely is not a torn tail: the
// open is refused, and only an explicit point-in-time recovery (which drops
// everything from the damage on) gets past it, and only if no signed
// checkpoint is lost.
TEST(LogCrashTest, DamagedCompleteWalRecordRefusesOpen) {
  ScratchDir dir;
  Ed25519PrivateKey key = testing::TestLogKey();
  ASSERT_NO_FATAL_FAILURE(RunChildUntilKilled(dir.path(), 50));
  std::filesystem::path wal = NewestWal(dir.path());
  ASSERT_FALSE(wal.empty());
  {
    // One flipped bit in the body of the file's first record.
    std::fstream f(wal, std::ios::binary | std::ios::in | std::ios::out);
    f.seekg(10);
    char c = 0;
    f.get(c);
    f.seekp(10);
    f.put(static_cast<char>(c ^ 0x01));
  }
  LogOptions o = ReopenOptions(dir.path(), &key);
  absl::StatusOr<std::unique_ptr<LogStore>> refused = LogStore::Open(o);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kDataLoss)
      << refused.status();
  EXPECT_THAT(refused.status().message(),
              ::testing::HasSubstr("Restore the data directory from a backup"));

  o.wal_point_in_time_recovery = true;
  absl::StatusOr<std::unique_ptr<LogStore>> recovered = LogStore::Open(o);
  // Either the prefix is served (and verifies end to end) or, if the drop
  // removed entries under a signed checkpoint, the rollback is refused.
  if (recovered.ok()) {
    EXPECT_TRUE((*recovered)->Audit().ok());
  } else {
    EXPECT_EQ(recovered.status().code(), absl::StatusCode::kDataLoss)
        << recovered.status();
    EXPECT_THAT(recovered.status().message(), ::testing::HasSubstr("rolled back"));
  }
}

}  // namespace
}  // namespace parley
