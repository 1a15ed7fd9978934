// parley: the Parley command-line client.

#include <iostream>

#include "client/cli/cli.h"
#include "crypto/ed25519.h"

int main(int argc, char** argv) {
  using namespace parley::cli;
  CLI::App app{"parley: confidential messaging and deconfliction client"};
  app.set_version_flag("--version", PARLEY_VERSION);
  // Global options are accepted before and after the command name.
  app.fallthrough();
  GlobalOptions options;
  app.add_option("--home", options.home,
                 "State directory base (default $PARLEY_HOME, "
                 "$XDG_DATA_HOME/parley, ~/.local/share/parley)");
  app.add_option("--profile", options.profile,
                 "Profile (one identity) inside the state directory")
      ->capture_default_str();
  app.add_option("--server", options.server, "parleyd address HOST:PORT");
  app.add_option("--ca-fingerprint", options.ca_fingerprint,
                 "SHA-256 fingerprint of the server's CA (pins TLS)");
  app.add_flag("--json", options.json,
               "Print one JSON document on stdout; errors on stderr");
  app.add_option("--passphrase-fd", options.passphrase_fd,
                 "Read the keystore passphrase (one line) from this file "
                 "descriptor; else $PARLEY_PASSPHRASE, else a prompt");
  app.add_flag("--require-online", options.require_online,
               "Fail (exit 3) instead of queueing work when the server "
               "cannot be reached");
  app.require_subcommand(1);

  Handler run;
  AddStatusCommand(app, options, &run);
  AddEnrollCommand(app, options, &run);
  AddAdminCommand(app, options, &run);
  AddDirectoryCommand(app, options, &run);
  AddChannelCommand(app, options, &run);
  AddSendCommand(app, options, &run);
  AddInboxCommand(app, options, &run);
  AddLogCommand(app, options, &run);
  AddNotificationsCommand(app, options, &run);
  AddNotifyCommand(app, options, &run);
  AddAckCommand(app, options, &run);
  AddDeconflictCommand(app, options, &run);
  AddProofCommand(app, options, &run);
  AddOutboxCommand(app, options, &run);
  AddGuiCommand(app, options, &run);
  AddHelpCommand(app, options, &run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  if (absl::Status s = parley::InitCrypto(); !s.ok()) {
    return ReportError(options, s);
  }
  return run ? run() : kExitUsage;
}
