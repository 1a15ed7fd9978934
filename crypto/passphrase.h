#ifndef PARLEY_CRYPTO_PASSPHRASE_H_
#define PARLEY_CRYPTO_PASSPHRASE_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "crypto/secure_buffer.h"

namespace parley {

// Ways to obtain the keystore passphrase. Every result lives in a
// SecureBuffer; a trailing "\n" or "\r\n" is removed; an empty passphrase is
// refused with InvalidArgument; more than kMaxPassphraseSize bytes is
// refused with InvalidArgument.
//
// The unattended modes (fd, environment) exist for scripts and tests. Risks:
// an environment variable is visible to the same user through
// /proc/<pid>/environ, is inherited by child processes and may end up in
// shell history or CI logs; a passphrase file must be protected like the
// keystore itself. Prefer the prompt for people; prefer --passphrase-fd with
// a pipe over the environment for machines.

inline constexpr size_t kMaxPassphraseSize = 1024;
inline constexpr char kPassphraseEnvVar[] = "PARLEY_PASSPHRASE";

// Reads one line (up to "\n" or end of file) from `fd`, one byte at a time
// so nothing after the line is consumed. Does not close `fd`.
// Errors: InvalidArgument (empty, too long), or the errno of a failed read.
absl::StatusOr<SecureBuffer> ReadPassphraseFromFd(int fd);

// Reads PARLEY_PASSPHRASE (or `name`). NotFound if unset. The variable is
// not cleared; callers that spawn children should unsetenv() it.
absl::StatusOr<SecureBuffer> PassphraseFromEnvironment(
    const char* name = kPassphraseEnvVar);

// Writes `prompt` to the controlling terminal (/dev/tty) and reads a line
// with echo turned off, restoring the terminal afterwards (also on error).
// FailedPrecondition if there is no controlling terminal.
absl::StatusOr<SecureBuffer> PromptPassphrase(std::string_view prompt);

}  // namespace parley

#endif  // PARLEY_CRYPTO_PASSPHRASE_H_
