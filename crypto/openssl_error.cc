#include "crypto/openssl_error.h"

#include <openssl/err.h>

#include <vector>

#include "absl/strings/str_join.h"

namespace parley {

std::string DrainOpenSslErrors() {
  std::vector<std::string> lines;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    lines.push_back(buf);
  }
  if (lines.empty()) return "no detail from OpenSSL";
  return absl::StrJoin(lines, "; ");
}

}  // namespace parley
