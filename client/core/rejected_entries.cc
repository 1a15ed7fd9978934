#include "client/core/rejected_entries.h"

#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "client/deconfliction/notification_content.h"
#include "crypto/encoding.h"
#include "crypto/file_util.h"
#include "crypto/hash.h"
#include "nlohmann/json.hpp"

namespace parley {

absl::StatusOr<std::string> KeepRejectedEntry(const std::string& profile_dir,
                                              uint64_t index,
                                              std::string_view bytes,
                                              absl::string_view reason,
                                              absl::Time received_at) {
  const std::string dir = absl::StrCat(profile_dir, "/rejected");
  if (absl::Status s = MakeDirectories(dir, 0700); !s.ok()) return s;
  const std::string sha256 = HexEncode(Sha256(bytes));
  const std::string stem =
      absl::StrCat(dir, "/", index, "-", sha256.substr(0, 16));
  const std::string entry_path = stem + ".entry";
  struct stat st;
  if (::stat(entry_path.c_str(), &st) == 0) return entry_path;  // kept before
  nlohmann::json about = {{"index", index},
                          {"reason", std::string(reason)},
                          {"received_at", FormatRfc3339Utc(received_at)},
                          {"sha256", sha256},
                          {"bytes", bytes.size()}};
  // The description first: an .entry file always has its reason beside it.
  if (absl::Status s = WriteFileAtomically(
          stem + ".json",
          about.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
              "\n",
          0600);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = WriteFileAtomically(entry_path, bytes, 0600); !s.ok()) {
    return s;
  }
  return entry_path;
}

}  // namespace parley
