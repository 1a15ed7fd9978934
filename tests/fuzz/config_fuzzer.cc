// ParseConfigToml (server/config.h): parleyd's TOML file, with toml++.
//
// Properties: a refusal is InvalidArgument; an accepted file yields the
// ranges the parser promises (positive intervals, a scrub rate in
// 0..1000000), and applying the same file again to its own result
// succeeds and changes nothing the file sets.

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/config.h"
#include "tests/fuzz/fuzz_util.h"

namespace parley {
namespace {

bool SameConfig(const ServerConfig& a, const ServerConfig& b) {
  return a.listen == b.listen && a.data == b.data &&
         a.log_level == b.log_level &&
         a.tls_server_names == b.tls_server_names &&
         a.tls_cert_file == b.tls_cert_file &&
         a.tls_key_file == b.tls_key_file &&
         a.checkpoint_interval == b.checkpoint_interval &&
         a.scrub_entries_per_second == b.scrub_entries_per_second &&
         a.max_message_bytes == b.max_message_bytes &&
         a.min_free_disk_bytes == b.min_free_disk_bytes &&
         a.session_ttl == b.session_ttl &&
         a.run_deadline_watcher == b.run_deadline_watcher &&
         a.shutdown_grace == b.shutdown_grace;
}

}  // namespace
}  // namespace parley

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  parley::ServerConfig config;
  absl::Status s = parley::ParseConfigToml(text, "fuzz.toml", &config);
  if (!s.ok()) {
    PARLEY_FUZZ_CHECK(absl::IsInvalidArgument(s));
    return 0;
  }
  PARLEY_FUZZ_CHECK(config.checkpoint_interval > absl::ZeroDuration());
  PARLEY_FUZZ_CHECK(config.session_ttl > absl::ZeroDuration());
  PARLEY_FUZZ_CHECK(config.shutdown_grace >= absl::ZeroDuration());
  PARLEY_FUZZ_CHECK(config.scrub_entries_per_second >= 0 &&
                    config.scrub_entries_per_second <= 1000000);
  // LoadServerConfig checks the listen address next.
  (void)parley::ValidateListenAddress(config.listen);
  parley::ServerConfig again = config;
  PARLEY_FUZZ_CHECK(parley::ParseConfigToml(text, "fuzz.toml", &again).ok());
  PARLEY_FUZZ_CHECK(parley::SameConfig(again, config));
  return 0;
}
