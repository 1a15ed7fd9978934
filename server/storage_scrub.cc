#include "server/storage_scrub.h"

#include "absl/strings/str_cat.h"
#include "crypto/encoding.h"
#include "server/ledger.h"
#include "spdlog/spdlog.h"
#include "storage/log_schema.h"

namespace parley {
namespace {

absl::Status BadShape(const std::string& family, const std::string& key,
                      const char* why) {
  return absl::DataLossError(absl::StrCat(
      "index \"", family, "\": key ", HexEncode(key.substr(0, 64)), " ", why));
}

// The u64 index stored at the end of `bytes` names a logged entry.
bool NamesAnEntry(std::string_view bytes, uint64_t size) {
  std::optional<uint64_t> index = log_schema::DecodeU64Key(bytes);
  return index.has_value() && *index < size;
}

}  // namespace

absl::Status CheckIndexValueShape(const std::string& family,
                                  const std::string& key,
                                  const std::string& value, uint64_t size) {
  if (family == index_cf::kInbox) {
    size_t zero = key.find('\0');
    if (zero == std::string::npos || key.size() != zero + 9 ||
        !NamesAnEntry(std::string_view(key).substr(zero + 1), size)) {
      return BadShape(family, key, "is not a member name and a log index");
    }
    if (value.size() != 1) {
      return BadShape(family, key, "does not hold a delivery kind");
    }
  } else if (family == index_cf::kEnvelope) {
    if (!NamesAnEntry(key, size)) {
      return BadShape(family, key, "is not a log index");
    }
    if (!DecodeEnvelopeRecord(value).ok()) {
      return BadShape(family, key, "holds a record that does not decode");
    }
  } else if (family == index_cf::kMessageId) {
    if (value.size() != 40 ||
        !NamesAnEntry(std::string_view(value).substr(32), size)) {
      return BadShape(family, key, "does not hold a hash and a log index");
    }
  } else if (family == index_cf::kChain) {
    if (value.size() != 40) {
      return BadShape(family, key, "does not hold a sequence and a hash");
    }
  } else if (family == index_cf::kReceipt) {
    if (key.size() < 10 || !NamesAnEntry(std::string_view(key).substr(0, 8),
                                         size)) {
      return BadShape(family, key, "does not start with a log index");
    }
    if (!NamesAnEntry(value, size)) {
      return BadShape(family, key, "does not hold a log index");
    }
  }
  return absl::OkStatus();
}

StorageScrub::StorageScrub(const LogStore* log, StorageScrubOptions options,
                           DamageListener on_damage)
    : log_(log), options_(options), on_damage_(std::move(on_damage)) {}

StorageScrub::~StorageScrub() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void StorageScrub::Start() {
  thread_ = std::thread([this] { Run(); });
}

uint64_t StorageScrub::passes() const {
  absl::MutexLock lock(&mu_);
  return passes_;
}

absl::Status StorageScrub::ScrubLog() {
  if (log_done_) return absl::OkStatus();
  const uint64_t size = log_->Size();
  if (next_entry_ >= size) {
    log_done_ = true;
    return absl::OkStatus();
  }
  const uint64_t end = std::min(size, next_entry_ + options_.entries_per_slice);
  if (absl::Status s = log_->AuditRange(next_entry_, end); !s.ok()) return s;
  next_entry_ = end;
  return absl::OkStatus();
}

absl::Status StorageScrub::ScrubIndex(const std::string& family, bool* done) {
  auto& [start, finished] = index_cursor_[family];
  *done = finished;
  if (finished) return absl::OkStatus();
  // Size() before the scan: an index key may name an entry appended after.
  const uint64_t size = log_->Size();
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> page =
      log_->ScanIndexFrom(family, start, "", options_.index_keys_per_slice);
  if (!page.ok()) {
    return absl::Status(page.status().code(),
                        absl::StrCat("index \"", family, "\" after key ",
                                     HexEncode(start.substr(0, 64)), ": ",
                                     page.status().message()));
  }
  for (const auto& [key, value] : *page) {
    if (absl::Status s = CheckIndexValueShape(family, key, value, size);
        !s.ok()) {
      return s;
    }
  }
  if (page->size() < options_.index_keys_per_slice) {
    finished = true;
  } else {
    start = page->back().first + std::string(1, '\0');
  }
  *done = finished;
  return absl::OkStatus();
}

absl::Status StorageScrub::ScrubSlice() {
  Damage kind = Damage::kLog;
  absl::Status found;
  {
    absl::MutexLock lock(&mu_);
    if (!damage_.ok()) return damage_;
    found = ScrubLog();
    bool all_done = log_done_;
    if (found.ok()) {
      kind = Damage::kIndex;
      for (const std::string& family : log_->IndexFamilies()) {
        bool done = false;
        found = ScrubIndex(family, &done);
        if (!found.ok()) break;
        all_done = all_done && done;
      }
    }
    if (found.ok()) {
      if (all_done) {
        ++passes_;
        next_entry_ = 0;
        log_done_ = false;
        index_cursor_.clear();
        spdlog::info("storage scrub: pass {} complete, no damage found",
                     passes_);
      }
      return absl::OkStatus();
    }
    // A read that failed for a reason other than damage (an I/O error) is
    // reported the same way: the operator must look either way.
    damage_ = found;
  }
  spdlog::error(
      "storage scrub found damage in {}: {}. Stop parleyd and run `parleyd "
      "check --data DIR` (docs/OPERATIONS.md, \"Checking and repairing "
      "storage\"); the scrub stops here",
      kind == Damage::kLog ? "the log" : "an index", found.ToString());
  if (on_damage_) on_damage_(kind, found);
  return found;
}

void StorageScrub::Run() {
  absl::MutexLock lock(&mu_);
  while (!stopping_ && damage_.ok()) {
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.interval);
    if (stopping_) break;
    mu_.Unlock();
    ScrubSlice().IgnoreError();
    mu_.Lock();
  }
}

}  // namespace parley
