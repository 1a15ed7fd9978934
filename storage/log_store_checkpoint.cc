// LogStore checkpoints: signing (on demand and on a cadence), storage and
// waiting for new ones.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "crypto/encoding.h"
#include "rocksdb/db.h"
#include "storage/log_schema.h"
#include "storage/log_store.h"
#include "storage/log_store_internal.h"
#include "storage/merkle.h"

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
  SignedCheckpoint cp{origin_, size, root, *std::move(note)};
  absl::MutexLock lock(&mu_);
  latest_ = cp;
  return cp;
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
