// Fuzzes DecodeLogEntry: the leaf bytes an auditor or client reads from the
// log, in proof bundles and log exports.
//
// The input is one encoded entry. Properties: PeekEntryType agrees with a
// successful decode, and the encoding is canonical: an entry that decodes
// re-encodes to exactly the input bytes (so decode(encode(decode(x))) is
// decode(x)); a leaf hash therefore names one entry.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "storage/tlog/log_entry.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace parley;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<EntryType> type = PeekEntryType(bytes);
  absl::StatusOr<LogEntry> entry = DecodeLogEntry(bytes);
  if (!entry.ok()) return 0;
  PARLEY_FUZZ_CHECK(type.ok() && *type == entry->type());
  PARLEY_FUZZ_CHECK(!EntryTypeName(entry->type()).empty());
  const std::string encoded = EncodeLogEntry(*entry);
  PARLEY_FUZZ_CHECK(encoded == bytes);
  return 0;
}
