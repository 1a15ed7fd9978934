#include "crypto/wire.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace parley {

void WireWriter::U16(uint16_t v) {
  U8(static_cast<uint8_t>(v >> 8));
  U8(static_cast<uint8_t>(v));
}

void WireWriter::U32(uint32_t v) {
  U16(static_cast<uint16_t>(v >> 16));
  U16(static_cast<uint16_t>(v));
}

void WireWriter::U64(uint64_t v) {
  U32(static_cast<uint32_t>(v >> 32));
  U32(static_cast<uint32_t>(v));
}

void WireWriter::Bytes8(std::string_view bytes) {
  if (bytes.size() > 255) std::abort();  // Callers validate lengths first.
  U8(static_cast<uint8_t>(bytes.size()));
  Fixed(bytes);
}

bool WireReader::Take(std::string_view field, size_t n,
                      std::string_view* out) {
  if (!status_.ok()) return false;
  if (rest_.size() < n) {
    return Fail(field, absl::StrCat("truncated: need ", n, " bytes, have ",
                                    rest_.size()));
  }
  *out = rest_.substr(0, n);
  rest_.remove_prefix(n);
  consumed_ += n;
  return true;
}

bool WireReader::U8(std::string_view field, uint8_t* v) {
  std::string_view b;
  if (!Take(field, 1, &b)) return false;
  *v = static_cast<uint8_t>(b[0]);
  return true;
}

bool WireReader::U16(std::string_view field, uint16_t* v) {
  std::string_view b;
  if (!Take(field, 2, &b)) return false;
  *v = static_cast<uint16_t>((static_cast<uint8_t>(b[0]) << 8) |
                             static_cast<uint8_t>(b[1]));
  return true;
}

bool WireReader::U32(std::string_view field, uint32_t* v) {
  std::string_view b;
  if (!Take(field, 4, &b)) return false;
  uint32_t x = 0;
  for (char c : b) x = (x << 8) | static_cast<uint8_t>(c);
  *v = x;
  return true;
}

bool WireReader::U64(std::string_view field, uint64_t* v) {
  std::string_view b;
  if (!Take(field, 8, &b)) return false;
  uint64_t x = 0;
  for (char c : b) x = (x << 8) | static_cast<uint8_t>(c);
  *v = x;
  return true;
}

bool WireReader::Fixed(std::string_view field, size_t size,
                       std::string_view* v) {
  return Take(field, size, v);
}

void WireWriter::Bytes16(std::string_view bytes) {
  if (bytes.size() > 0xffff) std::abort();  // Callers validate lengths first.
  U16(static_cast<uint16_t>(bytes.size()));
  Fixed(bytes);
}

void WireWriter::Bytes32(std::string_view bytes) {
  if (bytes.size() > 0xffffffffu) std::abort();
  U32(static_cast<uint32_t>(bytes.size()));
  Fixed(bytes);
}

bool WireReader::Bytes16(std::string_view field, std::string_view* v) {
  uint16_t len = 0;
  if (!U16(field, &len)) return false;
  return Take(field, len, v);
}

bool WireReader::Bytes32(std::string_view field, std::string_view* v) {
  uint32_t len = 0;
  if (!U32(field, &len)) return false;
  return Take(field, len, v);
}

bool WireReader::Bytes8(std::string_view field, std::string_view* v) {
  uint8_t len = 0;
  if (!U8(field, &len)) return false;
  return Take(field, len, v);
}

bool WireReader::Fail(std::string_view field, std::string_view problem) {
  if (status_.ok()) {
    status_ = absl::InvalidArgumentError(
        absl::StrCat(std::string(what_), ": ", std::string(field), ": ",
                     std::string(problem)));
  }
  return false;
}

absl::Status WireReader::Finish() {
  if (status_.ok() && !rest_.empty()) {
    status_ = absl::InvalidArgumentError(absl::StrCat(
        std::string(what_), ": ", rest_.size(), " unexpected trailing bytes"));
  }
  return status_;
}

bool IsAllZero(std::string_view bytes) {
  for (char c : bytes) {
    if (c != 0) return false;
  }
  return true;
}

}  // namespace parley
