#ifndef PARLEY_CRYPTO_FILE_UTIL_H_
#define PARLEY_CRYPTO_FILE_UTIL_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace parley {

// Writes `contents` to `path` atomically: a temporary file in the same
// directory, fsync, chmod `mode`, rename, fsync of the directory. On failure
// `path` is unchanged. The error names the path and errno text.
absl::Status WriteFileAtomically(const std::string& path,
                                  std::string_view contents, int mode);

// Reads the whole file. NotFound if it does not exist; PermissionDenied or
// Internal (with errno text) otherwise.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Creates `path` (and parents) with `mode` if missing. Fails if it exists and
// is not a directory.
absl::Status MakeDirectories(const std::string& path, int mode);

// Checks that a file can be created, written and synced in directory `path`
// (a real probe: root ignores mode bits, so access(2) is not enough).
absl::Status CheckDirectoryWritable(const std::string& path);

}  // namespace parley

#endif  // PARLEY_CRYPTO_FILE_UTIL_H_
