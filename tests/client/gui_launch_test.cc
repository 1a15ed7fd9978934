// The launch file of `parley gui` (client/gui/gui_launch.h): the browser is
// started on a 0600 file that holds the address, never on the address
// itself, and the file goes away.

#include "client/gui/gui_launch.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "crypto/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"

namespace parley {
namespace {

using ::parley::testing::StatusIs;
using ::parley::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kUrl[] =
    "http://127.0.0.1:8123/"
    "#token=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
constexpr char kToken[] =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// Polls for `predicate` for up to 10 s (for work done by another thread or
// process, never to pass time).
template <typename Predicate>
bool Eventually(Predicate predicate) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!predicate()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

TEST(GuiLaunchFileTest, IsA0600PageThatSendsTheBrowserOnWithoutScript) {
  TempDir tmp;
  absl::StatusOr<std::unique_ptr<GuiLaunchFile>> file =
      GuiLaunchFile::Create(tmp.path(), kUrl);
  ASSERT_TRUE(file.ok()) << file.status();
  const std::string path = (*file)->path();
  EXPECT_EQ(path.rfind(tmp.path() + "/parley-gui-", 0), 0u) << path;
  EXPECT_THAT(path, Not(HasSubstr(kToken)));

  struct stat st;
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_uid, ::geteuid());

  absl::StatusOr<std::string> page = ReadFile(path);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(*page, HasSubstr(absl::StrCat(
                         "<meta http-equiv=\"refresh\" content=\"0;url=",
                         kUrl, "\">")));
  EXPECT_THAT(*page, HasSubstr(absl::StrCat("<a href=\"", kUrl, "\">")));
  EXPECT_THAT(*page, Not(HasSubstr("<script")));
}

TEST(GuiLaunchFileTest, StaysPrivateUnderAPermissiveUmask) {
  TempDir tmp;
  const mode_t old = ::umask(0);
  absl::StatusOr<std::unique_ptr<GuiLaunchFile>> file =
      GuiLaunchFile::Create(tmp.path(), kUrl);
  ::umask(old);
  ASSERT_TRUE(file.ok()) << file.status();
  struct stat st;
  ASSERT_EQ(::stat((*file)->path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST(GuiLaunchFileTest, NeverWritesOverAFileOrThroughASymlink) {
  TempDir tmp;
  std::string path;
  {
    std::unique_ptr<Random> random = NewDeterministicRandom("launch");
    absl::StatusOr<std::unique_ptr<GuiLaunchFile>> first =
        GuiLaunchFile::Create(tmp.path(), kUrl, *random);
    ASSERT_TRUE(first.ok()) << first.status();
    path = (*first)->path();
    // The same name again (same randomness): refused, the file untouched.
    std::unique_ptr<Random> again = NewDeterministicRandom("launch");
    EXPECT_THAT(GuiLaunchFile::Create(tmp.path(), "http://other/", *again),
                StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_THAT(*ReadFile(path), HasSubstr(kUrl));
  }
  EXPECT_FALSE(Exists(path));
  // Another user's link planted at the name: not followed.
  const std::string target = tmp.Sub("target");
  { std::ofstream(target) << "original"; }
  ASSERT_EQ(::symlink(target.c_str(), path.c_str()), 0);
  std::unique_ptr<Random> random = NewDeterministicRandom("launch");
  EXPECT_THAT(GuiLaunchFile::Create(tmp.path(), kUrl, *random),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(*ReadFile(target), "original");
}

TEST(GuiLaunchFileTest, CannotCreateInAMissingDirectory) {
  TempDir tmp;
  absl::StatusOr<std::unique_ptr<GuiLaunchFile>> file =
      GuiLaunchFile::Create(tmp.Sub("missing"), kUrl);
  EXPECT_THAT(file, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(file.status().message(), HasSubstr(tmp.Sub("missing")));
}

TEST(GuiLaunchFileTest, RemovedAfterTheDelay) {
  TempDir tmp;
  absl::StatusOr<std::unique_ptr<GuiLaunchFile>> file =
      GuiLaunchFile::Create(tmp.path(), kUrl);
  ASSERT_TRUE(file.ok()) << file.status();
  const std::string path = (*file)->path();
  (*file)->RemoveAfter(absl::Milliseconds(1));
  EXPECT_TRUE(Eventually([&] { return !Exists(path); }));
}

TEST(GuiLaunchFileTest, RemovedAtOnceWhenDestroyedBeforeTheDelay) {
  TempDir tmp;
  absl::StatusOr<std::unique_ptr<GuiLaunchFile>> file =
      GuiLaunchFile::Create(tmp.path(), kUrl);
  ASSERT_TRUE(file.ok()) << file.status();
  const std::string path = (*file)->path();
  (*file)->RemoveAfter(absl::Hours(1));
  EXPECT_TRUE(Exists(path));
  const absl::Time start = absl::Now();
  file->reset();  // must not wait for the hour
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_FALSE(Exists(path));
}

TEST(GuiLaunchDirectoryTest, UsesAPrivateRuntimeDirElseTheFallback) {
  TempDir tmp;
  const std::string runtime = tmp.Sub("runtime");
  ASSERT_EQ(::mkdir(runtime.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(runtime.c_str(), 0700), 0);
  EXPECT_EQ(GuiLaunchDirectory(runtime.c_str(), "/profile"), runtime);

  ASSERT_EQ(::chmod(runtime.c_str(), 0755), 0);  // others may enter
  EXPECT_EQ(GuiLaunchDirectory(runtime.c_str(), "/profile"), "/profile");
  ASSERT_EQ(::chmod(runtime.c_str(), 0710), 0);
  EXPECT_EQ(GuiLaunchDirectory(runtime.c_str(), "/profile"), "/profile");

  EXPECT_EQ(GuiLaunchDirectory(nullptr, "/profile"), "/profile");
  EXPECT_EQ(GuiLaunchDirectory("", "/profile"), "/profile");
  EXPECT_EQ(GuiLaunchDirectory("relative/dir", "/profile"), "/profile");
  EXPECT_EQ(GuiLaunchDirectory(tmp.Sub("missing").c_str(), "/profile"),
            "/profile");
  const std::string file = tmp.Sub("file");
  { std::ofstream(file) << "x"; }
  ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
  EXPECT_EQ(GuiLaunchDirectory(file.c_str(), "/profile"), "/profile");
}

TEST(StartOpenerTest, GetsOnlyTheFilePathAndNoBlockedSignals) {
  TempDir tmp;
  absl::StatusOr<std::unique_ptr<GuiLaunchFile>> file =
      GuiLaunchFile::Create(tmp.path(), kUrl);
  ASSERT_TRUE(file.ok()) << file.status();
  // A stand-in for xdg-open that records its whole command line (as any
  // local user could read it from /proc), its blocked signals and the mode
  // of what it was given. Python, not sh: dash clears the signal mask it
  // inherits, which would hide what the opener was given.
  const std::string opener = tmp.Sub("fake-xdg-open");
  const std::string record = tmp.Sub("record");
  {
    std::ofstream script(opener);
    script << "#!/usr/bin/python3\n"
           << "import os, sys\n"
           << "cmdline = open('/proc/self/cmdline', 'rb').read()\n"
           << "blocked = [l for l in open('/proc/self/status') "
              "if l.startswith('SigBlk:')][0]\n"
           << "mode = '%o' % (os.stat(sys.argv[1]).st_mode & 0o7777)\n"
           << "with open('" << record << ".part', 'w') as out:\n"
           << "    out.write(cmdline.replace(b'\\0', b'\\n').decode())\n"
           << "    out.write('---\\n' + blocked + mode + '\\n')\n"
           << "os.rename('" << record << ".part', '" << record << "')\n";
  }
  ASSERT_EQ(::chmod(opener.c_str(), 0700), 0);

  // As in `parley gui`: SIGINT and SIGTERM blocked in the calling thread.
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, &old);
  absl::Status started = StartOpener(opener, (*file)->path());
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ASSERT_TRUE(started.ok()) << started;

  ASSERT_TRUE(Eventually([&] { return Exists(record); }));
  const std::string recorded = *ReadFile(record);
  std::vector<std::string> parts = absl::StrSplit(recorded, "---\n");
  ASSERT_EQ(parts.size(), 2u) << recorded;
  EXPECT_THAT(parts[0], HasSubstr((*file)->path()));
  EXPECT_THAT(parts[0], Not(HasSubstr(kToken)));
  EXPECT_THAT(parts[0], Not(HasSubstr("token")));
  EXPECT_THAT(parts[1], HasSubstr("SigBlk:\t0000000000000000"));
  EXPECT_THAT(parts[1], HasSubstr("\n600\n"));
}

TEST(StartOpenerTest, AMissingOpenerIsUnavailable) {
  EXPECT_THAT(StartOpener("/nonexistent/xdg-open", "/tmp/x"),
              StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace parley
