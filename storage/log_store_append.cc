// LogStore appends: leader/follower group commit.
//
// Appenders queue up; the writer at the front (the leader) takes every
// queued append, extends a copy of the tree frontier, writes all entries,
// their new nodes, their index puts and the new size in ONE synced
// WriteBatch, and only then publishes the new size and frontier. One fsync
// thus covers every append that arrived while the previous one was in
// flight. We batch ourselves rather than rely on RocksDB's write group
// because tree positions must be assigned in commit order: independent
// concurrent Writes could reach the WAL out of order and leave a hole.

#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "storage/log_schema.h"
#include "storage/log_store.h"
#include "storage/log_store_internal.h"
#include "storage/tlog/merkle.h"

namespace parley {

namespace schema = log_schema;

namespace {

// Bounds on one group commit, so a burst cannot build an unbounded batch.
constexpr size_t kMaxGroupBytes = 8 << 20;
constexpr size_t kMaxGroupWriters = 4096;

}  // namespace

struct LogStore::Writer {
  std::vector<std::string_view> entries;  // Caller-owned; caller waits.
  const std::vector<IndexPut>* index_puts = nullptr;
  const IndexPutsFn* make_index_puts = nullptr;
  size_t bytes = 0;
  bool done = false;
  bool rejected = false;  // Failed on its own (bad index puts); not written.
  absl::Status status;
  uint64_t first_index = 0;
};

absl::Status LogStore::CheckIndexPuts(const std::vector<IndexPut>& puts) const {
  for (const IndexPut& put : puts) {
    if (absl::StatusOr<rocksdb::ColumnFamilyHandle*> cf =
            IndexFamily(put.column_family);
        !cf.ok()) {
      return cf.status();
    }
  }
  return absl::OkStatus();
}

namespace {

absl::Status CheckEntrySize(std::string_view entry, size_t limit) {
  if (entry.size() > limit) {
    return absl::InvalidArgumentError(absl::StrCat(
        "entry of ", entry.size(), " bytes exceeds the limit of ", limit));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status LogStore::CheckDiskReserve() const {
  if (options_.min_free_bytes == 0) return absl::OkStatus();
  uint64_t free = 0;
  if (options_.free_bytes) {
    absl::StatusOr<uint64_t> probed = options_.free_bytes();
    if (!probed.ok()) return probed.status();
    free = *probed;
  } else {
    struct statvfs fs;
    if (::statvfs(options_.path.c_str(), &fs) != 0) {
      return absl::UnavailableError(absl::StrCat(
          "cannot tell the free space of ", options_.path, ": ",
          std::strerror(errno), "; writes are refused until it can"));
    }
    free = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
  }
  if (free >= options_.min_free_bytes) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(
      "the disk holding ", options_.path, " has ", free >> 20,
      " MiB free, below the reserve of ", options_.min_free_bytes >> 20,
      " MiB: writes are refused until space is freed (nothing was written; "
      "reads, subscriptions and proofs go on)"));
}

absl::Status LogStore::WritableStatus() const {
  {
    absl::MutexLock lock(&mu_);
    if (!write_error_.ok()) return write_error_;
  }
  return CheckDiskReserve();
}

absl::StatusOr<uint64_t> LogStore::Append(std::string_view entry,
                                          std::vector<IndexPut> index_puts) {
  if (absl::Status s = CheckEntrySize(entry, options_.max_entry_bytes);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckIndexPuts(index_puts); !s.ok()) return s;
  Writer w;
  w.entries.push_back(entry);
  w.bytes = entry.size();
  for (const IndexPut& put : index_puts) {
    w.bytes += put.key.size() + put.value.size();
  }
  w.index_puts = &index_puts;
  return Commit(w);
}

absl::StatusOr<uint64_t> LogStore::Append(std::string_view entry,
                                          IndexPutsFn make_index_puts) {
  if (absl::Status s = CheckEntrySize(entry, options_.max_entry_bytes);
      !s.ok()) {
    return s;
  }
  Writer w;
  w.entries.push_back(entry);
  w.bytes = entry.size();
  if (make_index_puts) w.make_index_puts = &make_index_puts;
  return Commit(w);
}

absl::StatusOr<uint64_t> LogStore::AppendMany(
    const std::vector<std::string>& entries, IndexPutsFn make_index_puts) {
  if (entries.empty()) {
    return absl::InvalidArgumentError("AppendMany needs at least one entry");
  }
  Writer w;
  for (const std::string& e : entries) {
    if (absl::Status s = CheckEntrySize(e, options_.max_entry_bytes);
        !s.ok()) {
      return s;
    }
    w.entries.push_back(e);
    w.bytes += e.size();
  }
  if (make_index_puts) w.make_index_puts = &make_index_puts;
  return Commit(w);
}

absl::StatusOr<uint64_t> LogStore::Commit(Writer& w) {
  absl::MutexLock lock(&mu_);
  writers_.push_back(&w);
  auto leader_or_done = [this, &w]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return w.done || writers_.front() == &w;
  };
  mu_.Await(absl::Condition(&leader_or_done));
  if (w.done) {
    if (!w.status.ok()) return w.status;
    return w.first_index;
  }

  // This thread leads the group: everything queued right now.
  std::vector<Writer*> group;
  size_t group_bytes = 0;
  for (Writer* x : writers_) {
    if (!group.empty() && (group_bytes + x->bytes > kMaxGroupBytes ||
                           group.size() >= kMaxGroupWriters)) {
      break;
    }
    group.push_back(x);
    group_bytes += x->bytes;
  }
  absl::Status status = write_error_;
  if (status.ok()) {
    // Not sticky: nothing is written, and the next group checks again.
    status = CheckDiskReserve();
  }
  const uint64_t base = size_;
  uint64_t next = base;
  MerkleFrontier frontier = frontier_;
  std::string root;

  if (status.ok()) {
    // Hashing and the fsync happen without the lock: followers keep queueing
    // and readers keep reading the committed tree.
    mu_.Unlock();
    rocksdb::WriteBatch batch;
    struct UpperNode {
      int level;
      uint64_t index;
      std::string hash;
    };
    std::vector<UpperNode> cached;  // Nodes for the in-memory cache.
    for (Writer* x : group) {
      const std::vector<IndexPut>* puts = x->index_puts;
      std::vector<IndexPut> computed;
      if (x->make_index_puts != nullptr) {
        computed = (*x->make_index_puts)(next);
        if (absl::Status s = CheckIndexPuts(computed); !s.ok()) {
          x->status = s;
          x->rejected = true;
          continue;
        }
        puts = &computed;
      }
      x->first_index = next;
      for (std::string_view entry : x->entries) {
        std::string leaf = LeafHash(entry);
        batch.Put(entries_, schema::U64Key(next), rocksdb::Slice(entry));
        batch.Put(nodes_, schema::NodeKey(0, next), leaf);
        // The callback never fails: every node goes into the same batch.
        frontier
            .Append(next, std::move(leaf),
                    [&](int level, uint64_t node_index,
                        const std::string& parent) {
                      batch.Put(nodes_, schema::NodeKey(level, node_index),
                                parent);
                      if (level >= kCachedLevel) {
                        cached.push_back({level, node_index, parent});
                      }
                      return absl::OkStatus();
                    })
            .IgnoreError();
        ++next;
      }
      if (puts != nullptr) {
        for (const IndexPut& put : *puts) {
          batch.Put(indexes_.find(put.column_family)->second, put.key,
                    put.value);
        }
      }
    }
    batch.Put(meta_, schema::kMetaSize, schema::U64Key(next));
    rocksdb::WriteOptions wo;
    wo.sync = true;
    if (next > base) {  // Unless every append in the group was rejected.
      status = log_internal::FromRocks(db_->Write(wo, &batch),
                                       "appending to the log");
    }
    if (status.ok()) {
      // Before the size is published, so readers bounded by it hit the cache.
      for (const UpperNode& n : cached) CacheNode(n.level, n.index, n.hash);
    }
    if (!frontier.empty()) root = frontier.Root();
    mu_.Lock();
    if (status.ok() && next > base) {
      size_ = next;
      frontier_ = std::move(frontier);
      root_ = std::move(root);
    } else if (!status.ok()) {
      // Fail-stop: after a failed synced write RocksDB's state is uncertain
      // (the batch may be in the memtable yet not durable). Refuse further
      // appends until the log is reopened and re-verified.
      write_error_ = status;
    }
  }
  for (Writer* x : group) {
    if (!x->rejected) x->status = status;
    x->done = true;
    writers_.pop_front();
  }
  // The new front (if any) sees itself at the front when we release mu_.
  if (!w.status.ok()) return w.status;
  return w.first_index;
}

}  // namespace parley
