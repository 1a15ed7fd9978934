#include "client/cli/cli.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "client/core/payloads.h"
#include "client/deconfliction/terminal_safe.h"
#include "crypto/encoding.h"

namespace parley::cli {

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return kExitUsage;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return kExitUnavailable;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      return kExitRefused;
    case absl::StatusCode::kDataLoss:
      return kExitVerificationFailed;
    case absl::StatusCode::kNotFound:
      return kExitNotFound;
    case absl::StatusCode::kFailedPrecondition:
      return status.GetPayload(kKeyChangedPayload).has_value() ? kExitRefused
                                                                : kExitError;
    default:
      return kExitError;
  }
}

bool UseColour(int fd) {
  const char* no_colour = std::getenv("NO_COLOR");
  if (no_colour != nullptr && no_colour[0] != '\0') return false;
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::string(term) == "dumb") return false;
  return ::isatty(fd) == 1;
}

std::string Coloured(int fd, const char* code, const std::string& text) {
  if (!UseColour(fd)) return text;
  return absl::StrCat("\033[", code, "m", text, "\033[0m");
}

int ReportError(const GlobalOptions& options, const absl::Status& status) {
  if (options.json) {
    nlohmann::json error = {
        {"error",
         {{"code", absl::StatusCodeToString(status.code())},
          {"message", std::string(status.message())}}}};
    std::cerr << error.dump() << std::endl;
  } else {
    std::cerr << Coloured(STDERR_FILENO, "31", "parley:") << " "
              << status.message() << std::endl;
  }
  return ExitCodeFor(status);
}

void PrintJson(const nlohmann::json& json) {
  // Strings may come from other members or from a file (names, reasons):
  // invalid UTF-8 is replaced rather than ending the command with an
  // exception.
  std::cout << json.dump(-1, ' ', false,
                         nlohmann::json::error_handler_t::replace)
            << std::endl;
}

absl::StatusOr<Profile> OpenProfile(const GlobalOptions& options) {
  absl::StatusOr<std::string> dir =
      ResolveProfileDir(options.home, options.profile);
  if (!dir.ok()) return dir.status();
  return Profile::Open(*dir);
}

absl::StatusOr<std::unique_ptr<Session>> OpenSession(
    const GlobalOptions& options) {
  absl::StatusOr<Profile> profile = OpenProfile(options);
  if (!profile.ok()) return profile.status();
  ConnectOptions connect;
  connect.server = options.server;
  connect.ca_fingerprint = options.ca_fingerprint;
  return Session::Connect(*profile, connect);
}

absl::StatusOr<std::unique_ptr<Device>> OpenDevice(
    const GlobalOptions& options) {
  absl::StatusOr<Profile> profile = OpenProfile(options);
  if (!profile.ok()) return profile.status();
  Device::Options device_options;
  device_options.connect.server = options.server;
  device_options.connect.ca_fingerprint = options.ca_fingerprint;
  device_options.passphrase.fd = options.passphrase_fd;
  device_options.require_online = options.require_online;
  absl::StatusOr<std::unique_ptr<Device>> device =
      Device::Open(*profile, device_options);
  if (!device.ok()) return device.status();
  absl::StatusOr<std::vector<std::string>> notes = (*device)->Maintain();
  if (!notes.ok()) return notes.status();
  size_t waiting = 0, held = 0;
  for (const OutboxItem& item : (*device)->state().outbox()) {
    ++(item.held.empty() ? waiting : held);
  }
  if (waiting > 0) {
    notes->push_back(absl::StrCat(waiting, " item(s) queued, not yet sent "
                                           "(`parley outbox`)"));
  }
  if (held > 0) {
    notes->push_back(absl::StrCat(held, " queued item(s) refused by the "
                                        "server and held: see `parley "
                                        "outbox`"));
  }
  if (!options.json) {
    for (const std::string& note : *notes) {
      std::cerr << "parley: " << note << std::endl;
    }
  }
  PrintWarnings(options, **device);
  return device;
}

void PrintWarnings(const GlobalOptions& options, Device& device) {
  for (const std::string& w : device.TakeWarnings()) {
    if (options.json) {
      std::cerr << nlohmann::json({{"warning", w}}).dump() << std::endl;
    } else {
      std::cerr << "parley: " << w << std::endl;
    }
  }
}

void PrintMessage(const StoredMessage& m) {
  std::string when = absl::FormatTime(
      "%Y-%m-%d %H:%M:%SZ", absl::FromUnixSeconds(m.created_at),
      absl::UTCTimeZone());
  // Everything here came from another member: escaped, so that it cannot
  // move the cursor, recolour or rewrite what the user reads.
  std::cout << "#" << m.index << "  " << when << "  ["
            << TerminalSafe(m.channel) << "]  " << TerminalSafe(m.sender)
            << ": ";
  if (!m.error.empty()) {
    std::cout << "(" << TerminalSafe(m.error) << ")\n";
    return;
  }
  if (IsTextMessage(m)) {
    std::cout << TerminalSafe(m.body) << "\n";
  } else if (!m.filename.empty()) {
    std::cout << "[file " << TerminalSafe(m.filename) << ", "
              << m.body.size() << " bytes]\n";
  } else {
    std::cout << "[" << TerminalSafe(m.content_type) << ", " << m.body.size()
              << " bytes]\n";
  }
  if (m.relay_mode == RelayMode::kVerbatim) {
    std::cout << "    relayed verbatim by " << TerminalSafe(m.sender)
              << ", originally from " << TerminalSafe(m.original_sender)
              << (m.original_verified ? " (verified)" : " (NOT verified)")
              << "\n";
  } else if (m.relay_mode == RelayMode::kAnonymous) {
    std::cout << "    relayed by " << TerminalSafe(m.sender)
              << " without attribution\n";
  }
}

}  // namespace parley::cli
