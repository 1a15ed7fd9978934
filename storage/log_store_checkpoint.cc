// LogStore checkpoints: signing (on demand and on a cadence), storage and
// waiting for new ones.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "crypto/encoding.h"
#include "rocksdb/db.h"
#include "storage/log_schema.h"
#include "storage/log_store.h"
#include "storage/log_store_internal.h"
#include "storage/tlog/merkle.h"

namespace parley {

namespace schema = log_schema;

absl::StatusOr<SignedCheckpoint> LogStore::LatestCheckpoint() const {
  absl::MutexLock lock(&mu_);
  if (!latest_.has_value()) {
    return absl::FailedPreconditionError("the log has no checkpoint yet");
  }
  return *latest_;
}

absl::StatusOr<SignedCheckpoint> LogStore::CheckpointAt(uint64_t size) const {
  std::string note;
  rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), checkpoints_,
                                schema::U64Key(size), &note);
  if (rs.IsNotFound()) {
    return absl::NotFoundError(
        absl::StrCat("no checkpoint was signed at tree size ", size));
  }
  if (!rs.ok()) return log_internal::FromRocks(rs, "reading checkpoint");
  absl::StatusOr<SignedCheckpoint> cp =
      VerifyCheckpointNote(note, verifier_, origin_);
  if (!cp.ok()) {
    return absl::DataLossError(absl::StrCat("stored checkpoint of size ", size,
                                            " does not verify: ",
                                            cp.status().message()));
  }
  return cp;
}

absl::StatusOr<SignedCheckpoint> LogStore::SignLocked(uint64_t size,
                                                      const std::string& root) {
  SignedCheckpoint previous;
  {
    absl::MutexLock lock(&mu_);
    previous = *latest_;
  }
  // Never sign two inconsistent checkpoints: prove, from the stored nodes,
  // that the previous signed tree is a prefix of the one about to be signed.
  if (previous.size > 0) {
    absl::StatusOr<std::vector<std::string>> proof =
        ConsistencyProof(previous.size, size);
    if (!proof.ok()) return proof.status();
    if (absl::Status s = VerifyConsistency(previous.size, size,
                                           previous.root_hash, root, *proof);
        !s.ok()) {
      return absl::DataLossError(absl::StrCat(
          "refusing to sign size ", size, ": not consistent with the signed "
          "checkpoint of size ", previous.size, ": ", s.message()));
    }
  }
  absl::StatusOr<std::string> note = SignNote(
      FormatCheckpoint({origin_, size, root, {}}), origin_, *options_.signer);
  if (!note.ok()) return note.status();
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (absl::Status s = log_internal::FromRocks(
          db_->Put(wo, checkpoints_, schema::U64Key(size), *note),
          "storing checkpoint");
      !s.ok()) {
    return s;
  }
  // The witness, outside RocksDB, before anyone can see the checkpoint.
  if (absl::Status s = WriteWitness(*note); !s.ok()) return s;
  SignedCheckpoint cp{origin_, size, root, *std::move(note)};
  absl::MutexLock lock(&mu_);
  latest_ = cp;
  return cp;
}

namespace {

std::string ErrnoText(const char* what, const std::string& path) {
  return absl::StrCat(what, " ", path, ": ", std::strerror(errno));
}

}  // namespace

absl::Status LogStore::WriteWitness(const std::string& note) const {
  const std::string path =
      absl::StrCat(options_.path, "/", kCheckpointWitnessFile);
  const std::string tmp = absl::StrCat(path, ".tmp");
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::InternalError(ErrnoText("creating", tmp));
  size_t done = 0;
  while (done < note.size()) {
    ssize_t n = write(fd, note.data() + done, note.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      absl::Status s = absl::InternalError(ErrnoText("writing", tmp));
      close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) {
    absl::Status s = absl::InternalError(ErrnoText("syncing", tmp));
    close(fd);
    return s;
  }
  if (close(fd) != 0) return absl::InternalError(ErrnoText("closing", tmp));
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(ErrnoText("renaming", tmp));
  }
  int dir = open(options_.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return absl::InternalError(ErrnoText("opening", options_.path));
  int rc = fsync(dir);
  close(dir);
  if (rc != 0) return absl::InternalError(ErrnoText("syncing", options_.path));
  return absl::OkStatus();
}

absl::Status LogStore::CheckWitness() {
  const std::string path =
      absl::StrCat(options_.path, "/", kCheckpointWitnessFile);
  SignedCheckpoint latest;
  {
    absl::MutexLock lock(&mu_);
    latest = *latest_;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    // A new log, or one written before the witness existed.
    if (access(path.c_str(), F_OK) == 0 || errno != ENOENT) {
      return absl::InternalError(ErrnoText("reading", path));
    }
    return WriteWitness(latest.note);
  }
  std::stringstream note;
  note << in.rdbuf();
  absl::StatusOr<SignedCheckpoint> witness =
      VerifyCheckpointNote(note.str(), verifier_, origin_);
  if (!witness.ok()) {
    return absl::DataLossError(absl::StrCat(
        "the checkpoint witness ", path, " does not verify under ",
        verifier_key_, ": ", witness.status().message(),
        "; the data directory is damaged or mixes two logs"));
  }
  const uint64_t size = Size();
  if (witness->size > size) {
    return absl::DataLossError(absl::StrCat(
        "the log was rolled back: the checkpoint witness ", path,
        " covers ", witness->size, " entries but only ", size,
        " are stored; refusing to serve a log that lost signed entries"));
  }
  absl::StatusOr<std::string> root = RootHash(witness->size);
  if (!root.ok()) return root.status();
  if (*root != witness->root_hash) {
    return absl::DataLossError(absl::StrCat(
        "root mismatch at tree size ", witness->size, ": stored nodes give ",
        Base64Encode(*root), " but the checkpoint witness ", path, " says ",
        Base64Encode(witness->root_hash),
        "; the log is forked or corrupted and will not be served"));
  }
  if (witness->size > latest.size) {
    // The stored copy was lost (with a dropped WAL tail) but its entries
    // were not: store it again and serve it as the latest.
    rocksdb::WriteOptions wo;
    wo.sync = true;
    if (absl::Status s = log_internal::FromRocks(
            db_->Put(wo, checkpoints_, schema::U64Key(witness->size),
                     witness->note),
            "restoring checkpoint from its witness");
        !s.ok()) {
      return s;
    }
    absl::MutexLock lock(&mu_);
    latest_ = *std::move(witness);
    return absl::OkStatus();
  }
  if (witness->size < latest.size) return WriteWitness(latest.note);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<SignedCheckpoint>> LogStore::SignIfDue(
    bool force) {
  absl::MutexLock sign_lock(&sign_mu_);
  uint64_t size;
  std::string root;
  SignedCheckpoint latest;
  {
    absl::MutexLock lock(&mu_);
    size = size_;
    root = root_;
    latest = *latest_;
  }
  if (size <= latest.size) return std::optional<SignedCheckpoint>();
  absl::Time now = options_.clock->Now();
  if (!force && now < last_signed_at_ + options_.checkpoint_interval) {
    return std::optional<SignedCheckpoint>();
  }
  // A checkpoint is a small synced write and a witness file: not on a disk
  // below its reserve either (signing resumes with the space).
  if (absl::Status s = CheckDiskReserve(); !s.ok()) return s;
  absl::StatusOr<SignedCheckpoint> cp = SignLocked(size, root);
  if (!cp.ok()) return cp.status();
  last_signed_at_ = now;
  return std::optional<SignedCheckpoint>(*std::move(cp));
}

absl::StatusOr<SignedCheckpoint> LogStore::SignCheckpointNow() {
  absl::StatusOr<std::optional<SignedCheckpoint>> cp = SignIfDue(true);
  if (!cp.ok()) return cp.status();
  if (cp->has_value()) return **cp;
  return LatestCheckpoint();
}

absl::StatusOr<std::optional<SignedCheckpoint>>
LogStore::MaybeSignCheckpoint() {
  return SignIfDue(false);
}

std::optional<SignedCheckpoint> LogStore::WaitForCheckpoint(
    uint64_t after_size, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto ready = [this, after_size]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return closing_ || (latest_.has_value() && latest_->size > after_size);
  };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  if (latest_.has_value() && latest_->size > after_size) return *latest_;
  return std::nullopt;
}

void LogStore::CheckpointLoop() {
  // Poll the (possibly fake) clock at this period while a checkpoint is due
  // but the interval has not passed; sleep until the tree grows otherwise.
  const absl::Duration poll = std::clamp(options_.checkpoint_interval / 4,
                                         absl::Milliseconds(1),
                                         absl::Milliseconds(50));
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto grown = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return closing_ || size_ > latest_->size;
      };
      mu_.AwaitWithTimeout(absl::Condition(&grown), absl::Seconds(1));
      if (closing_) return;
      if (size_ <= latest_->size) continue;
    }
    absl::StatusOr<std::optional<SignedCheckpoint>> cp = SignIfDue(false);
    if (cp.ok() && cp->has_value()) continue;
    // Not due yet, or signing failed (retry later; SignCheckpointNow reports
    // errors to callers that need them).
    absl::MutexLock lock(&mu_);
    auto closing = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return closing_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&closing),
                         cp.ok() ? poll : absl::Seconds(1));
    if (closing_) return;
  }
}

}  // namespace parley
