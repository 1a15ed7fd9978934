// Crash safety: a child process (this test binary re-executed in child mode)
// appends from several threads and records, after each Append returns, the
// acknowledged index and bytes, and every checkpoint it sees signed. The
// parent SIGKILLs it at random moments, reopens the log, and checks that
// every acknowledged entry is there and the tree is consistent with every
// checkpoint signed before the kill.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "crypto/encoding.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/checkpoint.h"
#include "storage/log_store.h"
#include "storage/merkle.h"
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

TEST(LogCrashTest, SigkillNeverLosesAcknowledgedEntriesOrSignedCheckpoints) {
  constexpr int kRounds = 24;
  ScratchDir dir;
  Ed25519PrivateKey key = testing::TestLogKey();
  std::mt19937 rng(4242);
  size_t total_acked = 0;
  size_t total_checkpoints = 0;
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
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "child ended with status " << status << " instead of being killed";

    // Reopen: kAbsoluteConsistency must never have been tripped by a kill.
    absl::StatusOr<std::unique_ptr<LogStore>> store =
        LogStore::Open([&] {
          LogOptions o = CrashOptions(dir.path(), &key);
          o.background_checkpoints = false;
          return o;
        }());
    ASSERT_TRUE(store.ok()) << store.status();
    const uint64_t size = (*store)->Size();

    std::vector<std::string> acked = CompleteLines(acked_path);
    ASSERT_GT(acked.size(), before);
    for (const std::string& line : acked) {
      size_t space = line.find(' ');
      uint64_t index = std::stoull(line.substr(0, space));
      ASSERT_LT(index, size) << "acknowledged index lost: " << line;
      absl::StatusOr<std::string> entry = (*store)->GetEntry(index);
      ASSERT_TRUE(entry.ok()) << entry.status();
      ASSERT_EQ(*entry, line.substr(space + 1)) << "index " << index;
    }
    total_acked = acked.size();

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
  std::printf("crash test: %zu acknowledged entries, %zu checkpoints, %d kills\n",
              total_acked, total_checkpoints, kRounds);
}

// Why kAbsoluteConsistency: a torn WAL tail (what a power loss can leave) is
// refused loudly rather than replayed up to the tear. Only an explicit
// operator opt-in recovers the prefix.
TEST(LogCrashTest, TornWalTailRefusesOpenUnlessOperatorOptsIn) {
  ScratchDir dir;
  Ed25519PrivateKey key = testing::TestLogKey();
  pid_t pid = SpawnChild(dir.path());
  ASSERT_GT(pid, 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (LineCount(dir.path() + "/acked") < 50 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);

  // Tear the newest non-empty WAL file: drop its last 7 bytes.
  std::filesystem::path newest;
  for (const auto& e : std::filesystem::directory_iterator(dir.path() + "/db")) {
    if (e.path().extension() == ".log" && e.file_size() > 0 &&
        (newest.empty() || e.path().filename() > newest.filename())) {
      newest = e.path();
    }
  }
  ASSERT_FALSE(newest.empty());
  std::filesystem::resize_file(newest, std::filesystem::file_size(newest) - 7);

  LogOptions o = CrashOptions(dir.path(), &key);
  o.background_checkpoints = false;
  absl::StatusOr<std::unique_ptr<LogStore>> refused = LogStore::Open(o);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kDataLoss)
      << refused.status();
  EXPECT_THAT(refused.status().message(),
              ::testing::HasSubstr("recover_torn_wal_tail"));

  o.recover_torn_wal_tail = true;
  absl::StatusOr<std::unique_ptr<LogStore>> recovered = LogStore::Open(o);
  // Either the prefix is served (and verifies end to end) or, if the tear
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
