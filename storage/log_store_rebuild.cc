// LogStore: the offline index rebuild (parleyd repair --rebuild-indexes).

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "storage/log_schema.h"
#include "storage/log_store.h"
#include "storage/log_store_internal.h"

namespace parley {

namespace schema = log_schema;
using log_internal::FromRocks;

std::vector<std::string> LogStore::IndexFamilies() const {
  std::vector<std::string> out;
  for (const auto& [name, handle] : indexes_) out.push_back(name);
  return out;
}

absl::Status LogStore::BeginIndexRebuild(
    const std::vector<std::string>& families) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (absl::Status s = FromRocks(
          db_->Put(wo, meta_, schema::kMetaIndexRebuild, "1"),
          "marking the index rebuild");
      !s.ok()) {
    return s;
  }
  // The column family options of an index are those of every family.
  rocksdb::ColumnFamilyDescriptor descriptor;
  if (absl::Status s = FromRocks(entries_->GetDescriptor(&descriptor),
                                 "reading column family options");
      !s.ok()) {
    return s;
  }
  for (auto& [name, handle] : indexes_) {
    if (absl::Status s = FromRocks(db_->DropColumnFamily(handle),
                                   absl::StrCat("dropping index ", name));
        !s.ok()) {
      return s;
    }
    auto it = std::find(handles_.begin(), handles_.end(), handle);
    if (it != handles_.end()) handles_.erase(it);
    db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  }
  indexes_.clear();
  for (const std::string& name : families) {
    rocksdb::ColumnFamilyHandle* handle = nullptr;
    if (absl::Status s = FromRocks(
            db_->CreateColumnFamily(descriptor.options,
                                    absl::StrCat(schema::kIndexPrefix, name),
                                    &handle),
            absl::StrCat("creating index ", name));
        !s.ok()) {
      return s;
    }
    handles_.push_back(handle);
    indexes_.emplace(name, handle);
  }
  return absl::OkStatus();
}

absl::Status LogStore::WriteIndexPuts(const std::vector<IndexPut>& puts) {
  if (absl::Status s = CheckIndexPuts(puts); !s.ok()) return s;
  rocksdb::WriteBatch batch;
  for (const IndexPut& put : puts) {
    batch.Put(indexes_.find(put.column_family)->second, put.key, put.value);
  }
  return FromRocks(db_->Write(rocksdb::WriteOptions(), &batch),
                   "writing index entries");
}

absl::Status LogStore::FinishIndexRebuild() {
  if (absl::Status s = FromRocks(db_->FlushWAL(/*sync=*/true), "syncing");
      !s.ok()) {
    return s;
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(db_->Delete(wo, meta_, schema::kMetaIndexRebuild),
                   "clearing the index rebuild mark");
}

}  // namespace parley
