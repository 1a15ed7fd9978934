#include "crypto/secure_buffer.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <utility>

namespace parley {

SecureBuffer::SecureBuffer(size_t size) : size_(size) {
  if (size_ == 0) return;
  // sodium_malloc needs libsodium initialised; sodium_init is idempotent
  // and thread-safe, so no caller can forget it.
  static const int initialised = sodium_init();
  if (initialised < 0) std::abort();
  data_ = static_cast<uint8_t*>(sodium_malloc(size_));
  if (data_ == nullptr) std::abort();
  sodium_memzero(data_, size_);
}

SecureBuffer::SecureBuffer(const uint8_t* data, size_t size)
    : SecureBuffer(size) {
  if (size_ != 0) std::memcpy(data_, data, size_);
}

SecureBuffer::~SecureBuffer() {
  if (data_ != nullptr) sodium_free(data_);
}

SecureBuffer::SecureBuffer(SecureBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

SecureBuffer& SecureBuffer::operator=(SecureBuffer&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) sodium_free(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

}  // namespace parley
