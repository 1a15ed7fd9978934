// Shared by the fuzz targets in tests/fuzz/. Header only.
#ifndef PARLEY_TESTS_FUZZ_FUZZ_UTIL_H_
#define PARLEY_TESTS_FUZZ_FUZZ_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

// Aborts when a property the target checks does not hold (libFuzzer and the
// replay driver both report an abort as a crash, with the input kept).
#define PARLEY_FUZZ_CHECK(cond)                                                \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, \
                   #cond);                                                     \
      std::abort();                                                            \
    }                                                                          \
  } while (0)

namespace parley {

// For the structure-aware targets, which change a valid object built from
// fixed seeds. Applies up to 16 four-byte edits {op, pos_hi, pos_lo, value}:
// op % 4 is 0 xor `value` into the byte at pos, 1 insert `value` before pos,
// 2 erase the byte at pos, 3 truncate at pos (pos taken modulo the current
// size).
inline std::string ApplyEdits(std::string bytes, std::string_view edits) {
  for (int n = 0; edits.size() >= 4 && n < 16; ++n, edits.remove_prefix(4)) {
    const uint8_t op = static_cast<uint8_t>(edits[0]) % 4;
    const size_t pos =
        (static_cast<uint8_t>(edits[1]) << 8) | static_cast<uint8_t>(edits[2]);
    const char value = edits[3];
    if (bytes.empty()) {
      if (op == 1) bytes.push_back(value);
      continue;
    }
    const size_t at = pos % bytes.size();
    switch (op) {
      case 0:
        bytes[at] = static_cast<char>(bytes[at] ^ value);
        break;
      case 1:
        bytes.insert(bytes.begin() + static_cast<ptrdiff_t>(at), value);
        break;
      case 2:
        bytes.erase(at, 1);
        break;
      case 3:
        bytes.resize(at);
        break;
    }
  }
  return bytes;
}

}  // namespace parley

#endif  // PARLEY_TESTS_FUZZ_FUZZ_UTIL_H_
