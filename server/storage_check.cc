#include "server/storage_check.h"

#include <iostream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "crypto/clock.h"
#include "crypto/encoding.h"
#include "server/ledger.h"

namespace parley {
namespace {

// Hex of at most the first 64 bytes (values can be kilobytes).
std::string ShortHex(std::string_view bytes) {
  constexpr size_t kMax = 64;
  if (bytes.size() <= kMax) return HexEncode(bytes);
  return absl::StrCat(HexEncode(bytes.substr(0, kMax)), "... (", bytes.size(),
                      " bytes)");
}

IndexMismatch Mismatch(IndexMismatch::Kind kind, std::string key,
                       std::string expected, std::string stored) {
  IndexMismatch m;
  m.kind = kind;
  m.key = std::move(key);
  m.expected = std::move(expected);
  m.stored = std::move(stored);
  return m;
}

void Say(const std::function<void(std::string_view)>& progress,
         std::string_view line) {
  if (progress) progress(line);
}

// What the log implies, per family: key -> value (last write wins).
using Expected = std::map<std::string, std::map<std::string, std::string>>;

// Compares one stored family with its expected keys, both ways, in key
// order; records the first difference and counts them all.
absl::Status CompareFamily(LogStore* log, const std::string& family,
                           const std::map<std::string, std::string>& expected,
                           StorageCheckReport* report) {
  constexpr size_t kPage = 4096;
  uint64_t& count = report->mismatches[family];
  uint64_t& checked = report->keys_checked[family];
  auto note = [&](IndexMismatch m) {
    ++count;
    m.column_family = family;
    report->first_mismatch.try_emplace(family, std::move(m));
  };
  auto want = expected.begin();
  std::string start;
  bool more = true;
  while (more) {
    absl::StatusOr<std::vector<std::pair<std::string, std::string>>> page =
        log->ScanIndexFrom(family, start, "", kPage);
    if (!page.ok()) {
      IndexMismatch m;
      m.kind = IndexMismatch::Kind::kUnreadable;
      m.key = start;
      m.detail = page.status().ToString();
      note(std::move(m));
      return absl::OkStatus();  // The rest of this family cannot be read.
    }
    more = page->size() == kPage;
    for (auto& [key, value] : *page) {
      ++checked;
      for (; want != expected.end() && want->first < key; ++want) {
        note(Mismatch(IndexMismatch::Kind::kMissing, want->first, want->second,
                      ""));
      }
      if (want == expected.end() || want->first != key) {
        note(Mismatch(IndexMismatch::Kind::kExtra, key, "", value));
        continue;
      }
      if (want->second != value) {
        note(Mismatch(IndexMismatch::Kind::kDifferent, key, want->second,
                      value));
      }
      ++want;
    }
    if (!page->empty()) start = page->back().first + std::string(1, '\0');
  }
  for (; want != expected.end(); ++want) {
    note(Mismatch(IndexMismatch::Kind::kMissing, want->first, want->second,
                      ""));
  }
  if (count == 0) report->mismatches.erase(family);
  return absl::OkStatus();
}

}  // namespace

std::string IndexMismatch::Describe() const {
  switch (kind) {
    case Kind::kMissing:
      return absl::StrCat("index \"", column_family, "\": key ",
                          ShortHex(key), " is missing; the log implies value ",
                          ShortHex(expected));
    case Kind::kExtra:
      return absl::StrCat("index \"", column_family, "\": key ",
                          ShortHex(key), " (value ", ShortHex(stored),
                          ") is not implied by the log");
    case Kind::kDifferent:
      return absl::StrCat("index \"", column_family, "\": key ",
                          ShortHex(key), " holds ", ShortHex(stored),
                          "; the log implies ", ShortHex(expected));
    case Kind::kUnreadable:
      return absl::StrCat("index \"", column_family,
                          "\" cannot be read from key ",
                          key.empty() ? "(start)" : ShortHex(key), ": ",
                          detail);
  }
  return "";
}

absl::StatusOr<StorageCheckReport> CheckStore(
    LogStore* log, const std::function<void(std::string_view)>& progress) {
  StorageCheckReport report;
  report.entries = log->Size();
  Say(progress, absl::StrCat("checking the log: ", report.entries,
                             " entries, the tree and every checkpoint"));
  report.log = log->Audit([&](uint64_t done, uint64_t total) {
    Say(progress, absl::StrCat("  ", done, " / ", total, " entries"));
  });
  if (!report.log.ok()) {
    if (report.log.code() != absl::StatusCode::kDataLoss) return report.log;
    return report;
  }

  Say(progress, "replaying the log to derive every index");
  Expected expected;
  for (const std::string& family : log->IndexFamilies()) expected[family];
  absl::Status replay = Ledger::ReplayIndexPuts(
      log, &SystemClock(),
      [&](uint64_t, std::vector<IndexPut> puts) {
        for (IndexPut& put : puts) {
          expected[put.column_family][std::move(put.key)] =
              std::move(put.value);
        }
        return absl::OkStatus();
      });
  if (!replay.ok()) {
    // The audit passed, so the entries verify: an entry that cannot be
    // replayed is a log the server could never have written.
    if (replay.code() != absl::StatusCode::kDataLoss) return replay;
    report.log = replay;
    return report;
  }
  for (const auto& [family, keys] : expected) {
    Say(progress, absl::StrCat("comparing index \"", family, "\" (",
                               keys.size(), " keys expected)"));
    if (absl::Status s = CompareFamily(log, family, keys, &report); !s.ok()) {
      return s;
    }
  }
  return report;
}

absl::StatusOr<uint64_t> RebuildIndexes(
    LogStore* log, const std::function<void(std::string_view)>& progress) {
  Say(progress, "checking the log before rebuilding from it");
  if (absl::Status s = log->Audit(); !s.ok()) {
    return absl::DataLossError(absl::StrCat(
        "refusing to rebuild the indexes: the log itself is damaged (",
        s.message(), "); restore the data directory from a backup"));
  }
  // Replay once before touching anything, so a log that cannot be replayed
  // leaves the indexes as they were.
  if (absl::Status s = Ledger::ReplayIndexPuts(
          log, &SystemClock(),
          [](uint64_t, std::vector<IndexPut>) { return absl::OkStatus(); });
      !s.ok()) {
    return absl::DataLossError(absl::StrCat(
        "refusing to rebuild the indexes: the log cannot be replayed (",
        s.message(), "); restore the data directory from a backup"));
  }
  Say(progress, "dropping every index and writing it again from the log");
  if (absl::Status s = log->BeginIndexRebuild(LedgerIndexFamilies());
      !s.ok()) {
    return s;
  }
  uint64_t written = 0;
  std::vector<IndexPut> batch;
  auto flush = [&]() -> absl::Status {
    if (batch.empty()) return absl::OkStatus();
    absl::Status s = log->WriteIndexPuts(batch);
    written += batch.size();
    batch.clear();
    return s;
  };
  absl::Status replay = Ledger::ReplayIndexPuts(
      log, &SystemClock(), [&](uint64_t, std::vector<IndexPut> puts) {
        for (IndexPut& put : puts) batch.push_back(std::move(put));
        return batch.size() >= 4096 ? flush() : absl::OkStatus();
      });
  if (!replay.ok()) return replay;
  if (absl::Status s = flush(); !s.ok()) return s;
  if (absl::Status s = log->FinishIndexRebuild(); !s.ok()) return s;
  return written;
}

absl::StatusOr<OfflineStore> OpenStoreOffline(
    const std::string& data_dir, bool allow_interrupted_index_rebuild) {
  OfflineStore store;
  absl::StatusOr<std::unique_ptr<DataDir>> dir =
      DataDir::Open(data_dir, absl::Now());
  if (!dir.ok()) return dir.status();
  store.dir = *std::move(dir);
  LogOptions options;
  options.path = store.dir->db_path();
  options.origin = store.dir->origin();
  options.signer = &store.dir->log_key();
  options.background_checkpoints = false;
  options.allow_interrupted_index_rebuild = allow_interrupted_index_rebuild;
  absl::StatusOr<std::unique_ptr<LogStore>> log =
      LogStore::Open(options, LedgerIndexFamilies());
  if (!log.ok()) return log.status();
  store.log = *std::move(log);
  return store;
}

int RunStorageCheck(const std::string& data_dir) {
  absl::StatusOr<OfflineStore> store = OpenStoreOffline(data_dir, false);
  if (!store.ok()) {
    std::cerr << "parleyd check: " << store.status().message() << "\n";
    return store.status().code() == absl::StatusCode::kDataLoss
               ? kCheckLogDamaged
               : kCheckCannotRun;
  }
  absl::StatusOr<StorageCheckReport> report =
      CheckStore(store->log.get(), [](std::string_view line) {
        std::cout << line << "\n" << std::flush;
      });
  if (!report.ok()) {
    std::cerr << "parleyd check: " << report.status().message() << "\n";
    return kCheckCannotRun;
  }
  if (!report->log.ok()) {
    std::cout << "LOG DAMAGED: " << report->log.message() << "\n"
              << "The log is the source of truth and cannot be rebuilt: "
                 "restore the data directory from a backup (and keep this "
                 "copy for investigation).\n";
    return kCheckLogDamaged;
  }
  for (const auto& [family, checked] : report->keys_checked) {
    auto bad = report->mismatches.find(family);
    std::cout << "index \"" << family << "\": " << checked << " keys, "
              << (bad == report->mismatches.end() ? 0 : bad->second)
              << " differ from the log\n";
  }
  if (report->clean()) {
    std::cout << "OK: " << report->entries
              << " entries, the tree, every checkpoint and every index "
                 "verify\n";
    return kCheckClean;
  }
  for (const auto& [family, mismatch] : report->first_mismatch) {
    std::cout << "INDEX DAMAGED: " << mismatch.Describe() << "\n";
  }
  std::cout << "The log itself verifies. Rebuild the indexes from it (with "
               "parleyd stopped): parleyd repair --rebuild-indexes --data "
            << data_dir << "\n";
  return kCheckIndexDamaged;
}

int RunIndexRebuild(const std::string& data_dir) {
  absl::StatusOr<OfflineStore> store = OpenStoreOffline(data_dir, true);
  if (!store.ok()) {
    std::cerr << "parleyd repair: " << store.status().message() << "\n";
    return store.status().code() == absl::StatusCode::kDataLoss
               ? kCheckLogDamaged
               : kCheckCannotRun;
  }
  absl::StatusOr<uint64_t> written =
      RebuildIndexes(store->log.get(), [](std::string_view line) {
        std::cout << line << "\n" << std::flush;
      });
  if (!written.ok()) {
    std::cerr << "parleyd repair: " << written.status().message() << "\n";
    return written.status().code() == absl::StatusCode::kDataLoss
               ? kCheckLogDamaged
               : kCheckCannotRun;
  }
  std::cout << "Rebuilt every index from " << store->log->Size()
            << " log entries (" << *written
            << " index writes). Run parleyd check to confirm.\n";
  return kCheckClean;
}

}  // namespace parley
