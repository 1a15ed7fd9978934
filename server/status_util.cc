#include "server/status_util.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace parley {
namespace {

// The longest prefix of `s` of at most `max` bytes that does not end inside
// a UTF-8 sequence.
absl::string_view Prefix(absl::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  std::string message(Prefix(status.message(), kMaxStatusMessageBytes));
  if (message.size() < status.message().size()) {
    absl::StrAppend(&message, "... (message cut)");
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::move(message));
}

std::string Quote(absl::string_view input) {
  absl::string_view shown = Prefix(input, kMaxQuotedBytes);
  std::string out = absl::StrCat("\"", absl::CEscape(shown), "\"");
  if (shown.size() < input.size()) {
    // CEscape may grow the text; the cut is on the input, the size honest.
    absl::StrAppend(&out, "... (", input.size(), " bytes)");
  }
  return out;
}

}  // namespace parley
