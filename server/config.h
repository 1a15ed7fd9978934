#ifndef PARLEY_SERVER_CONFIG_H_
#define PARLEY_SERVER_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/deconfliction_options.h"
#include "server/rate_limit.h"

namespace parley {

// Everything parleyd can be told. Sources, lowest precedence first:
// built-in defaults, the TOML file (--config), command-line flags.
// deploy/parleyd.toml documents every key.
struct ServerConfig {
  std::string listen = "127.0.0.1:7443";
  std::string data = "./var/parley";
  std::string log_level = "info";

  // [tls]
  std::vector<std::string> tls_server_names;  // Extra SANs for `init`.
  std::string tls_cert_file;  // Operator certificate chain; empty: dev PKI.
  std::string tls_key_file;

  // [log]
  absl::Duration checkpoint_interval = absl::Milliseconds(1000);
  // Background storage scrub (server/storage_scrub.h): log entries verified
  // per second (index keys: 4 times as many); 0 turns it off.
  int64_t scrub_entries_per_second = 128;

  // [limits]
  uint64_t max_message_bytes = 256 * 1024;
  LimitOptions limits;
  // Writes are refused (UNAVAILABLE) while the data directory's file system
  // has less free space than this, and resume by themselves when it has
  // more again; RocksDB never runs out of space mid-write.
  uint64_t min_free_disk_bytes = 256ull << 20;

  // [auth]
  absl::Duration session_ttl = absl::Minutes(15);

  // [deconfliction]
  DeconflictionOptions deconfliction;
  // Tests drive deadlines by hand with a fake clock.
  bool run_deadline_watcher = true;

  // [shutdown]
  absl::Duration shutdown_grace = absl::Seconds(10);
};

// Command-line values; unset fields leave the file's (or default) value.
struct ConfigOverrides {
  std::optional<std::string> listen;
  std::optional<std::string> data;
  std::optional<std::string> log_level;
};

// Parses TOML text into `config` (fields absent from the text keep their
// value). Fails with InvalidArgument naming the key on a type error, an
// unknown key or an out-of-range value, and with the line and column on a
// syntax error.
absl::Status ParseConfigToml(absl::string_view toml_text,
                             absl::string_view source_name,
                             ServerConfig* config);

// Defaults, then the file at `config_path` (if non-empty), then `overrides`.
// Fails with NotFound if the file does not exist.
absl::StatusOr<ServerConfig> LoadServerConfig(const std::string& config_path,
                                              const ConfigOverrides& overrides);

// Validates a "host:port" or "[v6]:port" listen address.
absl::Status ValidateListenAddress(absl::string_view address);

}  // namespace parley

#endif  // PARLEY_SERVER_CONFIG_H_
