// Backchannel payloads (client/core/payloads.h): plaintext another member
// sealed. Every input is decoded as each of the three formats.
//
// Properties: the encodings are canonical, so whatever a decoder accepts
// encodes back to the exact input bytes; and what it returns has the shape
// the header promises (a base-name file name, a 32-byte content key, a
// non-empty content type).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "client/core/payloads.h"
#include "crypto/ed25519.h"
#include "crypto/envelope.h"
#include "tests/fuzz/fuzz_util.h"

namespace parley {
namespace {

void FuzzFile(std::string_view payload) {
  absl::StatusOr<FilePayload> file = DecodeFilePayload(payload);
  if (!file.ok()) return;
  PARLEY_FUZZ_CHECK(!file->filename.empty() && file->filename.size() <= 255);
  PARLEY_FUZZ_CHECK(file->filename.find('/') == std::string::npos);
  absl::StatusOr<std::string> encoded = EncodeFilePayload(*file);
  PARLEY_FUZZ_CHECK(encoded.ok());
  PARLEY_FUZZ_CHECK(*encoded == payload);
}

void FuzzVerbatim(std::string_view payload) {
  absl::StatusOr<VerbatimRelay> relay = DecodeVerbatimRelay(payload);
  if (!relay.ok()) return;
  PARLEY_FUZZ_CHECK(relay->content_key.size() == kContentKeySize);
  PARLEY_FUZZ_CHECK(EncodeVerbatimRelay(relay->envelope, relay->content_key) ==
                    payload);
}

void FuzzAnonymous(std::string_view payload) {
  absl::StatusOr<AnonymousRelay> relay = DecodeAnonymousRelay(payload);
  if (!relay.ok()) return;
  PARLEY_FUZZ_CHECK(!relay->content_type.empty());
  PARLEY_FUZZ_CHECK(EncodeAnonymousRelay(*relay) == payload);
}

}  // namespace
}  // namespace parley

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  PARLEY_FUZZ_CHECK(parley::InitCrypto().ok());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view payload(reinterpret_cast<const char*>(data), size);
  parley::FuzzFile(payload);
  parley::FuzzVerbatim(payload);
  parley::FuzzAnonymous(payload);
  return 0;
}
