#ifndef PARLEY_CLIENT_CORE_PAYLOADS_H_
#define PARLEY_CLIENT_CORE_PAYLOADS_H_

// Plaintext formats inside backchannel envelopes, by content type. All use
// the canonical encoding of crypto/wire.h and are parsed strictly.
//
//   text/plain                UTF-8 text as typed
//   application/octet-stream  vec8 filename || file bytes
//   application/vnd.parley.relay-verbatim
//                             u32 len || original envelope bytes
//                             || original content key (32 bytes)
//   application/vnd.parley.relay-anonymous
//                             u64 source log index || vec8 original content
//                             type || original plaintext

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "crypto/secure_buffer.h"

namespace parley {

inline constexpr char kTextContentType[] = "text/plain";
inline constexpr char kFileContentType[] = "application/octet-stream";
inline constexpr char kVerbatimRelayContentType[] =
    "application/vnd.parley.relay-verbatim";
inline constexpr char kAnonymousRelayContentType[] =
    "application/vnd.parley.relay-anonymous";

struct FilePayload {
  std::string filename;  // base name only, 1..255 bytes
  std::string data;
};
// InvalidArgument if the filename is empty, too long or holds '/'.
absl::StatusOr<std::string> EncodeFilePayload(const FilePayload& file);
absl::StatusOr<FilePayload> DecodeFilePayload(std::string_view payload);

struct VerbatimRelay {
  std::string envelope;     // the original signed envelope, verbatim
  SecureBuffer content_key; // its content key (32 bytes)
};
std::string EncodeVerbatimRelay(std::string_view envelope,
                                const SecureBuffer& content_key);
absl::StatusOr<VerbatimRelay> DecodeVerbatimRelay(std::string_view payload);

struct AnonymousRelay {
  uint64_t source_index = 0;
  std::string content_type;
  std::string plaintext;
};
std::string EncodeAnonymousRelay(const AnonymousRelay& relay);
absl::StatusOr<AnonymousRelay> DecodeAnonymousRelay(std::string_view payload);

}  // namespace parley

#endif  // PARLEY_CLIENT_CORE_PAYLOADS_H_
