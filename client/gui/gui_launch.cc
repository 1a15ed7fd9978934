// Opening the browser on `parley gui` without the token on a command line.

#include "client/gui/gui_launch.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "crypto/encoding.h"

extern char** environ;

namespace parley {
namespace {

std::string EscapeAttribute(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

absl::Status WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::UnavailableError(std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

std::string GuiLaunchDirectory(const char* xdg_runtime_dir,
                               const std::string& fallback) {
  if (xdg_runtime_dir == nullptr || xdg_runtime_dir[0] != '/') return fallback;
  struct stat st;
  if (::stat(xdg_runtime_dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
      st.st_uid != ::geteuid() || (st.st_mode & 077) != 0) {
    return fallback;
  }
  return xdg_runtime_dir;
}

std::string GuiLaunchPage(const std::string& url) {
  const std::string href = EscapeAttribute(url);
  return absl::StrCat(
      "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"referrer\" content=\"no-referrer\">\n"
      "<meta http-equiv=\"refresh\" content=\"0;url=",
      href,
      "\">\n<title>Opening Parley</title>\n</head>\n<body>\n"
      "<p>Opening Parley&hellip; If nothing happens, <a href=\"",
      href,
      "\">open Parley</a>.</p>\n"
      "<p>This file was written by <code>parley gui</code> for you only and "
      "is removed shortly.</p>\n</body>\n</html>\n");
}

absl::StatusOr<std::unique_ptr<GuiLaunchFile>> GuiLaunchFile::Create(
    const std::string& dir, const std::string& url, Random& random) {
  const std::string path = absl::StrCat(
      dir, dir.empty() || dir.back() != '/' ? "/" : "", "parley-gui-",
      HexEncode(random.Bytes(8)), ".html");
  // O_EXCL refuses an existing file and, with O_CREAT, a symbolic link in
  // its place; O_NOFOLLOW says so twice.
  const int fd = ::open(path.c_str(),
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        0600);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot create ", path, ": ", std::strerror(errno)));
  }
  std::unique_ptr<GuiLaunchFile> file(new GuiLaunchFile(path));
  // The umask cannot widen 0600, but a mode given at creation is only a
  // ceiling: set it exactly.
  absl::Status written = ::fchmod(fd, 0600) == 0
                             ? WriteAll(fd, GuiLaunchPage(url))
                             : absl::UnavailableError(std::strerror(errno));
  if (::close(fd) != 0 && written.ok()) {
    written = absl::UnavailableError(std::strerror(errno));
  }
  if (!written.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot write ", path, ": ", written.message()));
  }
  return file;
}

GuiLaunchFile::~GuiLaunchFile() {
  Remove();
  if (remover_.joinable()) remover_.join();
}

void GuiLaunchFile::RemoveAfter(absl::Duration delay) {
  remover_ = std::thread([this, delay] {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&removed_), delay);
    if (!removed_) {
      ::unlink(path_.c_str());
      removed_ = true;
    }
  });
}

void GuiLaunchFile::Remove() {
  absl::MutexLock lock(&mu_);
  if (removed_) return;
  ::unlink(path_.c_str());
  removed_ = true;
}

absl::Status StartOpener(const std::string& opener,
                         const std::string& argument) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null",
                                   O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null",
                                   O_WRONLY, 0);
  std::string program = opener;
  std::string arg = argument;
  char* argv[] = {program.data(), arg.data(), nullptr};
  // `parley gui` blocks SIGINT and SIGTERM in every thread (it takes them
  // with sigwait); the browser must not inherit that mask.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, program.c_str(), &actions, &attributes,
                              argv, environ);
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return absl::UnavailableError(absl::StrCat(
        "could not start ", opener, " (", std::strerror(rc), ")"));
  }
  std::thread([pid] { ::waitpid(pid, nullptr, 0); }).detach();
  return absl::OkStatus();
}

}  // namespace parley
