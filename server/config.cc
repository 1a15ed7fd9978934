#include "server/config.h"

#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "toml++/toml.h"

namespace parley {
namespace {

const std::set<std::string>& LogLevels() {
  static const auto* levels = new std::set<std::string>{
      "trace", "debug", "info", "warn", "error", "critical", "off"};
  return *levels;
}

absl::Status CheckLogLevel(const std::string& level) {
  if (LogLevels().count(level) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("log_level \"", level, "\" is not one of: ",
                     absl::StrJoin(LogLevels(), ", ")));
  }
  return absl::OkStatus();
}

absl::Status UnknownKeys(const toml::table& table, absl::string_view prefix,
                         const std::set<std::string>& known,
                         absl::string_view source) {
  for (const auto& [key, node] : table) {
    std::string name(key.str());
    if (known.count(name) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": unknown key \"", prefix, name, "\""));
    }
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status Read(const toml::table& table, absl::string_view key,
                  absl::string_view qualified, absl::string_view source,
                  absl::string_view type_name, T* out) {
  const toml::node* node = table.get(std::string_view(key.data(), key.size()));
  if (node == nullptr) return absl::OkStatus();
  std::optional<T> value = node->value_exact<T>();
  if (!value) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": \"", qualified, "\" must be ", type_name));
  }
  *out = *value;
  return absl::OkStatus();
}

absl::Status ReadPositiveMillis(const toml::table& table, absl::string_view key,
                                absl::string_view qualified,
                                absl::string_view source, absl::Duration* out) {
  int64_t ms = absl::ToInt64Milliseconds(*out);
  if (auto s = Read<int64_t>(table, key, qualified, source, "an integer", &ms);
      !s.ok()) {
    return s;
  }
  if (ms <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": \"", qualified, "\" must be positive"));
  }
  *out = absl::Milliseconds(ms);
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseConfigToml(absl::string_view toml_text,
                             absl::string_view source, ServerConfig* config) {
  toml::table root;
  try {
    root = toml::parse(std::string_view(toml_text.data(), toml_text.size()),
                       std::string_view(source.data(), source.size()));
  } catch (const toml::parse_error& err) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ":", err.source().begin.line, ":", err.source().begin.column,
        ": ", std::string(err.description())));
  }
  if (auto s = UnknownKeys(root, "",
                           {"listen", "data", "log_level", "tls", "log",
                            "limits", "auth", "deconfliction", "shutdown"},
                           source);
      !s.ok()) {
    return s;
  }
  const std::string kString = "a string";
  if (auto s = Read(root, "listen", "listen", source, kString, &config->listen);
      !s.ok()) {
    return s;
  }
  if (auto s = Read(root, "data", "data", source, kString, &config->data);
      !s.ok()) {
    return s;
  }
  if (auto s = Read(root, "log_level", "log_level", source, kString,
                    &config->log_level);
      !s.ok()) {
    return s;
  }

  auto section = [&](absl::string_view name,
                     const std::set<std::string>& keys)
      -> absl::StatusOr<const toml::table*> {
    const toml::node* node = root.get(std::string_view(name.data(), name.size()));
    if (node == nullptr) return nullptr;
    const toml::table* table = node->as_table();
    if (table == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": \"", name, "\" must be a table"));
    }
    if (auto s = UnknownKeys(*table, absl::StrCat(name, "."), keys, source);
        !s.ok()) {
      return s;
    }
    return table;
  };

  absl::StatusOr<const toml::table*> tls =
      section("tls", {"server_names", "cert_file", "key_file"});
  if (!tls.ok()) return tls.status();
  if (*tls != nullptr) {
    if (const toml::node* names = (*tls)->get("server_names")) {
      const toml::array* array = names->as_array();
      if (array == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(
            source, ": \"tls.server_names\" must be an array of strings"));
      }
      config->tls_server_names.clear();
      for (const toml::node& item : *array) {
        std::optional<std::string> name = item.value_exact<std::string>();
        if (!name || name->empty()) {
          return absl::InvalidArgumentError(absl::StrCat(
              source, ": \"tls.server_names\" must hold non-empty strings"));
        }
        config->tls_server_names.push_back(*name);
      }
    }
    if (auto s = Read(**tls, "cert_file", "tls.cert_file", source, kString,
                      &config->tls_cert_file);
        !s.ok()) {
      return s;
    }
    if (auto s = Read(**tls, "key_file", "tls.key_file", source, kString,
                      &config->tls_key_file);
        !s.ok()) {
      return s;
    }
  }

  absl::StatusOr<const toml::table*> log =
      section("log", {"checkpoint_interval_ms", "scrub_entries_per_second"});
  if (!log.ok()) return log.status();
  if (*log != nullptr) {
    if (auto s = ReadPositiveMillis(**log, "checkpoint_interval_ms",
                                    "log.checkpoint_interval_ms", source,
                                    &config->checkpoint_interval);
        !s.ok()) {
      return s;
    }
    if (auto s = Read<int64_t>(**log, "scrub_entries_per_second",
                               "log.scrub_entries_per_second", source,
                               "an integer", &config->scrub_entries_per_second);
        !s.ok()) {
      return s;
    }
    if (config->scrub_entries_per_second < 0 ||
        config->scrub_entries_per_second > 1000000) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": \"log.scrub_entries_per_second\" must be between 0 "
          "(off) and 1000000"));
    }
  }

  absl::StatusOr<const toml::table*> limits =
      section("limits",
              {"max_message_bytes", "requests_per_second", "burst",
               "max_streams_per_identity", "max_channel_members",
               "address_requests_per_second", "address_burst",
               "public_requests_per_second", "max_watch_streams_per_address",
               "max_watch_streams", "enrollments_per_minute_per_address",
               "enrollment_attempts_per_invite_per_hour",
               "max_pending_challenges_per_identity", "min_free_disk_mb",
               "refusal_delay_ms"});
  if (!limits.ok()) return limits.status();
  if (*limits != nullptr) {
    int64_t bytes = static_cast<int64_t>(config->max_message_bytes);
    if (auto s = Read<int64_t>(**limits, "max_message_bytes",
                               "limits.max_message_bytes", source,
                               "an integer", &bytes);
        !s.ok()) {
      return s;
    }
    if (bytes < 1024 || bytes > 64 * 1024 * 1024) {
      return absl::InvalidArgumentError(
          absl::StrCat(source,
                       ": \"limits.max_message_bytes\" must be between 1024 "
                       "and 67108864, got ",
                       bytes));
    }
    config->max_message_bytes = static_cast<uint64_t>(bytes);
    struct IntLimit {
      const char* key;
      int64_t min, max;
      std::function<void(int64_t)> set;
    };
    LimitOptions& l = config->limits;
    const IntLimit int_limits[] = {
        {"requests_per_second", 1, 100000,
         [&l](int64_t v) { l.requests_per_second = static_cast<double>(v); }},
        {"burst", 1, 1000000,
         [&l](int64_t v) { l.burst = static_cast<double>(v); }},
        {"max_streams_per_identity", 1, 1000,
         [&l](int64_t v) { l.max_streams_per_identity = static_cast<int>(v); }},
        {"max_channel_members", 2, 1000,
         [&l](int64_t v) { l.max_channel_members = static_cast<int>(v); }},
        {"address_requests_per_second", 1, 100000,
         [&l](int64_t v) {
           l.address_requests_per_second = static_cast<double>(v);
         }},
        {"address_burst", 1, 1000000,
         [&l](int64_t v) { l.address_burst = static_cast<double>(v); }},
        {"public_requests_per_second", 1, 1000000,
         [&l](int64_t v) {
           l.public_requests_per_second = static_cast<double>(v);
         }},
        {"max_watch_streams_per_address", 1, 100000,
         [&l](int64_t v) {
           l.max_watch_streams_per_address = static_cast<int>(v);
         }},
        {"max_watch_streams", 1, 100000,
         [&l](int64_t v) { l.max_watch_streams = static_cast<int>(v); }},
        {"enrollments_per_minute_per_address", 1, 100000,
         [&l](int64_t v) {
           l.enrollments_per_minute_per_address = static_cast<double>(v);
         }},
        {"enrollment_attempts_per_invite_per_hour", 1, 100000,
         [&l](int64_t v) {
           l.enrollment_attempts_per_invite_per_hour = static_cast<double>(v);
         }},
        {"max_pending_challenges_per_identity", 4, 10000,
         [&l](int64_t v) {
           l.max_pending_challenges_per_identity = static_cast<int>(v);
         }},
        {"refusal_delay_ms", 0, 10000,
         [&l](int64_t v) { l.refusal_delay = absl::Milliseconds(v); }},
        {"min_free_disk_mb", 0, 1 << 20,
         [config](int64_t v) {
           config->min_free_disk_bytes = static_cast<uint64_t>(v) << 20;
         }},
    };
    for (const IntLimit& limit : int_limits) {
      const toml::node* node = (*limits)->get(limit.key);
      if (node == nullptr) continue;
      std::optional<int64_t> v = node->value_exact<int64_t>();
      if (!v || *v < limit.min || *v > limit.max) {
        return absl::InvalidArgumentError(absl::StrCat(
            source, ": \"limits.", limit.key, "\" must be an integer from ",
            limit.min, " to ", limit.max));
      }
      limit.set(*v);
    }
  }

  absl::StatusOr<const toml::table*> deconfliction =
      section("deconfliction",
              {"movement_lead_hours", "emergency_lead_hours",
               "reminder_before_hours", "second_escalation_after_hours"});
  if (!deconfliction.ok()) return deconfliction.status();
  if (*deconfliction != nullptr) {
    DeconflictionOptions& d = config->deconfliction;
    struct HourOption {
      const char* key;
      absl::Duration* out;
    };
    const HourOption hours[] = {
        {"movement_lead_hours", &d.movement_lead},
        {"emergency_lead_hours", &d.emergency_lead},
        {"reminder_before_hours", &d.reminder_before},
        {"second_escalation_after_hours", &d.second_escalation_after},
    };
    for (const HourOption& option : hours) {
      const toml::node* node = (*deconfliction)->get(option.key);
      if (node == nullptr) continue;
      std::optional<int64_t> v = node->value_exact<int64_t>();
      if (!v || *v < 0 || *v > 24 * 30) {
        return absl::InvalidArgumentError(
            absl::StrCat(source, ": \"deconfliction.", option.key,
                         "\" must be an integer from 0 to 720 (hours)"));
      }
      *option.out = absl::Hours(*v);
    }
  }

  absl::StatusOr<const toml::table*> auth =
      section("auth", {"session_minutes"});
  if (!auth.ok()) return auth.status();
  if (*auth != nullptr) {
    int64_t minutes = absl::ToInt64Minutes(config->session_ttl);
    if (auto s = Read<int64_t>(**auth, "session_minutes", "auth.session_minutes",
                               source, "an integer", &minutes);
        !s.ok()) {
      return s;
    }
    if (minutes < 1 || minutes > 24 * 60) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": \"auth.session_minutes\" must be from 1 to 1440"));
    }
    config->session_ttl = absl::Minutes(minutes);
  }

  absl::StatusOr<const toml::table*> shutdown =
      section("shutdown", {"grace_seconds"});
  if (!shutdown.ok()) return shutdown.status();
  if (*shutdown != nullptr) {
    int64_t seconds = absl::ToInt64Seconds(config->shutdown_grace);
    if (auto s = Read<int64_t>(**shutdown, "grace_seconds",
                               "shutdown.grace_seconds", source, "an integer",
                               &seconds);
        !s.ok()) {
      return s;
    }
    if (seconds < 0 || seconds > 3600) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": \"shutdown.grace_seconds\" must be between 0 and 3600"));
    }
    config->shutdown_grace = absl::Seconds(seconds);
  }
  return CheckLogLevel(config->log_level);
}

absl::StatusOr<ServerConfig> LoadServerConfig(
    const std::string& config_path, const ConfigOverrides& overrides) {
  ServerConfig config;
  if (!config_path.empty()) {
    std::ifstream in(config_path);
    if (!in) {
      return absl::NotFoundError(
          absl::StrCat("cannot read config file ", config_path));
    }
    std::stringstream text;
    text << in.rdbuf();
    if (auto s = ParseConfigToml(text.str(), config_path, &config); !s.ok()) {
      return s;
    }
  }
  if (overrides.listen) config.listen = *overrides.listen;
  if (overrides.data) config.data = *overrides.data;
  if (overrides.log_level) config.log_level = *overrides.log_level;
  if (auto s = CheckLogLevel(config.log_level); !s.ok()) return s;
  if (auto s = ValidateListenAddress(config.listen); !s.ok()) return s;
  if (config.data.empty()) {
    return absl::InvalidArgumentError("data directory must not be empty");
  }
  return config;
}

absl::Status ValidateListenAddress(absl::string_view address) {
  size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "listen address \"", address, "\" must be HOST:PORT, e.g. 127.0.0.1:7443"));
  }
  absl::string_view host = address.substr(0, colon);
  if (host.front() == '[' && host.back() != ']') {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address \"", address,
                     "\": an IPv6 host must be in brackets, e.g. [::1]:7443"));
  }
  int port = -1;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "listen address \"", address, "\" has an invalid port (0-65535)"));
  }
  return absl::OkStatus();
}

}  // namespace parley
