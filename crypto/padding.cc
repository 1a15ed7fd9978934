#include "crypto/padding.h"

#include "absl/status/status.h"

namespace parley {
namespace {

constexpr size_t kMinBucket = 256;
constexpr size_t kLargeStep = 1024 * 1024;

}  // namespace

size_t PaddedSize(size_t payload_size) {
  const size_t need = payload_size + 1;
  if (need > kLargeStep) return (need + kLargeStep - 1) / kLargeStep * kLargeStep;
  size_t bucket = kMinBucket;
  while (bucket < need) bucket *= 2;
  return bucket;
}

bool IsPaddedSize(size_t size) {
  if (size == 0 || size > PaddedSize(kMaxPayloadSize)) return false;
  if (size >= kLargeStep) return size % kLargeStep == 0;
  return size >= kMinBucket && (size & (size - 1)) == 0;
}

absl::StatusOr<std::string> PadPayload(std::string_view payload) {
  if (payload.size() > kMaxPayloadSize) {
    return absl::InvalidArgumentError("payload larger than 16 MiB");
  }
  std::string out(PaddedSize(payload.size()), '\0');
  out.replace(0, payload.size(), payload);
  out[payload.size()] = static_cast<char>(0x80);
  return out;
}

absl::StatusOr<std::string> UnpadPayload(std::string_view padded) {
  if (!IsPaddedSize(padded.size())) {
    return absl::InvalidArgumentError("padded payload has no bucket size");
  }
  size_t end = padded.size();
  while (end > 0 && padded[end - 1] == '\0') --end;
  if (end == 0 || static_cast<uint8_t>(padded[end - 1]) != 0x80) {
    return absl::InvalidArgumentError("padded payload lacks the 0x80 marker");
  }
  const size_t payload_size = end - 1;
  if (PaddedSize(payload_size) != padded.size()) {
    return absl::InvalidArgumentError("payload padded to the wrong bucket");
  }
  return std::string(padded.substr(0, payload_size));
}

}  // namespace parley
