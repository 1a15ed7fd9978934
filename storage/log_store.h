#ifndef PARLEY_STORAGE_LOG_STORE_H_
#define PARLEY_STORAGE_LOG_STORE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "crypto/clock.h"
#include "crypto/ed25519.h"
#include "storage/tlog/checkpoint.h"
#include "storage/tlog/merkle.h"
#include "storage/tlog/note.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
}  // namespace rocksdb

namespace parley {

struct LogOptions {
  std::string path;                 // RocksDB directory.
  std::string origin;               // Checkpoint origin line and key name.
  const Ed25519PrivateKey* signer;  // Log signing key, not owned.
  Clock* clock = &SystemClock();
  // Minimum spacing (on `clock`) between two automatic checkpoints.
  absl::Duration checkpoint_interval = absl::Seconds(1);

  // When false no background thread runs; checkpoints are signed only by
  // SignCheckpointNow() and MaybeSignCheckpoint() (tests drive these with a
  // fake clock).
  bool background_checkpoints = true;
  // The WAL is replayed with kAbsoluteConsistency. If that fails only
  // because the last record is incomplete (a torn tail: a write that was in
  // progress when the process or machine died, so never acknowledged), the
  // open is retried once in kTolerateCorruptedTailRecords mode, which drops
  // that incomplete record and still refuses any other damage; see
  // RecoveredTornWalTail(). Any other WAL damage (a checksum mismatch, a bad
  // record in the middle) refuses the open unless this is set, which replays
  // with kPointInTimeRecovery: everything from the damage on is dropped. The
  // checkpoint checks at open (stored checkpoints and the witness file) still
  // refuse any result below the latest signed checkpoint.
  bool wal_point_in_time_recovery = false;
  // Appends larger than this fail with InvalidArgument.
  size_t max_entry_bytes = 1 << 20;
  // Appends (and checkpoint signing) are refused with Unavailable, before
  // anything is written, while the file system holding `path` has fewer
  // free bytes than this; they go through again as soon as it has more. So
  // RocksDB never meets a full disk in the middle of a write (which would
  // make the failure sticky, see Append). 0 disables the check.
  uint64_t min_free_bytes = 0;
  // Free bytes (for unprivileged users) of the file system holding `path`.
  // Unset: statvfs(2). Tests inject a fake disk.
  std::function<absl::StatusOr<uint64_t>()> free_bytes;
  // Memory RocksDB may hold: the block cache (data blocks read from disk;
  // proofs and entry reads miss into the OS page cache beyond it) and all
  // column families' memtables together (when full, the largest is flushed
  // to disk). These bound the store's resident memory; see
  // docs/PERFORMANCE.md (issue #8 pass, change 6).
  size_t block_cache_bytes = 32 << 20;
  size_t write_buffer_bytes = 16 << 20;
  // Open refuses (FailedPrecondition) a store whose index rebuild was
  // interrupted (BeginIndexRebuild without FinishIndexRebuild): its indexes
  // are partial. Only the repair tool sets this, to run the rebuild again.
  bool allow_interrupted_index_rebuild = false;
};

// A secondary index write, applied in the same atomic batch as the entry.
// `column_family` is one of the names passed to LogStore::Open.
struct IndexPut {
  std::string column_family;
  std::string key;
  std::string value;
};

// The verifiable append-only log: entries in an RFC 9162 Merkle tree stored
// in RocksDB, with C2SP signed checkpoints.
//
// Thread-safe. Every read is bounded by Size(), which only advances after
// the synced write that made the entries durable. A failed write is sticky:
// every later append fails until the log is reopened (and re-verified).
// REQUIRES: no call is in progress when the store is destroyed; destruction
// stops the checkpoint thread and flushes RocksDB.
class LogStore {
 public:
  // Opens or creates the log at options.path. `index_column_families` are
  // created if missing. On open, the root recomputed from stored nodes must
  // match the latest signed checkpoint (which must verify under the signer's
  // key), and the log must cover the checkpoint in kCheckpointWitnessFile
  // with the same root; otherwise fails with DataLoss naming the mismatch: the store is
  // forked, rolled back or corrupted and is never served. Fails with
  // FailedPrecondition if the directory belongs to a log with another origin
  // or verifier key. A new log gets a signed checkpoint of size 0.
  // REQUIRES: options.signer outlives the store; InitCrypto() was called.
  static absl::StatusOr<std::unique_ptr<LogStore>> Open(
      const LogOptions& options,
      const std::vector<std::string>& index_column_families = {});

  ~LogStore();
  LogStore(const LogStore&) = delete;
  LogStore& operator=(const LogStore&) = delete;

  // Appends `entry` with its index writes in one atomic, synced RocksDB
  // batch and returns the entry's index. Durable before returning:
  // concurrent callers share one fsync (group commit). On failure nothing
  // was appended. InvalidArgument for an oversize entry or an unknown index
  // column family.
  absl::StatusOr<uint64_t> Append(std::string_view entry,
                                  std::vector<IndexPut> index_puts = {});
  // Index writes that depend on the entry's own index (e.g. keys that embed
  // it). Called exactly once, inside the group commit, possibly on another
  // appender's thread, while the commit is in progress: it must be pure and
  // fast, take no locks and not call into the LogStore. If it returns a put
  // for an unknown column family, this append alone fails with
  // InvalidArgument and nothing of it is written.
  using IndexPutsFn = std::function<std::vector<IndexPut>(uint64_t index)>;
  absl::StatusOr<uint64_t> Append(std::string_view entry,
                                  IndexPutsFn make_index_puts);
  // Appends `entries` atomically, in order, at consecutive indexes, in one
  // synced batch, with the index writes `make_index_puts` returns for the
  // first entry's index (same contract as above). Returns the index of the
  // first. InvalidArgument if `entries` is empty or one is oversize.
  absl::StatusOr<uint64_t> AppendMany(const std::vector<std::string>& entries,
                                      IndexPutsFn make_index_puts = nullptr);

  // Number of durable entries.
  uint64_t Size() const;

  // OK if an append could be written now; otherwise why not: Unavailable
  // while the disk is below options.min_free_bytes (passes by itself), or
  // the sticky error of a failed write. Cheap (one statvfs).
  absl::Status WritableStatus() const;

  // True if Open found the WAL's last record incomplete and dropped it (see
  // LogOptions::wal_point_in_time_recovery). The dropped record was never
  // acknowledged; the caller should still say so in its log.
  bool RecoveredTornWalTail() const { return recovered_torn_wal_tail_; }

  // The file in the RocksDB directory that holds the newest signed
  // checkpoint (its note, written atomically and synced before the
  // checkpoint is published). Open refuses a log smaller than it or whose
  // root differs from it: it survives a lost WAL tail that takes the stored
  // checkpoints with it.
  static constexpr char kCheckpointWitnessFile[] = "PARLEY-LATEST-CHECKPOINT";

  // The entry at `index`, verified before it is returned: its leaf hash
  // must equal the stored leaf hash and, with the stored nodes on its RFC
  // 9162 inclusion path, give the in-memory root (the root verified at Open
  // against the signed checkpoint and extended by every append since).
  // OutOfRange if index >= Size(); DataLoss naming the index if the entry
  // or its path was altered (even consistently, with RocksDB checksums
  // intact). O(log n) node reads and hashes.
  absl::StatusOr<std::string> GetEntry(uint64_t index) const;
  // Entries [start, min(end, Size())), stopping early once the total exceeds
  // `max_bytes` (at least one entry is returned). OutOfRange if
  // start >= Size(); otherwise InvalidArgument if end <= start. The page is
  // verified against the in-memory root as a whole: its leaves with the
  // O(log n) stored subtrees around it (O(page + log n) hashes); DataLoss
  // naming the first entry that does not verify. Stored leaf hashes inside
  // the page are not read (Audit and the scrub check those).
  absl::StatusOr<std::vector<std::string>> GetEntries(uint64_t start,
                                                      uint64_t end,
                                                      size_t max_bytes) const;

  // MTH of the first `size` entries. OutOfRange if size > Size().
  absl::StatusOr<std::string> RootHash(uint64_t size) const;
  // RFC 9162 inclusion proof of `index` in the tree of `size` entries.
  // OutOfRange if index >= size or size > Size().
  absl::StatusOr<std::vector<std::string>> InclusionProof(uint64_t index,
                                                          uint64_t size) const;
  // RFC 9162 consistency proof from `size1` to `size2`. InvalidArgument
  // unless 0 < size1 <= size2; OutOfRange if size2 > Size().
  absl::StatusOr<std::vector<std::string>> ConsistencyProof(
      uint64_t size1, uint64_t size2) const;

  // The newest signed checkpoint (always exists after Open).
  absl::StatusOr<SignedCheckpoint> LatestCheckpoint() const;
  // The stored signed checkpoint of exactly `size`; NotFound if none.
  absl::StatusOr<SignedCheckpoint> CheckpointAt(uint64_t size) const;
  // Signs, stores (synced) and returns a checkpoint of the current size;
  // returns the latest one unchanged if the size has not grown.
  absl::StatusOr<SignedCheckpoint> SignCheckpointNow();
  // Signs a checkpoint if the tree has grown and checkpoint_interval has
  // passed on the clock since the last one; nullopt if not due.
  absl::StatusOr<std::optional<SignedCheckpoint>> MaybeSignCheckpoint();
  // Blocks until a checkpoint with size > after_size exists (returns it) or
  // `timeout` passes or the store is closing (nullopt).
  std::optional<SignedCheckpoint> WaitForCheckpoint(
      uint64_t after_size, absl::Duration timeout) const;

  // Secondary indexes. `column_family` is a name given to Open.
  // Nullopt if the key is absent; InvalidArgument for an unknown family.
  absl::StatusOr<std::optional<std::string>> GetIndex(
      std::string_view column_family, std::string_view key) const;
  // Key/value pairs whose key starts with `prefix`, in key order, at most
  // `limit` of them.
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ScanIndex(
      std::string_view column_family, std::string_view prefix,
      size_t limit) const;
  // As ScanIndex, but starting at the first key >= `start` (a resume point
  // for paging); keys still must start with `prefix`.
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
  ScanIndexFrom(std::string_view column_family, std::string_view start,
                std::string_view prefix, size_t limit) const;

  // Names of every index column family open (as given to Open, plus any
  // found on disk), in name order.
  std::vector<std::string> IndexFamilies() const;

  // Offline index rebuild (`parleyd repair --rebuild-indexes`); the log
  // itself is never touched. REQUIRES: no other call is in progress or
  // starts until FinishIndexRebuild returns, and background_checkpoints is
  // off. BeginIndexRebuild marks the store (synced) so that Open refuses it
  // until FinishIndexRebuild, then drops every index column family and
  // creates `families` again, empty. WriteIndexPuts writes one unsynced
  // batch (InvalidArgument for an unknown family); FinishIndexRebuild syncs
  // and clears the mark. On any failure the mark stays: run the rebuild
  // again.
  absl::Status BeginIndexRebuild(const std::vector<std::string>& families);
  absl::Status WriteIndexPuts(const std::vector<IndexPut>& puts);
  absl::Status FinishIndexRebuild();

  // C2SP verifier key "origin+hex(keyid)+base64(0x01||pubkey)".
  std::string VerifierKey() const;
  const NoteVerifier& Verifier() const { return verifier_; }
  const std::string& origin() const { return origin_; }

  // A full audit: recomputes every leaf hash from the stored entries, every
  // stored node from its children, the root at every stored checkpoint, and
  // verifies every checkpoint signature. Returns DataLoss naming the first
  // bad index, node or checkpoint. O(n); `progress`, if set, is called with
  // (entries checked, total) every 64Ki entries.
  absl::Status Audit(
      std::function<void(uint64_t, uint64_t)> progress = nullptr) const;
  // One slice of an audit, for a background scrub: entries [begin, end)
  // (end clamped to Size()) must verify against the in-memory root, and
  // every stored node wholly inside the range (leaf hashes included) must
  // equal the hash recomputed from the entries. DataLoss naming the first
  // bad entry or node; OutOfRange if begin >= Size(). O(end - begin) reads.
  absl::Status AuditRange(uint64_t begin, uint64_t end) const;

 private:
  struct Writer;

  LogStore(const LogOptions& options, NoteVerifier verifier,
           std::string verifier_key);

  absl::Status Load();
  absl::Status CheckLatestCheckpoint();
  absl::Status CheckWitness();
  absl::Status WriteWitness(const std::string& note) const;
  absl::StatusOr<uint64_t> Commit(Writer& w);
  // Unavailable (naming the free and reserved space) if the disk is below
  // the reserve.
  absl::Status CheckDiskReserve() const;
  absl::StatusOr<std::string> ReadNode(int level, uint64_t index) const;
  // (Size(), root) read together: the tree head reads are verified against.
  std::pair<uint64_t, std::string> TrustedHead() const;
  // OK if leaves [first, first + n) with the stored nodes around them give
  // `root` for `size`; else DataLoss naming the first bad entry.
  absl::Status VerifyAgainstRoot(uint64_t first,
                                 const std::vector<std::string>& leaf_hashes,
                                 uint64_t size, const std::string& root) const;
  absl::Status LoadNodeCache(uint64_t size);
  void CacheNode(int level, uint64_t index, const std::string& hash);
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> IndexFamily(
      std::string_view name) const;
  absl::Status CheckIndexPuts(const std::vector<IndexPut>& puts) const;
  absl::StatusOr<SignedCheckpoint> SignLocked(uint64_t size,
                                              const std::string& root)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(sign_mu_);
  absl::StatusOr<std::optional<SignedCheckpoint>> SignIfDue(bool force);
  void CheckpointLoop();

  const LogOptions options_;
  const std::string origin_;
  const NoteVerifier verifier_;
  const std::string verifier_key_;

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // Owned; closed in dtor.
  rocksdb::ColumnFamilyHandle* entries_ = nullptr;
  rocksdb::ColumnFamilyHandle* nodes_ = nullptr;
  rocksdb::ColumnFamilyHandle* checkpoints_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  std::map<std::string, rocksdb::ColumnFamilyHandle*, std::less<>> indexes_;

  // Serialises checkpoint signing; taken before mu_, never inside it.
  absl::Mutex sign_mu_;
  absl::Time last_signed_at_ ABSL_GUARDED_BY(sign_mu_) = absl::InfinitePast();

  mutable absl::Mutex mu_;
  uint64_t size_ ABSL_GUARDED_BY(mu_) = 0;
  MerkleFrontier frontier_ ABSL_GUARDED_BY(mu_);
  std::string root_ ABSL_GUARDED_BY(mu_);
  std::deque<Writer*> writers_ ABSL_GUARDED_BY(mu_);  // Front is the leader.
  std::optional<SignedCheckpoint> latest_ ABSL_GUARDED_BY(mu_);
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status write_error_ ABSL_GUARDED_BY(mu_);  // Sticky; see Commit.

  // Hashes of every stored node at level >= kCachedLevel, flat, 32 bytes
  // each, so a proof reads at most ~kCachedLevel nodes from RocksDB. About
  // 64 bytes per 2^kCachedLevel entries of memory. A node is added before
  // the size that covers it is published.
  static constexpr int kCachedLevel = 6;
  mutable absl::Mutex cache_mu_;
  std::vector<std::string> upper_nodes_ ABSL_GUARDED_BY(cache_mu_);

  bool recovered_torn_wal_tail_ = false;  // Set once, by Open.
  std::thread checkpointer_;
};

}  // namespace parley

#endif  // PARLEY_STORAGE_LOG_STORE_H_
