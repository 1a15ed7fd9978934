// LogStore: opening, the checks at open, and reads. Appends are in
// log_store_append.cc, checkpoints in log_store_checkpoint.cc, the audit in
// log_store_audit.cc.

#include "storage/log_store.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "crypto/encoding.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"
#include "storage/log_schema.h"
#include "storage/log_store_internal.h"
#include "storage/tlog/merkle.h"
#include "storage/tlog/string_util.h"

namespace parley {

using storage_internal::Av;
using storage_internal::Split;

namespace log_internal {

absl::Status FromRocks(const rocksdb::Status& s, std::string_view context) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = absl::StrCat(Av(context), ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) {
    return absl::UnavailableError(msg);
  }
  return absl::InternalError(msg);
}

}  // namespace log_internal

using log_internal::FromRocks;
namespace schema = log_schema;

namespace {

// What RocksDB's WAL reader reports, in kAbsoluteConsistency mode, only when
// a log file ends inside a record: a write cut short. Every other corruption
// (checksum mismatch, bad record length inside a block, a fragment out of
// order) is damage to bytes that were written completely.
bool IsTornTail(const rocksdb::Status& s) {
  std::string_view reason = s.getState() == nullptr ? "" : s.getState();
  for (std::string_view torn : {"truncated header", "truncated record body",
                                "error reading trailing data"}) {
    if (reason == torn) return true;
  }
  return false;
}

rocksdb::ColumnFamilyOptions FamilyOptions(
    const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // Index and filter blocks stay with the (always open) table readers: as
  // cache entries, a large SST's full filter exceeds one cache shard and
  // would be re-read and checksummed on every lookup.
  table.cache_index_and_filter_blocks = false;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Hashes and (end-to-end encrypted) entries do not compress; skip the CPU.
  cf.compression = rocksdb::kNoCompression;
  return cf;
}

// The file a RocksDB error message names ("... in file /d/000012.sst",
// "... /d/000004.log: ...", "MANIFEST-000005"), if any.
std::optional<std::string> NamedFile(const std::string& message) {
  size_t best = std::string::npos;
  size_t best_end = 0;
  for (std::string_view suffix : {".sst", ".log", ".blob"}) {
    for (size_t at = message.find(suffix); at != std::string::npos;
         at = message.find(suffix, at + 1)) {
      size_t digits = at;
      while (digits > 0 && absl::ascii_isdigit(message[digits - 1])) --digits;
      if (digits == at) continue;
      if (best == std::string::npos || digits < best) {
        best = digits;
        best_end = at + suffix.size();
      }
    }
  }
  if (size_t m = message.find("MANIFEST-");
      m != std::string::npos && (best == std::string::npos || m < best)) {
    best = m;
    best_end = m + 9;
    while (best_end < message.size() && absl::ascii_isdigit(message[best_end])) {
      ++best_end;
    }
  }
  if (best == std::string::npos) return std::nullopt;
  // Widen to the whole path if one is given.
  size_t start = best;
  while (start > 0 && message[start - 1] != ' ' && message[start - 1] != ':') {
    --start;
  }
  return std::string(message.substr(start, best_end - start));
}

// What parleyd says when RocksDB refuses to open the store: which file is
// damaged, and what the operator should do about it.
absl::Status DescribeOpenFailure(const rocksdb::Status& rs,
                                 const std::string& path) {
  absl::Status s = FromRocks(rs, absl::StrCat("opening log at ", path));
  const std::string reason = rs.getState() == nullptr ? "" : rs.getState();
  if (rs.IsIOError() &&
      absl::StrContains(absl::AsciiStrToLower(reason), "lock")) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the log at ", path, " is in use: another process (a running "
        "parleyd, or parleyd check/repair) holds its RocksDB LOCK file; stop "
        "it first (", rs.ToString(), ")"));
  }
  if (!rs.IsCorruption()) return s;
  std::optional<std::string> file = NamedFile(reason);
  if (!file.has_value() && absl::StrContains(reason, "CURRENT")) {
    file = "CURRENT";
  }
  const std::string named =
      !file.has_value() ? absl::StrCat("a file in ", path)
      : absl::StrContains(*file, "/")
          ? absl::StrCat("the file ", *file)
          : absl::StrCat("the file ", *file, " in ", path);
  if (file.has_value() && absl::EndsWith(*file, ".sst")) {
    return absl::DataLossError(absl::StrCat(
        named, " (a RocksDB table file) is damaged: ", rs.ToString(),
        ". The store cannot be opened with it: do not delete it; restore the "
        "data directory from a backup and run `parleyd check --data DIR` on "
        "it (see docs/OPERATIONS.md, \"Checking and repairing storage\")"));
  }
  if (file.has_value() && !absl::EndsWith(*file, ".log")) {
    return absl::DataLossError(absl::StrCat(
        named, " is damaged: ", rs.ToString(),
        ". Do not delete anything. Restore the data directory from a backup "
        "and run `parleyd check --data DIR` on it"));
  }
  // RocksDB's WAL reader names no file; table and manifest errors do.
  return absl::DataLossError(absl::StrCat(
      s.message(), " (the write-ahead log is damaged before its last record",
      file.has_value() ? absl::StrCat(", in ", *file) : std::string(),
      "; refusing to drop the acknowledged "
      "records after the damage. Restore the data directory from a backup)"));
}

}  // namespace

LogStore::LogStore(const LogOptions& options, NoteVerifier verifier,
                   std::string verifier_key)
    : options_(options),
      origin_(options.origin),
      verifier_(std::move(verifier)),
      verifier_key_(std::move(verifier_key)) {}

LogStore::~LogStore() {
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
  }
  if (checkpointer_.joinable()) checkpointer_.join();
  if (db_ != nullptr) {
    // Flushing on a clean close makes the next open skip WAL replay.
    db_->Flush(rocksdb::FlushOptions(), handles_).PermitUncheckedError();
    for (rocksdb::ColumnFamilyHandle* h : handles_) {
      db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    }
    db_->Close().PermitUncheckedError();
  }
}

absl::StatusOr<std::unique_ptr<LogStore>> LogStore::Open(
    const LogOptions& options,
    const std::vector<std::string>& index_column_families) {
  if (options.signer == nullptr) {
    return absl::InvalidArgumentError("LogOptions.signer is required");
  }
  if (options.clock == nullptr) {
    return absl::InvalidArgumentError("LogOptions.clock is required");
  }
  if (options.path.empty()) {
    return absl::InvalidArgumentError("LogOptions.path is required");
  }
  if (options.checkpoint_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("checkpoint_interval must be positive");
  }
  if (absl::Status s = ValidateKeyName(options.origin); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("log origin is not a valid key name: ", s.message()));
  }
  absl::StatusOr<std::string> vkey =
      FormatVerifierKey(options.origin, options.signer->public_key());
  if (!vkey.ok()) return vkey.status();
  absl::StatusOr<NoteVerifier> verifier = ParseVerifierKey(*vkey);
  if (!verifier.ok()) return verifier.status();

  std::unique_ptr<LogStore> store(
      new LogStore(options, *std::move(verifier), *std::move(vkey)));

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.paranoid_checks = true;
  // A WAL writer buffer larger than any group commit (8 MiB cap), so a
  // record normally reaches the kernel in one write(2). A killed process can
  // still leave a torn, unacknowledged tail (write(2) stops between pages on
  // SIGKILL); Open drops that one record, see below.
  db_options.writable_file_max_buffer_size = 8 << 20;
  db_options.max_background_jobs = 2;
  // The meta family sees a tiny write per batch and would otherwise pin
  // every WAL file forever; bounding the WAL bounds recovery time at open.
  db_options.max_total_wal_size = 64 << 20;
  db_options.db_write_buffer_size = options.write_buffer_bytes;

  std::shared_ptr<rocksdb::Cache> cache =
      rocksdb::NewLRUCache(options.block_cache_bytes, /*num_shard_bits=*/4);
  rocksdb::ColumnFamilyOptions cf_options = FamilyOptions(cache);

  std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName,
                                    schema::kEntries, schema::kNodes,
                                    schema::kCheckpoints, schema::kMeta};
  for (const std::string& idx : index_column_families) {
    if (idx.empty()) {
      return absl::InvalidArgumentError("empty index column family name");
    }
    names.push_back(absl::StrCat(schema::kIndexPrefix, idx));
  }
  // RocksDB requires every existing family to be opened.
  std::vector<std::string> existing;
  if (rocksdb::DB::ListColumnFamilies(db_options, options.path, &existing)
          .ok()) {
    for (const std::string& name : existing) {
      if (std::find(names.begin(), names.end(), name) == names.end()) {
        names.push_back(name);
      }
    }
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, cf_options);
  }
  auto open_db = [&](rocksdb::WALRecoveryMode mode, rocksdb::DB** raw) {
    db_options.wal_recovery_mode = mode;
    store->handles_.clear();
    return rocksdb::DB::Open(db_options, options.path, descriptors,
                             &store->handles_, raw);
  };
  rocksdb::DB* raw = nullptr;
  rocksdb::Status rs = open_db(
      options.wal_point_in_time_recovery
          ? rocksdb::WALRecoveryMode::kPointInTimeRecovery
          : rocksdb::WALRecoveryMode::kAbsoluteConsistency,
      &raw);
  if (rs.IsCorruption() && IsTornTail(rs)) {
    // Only an incomplete last record: retry in the mode that drops exactly
    // that and still refuses every other kind of damage.
    rs = open_db(rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords, &raw);
    store->recovered_torn_wal_tail_ = rs.ok();
  }
  if (!rs.ok()) return DescribeOpenFailure(rs, options.path);
  store->db_.reset(raw);
  for (size_t i = 0; i < names.size(); ++i) {
    rocksdb::ColumnFamilyHandle* h = store->handles_[i];
    if (names[i] == schema::kEntries) store->entries_ = h;
    if (names[i] == schema::kNodes) store->nodes_ = h;
    if (names[i] == schema::kCheckpoints) store->checkpoints_ = h;
    if (names[i] == schema::kMeta) store->meta_ = h;
    if (absl::StartsWith(names[i], schema::kIndexPrefix)) {
      store->indexes_.emplace(
          names[i].substr(std::string_view(schema::kIndexPrefix).size()), h);
    }
  }
  if (absl::Status s = store->Load(); !s.ok()) return s;
  if (!options.allow_interrupted_index_rebuild) {
    std::string mark;
    rocksdb::Status ms = store->db_->Get(rocksdb::ReadOptions(), store->meta_,
                                         schema::kMetaIndexRebuild, &mark);
    if (ms.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "an index rebuild of the log at ", options.path,
          " was interrupted, so its indexes are incomplete; run `parleyd "
          "repair --rebuild-indexes --data DIR` again"));
    }
    if (!ms.IsNotFound()) return FromRocks(ms, "reading log metadata");
  }
  if (absl::Status s = store->CheckWitness(); !s.ok()) return s;
  if (options.background_checkpoints) {
    store->checkpointer_ = std::thread([s = store.get()] { s->CheckpointLoop(); });
  }
  return store;
}

absl::Status LogStore::Load() {
  rocksdb::ReadOptions ro;
  std::string format;
  rocksdb::Status rs = db_->Get(ro, meta_, schema::kMetaFormat, &format);
  if (rs.IsNotFound()) {
    // A new log, unless something was written without the metadata.
    for (rocksdb::ColumnFamilyHandle* cf : {entries_, nodes_, checkpoints_}) {
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf));
      it->SeekToFirst();
      if (it->Valid()) {
        return absl::DataLossError(absl::StrCat(
            "log at ", options_.path,
            " holds data but no metadata; refusing to reinitialise it"));
      }
    }
    std::string root = EmptyRootHash();
    absl::StatusOr<std::string> note = SignNote(
        FormatCheckpoint({origin_, 0, root, {}}), origin_, *options_.signer);
    if (!note.ok()) return note.status();
    rocksdb::WriteBatch batch;
    batch.Put(meta_, schema::kMetaFormat, schema::kFormatV1);
    batch.Put(meta_, schema::kMetaOrigin, origin_);
    batch.Put(meta_, schema::kMetaVerifierKey, verifier_key_);
    batch.Put(meta_, schema::kMetaSize, schema::U64Key(0));
    batch.Put(checkpoints_, schema::U64Key(0), *note);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    if (absl::Status s = FromRocks(db_->Write(wo, &batch), "initialising log");
        !s.ok()) {
      return s;
    }
    absl::MutexLock lock(&mu_);
    root_ = root;
    latest_ = SignedCheckpoint{origin_, 0, root, *std::move(note)};
    return absl::OkStatus();
  }
  if (!rs.ok()) return FromRocks(rs, "reading log metadata");
  if (format != schema::kFormatV1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "log at ", options_.path, " has format \"", format, "\", want \"",
        schema::kFormatV1, "\""));
  }
  std::string stored_origin, stored_vkey, size_key;
  for (auto [key, out] : {std::pair{schema::kMetaOrigin, &stored_origin},
                          std::pair{schema::kMetaVerifierKey, &stored_vkey},
                          std::pair{schema::kMetaSize, &size_key}}) {
    if (absl::Status s =
            FromRocks(db_->Get(ro, meta_, key, out),
                      absl::StrCat("reading log metadata \"", key, "\""));
        !s.ok()) {
      return absl::DataLossError(s.message());
    }
  }
  if (stored_origin != origin_) {
    return absl::FailedPreconditionError(
        absl::StrCat("log at ", options_.path, " belongs to origin \"",
                     stored_origin, "\", not \"", origin_, "\""));
  }
  if (stored_vkey != verifier_key_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "log at ", options_.path, " was signed with verifier key \"",
        stored_vkey, "\", not this server's key \"", verifier_key_, "\""));
  }
  std::optional<uint64_t> size = schema::DecodeU64Key(size_key);
  if (!size.has_value()) {
    return absl::DataLossError("stored log size is malformed");
  }

  // Rebuild the in-memory frontier (one stored node per set bit of size).
  std::vector<MerkleFrontier::Subtree> subtrees;
  for (auto [level, index] : FrontierSubtrees(*size)) {
    absl::StatusOr<std::string> h = ReadNode(level, index);
    if (!h.ok()) return h.status();
    subtrees.push_back({level, *std::move(h)});
  }
  MerkleFrontier frontier(std::move(subtrees));

  // Entries must end exactly at size - 1, and the last one must still hash
  // to its stored leaf.
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, entries_));
    it->SeekToLast();
    if (absl::Status s = FromRocks(it->status(), "scanning entries");
        !s.ok()) {
      return s;
    }
    std::optional<uint64_t> last;
    if (it->Valid()) last = schema::DecodeU64Key(it->key().ToStringView());
    if (*size == 0 ? it->Valid() : (!last.has_value() || *last != *size - 1)) {
      return absl::DataLossError(absl::StrCat(
          "stored entries do not end at the recorded tree size ", *size,
          " (last entry key ",
          it->Valid() ? HexEncode(it->key().ToStringView()) : "none", ")"));
    }
    if (*size > 0) {
      absl::StatusOr<std::string> leaf = ReadNode(0, *size - 1);
      if (!leaf.ok()) return leaf.status();
      if (LeafHash(it->value().ToStringView()) != *leaf) {
        return absl::DataLossError(absl::StrCat(
            "entry ", *size - 1, " does not match its stored leaf hash"));
      }
    }
  }

  if (absl::Status s = LoadNodeCache(*size); !s.ok()) return s;
  {
    absl::MutexLock lock(&mu_);
    size_ = *size;
    root_ = frontier.Root();
    frontier_ = std::move(frontier);
  }
  return CheckLatestCheckpoint();
}

absl::Status LogStore::CheckLatestCheckpoint() {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), checkpoints_));
  it->SeekToLast();
  if (absl::Status s = FromRocks(it->status(), "reading checkpoints");
      !s.ok()) {
    return s;
  }
  if (!it->Valid()) {
    return absl::DataLossError("the log has no signed checkpoint");
  }
  std::optional<uint64_t> key_size =
      schema::DecodeU64Key(it->key().ToStringView());
  absl::StatusOr<SignedCheckpoint> cp = VerifyCheckpointNote(
      it->value().ToStringView(), verifier_, origin_);
  if (!cp.ok()) {
    return absl::DataLossError(absl::StrCat(
        "the latest stored checkpoint does not verify under ", verifier_key_,
        ": ", cp.status().message()));
  }
  if (!key_size.has_value() || *key_size != cp->size) {
    return absl::DataLossError(absl::StrCat(
        "checkpoint of size ", cp->size, " is stored under the wrong key"));
  }
  uint64_t size = Size();
  if (cp->size > size) {
    return absl::DataLossError(absl::StrCat(
        "the log was rolled back: the latest signed checkpoint covers ",
        cp->size, " entries but only ", size,
        " are stored; refusing to serve a log that lost signed entries"));
  }
  absl::StatusOr<std::string> root = RootHash(cp->size);
  if (!root.ok()) return root.status();
  if (*root != cp->root_hash) {
    return absl::DataLossError(absl::StrCat(
        "root mismatch at tree size ", cp->size,
        ": stored nodes give ", Base64Encode(*root),
        " but the signed checkpoint says ", Base64Encode(cp->root_hash),
        "; the log is forked or corrupted and will not be served"));
  }
  absl::MutexLock lock(&mu_);
  latest_ = *std::move(cp);
  return absl::OkStatus();
}

uint64_t LogStore::Size() const {
  absl::MutexLock lock(&mu_);
  return size_;
}

std::string LogStore::VerifierKey() const { return verifier_key_; }

void LogStore::CacheNode(int level, uint64_t index, const std::string& hash) {
  if (level < kCachedLevel) return;
  absl::MutexLock lock(&cache_mu_);
  size_t slot = level - kCachedLevel;
  if (upper_nodes_.size() <= slot) upper_nodes_.resize(slot + 1);
  std::string& row = upper_nodes_[slot];
  // Nodes of a level are created in index order; anything else is a bug
  // that must not corrupt the cache, so fall back to RocksDB reads.
  if (row.size() == index * kMerkleHashSize) row += hash;
}

absl::Status LogStore::LoadNodeCache(uint64_t size) {
  for (int level = kCachedLevel; level < 64 && (size >> level) > 0; ++level) {
    uint64_t count = size >> level;
    rocksdb::ReadOptions ro;
    std::string upper = schema::NodeKey(level, count);
    rocksdb::Slice upper_slice(upper);
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, nodes_));
    uint64_t index = 0;
    for (it->Seek(schema::NodeKey(level, 0)); it->Valid(); it->Next(), ++index) {
      if (it->key().ToStringView() != schema::NodeKey(level, index) ||
          it->value().size() != kMerkleHashSize) {
        return absl::DataLossError(absl::StrCat(
            "tree node (level ", level, ", index ", index,
            ") is missing or malformed"));
      }
      CacheNode(level, index, it->value().ToString());
    }
    if (absl::Status s = FromRocks(it->status(), "loading tree nodes");
        !s.ok()) {
      return s;
    }
    if (index != count) {
      return absl::DataLossError(absl::StrCat(
          "tree node (level ", level, ", index ", index, ") is missing"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> LogStore::ReadNode(int level,
                                               uint64_t index) const {
  if (level >= kCachedLevel) {
    absl::ReaderMutexLock lock(&cache_mu_);
    size_t slot = level - kCachedLevel;
    if (slot < upper_nodes_.size() &&
        (index + 1) * kMerkleHashSize <= upper_nodes_[slot].size()) {
      return upper_nodes_[slot].substr(index * kMerkleHashSize,
                                       kMerkleHashSize);
    }
  }
  std::string value;
  rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), nodes_,
                                schema::NodeKey(level, index), &value);
  if (rs.IsNotFound()) {
    return absl::DataLossError(absl::StrCat("tree node (level ", level,
                                            ", index ", index,
                                            ") is missing from the store"));
  }
  if (!rs.ok()) return FromRocks(rs, "reading tree node");
  if (value.size() != kMerkleHashSize) {
    return absl::DataLossError(absl::StrCat("tree node (level ", level,
                                            ", index ", index,
                                            ") is not 32 bytes"));
  }
  return value;
}

std::pair<uint64_t, std::string> LogStore::TrustedHead() const {
  absl::MutexLock lock(&mu_);
  return {size_, root_};
}

absl::Status LogStore::VerifyAgainstRoot(
    uint64_t first, const std::vector<std::string>& leaf_hashes, uint64_t size,
    const std::string& root) const {
  absl::StatusOr<std::string> computed = RootFromLeafRange(
      size, first, leaf_hashes,
      [this](int level, uint64_t i) { return ReadNode(level, i); });
  if (!computed.ok()) return computed.status();
  if (*computed == root) return absl::OkStatus();
  // Name the entries whose own inclusion proofs fail (work done only on
  // this, the damaged, path). A rewrite that kept the stored nodes
  // consistent with a forged entry makes its neighbours' proofs fail too:
  // from the stored data alone the forged one cannot be told apart, so the
  // whole run is named.
  std::optional<uint64_t> lo, hi;
  for (size_t i = 0; i < leaf_hashes.size(); ++i) {
    absl::StatusOr<std::string> one =
        leaf_hashes.size() == 1
            ? computed
            : RootFromLeafRange(
                  size, first + i, {leaf_hashes[i]},
                  [this](int level, uint64_t j) { return ReadNode(level, j); });
    if (!one.ok()) return one.status();
    if (*one != root) {
      if (!lo.has_value()) lo = first + i;
      hi = first + i;
    }
  }
  std::string which =
      !lo.has_value()
          ? absl::StrCat("entries ", first, " to ",
                         first + leaf_hashes.size() - 1)
      : *lo == *hi ? absl::StrCat("entry ", *lo)
                   : absl::StrCat("entries ", *lo, " to ", *hi);
  return absl::DataLossError(absl::StrCat(
      which, " do", lo == hi && lo.has_value() ? "es" : "",
      " not verify against the trusted tree root of size ", size,
      ": a stored entry or the tree nodes over it were altered; run "
      "`parleyd check`"));
}

absl::StatusOr<std::string> LogStore::GetEntry(uint64_t index) const {
  const auto [size, root] = TrustedHead();
  if (index >= size) {
    return absl::OutOfRangeError(
        absl::StrCat("index ", index, " is beyond the tree size ", size));
  }
  std::string value;
  if (absl::Status s =
          FromRocks(db_->Get(rocksdb::ReadOptions(), entries_,
                             schema::U64Key(index), &value),
                    absl::StrCat("reading entry ", index));
      !s.ok()) {
    return s.code() == absl::StatusCode::kNotFound
               ? absl::DataLossError(s.message())
               : s;
  }
  std::string leaf = LeafHash(value);
  absl::StatusOr<std::string> stored_leaf = ReadNode(0, index);
  if (!stored_leaf.ok()) return stored_leaf.status();
  if (leaf != *stored_leaf) {
    return absl::DataLossError(absl::StrCat(
        "entry ", index, " does not match its stored leaf hash"));
  }
  if (absl::Status s = VerifyAgainstRoot(index, {leaf}, size, root); !s.ok()) {
    return s;
  }
  return value;
}

absl::StatusOr<std::vector<std::string>> LogStore::GetEntries(
    uint64_t start, uint64_t end, size_t max_bytes) const {
  const auto [size, root] = TrustedHead();
  if (start >= size) {
    return absl::OutOfRangeError(
        absl::StrCat("index ", start, " is beyond the tree size ", size));
  }
  if (end <= start) {
    return absl::InvalidArgumentError(
        absl::StrCat("empty range [", start, ", ", end, ")"));
  }
  end = std::min(end, size);
  rocksdb::ReadOptions ro;
  std::string upper = schema::U64Key(end);
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, entries_));
  std::vector<std::string> out;
  std::vector<std::string> leaves;
  size_t bytes = 0;
  uint64_t index = start;
  bool page_full = false;
  for (it->Seek(schema::U64Key(start)); it->Valid() && index < end;
       it->Next(), ++index) {
    if (!out.empty() && bytes + it->value().size() > max_bytes) {
      page_full = true;
      break;
    }
    if (it->key().ToStringView() != schema::U64Key(index)) break;
    leaves.push_back(LeafHash(it->value().ToStringView()));
    bytes += it->value().size();
    out.emplace_back(it->value().ToStringView());
  }
  if (absl::Status s = FromRocks(it->status(), "reading entries"); !s.ok()) {
    return s;
  }
  if (!page_full && index < end) {
    return absl::DataLossError(
        absl::StrCat("entry ", index, " is missing from the store"));
  }
  // One root recomputation for the whole page: the page's leaves plus the
  // O(log n) stored subtrees around it must give the trusted root.
  if (absl::Status s = VerifyAgainstRoot(start, leaves, size, root); !s.ok()) {
    return s;
  }
  return out;
}

absl::StatusOr<std::string> LogStore::RootHash(uint64_t size) const {
  {
    absl::MutexLock lock(&mu_);
    if (size > size_) {
      return absl::OutOfRangeError(absl::StrCat(
          "tree size ", size, " is beyond the current size ", size_));
    }
    if (size == size_) return root_;
  }
  return RootHashFromSubtrees(
      size, [this](int level, uint64_t index) { return ReadNode(level, index); });
}

absl::StatusOr<std::vector<std::string>> LogStore::InclusionProof(
    uint64_t index, uint64_t size) const {
  uint64_t current = Size();
  if (size > current) {
    return absl::OutOfRangeError(absl::StrCat(
        "tree size ", size, " is beyond the current size ", current));
  }
  if (index >= size) {
    return absl::OutOfRangeError(
        absl::StrCat("index ", index, " is beyond the tree size ", size));
  }
  return BuildInclusionProof(index, size, [this](int level, uint64_t i) {
    return ReadNode(level, i);
  });
}

absl::StatusOr<std::vector<std::string>> LogStore::ConsistencyProof(
    uint64_t size1, uint64_t size2) const {
  uint64_t current = Size();
  if (size1 == 0 || size1 > size2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no consistency proof from size ", size1, " to size ", size2,
        " (need 0 < size1 <= size2)"));
  }
  if (size2 > current) {
    return absl::OutOfRangeError(absl::StrCat(
        "tree size ", size2, " is beyond the current size ", current));
  }
  return BuildConsistencyProof(size1, size2, [this](int level, uint64_t i) {
    return ReadNode(level, i);
  });
}

absl::StatusOr<rocksdb::ColumnFamilyHandle*> LogStore::IndexFamily(
    std::string_view name) const {
  auto it = indexes_.find(name);
  if (it == indexes_.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown index column family \"", Av(name),
                     "\" (not passed to LogStore::Open)"));
  }
  return it->second;
}

absl::StatusOr<std::optional<std::string>> LogStore::GetIndex(
    std::string_view column_family, std::string_view key) const {
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> cf = IndexFamily(column_family);
  if (!cf.ok()) return cf.status();
  std::string value;
  rocksdb::Status rs =
      db_->Get(rocksdb::ReadOptions(), *cf, rocksdb::Slice(key), &value);
  if (rs.IsNotFound()) return std::optional<std::string>();
  if (!rs.ok()) return FromRocks(rs, "reading index");
  return std::optional<std::string>(std::move(value));
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
LogStore::ScanIndex(std::string_view column_family, std::string_view prefix,
                    size_t limit) const {
  return ScanIndexFrom(column_family, prefix, prefix, limit);
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
LogStore::ScanIndexFrom(std::string_view column_family, std::string_view start,
                        std::string_view prefix, size_t limit) const {
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> cf = IndexFamily(column_family);
  if (!cf.ok()) return cf.status();
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), *cf));
  std::vector<std::pair<std::string, std::string>> out;
  std::string_view seek = std::max(start, prefix);
  for (it->Seek(rocksdb::Slice(seek.data(), seek.size()));
       it->Valid() && out.size() < limit &&
       it->key().starts_with(rocksdb::Slice(prefix.data(), prefix.size()));
       it->Next()) {
    out.emplace_back(it->key().ToString(), it->value().ToString());
  }
  if (absl::Status s = FromRocks(it->status(), "scanning index"); !s.ok()) {
    return s;
  }
  return out;
}

}  // namespace parley
