#ifndef PARLEY_STORAGE_LOG_STORE_INTERNAL_H_
#define PARLEY_STORAGE_LOG_STORE_INTERNAL_H_

// Helpers shared by the log_store*.cc files. Not part of the API.

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "rocksdb/status.h"

namespace parley::log_internal {

// Maps a RocksDB status to absl, prefixing `context` to the message.
// Corruption becomes DataLoss; NotFound stays NotFound; IO errors and
// anything else become Internal or Unavailable.
absl::Status FromRocks(const rocksdb::Status& s, std::string_view context);

}  // namespace parley::log_internal

#endif  // PARLEY_STORAGE_LOG_STORE_INTERNAL_H_
