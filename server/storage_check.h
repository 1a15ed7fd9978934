#ifndef PARLEY_SERVER_STORAGE_CHECK_H_
#define PARLEY_SERVER_STORAGE_CHECK_H_

// `parleyd check` and `parleyd repair --rebuild-indexes`: offline checks of
// a data directory's storage against its log, the source of truth. The log
// (entries, tree nodes, checkpoints) is checked by LogStore::Audit; every
// index column family is derived from it (Ledger::ReplayIndexPuts) and
// compared with what is stored, both ways.
//
// Both open the store read-write, so RocksDB's LOCK file makes them refuse
// (FailedPrecondition, "is in use") a data directory a running parleyd
// holds, and parleyd refuses to start while they run.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/data_dir.h"
#include "storage/log_store.h"

namespace parley {

// One key where an index differs from what the log implies.
struct IndexMismatch {
  enum class Kind {
    kMissing,     // the log implies the key; the index lacks it
    kExtra,       // the index holds a key the log does not imply
    kDifferent,   // both hold the key, with different values
    kUnreadable,  // the index cannot be read from here on (RocksDB error)
  };
  Kind kind = Kind::kMissing;
  std::string column_family;  // e.g. "inbox"
  std::string key;            // raw bytes
  std::string expected;       // raw bytes (kMissing, kDifferent)
  std::string stored;         // raw bytes (kExtra, kDifferent)
  std::string detail;         // the read error (kUnreadable)

  // One line: family, kind, key and values in hex.
  std::string Describe() const;
};

struct StorageCheckReport {
  uint64_t entries = 0;
  // OK, or why the log itself (entries, tree, checkpoints) is damaged.
  absl::Status log;
  // Per index family: the first key that differs (families checked and
  // clean are absent). Empty when the log is damaged (not compared).
  std::map<std::string, IndexMismatch> first_mismatch;
  // Per index family: keys that differ in all (missing + extra + different;
  // an unreadable family counts 1).
  std::map<std::string, uint64_t> mismatches;
  // Per index family: keys compared.
  std::map<std::string, uint64_t> keys_checked;

  bool clean() const { return log.ok() && first_mismatch.empty(); }
};

// Exit codes of `parleyd check` and `parleyd repair` (docs/OPERATIONS.md).
inline constexpr int kCheckClean = 0;
inline constexpr int kCheckCannotRun = 1;      // no data dir, in use, ...
inline constexpr int kCheckIndexDamaged = 3;   // repairable from the log
inline constexpr int kCheckLogDamaged = 4;     // restore from a backup

// Checks the open store `log`: Audit, then every index family against the
// indexes the log implies. Returns the report; an error only if the check
// itself could not run. Memory: the expected index entries are held in
// memory (about the size of the indexes). `progress`, if set, gets short
// lines to show the operator.
// REQUIRES: nothing else writes to `log` during the check.
absl::StatusOr<StorageCheckReport> CheckStore(
    LogStore* log, const std::function<void(std::string_view)>& progress = {});

// Rebuilds every index family of `log` from the log: refuses (DataLoss,
// nothing changed) if the log fails its audit; otherwise drops every index
// family (including ones parleyd no longer uses) and writes what replaying
// the log implies. Returns the number of index entries written.
// REQUIRES: `log` was opened with allow_interrupted_index_rebuild and
// nothing else uses it.
absl::StatusOr<uint64_t> RebuildIndexes(
    LogStore* log, const std::function<void(std::string_view)>& progress = {});

// The log of a parleyd data directory, opened for an offline check or
// repair (no background checkpoints). `log` is declared last, so it closes
// before the key it borrows from `dir`.
struct OfflineStore {
  std::unique_ptr<DataDir> dir;
  std::unique_ptr<LogStore> log;
};
// FailedPrecondition ("is in use") if a running parleyd holds it; the
// errors of DataDir::Open and LogStore::Open otherwise.
absl::StatusOr<OfflineStore> OpenStoreOffline(
    const std::string& data_dir, bool allow_interrupted_index_rebuild);

// The command-line programs: print to stdout/stderr and return the exit
// code above.
int RunStorageCheck(const std::string& data_dir);
int RunIndexRebuild(const std::string& data_dir);

}  // namespace parley

#endif  // PARLEY_SERVER_STORAGE_CHECK_H_
