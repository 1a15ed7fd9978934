#ifndef PARLEY_CRYPTO_WIRE_H_
#define PARLEY_CRYPTO_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace parley {

// Canonical binary encoding shared by every signed structure: big-endian
// fixed-width integers, fixed-size byte fields, and variable fields prefixed
// by a big-endian length of stated width. There is exactly one encoding of a
// value, so signed bytes can be rebuilt and compared byte for byte.
class WireWriter {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U16(uint16_t v);
  void U32(uint32_t v);
  void U64(uint64_t v);
  // Appends `bytes` verbatim (the reader knows the size).
  void Fixed(std::string_view bytes) { out_.append(bytes); }
  // Appends a 1-byte length then `bytes`. REQUIRES: bytes.size() <= 255.
  void Bytes8(std::string_view bytes);
  // Appends a 2-byte length then `bytes`. REQUIRES: bytes.size() <= 65535.
  void Bytes16(std::string_view bytes);
  // Appends a 4-byte length then `bytes`. REQUIRES: bytes.size() < 2^32.
  void Bytes32(std::string_view bytes);

  const std::string& bytes() const { return out_; }
  std::string Release() { return std::move(out_); }

 private:
  std::string out_;
};

// Strict reader over a byte string. Each read names the field; the first
// failure is remembered and every later read fails, so callers check once:
//
//   WireReader r(bytes, "signed prekey");
//   uint32_t id; r.U32("key id", &id); ...
//   if (absl::Status s = r.Finish(); !s.ok()) return s;
//
// Errors are InvalidArgument with "<what>: <field>: <problem>".
// Not thread-safe; the input must outlive the reader.
class WireReader {
 public:
  WireReader(std::string_view input, std::string_view what)
      : rest_(input), what_(what) {}

  bool U8(std::string_view field, uint8_t* v);
  bool U16(std::string_view field, uint16_t* v);
  bool U32(std::string_view field, uint32_t* v);
  bool U64(std::string_view field, uint64_t* v);
  bool Fixed(std::string_view field, size_t size, std::string_view* v);
  bool Bytes8(std::string_view field, std::string_view* v);
  bool Bytes16(std::string_view field, std::string_view* v);
  bool Bytes32(std::string_view field, std::string_view* v);
  // Records a semantic error (bad value) for `field`; returns false.
  bool Fail(std::string_view field, std::string_view problem);

  size_t remaining() const { return rest_.size(); }
  // Bytes consumed so far, as a view into the input.
  size_t consumed() const { return consumed_; }
  bool ok() const { return status_.ok(); }
  const absl::Status& status() const { return status_; }
  // OK if every read succeeded and no byte is left over.
  absl::Status Finish();

 private:
  bool Take(std::string_view field, size_t n, std::string_view* out);

  std::string_view rest_;
  std::string_view what_;
  size_t consumed_ = 0;
  absl::Status status_;
};

// True if `bytes` is all zero (not constant time; use on public data only).
bool IsAllZero(std::string_view bytes);

}  // namespace parley

#endif  // PARLEY_CRYPTO_WIRE_H_
