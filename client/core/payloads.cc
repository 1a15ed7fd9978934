#include "client/core/payloads.h"

#include "crypto/envelope.h"
#include "crypto/wire.h"

namespace parley {

absl::StatusOr<std::string> EncodeFilePayload(const FilePayload& file) {
  if (file.filename.empty() || file.filename.size() > 255 ||
      file.filename.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(
        "file name must be 1-255 bytes without '/'");
  }
  WireWriter w;
  w.Bytes8(file.filename);
  w.Fixed(file.data);
  return w.Release();
}

absl::StatusOr<FilePayload> DecodeFilePayload(std::string_view payload) {
  WireReader r(payload, "file payload");
  std::string_view name;
  r.Bytes8("filename", &name);
  if (r.ok() && (name.empty() || name.find('/') != std::string_view::npos)) {
    r.Fail("filename", "empty or holds '/'");
  }
  std::string_view data;
  if (r.ok()) r.Fixed("data", r.remaining(), &data);
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  return FilePayload{std::string(name), std::string(data)};
}

std::string EncodeVerbatimRelay(std::string_view envelope,
                                const SecureBuffer& content_key) {
  WireWriter w;
  w.Bytes32(envelope);
  w.Fixed(content_key.view());
  return w.Release();
}

absl::StatusOr<VerbatimRelay> DecodeVerbatimRelay(std::string_view payload) {
  WireReader r(payload, "verbatim relay");
  std::string_view envelope;
  std::string_view key;
  r.Bytes32("envelope", &envelope);
  r.Fixed("content key", kContentKeySize, &key);
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  VerbatimRelay out;
  out.envelope = std::string(envelope);
  out.content_key = SecureBuffer(reinterpret_cast<const uint8_t*>(key.data()),
                                 key.size());
  return out;
}

std::string EncodeAnonymousRelay(const AnonymousRelay& relay) {
  WireWriter w;
  w.U64(relay.source_index);
  w.Bytes8(relay.content_type);
  w.Fixed(relay.plaintext);
  return w.Release();
}

absl::StatusOr<AnonymousRelay> DecodeAnonymousRelay(std::string_view payload) {
  WireReader r(payload, "anonymous relay");
  AnonymousRelay out;
  std::string_view type;
  std::string_view text;
  r.U64("source index", &out.source_index);
  r.Bytes8("content type", &type);
  if (r.ok() && type.empty()) r.Fail("content type", "empty");
  if (r.ok()) r.Fixed("plaintext", r.remaining(), &text);
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  out.content_type = std::string(type);
  out.plaintext = std::string(text);
  return out;
}

}  // namespace parley
