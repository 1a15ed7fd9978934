// LogStore::Audit: a full recomputation of the tree from the stored entries.

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "crypto/encoding.h"
#include "rocksdb/db.h"
#include "storage/log_schema.h"
#include "storage/log_store.h"
#include "storage/log_store_internal.h"
#include "storage/tlog/merkle.h"

namespace parley {

namespace schema = log_schema;

absl::Status LogStore::Audit(
    std::function<void(uint64_t, uint64_t)> progress) const {
  const uint64_t size = Size();

  // Every stored checkpoint up to `size`, by size; each must verify.
  std::map<uint64_t, SignedCheckpoint> checkpoints;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), checkpoints_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      absl::StatusOr<SignedCheckpoint> cp = VerifyCheckpointNote(
          it->value().ToStringView(), verifier_, origin_);
      std::optional<uint64_t> key =
          schema::DecodeU64Key(it->key().ToStringView());
      if (!cp.ok() || !key.has_value() || *key != cp->size) {
        return absl::DataLossError(absl::StrCat(
            "stored checkpoint under key ",
            HexEncode(it->key().ToStringView()), " does not verify",
            cp.ok() ? "" : absl::StrCat(": ", cp.status().message())));
      }
      if (cp->size > size) break;  // Signed after Size() was read.
      checkpoints.emplace(cp->size, *std::move(cp));
    }
    if (absl::Status s =
            log_internal::FromRocks(it->status(), "reading checkpoints");
        !s.ok()) {
      return s;
    }
  }
  auto check_root = [&](uint64_t n, const std::string& root) -> absl::Status {
    auto cp = checkpoints.find(n);
    if (cp == checkpoints.end() || cp->second.root_hash == root) {
      return absl::OkStatus();
    }
    return absl::DataLossError(absl::StrCat(
        "root mismatch at tree size ", n, ": entries give ",
        Base64Encode(root), " but the signed checkpoint says ",
        Base64Encode(cp->second.root_hash)));
  };
  if (absl::Status s = check_root(0, EmptyRootHash()); !s.ok()) return s;

  MerkleFrontier frontier;
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::string upper = schema::U64Key(size);
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, entries_));
  uint64_t index = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++index) {
    if (it->key().ToStringView() != schema::U64Key(index)) {
      return absl::DataLossError(
          absl::StrCat("entry ", index, " is missing from the store"));
    }
    std::string leaf = LeafHash(it->value().ToStringView());
    absl::StatusOr<std::string> stored = ReadNode(0, index);
    if (!stored.ok()) return stored.status();
    if (*stored != leaf) {
      return absl::DataLossError(absl::StrCat(
          "entry ", index, " does not match its stored leaf hash"));
    }
    // Every inner node this entry completes must match its stored hash.
    if (absl::Status s = frontier.Append(
            index, std::move(leaf),
            [&](int level, uint64_t node_index,
                const std::string& parent) -> absl::Status {
              absl::StatusOr<std::string> node = ReadNode(level, node_index);
              if (!node.ok()) return node.status();
              if (*node != parent) {
                return absl::DataLossError(absl::StrCat(
                    "tree node (level ", level, ", index ", node_index,
                    ") does not match the hash of its children"));
              }
              return absl::OkStatus();
            });
        !s.ok()) {
      return s;
    }
    if (checkpoints.contains(index + 1)) {
      if (absl::Status s = check_root(index + 1, frontier.Root()); !s.ok()) {
        return s;
      }
    }
    if (progress && (index + 1) % 65536 == 0) progress(index + 1, size);
  }
  if (absl::Status s = log_internal::FromRocks(it->status(), "reading entries");
      !s.ok()) {
    return s;
  }
  if (index != size) {
    return absl::DataLossError(
        absl::StrCat("entry ", index, " is missing from the store"));
  }
  if (progress) progress(size, size);
  return absl::OkStatus();
}

absl::Status LogStore::AuditRange(uint64_t begin, uint64_t end) const {
  const auto [size, root] = TrustedHead();
  if (begin >= size) {
    return absl::OutOfRangeError(
        absl::StrCat("index ", begin, " is beyond the tree size ", size));
  }
  end = std::min(end, size);
  if (end <= begin) return absl::OkStatus();
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::string upper = schema::U64Key(end);
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, entries_));
  std::vector<std::string> leaves;
  uint64_t index = begin;
  for (it->Seek(schema::U64Key(begin)); it->Valid(); it->Next(), ++index) {
    if (it->key().ToStringView() != schema::U64Key(index)) break;
    leaves.push_back(LeafHash(it->value().ToStringView()));
  }
  if (absl::Status s = log_internal::FromRocks(it->status(), "reading entries");
      !s.ok()) {
    return s;
  }
  if (index != end) {
    return absl::DataLossError(
        absl::StrCat("entry ", index, " is missing from the store"));
  }
  // Every stored node wholly inside the range, level by level.
  std::vector<std::string> level_hashes = leaves;
  uint64_t first = begin;  // Index (at this level) of level_hashes[0].
  for (int level = 0; !level_hashes.empty(); ++level) {
    for (size_t i = 0; i < level_hashes.size(); ++i) {
      absl::StatusOr<std::string> stored = ReadNode(level, first + i);
      if (!stored.ok()) return stored.status();
      if (*stored != level_hashes[i]) {
        return absl::DataLossError(
            level == 0
                ? absl::StrCat("entry ", first + i,
                               " does not match its stored leaf hash")
                : absl::StrCat("tree node (level ", level, ", index ",
                               first + i,
                               ") does not match the hash of its children"));
      }
    }
    // Parents whose both children are in the range.
    std::vector<std::string> parents;
    size_t start = first % 2 == 0 ? 0 : 1;
    for (size_t i = start; i + 1 < level_hashes.size(); i += 2) {
      parents.push_back(NodeHash(level_hashes[i], level_hashes[i + 1]));
    }
    first = (first + start) / 2;
    level_hashes = std::move(parents);
  }
  return VerifyAgainstRoot(begin, leaves, size, root);
}

}  // namespace parley
