// Fuzzes the decoders that untrusted text and plaintext reach: HexDecode
// and Base64Decode (verifier keys, notes, checkpoints, proofs, the CLI) and
// UnpadPayload (every decrypted envelope payload).
//
// The first input byte selects the decoder; the rest is its input. Each
// accepts exactly one encoding of a value: what decodes re-encodes to the
// input (hex up to letter case, which HexDecode accepts either way).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "crypto/encoding.h"
#include "crypto/padding.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace parley;
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1,
                              size - 1);
  switch (data[0] % 3) {
    case 0: {
      absl::StatusOr<std::string> bytes = HexDecode(rest);
      if (bytes.ok()) {
        std::string lower(rest);
        absl::AsciiStrToLower(&lower);
        PARLEY_FUZZ_CHECK(HexEncode(*bytes) == lower);
      }
      break;
    }
    case 1: {
      absl::StatusOr<std::string> bytes = Base64Decode(rest);
      if (bytes.ok()) PARLEY_FUZZ_CHECK(Base64Encode(*bytes) == rest);
      break;
    }
    case 2: {
      absl::StatusOr<std::string> payload = UnpadPayload(rest);
      if (payload.ok()) {
        absl::StatusOr<std::string> padded = PadPayload(*payload);
        PARLEY_FUZZ_CHECK(padded.ok() && *padded == rest);
      }
      break;
    }
  }
  return 0;
}
