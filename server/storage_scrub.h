#ifndef PARLEY_SERVER_STORAGE_SCRUB_H_
#define PARLEY_SERVER_STORAGE_SCRUB_H_

// A low-rate background scrub: walks the log (entries against the trusted
// root, every stored tree node) and every index family (RocksDB checksums,
// and each value's shape) slice by slice, so damage is found while parleyd
// runs, not when a member first needs the damaged key. It reports the first
// damage it finds once (spdlog::error and the on_damage callback) and then
// stops: `parleyd check` (offline) finds the rest and says what to do.
// The full semantic check of an index against the log needs a replay and is
// left to `parleyd check`.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/log_store.h"

namespace parley {

struct StorageScrubOptions {
  // Per slice: log entries audited and index keys read (per family).
  uint64_t entries_per_slice = 256;
  size_t index_keys_per_slice = 1024;
  // Pause between slices. The defaults verify 128 entries a second: a full
  // pass over 10^6 entries in about 2 h 10 min, a few ms of work a slice.
  absl::Duration interval = absl::Seconds(2);
};

// Thread-safe. The thread (if started) is stopped by the destructor.
class StorageScrub {
 public:
  // What was damaged: the log (entries, tree) or an index derived from it.
  enum class Damage { kLog, kIndex };
  using DamageListener = std::function<void(Damage, const absl::Status&)>;

  // `log` must outlive the scrub. `on_damage` is called once, from the
  // scrubbing thread, with the first damage found.
  StorageScrub(const LogStore* log, StorageScrubOptions options,
               DamageListener on_damage);
  ~StorageScrub();
  StorageScrub(const StorageScrub&) = delete;
  StorageScrub& operator=(const StorageScrub&) = delete;

  // Starts the background thread: one slice every options.interval.
  void Start();

  // Scrubs one slice (the next entries of the log, then the next keys of
  // each index family) and returns the damage found, if any. After the
  // first damage every call returns it again without reading. Tests call
  // this directly; the thread calls it on its schedule.
  absl::Status ScrubSlice();

  // Completed passes over the whole log and every index.
  uint64_t passes() const;

 private:
  absl::Status ScrubLog() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ScrubIndex(const std::string& family, bool* done)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Run();

  const LogStore* const log_;
  const StorageScrubOptions options_;
  const DamageListener on_damage_;

  mutable absl::Mutex mu_;
  uint64_t next_entry_ ABSL_GUARDED_BY(mu_) = 0;
  bool log_done_ ABSL_GUARDED_BY(mu_) = false;
  // Per family: the next key to read, and whether this pass reached its end.
  std::map<std::string, std::pair<std::string, bool>> index_cursor_
      ABSL_GUARDED_BY(mu_);
  uint64_t passes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status damage_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// The shape every value of a ledger index family must have (inbox: a kind
// byte under name 0x00 u64; envelope: a record that decodes; msgid: a hash
// and a u64 index below `size`; ...). DataLoss naming the key if not.
absl::Status CheckIndexValueShape(const std::string& family,
                                  const std::string& key,
                                  const std::string& value, uint64_t size);

}  // namespace parley

#endif  // PARLEY_SERVER_STORAGE_SCRUB_H_
