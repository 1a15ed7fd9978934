#ifndef PARLEY_STORAGE_TLOG_STRING_UTIL_H_
#define PARLEY_STORAGE_TLOG_STRING_UTIL_H_

// Debian's Abseil is built with its own absl::string_view (not
// std::string_view), so std::string_view must be converted explicitly before
// it reaches absl::StrCat and friends. Internal to storage/.

#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"

namespace parley::storage_internal {

inline absl::string_view Av(std::string_view s) { return {s.data(), s.size()}; }

// Splits on every `sep`; "" yields {""}.
inline std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

}  // namespace parley::storage_internal

#endif  // PARLEY_STORAGE_TLOG_STRING_UTIL_H_
