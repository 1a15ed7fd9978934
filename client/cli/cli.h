#ifndef PARLEY_CLIENT_CLI_CLI_H_
#define PARLEY_CLIENT_CLI_CLI_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/core/device.h"
#include "client/core/profile.h"
#include "client/core/session.h"
#include "client/deconfliction/terminal_safe.h"
#include "client/views/message_json.h"
#include "nlohmann/json.hpp"

namespace parley::cli {

// Exit codes are part of the CLI's contract (docs/CLIENT.md "Exit codes").
enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,             // anything not listed below
  kExitUsage = 2,             // bad arguments
  kExitUnavailable = 3,       // server unreachable or timed out
  kExitRefused = 4,           // permission denied, pin mismatch, auth failure
  kExitVerificationFailed = 5,  // a signature, proof or checkpoint is wrong
  kExitNotFound = 6,
  kExitQueued = 10,           // signed and queued in the outbox, not yet sent
};
// Also kExitRefused: sending to a member whose verified identity key changed
// (FailedPrecondition carrying kKeyChangedPayload, client/core/local_state.h).

// Options every command accepts, before or after its name.
struct GlobalOptions {
  std::string home;
  std::string profile = "default";
  std::string server;
  std::string ca_fingerprint;
  bool json = false;
  // Read the keystore passphrase from this file descriptor (one line).
  int passphrase_fd = -1;
  // Fail (exit 3) instead of queueing work when the server is unreachable.
  bool require_online = false;
};

// Whether to colour output on `stream` (stdout or stderr): only on a
// terminal, never with $NO_COLOR set (https://no-color.org) or TERM=dumb.
bool UseColour(int fd);
// `text` wrapped in the ANSI colour `code` ("33" yellow, "31" red, "32"
// green) when UseColour(fd), else `text` unchanged.
std::string Coloured(int fd, const char* code, const std::string& text);

// Maps a status to the documented exit code.
int ExitCodeFor(const absl::Status& status);

// Prints `status` to stderr (as {"error": {"code", "message"}} with --json)
// and returns its exit code.
int ReportError(const GlobalOptions& options, const absl::Status& status);

// Prints one JSON document on stdout.
void PrintJson(const nlohmann::json& json);

// Opens the profile named by the global options.
absl::StatusOr<Profile> OpenProfile(const GlobalOptions& options);

// Opens the profile and connects to the server it (or the options) name.
absl::StatusOr<std::unique_ptr<Session>> OpenSession(
    const GlobalOptions& options);

// Opens the enrolled device of the profile (asks for the passphrase), then
// runs its online housekeeping (Device::Maintain), printing what it did or
// could not do to stderr.
absl::StatusOr<std::unique_ptr<Device>> OpenDevice(
    const GlobalOptions& options);

// Prints the device's collected warnings to stderr.
void PrintWarnings(const GlobalOptions& options, Device& device);

// One received message as human text on stdout (as JSON: MessageJson).
void PrintMessage(const StoredMessage& message);

// A command handler returns its exit code.
using Handler = std::function<int()>;

// Each command file registers its subcommands; `run` receives the handler of
// whichever command was parsed.
void AddStatusCommand(CLI::App& app, GlobalOptions& options, Handler* run);
// enroll
void AddEnrollCommand(CLI::App& app, GlobalOptions& options, Handler* run);
// admin invite, admin revoke
void AddAdminCommand(CLI::App& app, GlobalOptions& options, Handler* run);
// directory, verify
void AddDirectoryCommand(CLI::App& app, GlobalOptions& options, Handler* run);
// channel create, channel list
void AddChannelCommand(CLI::App& app, GlobalOptions& options, Handler* run);
// send, relay, receipts
void AddSendCommand(CLI::App& app, GlobalOptions& options, Handler* run);
// inbox, watch
void AddInboxCommand(CLI::App& app, GlobalOptions& options, Handler* run);
// log checkpoint, proof, consistency, verify, audit
void AddLogCommand(CLI::App& app, GlobalOptions& options, Handler* run);
// notify movement|site|--from-file, notification amend
void AddNotifyCommand(CLI::App& app, GlobalOptions& options, Handler* run);
// notifications [export], notification show|cancel|status
void AddNotificationsCommand(CLI::App& app, GlobalOptions& options,
                             Handler* run);
// ack
void AddAckCommand(CLI::App& app, GlobalOptions& options, Handler* run);
// deconflict check
void AddDeconflictCommand(CLI::App& app, GlobalOptions& options, Handler* run);
// proof export, proof verify
void AddProofCommand(CLI::App& app, GlobalOptions& options, Handler* run);
// outbox (list, drop, resend), sync
void AddOutboxCommand(CLI::App& app, GlobalOptions& options, Handler* run);
// help TOPIC, completion bash
void AddHelpCommand(CLI::App& app, GlobalOptions& options, Handler* run);
// gui: the local web UI (client/gui/gui.h)
void AddGuiCommand(CLI::App& app, GlobalOptions& options, Handler* run);

}  // namespace parley::cli

#endif  // PARLEY_CLIENT_CLI_CLI_H_
