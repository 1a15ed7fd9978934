#include "crypto/passphrase.h"

#include <fcntl.h>
#include <sodium.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace parley {
namespace {

// Copies `line` (without its line ending) into a SecureBuffer and validates.
absl::StatusOr<SecureBuffer> Finish(const uint8_t* line, size_t len) {
  if (len > 0 && line[len - 1] == '\n') --len;
  if (len > 0 && line[len - 1] == '\r') --len;
  if (len == 0) return absl::InvalidArgumentError("passphrase is empty");
  if (len > kMaxPassphraseSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("passphrase longer than ", kMaxPassphraseSize, " bytes"));
  }
  return SecureBuffer(line, len);
}

// Reads bytes from `fd` until '\n' or EOF into `buf` (capacity
// kMaxPassphraseSize + 2). Returns the length read, including any '\n'.
absl::StatusOr<size_t> ReadLine(int fd, SecureBuffer& buf) {
  size_t len = 0;
  while (true) {
    uint8_t c = 0;
    const ssize_t n = read(fd, &c, 1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(errno, "reading the passphrase");
    }
    if (n == 0) break;
    if (len == buf.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "passphrase longer than ", kMaxPassphraseSize, " bytes"));
    }
    buf.data()[len++] = c;
    if (c == '\n') break;
  }
  return len;
}

}  // namespace

absl::StatusOr<SecureBuffer> ReadPassphraseFromFd(int fd) {
  SecureBuffer buf(kMaxPassphraseSize + 2);
  absl::StatusOr<size_t> len = ReadLine(fd, buf);
  if (!len.ok()) return len.status();
  return Finish(buf.data(), *len);
}

absl::StatusOr<SecureBuffer> PassphraseFromEnvironment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) {
    return absl::NotFoundError(absl::StrCat(name, " is not set"));
  }
  return Finish(reinterpret_cast<const uint8_t*>(value), std::strlen(value));
}

absl::StatusOr<SecureBuffer> PromptPassphrase(std::string_view prompt) {
  const int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (tty < 0) {
    return absl::FailedPreconditionError(
        "no terminal to prompt for the passphrase; use --passphrase-fd or "
        "PARLEY_PASSPHRASE");
  }
  termios saved{};
  if (tcgetattr(tty, &saved) != 0) {
    const int err = errno;
    close(tty);
    return absl::ErrnoToStatus(err, "reading terminal settings");
  }
  termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= ECHONL;
  (void)!write(tty, prompt.data(), prompt.size());
  if (tcsetattr(tty, TCSAFLUSH, &quiet) != 0) {
    const int err = errno;
    close(tty);
    return absl::ErrnoToStatus(err, "turning terminal echo off");
  }
  SecureBuffer buf(kMaxPassphraseSize + 2);
  absl::StatusOr<size_t> len = ReadLine(tty, buf);
  tcsetattr(tty, TCSAFLUSH, &saved);
  close(tty);
  if (!len.ok()) return len.status();
  return Finish(buf.data(), *len);
}

}  // namespace parley
