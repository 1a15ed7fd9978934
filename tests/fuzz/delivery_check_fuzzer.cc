// CheckDeliveredEntry (client/core/delivery_check.h): log entry bytes as a
// server delivers them, checked before a device stores or shows them.
//
// Properties: an entry it accepts is one DecodeLogEntry accepts too, of
// the same type PeekEntryType reads, and (the encoding being canonical)
// encodes back to the exact bytes; a refusal is DataLoss naming the index.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/core/delivery_check.h"
#include "crypto/ed25519.h"
#include "storage/tlog/log_entry.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  PARLEY_FUZZ_CHECK(parley::InitCrypto().ok());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<parley::LogEntry> entry =
      parley::CheckDeliveredEntry(/*index=*/41, bytes);
  if (!entry.ok()) {
    PARLEY_FUZZ_CHECK(absl::IsDataLoss(entry.status()));
    PARLEY_FUZZ_CHECK(entry.status().message().find("41") !=
                      std::string_view::npos);
    return 0;
  }
  PARLEY_FUZZ_CHECK(parley::DecodeLogEntry(bytes).ok());
  absl::StatusOr<parley::EntryType> type = parley::PeekEntryType(bytes);
  PARLEY_FUZZ_CHECK(type.ok() && *type == entry->type());
  PARLEY_FUZZ_CHECK(parley::EncodeLogEntry(*entry) == bytes);
  return 0;
}
