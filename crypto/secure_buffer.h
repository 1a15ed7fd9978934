#ifndef PARLEY_CRYPTO_SECURE_BUFFER_H_
#define PARLEY_CRYPTO_SECURE_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace parley {

// Fixed-size secret bytes in sodium_malloc'd memory (guard pages, mlock'd
// where permitted), wiped with sodium_free on destruction. Move-only.
// Aborts if the allocation fails, as libsodium does for its own secrets.
class SecureBuffer {
 public:
  SecureBuffer() = default;
  explicit SecureBuffer(size_t size);
  SecureBuffer(const uint8_t* data, size_t size);
  ~SecureBuffer();

  SecureBuffer(SecureBuffer&& other) noexcept;
  SecureBuffer& operator=(SecureBuffer&& other) noexcept;
  SecureBuffer(const SecureBuffer&) = delete;
  SecureBuffer& operator=(const SecureBuffer&) = delete;

  SecureBuffer Copy() const { return SecureBuffer(data_, size_); }

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const {
    return {reinterpret_cast<const char*>(data_), size_};
  }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace parley

#endif  // PARLEY_CRYPTO_SECURE_BUFFER_H_
